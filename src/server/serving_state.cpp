#include "server/serving_state.h"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>

#include "common/duration_text.h"
#include "common/log.h"
#include "geo/database.h"

namespace geodns::server {

namespace {

// Copies every restart-only setting of `from` into `to`: what a reload leaves as it runs.
void keep_restart_only(const zone::ServerConfig& from, zone::ServerConfig& to) {
  to.listen = from.listen;
  to.prober = from.prober;
  to.control = from.control;
  to.logging.query_log = from.logging.query_log;
  to.fleet = from.fleet;  // the fleet's threads and the serial rule follow the running [fleet]
}

}  // namespace

std::vector<std::string> restart_only_changes(const zone::ServerConfig& running,
                                              const zone::ServerConfig& file) {
  std::vector<std::string> out;
  auto check = [&](bool differs, const char* name) {
    if (differs) out.emplace_back(name);
  };
  // Keep in step with keep_restart_only() and the README's table of settings.
  check(running.listen.addresses != file.listen.addresses, "server.listen");
  check(running.listen.threads != file.listen.threads, "server.threads");
  check(running.listen.tcp_idle_timeout != file.listen.tcp_idle_timeout, "server.tcp.idle_timeout");
  check(running.listen.tcp_stall_timeout != file.listen.tcp_stall_timeout,
        "server.tcp.stall_timeout");
  check(running.listen.tcp_max_connections != file.listen.tcp_max_connections,
        "server.tcp.max_connections");
  check(running.listen.tcp_max_per_client != file.listen.tcp_max_per_client,
        "server.tcp.max_connections_per_client");
  check(running.listen.tcp_busy_idle_timeout != file.listen.tcp_busy_idle_timeout,
        "server.tcp.busy_idle_timeout");
  check(running.listen.tcp_threads != file.listen.tcp_threads, "server.tcp.threads");
  check(running.prober.state_dir != file.prober.state_dir, "server.state_dir");
  check(running.logging.query_log != file.logging.query_log, "server.query_log");
  check(running.control.listen != file.control.listen, "control.listen");
  check(running.control.token != file.control.token, "control.token");
  check(running.fleet != file.fleet, "fleet");
  std::sort(out.begin(), out.end());
  return out;
}

PipelineConfig pipeline_config(const zone::ServerConfig& config, const std::string& chaos_host,
                               const dns::CookieSecret& generated_secret,
                               const std::optional<dns::CookieSecret>& retired_secret) {
  PipelineConfig pc;
  pc.max_udp_payload = config.pipeline.max_udp_payload;
  pc.chaos_enabled = config.pipeline.chaos_enabled;
  pc.chaos_id = config.pipeline.chaos_id.empty() ? chaos_host : config.pipeline.chaos_id;
  pc.chaos_version = config.pipeline.chaos_version;
  pc.nsid = config.pipeline.nsid;
  static_cast<zone::RrlSettings&>(pc.rrl) = config.pipeline.rrl;
  for (const auto& k : config.tsig_keys) pc.tsig_keys.push_back(k.key);
  pc.signature_cache_entries = config.dnssec.signature_cache;
  if (config.pipeline.cookies.enabled) {
    // Without a configured secret, one generated per start: clients simply learn a new
    // cookie after a restart. Servers behind one address share theirs through the config.
    const auto& cookies = config.pipeline.cookies;
    pc.cookie_secrets.push_back(cookies.secret ? *cookies.secret : generated_secret);
    if (cookies.previous_secret) pc.cookie_secrets.push_back(*cookies.previous_secret);
    if (retired_secret && std::find(pc.cookie_secrets.begin(), pc.cookie_secrets.end(),
                                    *retired_secret) == pc.cookie_secrets.end()) {
      pc.cookie_secrets.push_back(*retired_secret);
    }
  }
  return pc;
}

// The GeoIP and ASN databases are opened as one (geo::Database): a change of either file
// reopens both.
ServingState::GeoipStamp ServingState::geoip_inputs_stamp(const zone::ServerConfig& c) {
  return GeoipStamp{stamp_of(c.geoip_path),
                    c.asn_db_path.empty() ? FileStamp{} : stamp_of(c.asn_db_path)};
}

ServingState::FileStamp ServingState::stamp_of(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return FileStamp{st.st_ino, st.st_size,
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::vector<steer::DcSlot> datacenter_names(const zone::ZoneSet& zones) {
  std::vector<steer::DcSlot> out;
  for (const auto& z : zones.zones) {
    for (const auto& dc : z->datacenters) {
      // dc.key is the datacenter's identity: itself for a zone's own, "iad" for a shared one.
      const std::string slot = steer::dc_slot_key(z->origin_text, dc.name);
      out.push_back(steer::DcSlot{dc.id, slot, dc.key == slot ? std::string() : dc.key});
    }
  }
  return out;
}

ServingState::ServingState(const Clock& clock, ConfigSource source)
    : clock_(clock), source_(std::move(source)) {}

ServingState::~ServingState() {
  stop();
}

void ServingState::adopt(zone::ServerConfig config, const zone::LoadReport& report,
                         std::string chaos_host, dns::CookieSecret generated_secret,
                         std::chrono::milliseconds duration) {
  running_ = std::move(config);
  chaos_host_ = std::move(chaos_host);
  generated_secret_ = generated_secret;
  geoip_stamp_ = geoip_inputs_stamp(running_);
  if (report.zones) {
    snapshots_.answer_slots.publish(
        std::make_shared<const AnswerSlotMap>(answer_slots_.map_for(*report.zones)));
  }
  snapshots_.settings.publish(std::make_shared<const PipelineConfig>(
      pipeline_config(running_, chaos_host_, generated_secret_, std::nullopt)));
  std::lock_guard lock(mutex_);
  last_ = ReloadRecord{};
  last_.at = clock_.wall_now() - duration;
  last_.reason = "startup";
  last_.ok = report.errors.empty();
  for (const auto& e : report.errors) last_.errors.push_back(e.to_string());
  last_.zones = report.zones ? report.zones->zones.size() : 0;
  last_.zones_rebuilt = report.rebuilt;
  last_.zones_reused = report.reused;
  last_.duration = duration;
  last_.sequence = 1;
  if (!last_.ok) ++reload_errors_total_;
}

void ServingState::adopt_geoip(const std::string& description) {
  std::lock_guard lock(mutex_);
  geoip_description_ = description;
}

void ServingState::start(health::Prober* prober, const zone::LastGoodStore* last_good,
                         Done on_done) {
  prober_ = prober;
  last_good_ = last_good;
  on_done_ = std::move(on_done);
  notifier_ = std::make_unique<Notifier>();
  thread_ = std::thread([this] { run(); });
}

void ServingState::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (notifier_) notifier_->stop();
}

void ServingState::request_reload(std::string reason, Done done) {
  {
    std::lock_guard lock(mutex_);
    ++progress_.requested;
    if (!pending_) pending_reason_ = std::move(reason);  // the first reason names the reload
    pending_ = true;
    if (done) pending_waiters_.push_back(std::move(done));
  }
  wake_.notify_one();
}

std::chrono::steady_clock::time_point ServingState::resign_deadline() {
  // The condition variable waits in real steady time, whatever clock_ is (a test's manual
  // clock must not make the wait end at once); clock_ gives the wall time resign_by is in.
  const auto now = std::chrono::steady_clock::now();
  const auto zones = snapshots_.zones.load();
  int64_t earliest = std::numeric_limits<int64_t>::max();
  if (zones) {
    for (const auto& z : zones->zones) {
      if (z->signing) earliest = std::min(earliest, z->signing->resign_by_unix);
    }
  }
  // Nothing signed: wake once a day anyway (a finite deadline keeps the arithmetic safe).
  if (earliest == std::numeric_limits<int64_t>::max()) return now + std::chrono::hours(24);
  const int64_t wall_s =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now().time_since_epoch())
          .count();
  int64_t wait_s = earliest - wall_s;
  // Overdue after a timed reload already ran for it: that rebuild failed (its error is
  // logged, the zone serves on with signatures that still have `refresh` left). Retry
  // every 10 s rather than spin.
  if (earliest == resign_attempted_for_) wait_s = std::max<int64_t>(wait_s, 10);
  return now + std::chrono::seconds(std::max<int64_t>(wait_s, 0));
}

void ServingState::run() {
  for (;;) {
    std::string reason;
    std::vector<Done> waiters;
    {
      std::unique_lock lock(mutex_);
      // A timer, not a poll: the reload thread sleeps until a request or the next re-sign.
      const auto deadline = resign_deadline();
      const bool requested =
          wake_.wait_until(lock, deadline, [this] { return pending_ || stopping_; });
      if (stopping_) break;
      if (!requested) {
        pending_reason_ = "re-sign";  // named in the log and /status like any reload
        const auto zones = snapshots_.zones.load();
        resign_attempted_for_ = std::numeric_limits<int64_t>::max();
        for (const auto& z : zones ? zones->zones : std::vector<zone::ZonePtr>{}) {
          if (z->signing) {
            resign_attempted_for_ = std::min(resign_attempted_for_, z->signing->resign_by_unix);
          }
        }
      }
      pending_ = false;
      reason = std::move(pending_reason_);
      waiters = std::move(pending_waiters_);
      pending_waiters_.clear();
      progress_.in_progress = true;
      progress_.reason = reason;
      progress_.since = clock_.wall_now();
    }
    ReloadRecord record = reload(reason);
    {
      std::lock_guard lock(mutex_);
      record.sequence = last_.sequence + 1;
      ++reloads_total_;
      if (!record.ok) ++reload_errors_total_;
      last_ = record;
      progress_.in_progress = false;
    }
    for (auto& w : waiters) w(record);
    if (on_done_) on_done_(record);
  }
  // Requests still waiting get no reload: the server is stopping.
}

ReloadRecord ServingState::reload(const std::string& reason) {
  const auto started = clock_.now();
  log::info("reload_start", {{"reason", reason}});
  ReloadRecord record;
  record.at = clock_.wall_now();
  record.reason = reason;
  // The server config: shared datacenters/checks, paths and pipeline settings. A broken file
  // keeps the running config whole.
  const zone::ServerConfig previous = running_;
  if (source_) {
    auto fresh = source_();
    if (!fresh) {
      log::error("reload_error", {{"error", fresh.error().to_string()}});
      record.errors.push_back(fresh.error().to_string());
    } else {
      record.restart_required = restart_only_changes(running_, fresh.value());
      keep_restart_only(running_, fresh.value());
      running_ = std::move(fresh.value());
    }
  } else {
    // No config file to read again: what the last reload reported still holds.
    record.restart_required = last_reload().restart_required;
  }
  if (!record.restart_required.empty()) {
    std::string names;
    for (const auto& n : record.restart_required) names += (names.empty() ? "" : ",") + n;
    log::warn("restart_required", {{"settings", names}});
  }

  const auto current = snapshots_.zones.load();
  auto report =
      zone::load_zone_dir(running_.zones_dir, running_, current.get(), &previous, last_good_);
  for (const auto& e : report.errors) {
    log::error("reload_error", {{"error", e.to_string()}});  // the old zone keeps serving
    record.errors.push_back(e.to_string());
  }
  if (prober_ != nullptr) {
    prober_->set_datacenters(datacenter_names(*report.zones));
    prober_->set_targets(report.zones->targets);
    // New targets must be in the view (held until checked) before the zones that use them
    // serve; the prober takes them within one loop iteration, the bound is for a stalled one.
    if (!prober_->wait_targets_published(std::chrono::milliseconds(500))) {
      log::warn("health_targets_late", {{"waited_ms", "500"}});
    }
  }
  for (const auto& z : report.zones->zones) {
    const zone::Zone* old = nullptr;
    if (current) {
      if (auto it = current->by_origin.find(z->origin); it != current->by_origin.end()) {
        old = current->zones[it->second].get();
      }
    }
    if (old == nullptr || old->serial != z->serial) {
      log::info("zone_loaded", {{"zone", z->origin_text},
                                {"serial", std::to_string(z->serial)},
                                {"file", z->source_file}});
    }
    if (z->signing && (old == nullptr || !old->signing ||
                       old->signing->window.expiration != z->signing->window.expiration)) {
      const auto& sg = *z->signing;
      std::string tags;
      for (const uint32_t k : sg.published) {
        tags += (tags.empty() ? "" : ",") + std::to_string(sg.keys[k].key_tag);
      }
      log::info("zone_signed", {{"zone", z->origin_text},
                                {"inception", std::to_string(sg.window.inception_unix)},
                                {"expiration", std::to_string(sg.window.expiration_unix)},
                                {"resign_by", std::to_string(sg.resign_by_unix)},
                                {"dnskey_tags", tags}});
    }
  }
  // The slot map first: a worker that sees the new zones finds their slots already there.
  snapshots_.answer_slots.publish(
      std::make_shared<const AnswerSlotMap>(answer_slots_.map_for(*report.zones)));
  // Journals before zones: a worker that sees a new serial finds the way to it.
  const auto notifies = update_transfers(current.get(), *report.zones);
  snapshots_.zones.publish(report.zones);
  if (notifier_) {
    for (const auto& n : notifies) notifier_->notify(n.origin, n.serial, n.targets);
  }

  // Pipeline settings: published only when they changed, so that workers rebuild nothing
  // (RRL tables) for a zone edit. A replaced cookie secret stays accepted until the next
  // change, so cookies handed out just before the reload stay valid.
  const auto running_settings = snapshots_.settings.load();
  auto settings = pipeline_config(running_, chaos_host_, generated_secret_, std::nullopt);
  if (running_settings && !running_settings->cookie_secrets.empty() &&
      !settings.cookie_secrets.empty()) {
    const auto& was = running_settings->cookie_secrets;
    // The secret that ran before a change; with the same secret, the one retired earlier.
    std::optional<dns::CookieSecret> retired;
    if (was.front() != settings.cookie_secrets.front()) {
      retired = was.front();
    } else {
      for (const auto& s : was) {
        if (std::find(settings.cookie_secrets.begin(), settings.cookie_secrets.end(), s) ==
            settings.cookie_secrets.end()) {
          retired = s;
        }
      }
    }
    settings = pipeline_config(running_, chaos_host_, generated_secret_, retired);
  }
  if (!running_settings || !(settings == *running_settings)) {
    snapshots_.settings.publish(std::make_shared<const PipelineConfig>(std::move(settings)));
  }

  // GeoIP: reopened when the file changed; a broken file keeps the old database.
  if (!running_.geoip_path.empty()) {
    const GeoipStamp stamp = geoip_inputs_stamp(running_);
    if (!(stamp == geoip_stamp_)) {
      auto db = geo::Database::open(running_.geoip_path, running_.asn_db_path);
      if (!db) {
        log::error("reload_error", {{"error", db.error().to_string()}});
        record.errors.push_back(db.error().to_string());
      } else {
        geoip_stamp_ = stamp;
        {
          std::lock_guard lock(mutex_);
          geoip_description_ = db.value()->description();
        }
        snapshots_.geoip.publish(db.value());
        log::info("geoip_loaded",
                  {{"path", running_.geoip_path}, {"db", db.value()->description()}});
      }
    }
  }
  // The replaced zones were freed when the workers dropped them; give the pages back.
  malloc_trim(0);
  record.ok = record.errors.empty();
  record.zones = report.zones->zones.size();
  record.zones_rebuilt = report.rebuilt;
  record.zones_reused = report.reused;
  record.duration = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - started);
  log::info("reload_done", {{"zones", std::to_string(record.zones)},
                            {"rebuilt", std::to_string(record.zones_rebuilt)},
                            {"reused", std::to_string(record.zones_reused)},
                            {"errors", std::to_string(record.errors.size())},
                            {"duration", duration_text(record.duration)}});
  return record;
}

std::vector<ServingState::PendingNotify> ServingState::update_transfers(
    const zone::ZoneSet* current, const zone::ZoneSet& next) {
  std::vector<PendingNotify> notifies;
  std::unordered_map<std::string, std::shared_ptr<const ZoneJournal>> journals;
  for (const auto& z : next.zones) {
    if (z->secondaries.empty() || !z->rules.empty()) continue;
    std::shared_ptr<const ZoneJournal> journal;
    if (auto it = journals_.find(z->origin); it != journals_.end()) journal = it->second;
    const zone::Zone* old = nullptr;
    if (current != nullptr) {
      if (auto it = current->by_origin.find(z->origin); it != current->by_origin.end()) {
        old = current->zones[it->second].get();
      }
    }
    if (old != nullptr && old->serial != z->serial) {
      // A steered version before has nothing a secondary holds: no difference from it.
      if (old->rules.empty()) journal = extend_journal(journal.get(), diff_zones(*old, *z));
      PendingNotify n{z->origin, z->serial, {}};
      for (const auto& s : z->secondaries) {
        if (!s.notify) continue;
        Notifier::Target t{s.notify_address, s.notify_port, std::nullopt};
        if (const auto* k = running_.find_tsig_key(s.key); k != nullptr && !s.key.empty()) {
          t.key = k->key;
        }
        n.targets.push_back(std::move(t));
      }
      if (!n.targets.empty()) notifies.push_back(std::move(n));
    }
    if (journal) journals.emplace(z->origin, std::move(journal));
  }
  journals_ = journals;
  auto published = std::make_shared<TransferJournals>();
  published->by_origin = std::move(journals);
  snapshots_.journals.publish(std::move(published));
  return notifies;
}

ReloadRecord ServingState::last_reload() const {
  std::lock_guard lock(mutex_);
  return last_;
}

ReloadProgress ServingState::progress() const {
  std::lock_guard lock(mutex_);
  return progress_;
}

uint64_t ServingState::reloads_total() const {
  std::lock_guard lock(mutex_);
  return reloads_total_;
}

uint64_t ServingState::reload_errors_total() const {
  std::lock_guard lock(mutex_);
  return reload_errors_total_;
}

std::string ServingState::geoip_description() const {
  std::lock_guard lock(mutex_);
  return geoip_description_;
}

}  // namespace geodns::server
