#include "ops/daemon.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "geo/database.h"
#include "health/prober.h"
#include "ops/control_api.h"
#include "ops/control_server.h"
#include "ops/explain.h"
#include "ops/query_log.h"
#include "ops/state.h"
#include "ops/system.h"
#include "server/listen_config.h"
#include "server/pipeline.h"
#include "server/steer_compiler.h"
#include "server/worker_pool.h"
#include "zone/loader.h"

namespace geodns::ops {
namespace {

constexpr auto kSettleDelay = std::chrono::milliseconds(300);  // an editor's save is read once

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "geodns";
  return buf;
}

// 16 bytes from the kernel's CSPRNG for the server cookie secret. getrandom() on Linux only
// blocks before the pool is first seeded, long past by the time a DNS server starts.
dns::CookieSecret random_secret() {
  dns::CookieSecret s{};
  size_t got = 0;
  while (got < s.size()) {
    const ssize_t n = getrandom(s.data() + got, s.size() - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (errno != EINTR) {
      std::abort();  // no randomness at all: nothing safe to fall back on
    }
  }
  return s;
}

// What identifies a version of a file: a replaced database (rename over it, or a copy within
// the same second) changes the inode, the size or the nanosecond mtime.
struct FileStamp {
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
  return FileStamp{st.st_ino, st.st_size,
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::vector<std::pair<steer::DcId, std::string>> datacenter_names(const zone::ZoneSet& zones) {
  std::vector<std::pair<steer::DcId, std::string>> out;
  for (const auto& z : zones.zones) {
    for (const auto& dc : z->datacenters) out.emplace_back(dc.id, z->origin_text + "/" + dc.name);
  }
  return out;
}

std::chrono::milliseconds first_round_budget(const zone::ZoneSet& zones) {
  std::chrono::milliseconds longest{0};
  std::chrono::milliseconds spread{0};
  for (const auto& t : zones.targets) {
    if (t.check.type == steer::CheckType::none) continue;
    longest = std::max(longest, t.check.timeout);
    // The prober spreads first checks over the interval, capped at 1 s (health/prober.cpp).
    spread = std::max(spread, std::min(t.check.interval, std::chrono::milliseconds(1000)));
  }
  if (longest.count() == 0) return longest;
  // A first check starts within the spread and takes at most its timeout; plus slack.
  return spread + longest + std::chrono::milliseconds(500);
}

constexpr size_t kStatusTransitions = 50;     // recent state changes shown by /status
constexpr uint32_t kQueryLogPerSecond = 100;  // query log lines per worker and second

// Runs on the calling thread; the control loop owns every member below except what the
// prober and workers publish (snapshots, counters), so the control endpoint's handlers read
// daemon state without locks.
class Daemon final : public ControlBackend {
 public:
  Daemon(zone::ServerConfig config, CommonOptions options)
      : config_(std::move(config)), options_(std::move(options)) {}

  int run();

  // ControlBackend (called on the control loop by ControlServer).
  DaemonState state() override;
  ReloadRecord reload() override { return reload("control"); }
  Status set_override(const OverrideRequest& request) override;
  Status clear_override(const OverrideRequest& request) override;
  Result<std::string> explain(const ExplainRequest& request) override;

 private:
  ReloadRecord reload(const char* why);
  void record_reload(ReloadRecord record);
  void count_transitions();
  void drain_query_logs();
  void schedule_reload();
  void watch(const std::string& dir);
  int shutdown(int exit_code);

  static void on_signal(uv_signal_t* handle, int signum);
  static void on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status);
  static void on_settle(uv_timer_t* handle);

  zone::ServerConfig config_;
  CommonOptions options_;
  SystemClock clock_;
  server::Snapshots snapshots_;
  // Compiles steering tables off the control thread; told whenever zones or GeoIP change.
  std::unique_ptr<server::SteerCompiler> steer_compiler_;
  std::unique_ptr<health::Prober> prober_;
  std::unique_ptr<server::WorkerPool> pool_;
  FileStamp geoip_stamp_;
  std::string geoip_description_;
  std::chrono::system_clock::time_point started_{};
  // Counters of every worker's pipeline, registered by the factory on the worker threads
  // (hence the mutex); the pipelines outlive every reader (the pool stops last).
  std::mutex counters_mutex_;
  std::vector<const server::Counters*> counters_;
  std::vector<const server::RrlCounters*> rrl_counters_;
  std::vector<std::unique_ptr<QueryLogRing>> query_logs_;  // --query-log only
  uint64_t query_log_dropped_ = 0;
  bool query_log_ = false;  // [server] query_log or --query-log, fixed at start-up
  ReloadRecord last_reload_;
  uint64_t reloads_total_ = 0;
  uint64_t reload_errors_total_ = 0;
  // The prober keeps a ring of recent transitions; counting what is new in it every few
  // seconds turns it into a monotonic counter for metrics.
  uint64_t transitions_total_ = 0;
  std::chrono::system_clock::time_point last_transition_at_{};
  std::unique_ptr<ControlServer> control_;
  uv_loop_t loop_{};
  bool loop_ready_ = false;
  uv_signal_t sigint_{}, sigterm_{}, sighup_{};
  uv_timer_t settle_{};
  uv_timer_t housekeeping_{};
  uv_timer_t query_log_timer_{};
  std::vector<std::unique_ptr<uv_fs_event_t>> watchers_;
  std::vector<std::string> watched_files_;  // basenames that trigger a reload
};

int Daemon::run() {
  started_ = clock_.wall_now();
  query_log_ = config_.query_log;
  // The control loop and the file watchers come first, so that an edit made while the
  // initial load or the first health round is under way is not missed: its events wait in
  // the loop and trigger a reload once the loop runs.
  uv_loop_init(&loop_);
  loop_ready_ = true;
  loop_.data = this;
  uv_timer_init(&loop_, &settle_);
  settle_.data = this;
  // Signals are caught from here on: a SIGTERM that arrives while zones load or after the
  // workers have started answering (but before the loop runs) waits in the loop and stops the
  // server cleanly, instead of killing it with the default action.
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sighup_);
  for (uv_signal_t* s : {&sigint_, &sigterm_, &sighup_}) s->data = this;
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sighup_, on_signal, SIGHUP);
  watch(config_.zones_dir);
  if (!config_.geoip_path.empty()) {
    std::filesystem::path p(config_.geoip_path);
    watched_files_.push_back(p.filename().string());
    watch(p.parent_path().empty() ? "." : p.parent_path().string());
  }
  if (!config_.source_file.empty()) {
    std::filesystem::path p(config_.source_file);
    watched_files_.push_back(p.filename().string());
    watch(p.parent_path().empty() ? "." : p.parent_path().string());
  }
  // 1. Zones: a broken file at start-up is fatal, with every error printed.
  auto report = zone::load_zone_dir(config_.zones_dir, config_, nullptr);
  if (!report.errors.empty()) {
    for (const auto& e : report.errors) log::error("config_error", {{"error", e.to_string()}});
    return shutdown(1);
  }
  if (report.zones->zones.empty()) {
    log::error("config_error", {{"error", "no zone files (*.toml) in " + config_.zones_dir}});
    return shutdown(1);
  }
  // 2. GeoIP database (optional).
  if (!config_.geoip_path.empty()) {
    auto db = geo::Database::open(config_.geoip_path);
    if (!db) {
      log::error("config_error", {{"error", db.error().to_string()}});
      return shutdown(1);
    }
    geoip_stamp_ = stamp_of(config_.geoip_path);
    geoip_description_ = db.value()->description();
    snapshots_.geoip.publish(db.value());
    log::info("geoip_loaded", {{"path", config_.geoip_path}, {"db", geoip_description_}});
  } else {
    snapshots_.geoip.publish(nullptr);
  }
  // 3. Health: the first round finishes (bounded by the checks' timeout) before any steered
  // name is answered, so the first answers already reflect reality.
  health::ProberOptions popts;
  popts.state_dir = config_.state_dir;
  prober_ = std::make_unique<health::Prober>(clock_, popts);
  if (auto st = prober_->start(); !st) {
    log::error("health_error", {{"error", st.error().to_string()}});
    return shutdown(1);
  }
  prober_->set_datacenters(datacenter_names(*report.zones));
  prober_->set_targets(report.zones->targets);
  const auto budget = first_round_budget(*report.zones);
  if (budget.count() > 0 && !prober_->wait_first_round(budget)) {
    log::warn("health_first_round_incomplete", {{"waited_ms", std::to_string(budget.count())}});
  }
  snapshots_.health = &prober_->view();
  snapshots_.zones.publish(report.zones);
  steer_compiler_ = std::make_unique<server::SteerCompiler>(snapshots_.zones, snapshots_.geoip,
                                                            &snapshots_.steering);
  steer_compiler_->changed();
  steer_compiler_->wait_idle();  // the first answers already carry the merged scopes
  release_free_memory();
  for (const auto& z : report.zones->zones) {
    log::info("zone_loaded", {{"zone", z->origin_text},
                              {"serial", std::to_string(z->serial)},
                              {"file", z->source_file}});
  }
  last_reload_.at = clock_.wall_now();
  last_reload_.reason = "startup";
  last_reload_.zones = report.zones->zones.size();

  // 4. The control loop and its endpoint, bound before the DNS sockets answer so that a
  // server that answers queries can also be scraped and steered.
  if (!config_.control_listen.empty()) {
    control_ = std::make_unique<ControlServer>(&loop_, [this](const HttpRequest& request) {
      return handle_control(request, *this, config_.control_token);
    });
    if (auto st = control_->listen(config_.control_listen, !config_.control_token.empty()); !st) {
      log::error("control_error", {{"error", st.error().to_string()}});
      return shutdown(1);
    }
    log::info("control_listening", {{"endpoint", config_.control_listen},
                                    {"port", std::to_string(control_->port())},
                                    {"auth", config_.control_token.empty() ? "none" : "bearer"}});
  }
  // 5. Sockets and workers.
  server::ListenConfig lc;
  for (const auto& text : config_.listen) {
    auto ep = server::parse_endpoint(text);
    if (!ep) {
      log::error("config_error", {{"error", ep.error().to_string()}});
      return shutdown(1);
    }
    lc.endpoints.push_back(ep.value());
  }
  lc.threads =
      config_.threads != 0 ? config_.threads : std::max(1U, std::thread::hardware_concurrency());
  lc.tcp_idle_timeout = config_.tcp_idle_timeout;
  lc.tcp_stall_timeout = config_.tcp_stall_timeout;
  lc.tcp_max_connections = config_.tcp_max_connections;
  server::PipelineConfig pc;
  pc.max_udp_payload = config_.max_udp_payload;
  pc.chaos_enabled = config_.chaos_enabled;
  pc.chaos_id = config_.chaos_id.empty() ? host_name() : config_.chaos_id;
  pc.chaos_version = config_.chaos_version;
  pc.rrl.enabled = config_.rrl_enabled;
  pc.rrl.responses_per_second = config_.rrl_responses_per_second;
  pc.rrl.window = config_.rrl_window;
  pc.rrl.slip = config_.rrl_slip;
  pc.rrl.table_entries = config_.rrl_table_entries;
  if (config_.cookies_enabled) {
    // Without a configured secret, a random one per start: clients simply learn a new
    // cookie after a restart. Servers behind one address share theirs through the config.
    pc.cookie_secrets.push_back(config_.cookie_secret ? *config_.cookie_secret : random_secret());
    if (config_.cookie_previous_secret)
      pc.cookie_secrets.push_back(*config_.cookie_previous_secret);
  }
  std::atomic<uint64_t> seed{static_cast<uint64_t>(clock_.now().time_since_epoch().count())};
  auto pool = server::WorkerPool::start(lc, [this, pc, &seed]() {
    auto pipeline = std::make_unique<server::Pipeline>(snapshots_, pc, seed.fetch_add(0x9e3779b9));
    std::lock_guard lock(counters_mutex_);
    counters_.push_back(&pipeline->counters());
    rrl_counters_.push_back(&pipeline->rrl_counters());
    if (!query_log_) return std::unique_ptr<server::Responder>(std::move(pipeline));
    // Only with --query-log does the wrapper exist: without it, the packet path is untouched.
    query_logs_.push_back(std::make_unique<QueryLogRing>());
    return std::unique_ptr<server::Responder>(std::make_unique<LoggingResponder>(
        std::move(pipeline), query_logs_.back().get(), &clock_, kQueryLogPerSecond));
  });
  if (!pool) {
    log::error("listen_error", {{"error", pool.error().to_string()}});
    return shutdown(1);
  }
  pool_ = std::move(pool.value());
  for (size_t i = 0; i < lc.endpoints.size(); ++i) {
    log::info("listening",
              {{"endpoint", server::format_endpoint(lc.endpoints[i].address, pool_->bound_port(i))},
               {"threads", std::to_string(lc.threads)}});
  }

  // 6. Signals and file watching on the control loop.
  // Every socket is bound: the privileged part is over.
  if (!options_.user.empty()) {
    if (auto st = drop_privileges(options_.user); !st) {
      log::error("privileges_error", {{"error", st.error().to_string()}});
      return shutdown(1);
    }
    log::info("privileges_dropped", {{"user", options_.user}});
  }
  uv_timer_init(&loop_, &housekeeping_);
  housekeeping_.data = this;
  uv_timer_start(
      &housekeeping_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->count_transitions(); },
      5000, 5000);
  if (query_log_) {
    uv_timer_init(&loop_, &query_log_timer_);
    query_log_timer_.data = this;
    uv_timer_start(
        &query_log_timer_, [](uv_timer_t* t) { static_cast<Daemon*>(t->data)->drain_query_logs(); },
        200, 200);
    log::info("query_log",
              {{"max_lines_per_second_per_worker", std::to_string(kQueryLogPerSecond)}});
  }
  log::info("ready");
  notify_systemd("READY=1\nSTATUS=serving");
  uv_run(&loop_, UV_RUN_DEFAULT);
  return shutdown(0);
}

int Daemon::shutdown(int exit_code) {
  log::info("stopping");
  notify_systemd("STOPPING=1");
  if (control_) control_->close();
  if (pool_) pool_->stop();
  if (query_log_) drain_query_logs();  // the workers are gone: log what they left
  if (prober_) prober_->stop();
  if (loop_ready_) {
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
  log::info("stopped");
  return exit_code;
}

void Daemon::watch(const std::string& dir) {
  auto handle = std::make_unique<uv_fs_event_t>();
  uv_fs_event_init(&loop_, handle.get());
  handle->data = this;
  if (int rc = uv_fs_event_start(handle.get(), on_fs_event, dir.c_str(), 0); rc != 0) {
    log::warn("watch_failed", {{"path", dir}, {"error", uv_strerror(rc)}});
    uv_close(reinterpret_cast<uv_handle_t*>(handle.release()),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_fs_event_t*>(h); });
    return;
  }
  watchers_.push_back(std::move(handle));
}

void Daemon::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<Daemon*>(handle->data);
  if (signum == SIGHUP) {
    (void)self->reload("SIGHUP");
    return;
  }
  uv_stop(&self->loop_);
}

void Daemon::on_fs_event(uv_fs_event_t* handle, const char* filename, int, int status) {
  auto* self = static_cast<Daemon*>(handle->data);
  if (status < 0) return;
  const std::string name = filename != nullptr ? filename : "";
  const bool in_zones_dir = handle == self->watchers_.front().get();
  bool relevant = in_zones_dir ? name.size() > 5 && name.ends_with(".toml") : false;
  for (const auto& f : self->watched_files_) relevant = relevant || name == f;
  if (relevant || name.empty()) self->schedule_reload();
}

void Daemon::schedule_reload() {
  // Restarting the timer on every event coalesces an editor's write/rename/chmod burst.
  uv_timer_start(&settle_, on_settle, static_cast<uint64_t>(kSettleDelay.count()), 0);
}

void Daemon::on_settle(uv_timer_t* handle) {
  (void)static_cast<Daemon*>(handle->data)->reload("file change");
}

ReloadRecord Daemon::reload(const char* why) {
  log::info("reload_start", {{"reason", why}});
  notify_systemd("RELOADING=1");
  ReloadRecord record;
  record.at = clock_.wall_now();
  record.reason = why;
  // The server config: shared datacenters/checks and paths. Listen addresses and threads
  // need a restart; a broken config keeps the running one.
  if (!config_.source_file.empty() || !options_.config_path.empty()) {
    auto fresh = resolve_config(options_);
    if (!fresh) {
      log::error("reload_error", {{"error", fresh.error().to_string()}});
      record.errors.push_back(fresh.error().to_string());
    } else {
      if (fresh->listen != config_.listen || fresh->threads != config_.threads ||
          fresh->control_listen != config_.control_listen ||
          fresh->control_token != config_.control_token) {
        log::warn("reload_needs_restart", {{"what", "listen/threads/control"}});
        // The running endpoint keeps its address and token until a restart.
        fresh->control_listen = config_.control_listen;
        fresh->control_token = config_.control_token;
      }
      config_ = std::move(fresh.value());
    }
  }
  const auto current = snapshots_.zones.load();
  auto report = zone::load_zone_dir(config_.zones_dir, config_, current.get());
  for (const auto& e : report.errors) {
    log::error("reload_error", {{"error", e.to_string()}});  // the old zone keeps serving
    record.errors.push_back(e.to_string());
  }
  prober_->set_datacenters(datacenter_names(*report.zones));
  prober_->set_targets(report.zones->targets);
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
  }
  snapshots_.zones.publish(report.zones);
  release_free_memory();
  // GeoIP: reopened when the file changed; a broken file keeps the old database.
  if (!config_.geoip_path.empty()) {
    const FileStamp stamp = stamp_of(config_.geoip_path);
    if (!(stamp == geoip_stamp_)) {
      auto db = geo::Database::open(config_.geoip_path);
      if (!db) {
        log::error("reload_error", {{"error", db.error().to_string()}});
        record.errors.push_back(db.error().to_string());
      } else {
        geoip_stamp_ = stamp;
        geoip_description_ = db.value()->description();
        snapshots_.geoip.publish(db.value());
        log::info("geoip_loaded", {{"path", config_.geoip_path}, {"db", geoip_description_}});
      }
    }
  }
  if (steer_compiler_) steer_compiler_->changed();
  record.ok = record.errors.empty();
  record.zones = report.zones->zones.size();
  log::info("reload_done", {{"zones", std::to_string(record.zones)},
                            {"errors", std::to_string(record.errors.size())}});
  notify_systemd(record.ok ? "READY=1\nSTATUS=serving"
                           : "READY=1\nSTATUS=serving; last reload reported errors");
  record_reload(record);
  return record;
}

void Daemon::record_reload(ReloadRecord record) {
  ++reloads_total_;
  if (!record.ok) ++reload_errors_total_;
  last_reload_ = std::move(record);
}

void Daemon::count_transitions() {
  for (const auto& t : prober_->recent_transitions(256)) {
    if (t.at > last_transition_at_) {
      ++transitions_total_;
      last_transition_at_ = t.at;
    }
  }
}

void Daemon::drain_query_logs() {
  std::lock_guard lock(counters_mutex_);
  uint64_t dropped = 0;
  for (auto& ring : query_logs_) {
    ring->drain([](const QueryLogEntry& e) {
      log::info("query", {{"client", e.client.to_string()},
                          {"proto", e.transport == server::Transport::tcp ? "tcp" : "udp"},
                          {"name", e.name_length == 0 ? "-" : e.name_text()},
                          {"type", qtype_name(e.qtype < 256 ? e.qtype : 0)},
                          {"rcode", rcode_name(e.rcode)},
                          {"answers", std::to_string(e.answers)},
                          {"bytes", std::to_string(e.response_bytes)}});
    });
    dropped += ring->dropped();
  }
  if (dropped != query_log_dropped_) {
    log::warn("query_log_dropped", {{"lines", std::to_string(dropped - query_log_dropped_)}});
    query_log_dropped_ = dropped;
  }
}

DaemonState Daemon::state() {
  count_transitions();
  DaemonState s;
  s.now = clock_.wall_now();
  s.started = started_;
  s.geoip = geoip_description_;
  s.targets = prober_->status();
  s.overrides = prober_->overrides();
  s.transitions = prober_->recent_transitions(kStatusTransitions);
  s.transitions_total = transitions_total_;
  if (const auto zones = snapshots_.zones.load()) {
    s.zones = describe_zones(*zones, s.targets, s.overrides);
  }
  s.last_reload = last_reload_;
  s.reloads_total = reloads_total_;
  s.reload_errors_total = reload_errors_total_;
  std::lock_guard lock(counters_mutex_);
  for (const auto* c : counters_) s.traffic.add(*c);
  for (const auto* c : rrl_counters_) s.traffic.add(*c);
  s.rrl_enabled = config_.rrl_enabled;
  return s;
}

Status Daemon::set_override(const OverrideRequest& request) {
  const auto zones = snapshots_.zones.load();
  auto key = resolve_override_target(request, *zones);
  if (!key) return key.error();
  std::optional<std::chrono::system_clock::time_point> expires;
  if (request.expires_in) expires = clock_.wall_now() + *request.expires_in;
  const std::string what = key->to_string();
  if (auto st =
          prober_->set_override(std::move(key.value()), request.mode, expires, request.reason);
      !st) {
    return st;
  }
  log::info("override_set", {{"target", what},
                             {"state", request.mode == steer::Override::force_down ? "down" : "up"},
                             {"expires", expires ? iso8601(*expires) : "never"},
                             {"reason", request.reason}});
  return {};
}

Status Daemon::clear_override(const OverrideRequest& request) {
  const auto zones = snapshots_.zones.load();
  auto key = resolve_override_target(request, *zones);
  if (!key) {
    // The target may have left the zones while its override stayed: clear it by name.
    if (!request.address.empty()) {
      auto ip = IpAddress::parse(request.address);
      if (!ip) return key.error();
      key = health::OverrideKey::for_address(*ip);
    } else if (request.datacenter.find('/') != std::string::npos) {
      key = health::OverrideKey::for_datacenter(request.datacenter);
    } else {
      return key.error();
    }
  }
  const std::string what = key->to_string();
  if (auto st = prober_->clear_override(key.value()); !st) return st;
  log::info("override_cleared", {{"target", what}});
  return {};
}

Result<std::string> Daemon::explain(const ExplainRequest& request) {
  std::ostringstream out;
  out << "health:     live (running server)\n";
  if (auto st = explain_live(snapshots_, request, out); !st) return st.error();
  return out.str();
}

}  // namespace

int run_daemon(const CommonOptions& options) {
  auto config = resolve_config(options);
  if (!config) {
    log::error("config_error", {{"error", config.error().to_string()}});
    return 1;
  }
  Daemon daemon(std::move(config.value()), options);
  return daemon.run();
}

}  // namespace geodns::ops
