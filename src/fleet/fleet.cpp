#include "fleet/fleet.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/log.h"

namespace geodns::fleet {

namespace {

std::chrono::system_clock::time_point wall_now() {
  return std::chrono::system_clock::now();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return {};
  std::string name(buf);
  // A name usable in a key: the first label only keeps it short and valid.
  if (auto dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  return name;
}

}  // namespace

Result<FleetOptions> fleet_options(const zone::FleetSettings& s) {
  FleetOptions o;
  o.etcd.endpoints = s.endpoints;
  o.etcd.ca_file = s.tls_ca;
  o.etcd.cert_file = s.tls_cert;
  o.etcd.key_file = s.tls_key;
  o.etcd.user = s.user;
  if (!s.password_file.empty()) {
    std::ifstream in(s.password_file);
    if (!in) return make_error("[fleet] password_file: cannot read " + s.password_file);
    std::string password;
    std::getline(in, password);  // the first line; a trailing newline is not part of it
    o.etcd.password = password;
  }
  o.fleet_name = s.name;
  o.server = s.server.empty() ? host_name() : s.server;
  if (!is_valid_name(o.fleet_name)) {
    return make_error("[fleet] name \"" + o.fleet_name + "\" must be 1-64 of A-Z a-z 0-9 . _ -");
  }
  if (!is_valid_name(o.server)) {
    return make_error("[fleet] server \"" + o.server +
                      "\" must be 1-64 of A-Z a-z 0-9 . _ - (set it: the host name is not)");
  }
  o.lease_ttl = s.lease_ttl;
  o.quorum.majority = s.quorum_majority;
  o.quorum.count = s.quorum_count;
  o.probers_per_target = s.probers_per_target;
  // A call must end well inside a lease period, or a slow etcd would let the lease lapse
  // while we still wait for one keepalive.
  const auto third = std::chrono::duration_cast<std::chrono::milliseconds>(o.lease_ttl) / 3;
  o.etcd.request_timeout =
      std::min(o.etcd.request_timeout, std::max(third / 2, decltype(third)(300)));
  o.etcd.connect_timeout = std::min(o.etcd.connect_timeout, o.etcd.request_timeout);
  o.etcd.attempts = 2;
  return o;
}

bool FleetView::is_member(std::string_view server) const {
  return std::binary_search(members.begin(), members.end(), server,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

Tally count_votes(const FleetView& view, std::string_view target_id, std::string_view self,
                  std::optional<bool> own) {
  Tally t;
  if (own) {
    ++t.observers;
    if (!*own) ++t.down;
  }
  if (auto it = view.votes.find(std::string(target_id)); it != view.votes.end()) {
    for (const auto& [server, up] : it->second) {
      // Our own copy in etcd lags our state: the local one counts instead. A vote whose
      // server has no member key is a leftover of a lease being revoked: not counted.
      if (server == self || !view.is_member(server)) continue;
      ++t.observers;
      if (!up) ++t.down;
    }
  }
  return t;
}

Verdict tally(const FleetView& view, std::string_view target_id, std::string_view self,
              std::optional<bool> own, const QuorumSpec& quorum) {
  if (!view.connected) return Verdict::none;
  const Tally t = count_votes(view, target_id, self, own);
  return quorum_verdict(quorum, t.down, t.observers);
}

Fleet::Fleet(FleetOptions options) : options_(std::move(options)), keys_(options_.fleet_name) {
  view_.publish(std::make_shared<FleetView>());
}

Fleet::~Fleet() {
  stop();
}

void Fleet::start() {
  if (session_.joinable()) return;
  session_ = std::thread([this] { session_main(); });
}

void Fleet::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (session_.joinable()) session_.join();
}

void Fleet::set_listener(std::function<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

void Fleet::notify() {
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_();
}

std::optional<std::vector<OverrideRecord>> Fleet::take_overrides() {
  std::lock_guard lock(mu_);
  if (!overrides_dirty_ || !ever_connected_) return std::nullopt;
  overrides_dirty_ = false;
  std::map<std::string, OverrideRecord> merged = mirror_;
  for (const auto& op : pending_) {
    if (op.record) {
      merged[op.key] = *op.record;
    } else {
      merged.erase(op.key);
    }
  }
  std::vector<OverrideRecord> out;
  out.reserve(merged.size());
  for (auto& [key, rec] : merged) out.push_back(std::move(rec));
  return out;
}

void Fleet::put_override(OverrideRecord record) {
  {
    std::lock_guard lock(mu_);
    if (record.author.empty()) record.author = options_.server;
    std::string key = record.key;
    pending_.push_back(OverrideOp{std::move(key), std::move(record)});
  }
  cv_.notify_all();
}

void Fleet::delete_override(std::string key) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(OverrideOp{std::move(key), std::nullopt});
  }
  cv_.notify_all();
}

void Fleet::set_vote(const std::string& target_id, const std::string& target_key,
                     std::optional<bool> up) {
  {
    std::lock_guard lock(mu_);
    auto it = own_votes_.find(target_id);
    if (up) {
      if (it != own_votes_.end() && it->second.second == *up) return;  // unchanged
      own_votes_[target_id] = {target_key, *up};
    } else {
      if (it == own_votes_.end()) return;
      own_votes_.erase(it);
    }
    dirty_votes_.insert(target_id);
  }
  cv_.notify_all();
}

bool Fleet::should_probe(std::string_view target_id) const {
  if (options_.probers_per_target == 0) return true;
  const auto v = view();
  if (!v->connected) return true;  // alone: probe everything
  return rendezvous_chooses(v->members, target_id, options_.probers_per_target, options_.server);
}

FleetStatus Fleet::status() const {
  FleetStatus s;
  s.fleet = options_.fleet_name;
  s.server = options_.server;
  s.quorum = options_.quorum;
  s.probers_per_target = options_.probers_per_target;
  std::lock_guard lock(mu_);
  s.connected = connected_;
  s.endpoint = endpoint_;
  s.last_contact = last_contact_;
  s.last_error = last_error_;
  s.members.assign(members_.begin(), members_.end());
  for (const auto& [id, by_server] : votes_) {
    for (const auto& [server, up] : by_server) {
      if (members_.count(server) != 0) ++s.votes_seen;
    }
  }
  s.overrides = mirror_.size();
  s.pending_writes = pending_.size() + dirty_votes_.size();
  s.connects = connects_;
  s.errors = errors_;
  return s;
}

// --- session thread ---------------------------------------------------------------------------

void Fleet::session_main() {
  pthread_setname_np(pthread_self(), "geodns-fleet");
  EtcdClient client(options_.etcd);
  auto pause = options_.reconnect_min;
  const auto keepalive_every =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(options_.lease_ttl) / 3,
               std::chrono::milliseconds(500));
  auto next_keepalive = std::chrono::steady_clock::now();
  for (;;) {
    bool connected = false;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      connected = connected_;
    }
    if (!connected) {
      auto st = connect(client);
      if (!st) {
        disconnect(st.error());
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, pause, [this] { return stopping_; });
        pause = std::min(pause * 2, options_.reconnect_max);
        continue;
      }
      pause = options_.reconnect_min;
      next_keepalive = std::chrono::steady_clock::now() + keepalive_every;
      continue;
    }
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, next_keepalive, [this] {
        return stopping_ || watch_failed_ || !pending_.empty() || !dirty_votes_.empty();
      });
      if (stopping_) break;
      if (watch_failed_) {
        const std::string why = watch_error_;
        lock.unlock();
        disconnect(make_error(why));
        continue;
      }
    }
    if (auto st = flush(client); !st) {
      disconnect(st.error());
      continue;
    }
    if (std::chrono::steady_clock::now() >= next_keepalive) {
      int64_t lease = 0;
      {
        std::lock_guard lock(mu_);
        lease = lease_;
      }
      auto r = client.keepalive(lease);
      if (!r) {
        disconnect(r.error());
        continue;
      }
      if (r->ttl_s <= 0) {
        // The lease expired (etcd unreachable longer than the TTL): our votes are gone there;
        // a new lease and a full re-register follow.
        disconnect(make_error("lease expired"));
        continue;
      }
      std::lock_guard lock(mu_);
      last_contact_ = wall_now();
      next_keepalive = std::chrono::steady_clock::now() + keepalive_every;
    }
  }
  stop_watch();
  int64_t lease = 0;
  {
    std::lock_guard lock(mu_);
    if (connected_) lease = lease_;
  }
  if (lease != 0) {
    // Leaving on purpose: the others should stop counting our votes now, not at lease expiry.
    EtcdOptions quick = options_.etcd;
    quick.attempts = 1;
    quick.request_timeout = std::min(quick.request_timeout, std::chrono::milliseconds(1000));
    EtcdClient once(quick);
    if (auto st = once.authenticate(); st) (void)once.revoke(lease);
  }
}

Status Fleet::connect(EtcdClient& client) {
  if (auto st = client.authenticate(); !st) return st;
  auto lease = client.grant_lease(options_.lease_ttl);
  if (!lease) return lease.error();
  {
    std::lock_guard lock(mu_);
    lease_ = lease->id;
    // Everything of ours is written again under the new lease.
    for (const auto& [id, v] : own_votes_) dirty_votes_.insert(id);
  }
  if (auto st = client.put(keys_.member(options_.server), encode_member(wall_now()), lease->id);
      !st) {
    return st;
  }
  // Our changes made while away go first, so that the read below already holds them.
  if (auto st = flush(client); !st) return st;
  auto range = client.range_prefix(keys_.root());
  if (!range) return range.error();
  {
    std::lock_guard lock(mu_);
    members_.clear();
    votes_.clear();
    mirror_.clear();
    for (const auto& kv : range->kvs) apply_kv_locked(kv, false);
    members_.insert(options_.server);
    overrides_dirty_ = true;
    // Writes queued while connecting were not in the read: apply them over it.
  }
  {
    std::lock_guard lock(mu_);
    endpoint_ = client.endpoint();
  }
  start_watch(range->revision + 1);
  bool first = false;
  size_t members = 0;
  {
    std::lock_guard lock(mu_);
    first = !connected_;
    members = members_.size();
    connected_ = true;
    ever_connected_ = true;
    ++connects_;
    last_contact_ = wall_now();
    last_error_.clear();
    endpoint_ = client.endpoint();
    publish_locked();
  }
  if (first) {
    log::info("fleet_connected", {{"endpoint", client.endpoint()},
                                  {"fleet", options_.fleet_name},
                                  {"server", options_.server},
                                  {"members", std::to_string(members)}});
  }
  notify();
  return {};
}

Status Fleet::flush(EtcdClient& client) {
  std::deque<OverrideOp> ops;
  std::vector<std::pair<std::string, std::optional<std::pair<std::string, bool>>>> votes;
  int64_t lease = 0;
  {
    std::lock_guard lock(mu_);
    ops.swap(pending_);
    for (const auto& id : dirty_votes_) {
      auto it = own_votes_.find(id);
      if (it == own_votes_.end()) {
        votes.emplace_back(id, std::nullopt);
      } else {
        votes.emplace_back(id, it->second);
      }
    }
    dirty_votes_.clear();
    lease = lease_;
  }
  auto requeue = [&](size_t from_op, size_t from_vote) {
    std::lock_guard lock(mu_);
    for (size_t i = ops.size(); i-- > from_op;) pending_.push_front(std::move(ops[i]));
    for (size_t i = from_vote; i < votes.size(); ++i) dirty_votes_.insert(votes[i].first);
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    const OverrideOp& op = ops[i];
    const std::string key = keys_.override_key(op.key);
    if (key.empty()) continue;  // not an override key health would write; nothing to send
    Status st;
    if (op.record) {
      // An override with an expiry rides on a lease of that length, so that etcd deletes it
      // at expiry even if every server is down then; servers also expire it themselves.
      int64_t override_lease = 0;
      if (op.record->expires) {
        const auto left =
            std::chrono::duration_cast<std::chrono::seconds>(*op.record->expires - wall_now());
        if (left.count() <= 0) continue;  // expired while queued
        auto l = client.grant_lease(left + std::chrono::seconds(1));
        if (!l) {
          requeue(i, 0);
          return l.error();
        }
        override_lease = l->id;
      }
      st = client.put(key, encode_override(*op.record), override_lease);
    } else {
      st = client.remove(key);
    }
    if (!st) {
      requeue(i, 0);
      return st;
    }
    std::lock_guard lock(mu_);
    // Mirror it now: the watch's echo may come after a reader's next take_overrides().
    if (op.record) {
      mirror_[op.key] = *op.record;
    } else {
      mirror_.erase(op.key);
    }
    log::info("fleet_override_written",
              {{"key", key}, {"mode", op.record ? (op.record->down ? "down" : "up") : "cleared"}});
  }
  for (size_t i = 0; i < votes.size(); ++i) {
    const auto& [id, vote] = votes[i];
    const std::string key = keys_.vote(id, options_.server);
    Status st =
        vote
            ? client.put(key, encode_vote(VoteRecord{vote->second, vote->first, wall_now()}), lease)
            : client.remove(key);
    if (!st) {
      requeue(ops.size(), i);
      return st;
    }
  }
  if (!ops.empty() || !votes.empty()) {
    std::lock_guard lock(mu_);
    last_contact_ = wall_now();
  }
  return {};
}

void Fleet::disconnect(const Error& why) {
  stop_watch();
  bool was_connected = false;
  bool first_error = false;
  {
    std::lock_guard lock(mu_);
    was_connected = connected_;
    first_error = connected_ || (last_error_.empty() && connects_ == 0 && errors_ == 0);
    connected_ = false;
    watch_failed_ = false;
    ++errors_;
    last_error_ = why.to_string();
    if (was_connected) publish_locked();
  }
  // Logged once per state change: a long outage is one line, not one per retry.
  if (first_error) {
    log::warn(was_connected ? "fleet_disconnected" : "fleet_unreachable",
              {{"error", why.to_string()},
               {"effect", "serving from local probes and the last known overrides"}});
  }
  if (was_connected) notify();
}

// --- watch thread -----------------------------------------------------------------------------

void Fleet::start_watch(int64_t from_revision) {
  stop_watch();
  watch_stop_ = false;
  {
    std::lock_guard lock(mu_);
    watch_failed_ = false;
  }
  watch_ = std::thread([this, from_revision] {
    pthread_setname_np(pthread_self(), "geodns-fleetw");
    // The watch goes to the member the session just reached: a dead first endpoint would
    // otherwise end every new watch at once.
    EtcdOptions o = options_.etcd;
    std::string first;
    {
      std::lock_guard lock(mu_);
      first = endpoint_;
    }
    if (auto it = std::find(o.endpoints.begin(), o.endpoints.end(), first);
        it != o.endpoints.end()) {
      std::rotate(o.endpoints.begin(), it, o.endpoints.end());
    }
    EtcdClient client(std::move(o));
    Status st = client.watch(
        keys_.root(), from_revision, [this](const WatchMessage& m) { return apply_watch(m); },
        watch_stop_);
    if (watch_stop_) return;
    {
      std::lock_guard lock(mu_);
      watch_failed_ = true;
      watch_error_ = st ? "watch ended" : st.error().to_string();
    }
    cv_.notify_all();
  });
}

void Fleet::stop_watch() {
  watch_stop_ = true;
  if (watch_.joinable()) watch_.join();
}

Status Fleet::apply_watch(const WatchMessage& m) {
  if (m.canceled || m.compact_revision > 0) {
    // Our start revision is gone (compaction) or etcd dropped the watch: read everything
    // again rather than miss changes.
    return make_error("watch canceled" + (m.cancel_reason.empty() ? "" : ": " + m.cancel_reason));
  }
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& e : m.events) {
      apply_kv_locked(e.kv, e.type == WatchEvent::Type::del);
      changed = true;
    }
    last_contact_ = wall_now();
    if (changed) publish_locked();
  }
  if (changed) notify();
  return {};
}

void Fleet::apply_kv_locked(const KeyValue& kv, bool deleted) {
  const auto p = keys_.parse(kv.key);
  switch (p.kind) {
    case KeyLayout::Kind::member:
      if (deleted) {
        members_.erase(p.server);
      } else {
        members_.insert(p.server);
      }
      break;
    case KeyLayout::Kind::vote: {
      if (deleted) {
        if (auto it = votes_.find(p.target_id); it != votes_.end()) {
          it->second.erase(p.server);
          if (it->second.empty()) votes_.erase(it);
        }
        break;
      }
      auto v = decode_vote(kv.value);
      if (!v) {
        log::warn("fleet_bad_value", {{"key", kv.key}, {"error", v.error().message}});
        break;
      }
      votes_[p.target_id][p.server] = v->up;
      break;
    }
    case KeyLayout::Kind::override_: {
      overrides_dirty_ = true;
      if (deleted) {
        mirror_.erase(p.override_);
        break;
      }
      auto o = decode_override(p.override_, kv.value);
      if (!o) {
        // A hand-written value with a mistake: say so, and do not apply half of it.
        log::warn("fleet_bad_value", {{"key", kv.key}, {"error", o.error().message}});
        mirror_.erase(p.override_);
        break;
      }
      mirror_[p.override_] = std::move(*o);
      break;
    }
    case KeyLayout::Kind::other:
      break;
  }
}

void Fleet::publish_locked() {
  auto v = std::make_shared<FleetView>();
  v->connected = connected_;
  v->members.assign(members_.begin(), members_.end());
  for (const auto& [id, by_server] : votes_) {
    auto& list = v->votes[id];
    for (const auto& [server, up] : by_server) list.emplace_back(server, up);
  }
  view_.publish(std::move(v));
}

}  // namespace geodns::fleet
