#include "health/prober.h"

#include <pthread.h>

#include <filesystem>

#include <curl/curl.h>
#include <uv.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/log.h"
#include "health/checks.h"
#include "health/state_file.h"

namespace geodns::health {

namespace {

constexpr size_t kTransitionRing = 256;
// First checks are spread over the interval, but never over more than this: the first
// round gates readiness, so it must finish about one timeout after start.
constexpr std::chrono::milliseconds kMaxFirstSpread{1000};
// How often expired overrides are noticed.
constexpr uint64_t kHousekeepingMs = 250;
// Beyond spread + timeout, how long a new target is held out of the answers waiting for its
// first result before it fails open (a check that cannot even be scheduled on a stalled loop).
constexpr std::chrono::milliseconds kHoldSlack{500};

std::string format_seconds(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs", std::chrono::duration<double>(d).count());
  return buf;
}

uint64_t delay_ms(Clock::time_point when, Clock::time_point now) {
  if (when <= now) return 0;
  // Round up so that a timer never fires just before the time the machine asked for.
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(when - now).count();
  return static_cast<uint64_t>((us + 999) / 1000);
}

// The zone loader validates intervals; this floor only keeps a bad spec from turning the
// prober into a busy loop.
constexpr std::chrono::milliseconds kMinInterval{50};

RiseFallConfig config_of(const steer::CheckSpec& c) {
  RiseFallConfig cfg;
  cfg.rise = c.rise;
  cfg.fall = c.fall;
  cfg.interval = std::max(c.interval, kMinInterval);
  cfg.timeout = c.timeout;
  return cfg;
}

std::once_flag g_curl_once;

}  // namespace

// One probed target. Owned by Impl::targets; freed in its timer's close callback. Fields
// read by status() are written under Impl::mu; the handle and in_flight are loop-thread only.
struct ProbeTarget {
  Prober::Impl* impl = nullptr;
  steer::TargetSpec spec;
  RiseFall rf;
  uv_timer_t timer{};
  ActiveCheck* in_flight = nullptr;
  Clock::time_point check_started{};
  std::optional<std::chrono::milliseconds> last_latency;
  // Added by a reload after the first round: held out of the answers (published down) until
  // its first result or this deadline, so a new address is checked before it is served. An
  // unset deadline (targets of the first round, inherited or restored ones) holds nothing.
  std::optional<Clock::time_point> hold_until;
  // [fleet]: the target's name in etcd (fleet::target_id of the key), and whether this server
  // probes it (k of n by rendezvous; always while etcd is unreachable). Written under mu.
  std::string fleet_id;
  bool probing = true;

  ProbeTarget(steer::TargetSpec s, Clock::time_point now)
      : spec(std::move(s)), rf(config_of(spec.check), now) {}
};

struct Prober::Impl {
  Impl(const Clock& c, ProberOptions o)
      : clock(c), options(std::move(o)), rng(options.seed), overrides(c) {}

  // --- shared with the control thread (under mu) ------------------------------------------
  const Clock& clock;
  ProberOptions options;
  std::mt19937_64 rng;  // loop thread once running
  Published<steer::HealthView> view;
  mutable std::mutex mu;
  std::condition_variable first_round_cv;
  std::optional<std::vector<steer::TargetSpec>> pending_targets;
  // set_targets() calls made, taken by the loop, and covered by a published view (what
  // wait_targets_published waits for).
  uint64_t targets_requested = 0;
  uint64_t targets_taken = 0;
  uint64_t targets_published = 0;
  bool stop_requested = false;
  bool overrides_changed = false;
  std::vector<steer::DcSlot> datacenters;
  OverrideSet overrides;
  std::unordered_map<steer::TargetId, ProbeTarget*> targets;
  // Targets the last reload removed, with their last published state. A worker refreshes its
  // zones and then its health view: for a moment it may answer from the previous zones with
  // the new view, which must not count their targets as unknown (hence up).
  std::unordered_map<steer::TargetId, bool> retired;
  std::deque<Transition> transitions;
  bool ready = false;
  // The last published view covers a finished round (what wait_first_round waits for: the
  // view, not just the state machines, must be there).
  bool published_round = false;
  bool running = false;
  // [fleet]: the view the published state was computed from, and a change not yet taken.
  std::shared_ptr<const fleet::FleetView> fleet_view;
  bool fleet_changed = false;

  // --- loop thread -------------------------------------------------------------------------
  std::unordered_map<std::string, PersistedState> restored;  // consumed by the first targets
  bool first_targets_applied = false;
  bool publish_pending = false;
  bool state_dirty = false;  // a transition not yet written to health.state
  uint64_t generation = 0;
  uv_loop_t loop{};
  uv_async_t async{};
  uv_timer_t housekeeping{};
  uv_prepare_t publisher{};
  CurlDriver curl;
  std::thread thread;

  std::string state_path() const {
    return options.state_dir.empty() ? std::string() : options.state_dir + "/health.state";
  }
  std::string overrides_path() const {
    return options.state_dir.empty() ? std::string() : options.state_dir + "/overrides.state";
  }

  // Steady time point -> wall clock, through the clock's current offset.
  std::chrono::system_clock::time_point to_wall(Clock::time_point t) const {
    return clock.wall_now() -
           std::chrono::duration_cast<std::chrono::system_clock::duration>(clock.now() - t);
  }

  // Every current target has a state and no reload is waiting. Under mu.
  bool first_round_done_locked() const {
    if (pending_targets) return false;
    // A target another server probes (k of n) has no local result to wait for.
    return std::all_of(targets.begin(), targets.end(), [](const auto& e) {
      return e.second->rf.has_state() || !e.second->probing;
    });
  }

  // Whether a datacenter override names a current datacenter: a shared one ("iad", every
  // zone using it) or one zone's use of one ("example.com/iad"). By name only: ids belong to
  // one load. Under mu.
  bool names_datacenter_locked(const OverrideKey& key) const {
    // Canonical, so that overrides persisted as "example.com./fra" still find their datacenter.
    const std::string wanted = steer::canonical_datacenter_key(key.datacenter);
    return std::any_of(datacenters.begin(), datacenters.end(), [&](const steer::DcSlot& d) {
      return d.key == wanted || (!d.shared.empty() && d.shared == wanted);
    });
  }

  // The one override precedence, read by the policies and ops through the published view: a
  // zone's own slot ("example.com/iad") wins over the shared datacenter ("iad"), since the
  // operator who named one zone meant an exception to the rule for all. Under mu.
  steer::Override dc_override_locked(const steer::DcSlot& d) const {
    const steer::Override specific = overrides.for_datacenter(d.key);
    if (specific != steer::Override::none || d.shared.empty()) return specific;
    return overrides.for_datacenter(d.shared);
  }

  bool effective_up_locked(const ProbeTarget& t, Clock::time_point now) const {
    switch (overrides.for_address(t.spec.address)) {
      case steer::Override::force_up:
        return true;
      case steer::Override::force_down:
        return false;
      case steer::Override::none:
        break;
    }
    if (fleet_view && fleet_view->connected) {
      // Health by quorum: one server's bad path to a backend does not move traffic. No
      // verdict (nobody has voted yet) falls through to this server's own state.
      const auto v = fleet::tally(*fleet_view, t.fleet_id, options.fleet->server(), own_vote(t),
                                  options.fleet->quorum());
      if (v != fleet::Verdict::none) return v == fleet::Verdict::up;
    }
    // A new target of a reload waits for its first result (bounded by hold_until); past
    // that, unknown counts as up: a target nobody could check is answered (fail open).
    if (!t.rf.has_state() && t.hold_until && now < *t.hold_until) return false;
    return t.rf.is_up();
  }

  // This server's vote on a target: its rise/fall state while it probes it.
  static std::optional<bool> own_vote(const ProbeTarget& t) {
    if (!t.probing || !t.rf.has_state()) return std::nullopt;
    return t.rf.is_up();
  }

  // --- loop thread ---------------------------------------------------------------------------
  void take_fleet_change();
  void vote(const ProbeTarget& t) {
    if (options.fleet == nullptr || t.spec.check.type == steer::CheckType::none) return;
    std::optional<bool> up;
    {
      std::lock_guard lock(mu);
      up = own_vote(t);
    }
    options.fleet->set_vote(t.fleet_id, t.spec.key, up);
  }
  void run_thread(std::promise<Status>* started);
  void process_inbox();
  void apply_targets(std::vector<steer::TargetSpec> specs);
  void remove_target(ProbeTarget* t);
  void schedule(ProbeTarget* t, Clock::time_point when);
  void start_check(ProbeTarget* t);
  const IpAddress* source() const {
    return options.probe_source ? &*options.probe_source : nullptr;
  }
  void on_check_done(ProbeTarget* t, CheckOutcome outcome);
  void update_ready_locked();
  void publish();
  void save_states();
  // After an override change (mu held): persist the overrides and mark the view for publishing.
  void overrides_changed_locked() {
    if (!overrides_path().empty()) {
      if (auto st = overrides.save(overrides_path()); !st) {
        // Applied in memory anyway: a full disk must not block draining a datacenter.
        log::warn("health_override_save", {{"error", st.error().to_string()}});
      }
    }
    overrides_changed = true;
  }
  void shutdown();

  static void on_async(uv_async_t* h) { static_cast<Impl*>(h->data)->process_inbox(); }
  static void on_prepare(uv_prepare_t* h) {
    auto* self = static_cast<Impl*>(h->data);
    // At most one publish per loop iteration, however many results arrived in it.
    if (self->publish_pending) self->publish();
  }
  static void on_housekeeping(uv_timer_t* h) {
    auto* self = static_cast<Impl*>(h->data);
    // Transitions are persisted at most once per housekeeping tick: a save is O(targets), and
    // a mass failure must not turn into targets x transitions work on the prober thread.
    if (self->state_dirty) {
      self->state_dirty = false;
      self->save_states();
    }
    bool pruned = false;
    {
      std::lock_guard lock(self->mu);
      pruned = self->overrides.prune_expired();
      const Clock::time_point now = self->clock.now();
      for (auto& [id, t] : self->targets) {
        if (!t->hold_until || now < *t->hold_until) continue;
        t->hold_until.reset();
        if (t->rf.has_state()) continue;
        // No result within the bound: fail open, as a target nobody could check always has.
        log::warn("health_hold_expired",
                  {{"target", t->spec.address.to_string()}, {"check", t->spec.check.name}});
        self->publish_pending = true;
      }
    }
    if (pruned) {
      log::info("health_override_expired");
      self->publish_pending = true;
      if (!self->overrides_path().empty()) {
        std::lock_guard lock(self->mu);
        auto st = self->overrides.save(self->overrides_path());
        if (!st) log::warn("health_override_save", {{"error", st.error().to_string()}});
      }
    }
  }
  static void on_target_timer(uv_timer_t* h) {
    auto* t = static_cast<ProbeTarget*>(h->data);
    if (!t->probing) return;  // another server probes it now (k of n)
    t->impl->start_check(t);
  }
  static void on_target_closed(uv_handle_t* h) { delete static_cast<ProbeTarget*>(h->data); }
};

void Prober::Impl::run_thread(std::promise<Status>* started) {
  pthread_setname_np(pthread_self(), "geodns-prober");  // visible in top -H and /proc
  int rc = uv_loop_init(&loop);
  if (rc != 0) {
    started->set_value(make_error(std::string("uv_loop_init: ") + uv_strerror(rc)));
    return;
  }
  uv_async_init(&loop, &async, &Impl::on_async);
  async.data = this;
  uv_timer_init(&loop, &housekeeping);
  housekeeping.data = this;
  uv_timer_start(&housekeeping, &Impl::on_housekeeping, kHousekeepingMs, kHousekeepingMs);
  uv_prepare_init(&loop, &publisher);
  publisher.data = this;
  uv_prepare_start(&publisher, &Impl::on_prepare);
  auto curl_status = curl.init(&loop);
  if (!curl_status) {
    // Without curl only http(s) checks fail; the others still run.
    log::error("health_curl_init", {{"error", curl_status.error().to_string()}});
  }
  {
    // From here on uv_async_send reaches the loop: requests made after this are not lost.
    std::lock_guard lock(mu);
    running = true;
  }
  started->set_value(Status{});
  publish_pending = true;
  process_inbox();  // targets set before start()
  uv_run(&loop, UV_RUN_DEFAULT);
  // shutdown() closed every handle; run once more in case a close callback is pending.
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

void Prober::Impl::process_inbox() {
  std::optional<std::vector<steer::TargetSpec>> specs;
  bool stop = false;
  {
    std::lock_guard lock(mu);
    stop = stop_requested;
    if (!stop) specs = std::move(pending_targets);
    pending_targets.reset();
    targets_taken = targets_requested;
    if (specs) published_round = false;
    if (overrides_changed) publish_pending = true;
    overrides_changed = false;
  }
  if (stop) return shutdown();
  if (specs) apply_targets(std::move(*specs));
  take_fleet_change();
}

void Prober::Impl::apply_targets(std::vector<steer::TargetSpec> specs) {
  const Clock::time_point now = clock.now();
  std::unordered_set<steer::TargetId> wanted;
  std::vector<steer::TargetSpec> fresh;
  for (auto& s : specs) {
    if (!wanted.insert(s.id).second) continue;  // one target, checked once
    fresh.push_back(std::move(s));
  }
  std::vector<ProbeTarget*> removed;
  std::vector<ProbeTarget*> added;
  {
    std::lock_guard lock(mu);
    // A check edited in place (new interval, path, ...) gives its targets new keys, hence new
    // ids. Each new target takes the state of the removed one with the same address and check
    // name: a datacenter that is down must not return to the answers until the edited check
    // says so; its first result then decides, as for any new check.
    std::unordered_map<std::string, const ProbeTarget*> predecessors;
    retired.clear();
    for (auto it = targets.begin(); it != targets.end();) {
      if (wanted.count(it->first) == 0) {
        removed.push_back(it->second);
        retired.emplace(it->first, effective_up_locked(*it->second, now));
        if (it->second->rf.has_state()) {
          predecessors.emplace(
              it->second->spec.check.name + "@" + it->second->spec.address.to_string(), it->second);
        }
        it = targets.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& s : fresh) {
      auto it = targets.find(s.id);
      if (it != targets.end()) {
        // Same id = same key = same probe: keep the state, take the (equal) spec.
        it->second->rf.reconfigure(config_of(s.check));
        it->second->spec = std::move(s);
        continue;
      }
      auto* t = new ProbeTarget(std::move(s), now);
      t->impl = this;
      if (options.fleet != nullptr) t->fleet_id = fleet::target_id(t->spec.key);
      if (auto p = predecessors.find(t->spec.check.name + "@" + t->spec.address.to_string());
          p != predecessors.end() && t->spec.check.type != steer::CheckType::none) {
        t->rf.inherit(p->second->rf.state(), p->second->rf.since());
      } else if (!first_targets_applied) {
        if (auto r = restored.find(t->spec.key); r != restored.end()) {
          // Map the persisted wall-clock `since` onto the steady clock.
          const auto age = clock.wall_now() - r->second.since;
          t->rf.restore(r->second.state,
                        now - std::chrono::duration_cast<Clock::time_point::duration>(
                                  std::max(age, std::chrono::system_clock::duration::zero())));
        }
      }
      if (t->spec.check.type == steer::CheckType::none) {
        // Never probed: up from the start and forever.
        t->rf.record(true, "no check", now, now);
      } else if (ready && !t->rf.has_state()) {
        // After the first round, a new target is checked before it is served: its first
        // check starts within the spread and ends within its timeout (see below).
        t->hold_until = now + std::min(t->spec.check.interval, kMaxFirstSpread) +
                        t->spec.check.timeout + kHoldSlack;
      }
      targets.emplace(t->spec.id, t);
      added.push_back(t);
    }
    first_targets_applied = true;
    restored.clear();
    update_ready_locked();
  }
  for (auto* t : removed) {
    if (options.fleet != nullptr) options.fleet->set_vote(t->fleet_id, t->spec.key, std::nullopt);
    remove_target(t);
  }
  for (auto* t : added) {
    uv_timer_init(&loop, &t->timer);
    t->timer.data = t;
    if (t->spec.check.type == steer::CheckType::none) continue;
    if (options.fleet != nullptr) {
      vote(*t);  // an inherited or restored state counts at once
      if (!options.fleet->should_probe(t->fleet_id)) {
        std::lock_guard lock(mu);
        t->probing = false;
        continue;
      }
    }
    const auto spread = std::min(t->spec.check.interval, kMaxFirstSpread);
    const auto spread_ms = static_cast<uint64_t>(std::max<int64_t>(spread.count(), 1));
    const auto jitter = std::chrono::milliseconds(rng() % spread_ms);
    schedule(t, now + jitter);
  }
  if (!removed.empty() || !added.empty()) {
    log::info("health_targets", {{"targets", std::to_string(fresh.size())},
                                 {"added", std::to_string(added.size())},
                                 {"removed", std::to_string(removed.size())}});
  }
  publish_pending = true;
}

void Prober::Impl::remove_target(ProbeTarget* t) {
  if (t->in_flight != nullptr) {
    t->in_flight->abort();
    t->in_flight = nullptr;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&t->timer), &Impl::on_target_closed);
}

void Prober::Impl::schedule(ProbeTarget* t, Clock::time_point when) {
  uv_timer_start(&t->timer, &Impl::on_target_timer, delay_ms(when, clock.now()), 0);
}

void Prober::Impl::start_check(ProbeTarget* t) {
  if (t->in_flight != nullptr) return;  // cannot happen: scheduled only after a result
  t->check_started = clock.now();
  CheckDone done = [this, t](CheckOutcome o) {
    t->in_flight = nullptr;
    on_check_done(t, std::move(o));
  };
  std::string error;
  ActiveCheck* check = nullptr;
  switch (t->spec.check.type) {
    case steer::CheckType::http:
    case steer::CheckType::https:
      check = start_http_check(curl, t->spec, std::move(done), &error, source());
      break;
    case steer::CheckType::tcp:
      check = start_tcp_check(&loop, t->spec, std::move(done), &error, source());
      break;
    case steer::CheckType::dns:
      check = start_dns_check(&loop, t->spec, static_cast<uint16_t>(rng()), std::move(done), &error,
                              source());
      break;
    case steer::CheckType::none:
      return;
  }
  if (check == nullptr) {
    // Could not even start (no memory, fd limit): a failed check like any other.
    on_check_done(t, CheckOutcome{false, error.empty() ? "cannot start check" : error});
    return;
  }
  t->in_flight = check;
}

void Prober::Impl::on_check_done(ProbeTarget* t, CheckOutcome outcome) {
  const Clock::time_point now = clock.now();
  const auto latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - t->check_started);
  std::string text = std::move(outcome.text);
  if (outcome.ok) text += " in " + std::to_string(latency.count()) + " ms";
  RiseFallOutcome r;
  {
    std::lock_guard lock(mu);
    r = t->rf.record(outcome.ok, text, t->check_started, now);
    t->last_latency = latency;
    if (r.changed) {
      Transition tr{t->spec.id, t->spec.key,      t->spec.address, t->spec.check.name, r.from, r.to,
                    text,       clock.wall_now(), r.after};
      transitions.push_back(std::move(tr));
      while (transitions.size() > kTransitionRing) transitions.pop_front();
      update_ready_locked();
    }
  }
  schedule(t, r.next_check);
  vote(*t);  // the fleet skips an unchanged vote
  if (!r.changed) return;
  log::info("health_change", {{"target", t->spec.address.to_string()},
                              {"check", t->spec.check.name},
                              {"from", std::string(state_name(r.from))},
                              {"to", std::string(state_name(r.to))},
                              {"reason", text},
                              {"after", format_seconds(r.after)}});
  publish_pending = true;
  state_dirty = true;
}

void Prober::Impl::take_fleet_change() {
  if (options.fleet == nullptr) return;
  {
    std::lock_guard lock(mu);
    if (!fleet_changed) return;
    fleet_changed = false;
  }
  fleet::Fleet& f = *options.fleet;
  auto view_now = f.view();
  auto records = f.take_overrides();
  std::vector<std::pair<ProbeTarget*, bool>> toggled;
  {
    std::lock_guard lock(mu);
    fleet_view = view_now;
    if (records) {
      // etcd is the truth once reached: the fleet's set replaces the local one (drains made
      // here while etcd was away are in it, queued by the fleet).
      std::vector<OverrideInfo> items;
      items.reserve(records->size());
      for (const auto& r : *records) {
        auto key = OverrideKey::parse(r.key);
        if (!key) {
          log::warn("fleet_override_ignored", {{"key", r.key}, {"error", "not an override key"}});
          continue;
        }
        OverrideInfo o;
        o.key = std::move(*key);
        o.mode = r.down ? steer::Override::force_down : steer::Override::force_up;
        o.expires = r.expires;
        o.reason = r.reason;
        o.created = r.created;
        o.author = r.author;
        items.push_back(std::move(o));
      }
      if (overrides.replace(std::move(items))) {
        log::info("fleet_overrides_applied",
                  {{"active", std::to_string(overrides.active().size())}});
        overrides_changed_locked();
      }
    }
    for (auto& [id, t] : targets) {
      if (t->spec.check.type == steer::CheckType::none) continue;
      const bool want = f.should_probe(t->fleet_id);
      if (want != t->probing) {
        t->probing = want;
        toggled.emplace_back(t, want);
      }
    }
  }
  const Clock::time_point now = clock.now();
  for (auto& [t, want] : toggled) {
    if (want) {
      schedule(t, now);  // taken over from a server that left: check it now
    } else {
      uv_timer_stop(&t->timer);
      if (t->in_flight != nullptr) {
        t->in_flight->abort();
        t->in_flight = nullptr;
      }
    }
    vote(*t);
  }
  if (!toggled.empty()) {
    log::info("fleet_probing", {{"targets", std::to_string(targets.size())},
                                {"changed", std::to_string(toggled.size())}});
  }
  publish_pending = true;
}

void Prober::Impl::update_ready_locked() {
  if (ready || !first_round_done_locked()) return;
  // Latched: once the first round is done the view stays ready across reloads (targets a
  // reload adds count as up until their first result).
  ready = true;
  publish_pending = true;
}

void Prober::Impl::publish() {
  publish_pending = false;
  auto v = std::make_shared<steer::HealthView>();
  {
    std::lock_guard lock(mu);
    const Clock::time_point now = clock.now();
    if (options.fleet != nullptr) fleet_view = options.fleet->view();
    for (const auto& [id, up] : retired) v->set_target_up(id, up);
    for (const auto& [id, t] : targets) v->set_target_up(id, effective_up_locked(*t, now));
    for (const auto& d : datacenters) {
      if (const auto o = dc_override_locked(d); o != steer::Override::none) {
        v->set_dc_override(d.id, o);
      }
    }
    v->set_ready(ready);
    v->set_generation(++generation);
    // Publish before waking waiters, still under mu, so a woken waiter sees this view.
    view.publish(std::move(v));
    targets_published = targets_taken;
    published_round = first_round_done_locked();
    // One condition variable for both waits (first round, targets published): both are rare.
    first_round_cv.notify_all();
  }
}

void Prober::Impl::save_states() {
  if (state_path().empty()) return;
  std::unordered_map<std::string, PersistedState> states;
  {
    std::lock_guard lock(mu);
    for (const auto& [id, t] : targets) {
      if (!t->rf.has_state()) continue;
      states[t->spec.key] = PersistedState{t->rf.state(), to_wall(t->rf.since())};
    }
  }
  auto st = save_state_file(state_path(), states);
  if (!st) log::warn("health_state_save", {{"error", st.error().to_string()}});
}

void Prober::Impl::shutdown() {
  if (state_dirty) {
    state_dirty = false;
    save_states();
  }
  std::vector<ProbeTarget*> all;
  {
    std::lock_guard lock(mu);
    for (auto& [id, t] : targets) all.push_back(t);
    targets.clear();
    first_round_cv.notify_all();
  }
  for (auto* t : all) remove_target(t);
  curl.shutdown();
  uv_close(reinterpret_cast<uv_handle_t*>(&async), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&housekeeping), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&publisher), nullptr);
}

// --- public API (control thread) --------------------------------------------------------------

Prober::Prober(const Clock& clock, ProberOptions options)
    : impl_(std::make_unique<Impl>(clock, std::move(options))) {
  // Readers may look before start(): an empty view that is not ready yet (every id up).
  auto v = std::make_shared<steer::HealthView>();
  v->set_ready(false);
  impl_->view.publish(std::move(v));
}

Prober::~Prober() {
  stop();
}

Status Prober::start() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.running || m.thread.joinable()) return make_error("prober already started");
    // A stopped prober has closed its loop and dropped its targets: make a new one instead.
    if (m.stop_requested) return make_error("prober was stopped");
  }
  // curl_global_init is not thread-safe on older libcurl: once per process, before any use.
  std::call_once(g_curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (!m.options.state_dir.empty()) {
    // A fresh install has no state directory yet: create it rather than fail every save.
    std::error_code ec;
    std::filesystem::create_directories(m.options.state_dir, ec);
    if (ec) {
      log::warn("health_state_dir", {{"path", m.options.state_dir}, {"error", ec.message()}});
    }
    auto states = load_state_file(m.state_path());
    for (const auto& e : states.errors) log::warn("health_state_load", {{"error", e.to_string()}});
    m.restored = std::move(states.by_key);
    std::lock_guard lock(m.mu);
    auto report = m.overrides.load(m.overrides_path());
    for (const auto& e : report.errors) {
      log::warn("health_override_load", {{"error", e.to_string()}});
    }
    if (report.loaded + report.expired > 0) {
      log::info("health_overrides_restored", {{"active", std::to_string(report.loaded)},
                                              {"expired", std::to_string(report.expired)}});
    }
  }
  if (m.options.fleet != nullptr) {
    // Fleet threads report changes here; the loop takes them (take_fleet_change).
    m.options.fleet->set_listener([&m] {
      bool running = false;
      {
        std::lock_guard lock(m.mu);
        m.fleet_changed = true;
        running = m.running && !m.stop_requested;
      }
      if (running) uv_async_send(&m.async);
    });
    std::lock_guard lock(m.mu);
    m.fleet_changed = true;
  }
  std::promise<Status> started;
  auto result = started.get_future();
  m.thread = std::thread([&m, &started] { m.run_thread(&started); });
  Status st = result.get();
  if (!st) {
    m.thread.join();
    return st;
  }
  return {};
}

void Prober::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  if (m.options.fleet != nullptr) m.options.fleet->set_listener(nullptr);
  {
    std::lock_guard lock(m.mu);
    m.stop_requested = true;
  }
  uv_async_send(&m.async);
  m.thread.join();
  std::lock_guard lock(m.mu);
  m.running = false;
}

void Prober::set_targets(std::vector<steer::TargetSpec> targets) {
  Impl& m = *impl_;
  bool running = false;
  {
    std::lock_guard lock(m.mu);
    m.pending_targets = std::move(targets);
    ++m.targets_requested;
    running = m.running && !m.stop_requested;
  }
  if (running) uv_async_send(&m.async);
}

void Prober::set_datacenters(std::vector<steer::DcSlot> datacenters) {
  Impl& m = *impl_;
  bool running = false;
  {
    std::lock_guard lock(m.mu);
    m.datacenters = std::move(datacenters);
    // Persisted dc overrides are keyed by name: a new list may resolve them differently.
    m.overrides_changed = true;
    running = m.running && !m.stop_requested;
  }
  if (running) uv_async_send(&m.async);
}

bool Prober::wait_first_round(std::chrono::milliseconds max) {
  Impl& m = *impl_;
  std::unique_lock lock(m.mu);
  return m.first_round_cv.wait_for(
      lock, max, [&m] { return m.published_round && m.first_round_done_locked(); });
}

bool Prober::wait_targets_published(std::chrono::milliseconds max) {
  Impl& m = *impl_;
  std::unique_lock lock(m.mu);
  return m.first_round_cv.wait_for(lock, max, [&m] {
    return !m.running || m.stop_requested || m.targets_published == m.targets_requested;
  });
}

const Published<steer::HealthView>& Prober::view() const {
  return impl_->view;
}

Status Prober::set_override(OverrideKey key, steer::Override mode,
                            std::optional<std::chrono::system_clock::time_point> expires,
                            std::string reason) {
  Impl& m = *impl_;
  bool running = false;
  {
    std::lock_guard lock(m.mu);
    if (key.kind == OverrideKey::Kind::datacenter) {
      if (key.datacenter.empty() && key.has_dc_id) {
        for (const auto& d : m.datacenters) {
          if (d.id == key.dc_id) key.datacenter = d.key;
        }
      }
      if (!m.names_datacenter_locked(key))
        return make_error("unknown datacenter \"" + key.datacenter + "\"");
    }
    const std::string what = key.to_string();
    if (auto st = m.overrides.set(std::move(key), mode, expires, reason); !st) return st;
    if (m.options.fleet != nullptr) {
      // Applied here at once; the fleet sends it to etcd now, or on reconnect.
      fleet::OverrideRecord rec;
      rec.key = what;
      rec.down = mode == steer::Override::force_down;
      rec.expires = expires;
      rec.reason = reason;
      rec.created = m.clock.wall_now();
      m.options.fleet->put_override(std::move(rec));
    }
    log::info("health_override_set", {{"target", what},
                                      {"mode", mode == steer::Override::force_up ? "up" : "down"},
                                      {"reason", reason}});
    m.overrides_changed_locked();
    running = m.running && !m.stop_requested;
  }
  if (running) uv_async_send(&m.async);
  return {};
}

Status Prober::clear_override(const OverrideKey& key) {
  Impl& m = *impl_;
  bool running = false;
  {
    std::lock_guard lock(m.mu);
    if (!m.overrides.clear(key)) return make_error("no override for " + key.to_string());
    if (m.options.fleet != nullptr) m.options.fleet->delete_override(key.to_string());
    log::info("health_override_cleared", {{"target", key.to_string()}});
    m.overrides_changed_locked();
    running = m.running && !m.stop_requested;
  }
  if (running) uv_async_send(&m.async);
  return {};
}

std::vector<OverrideInfo> Prober::overrides() const {
  std::lock_guard lock(impl_->mu);
  return impl_->overrides.active();
}

std::vector<TargetStatus> Prober::status() const {
  const Impl& m = *impl_;
  std::vector<TargetStatus> out;
  std::lock_guard lock(m.mu);
  const Clock::time_point now = m.clock.now();
  out.reserve(m.targets.size());
  for (const auto& [id, t] : m.targets) {
    TargetStatus s;
    s.id = id;
    s.key = t->spec.key;
    s.address = t->spec.address;
    s.check_name = t->spec.check.name;
    s.check_type = t->spec.check.type;
    s.state = t->rf.state();
    s.effective_up = m.effective_up_locked(*t, now);
    s.last_result = t->rf.last_result();
    s.last_latency = t->last_latency;
    s.since = t->rf.since();
    s.since_wall = m.to_wall(t->rf.since());
    s.consecutive_ok = t->rf.consecutive_ok();
    s.consecutive_fail = t->rf.consecutive_fail();
    s.checks = t->rf.checks();
    s.override_mode = m.overrides.for_address(t->spec.address);
    s.probed_here = t->probing;
    if (m.options.fleet != nullptr && m.fleet_view && m.fleet_view->connected) {
      const auto tally = fleet::count_votes(*m.fleet_view, t->fleet_id, m.options.fleet->server(),
                                            Impl::own_vote(*t));
      s.fleet_observers = tally.observers;
      s.fleet_down_votes = tally.down;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const TargetStatus& a, const TargetStatus& b) { return a.id < b.id; });
  return out;
}

std::vector<Transition> Prober::recent_transitions(size_t max) const {
  std::lock_guard lock(impl_->mu);
  const auto& ring = impl_->transitions;
  const size_t n = std::min(max, ring.size());
  return std::vector<Transition>(ring.end() - static_cast<std::ptrdiff_t>(n), ring.end());
}

}  // namespace geodns::health
