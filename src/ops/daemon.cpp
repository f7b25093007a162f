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
#include "server/serving_state.h"
#include "server/steer_compiler.h"
#include "server/worker_counters.h"
#include "server/worker_pool.h"
#include "server/xdp/xdp_pool.h"
#include "zone/last_good.h"
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
// prober, the workers and the reload thread publish (snapshots, counters, reload records), so
// the control endpoint's handlers read daemon state without locks of their own.
class Daemon final : public ControlBackend {
 public:
  Daemon(zone::ServerConfig config, CommonOptions options)
      : config_(std::move(config)),
        options_(std::move(options)),
        serving_(clock_, [this]() -> Result<zone::ServerConfig> {
          // Without a config file there is nothing to read again (the command line is fixed).
          if (config_.source_file.empty() && options_.config_path.empty()) return config_;
          return resolve_config(options_);
        }) {}

  int run();

  // ControlBackend (called on the control loop by ControlServer).
  DaemonState state() override;
  void reload(std::function<void(const ReloadRecord&)> done) override;
  Status set_override(const OverrideRequest& request) override;
  Status clear_override(const OverrideRequest& request) override;
  Result<std::string> explain(const ExplainRequest& request) override;

 private:
  void count_transitions();
  void on_reload_done(const ReloadRecord& record);
  void drain_query_logs();
  void schedule_reload();
  void watch(const std::string& dir);
  void watch_inputs(const zone::ZoneSet& zones);
  int shutdown(int exit_code);
  // [server] xdp: the AF_XDP workers beside the socket workers (same factory, so the same
  // pipeline), serving the endpoints' bound ports (server/xdp/xdp_pool.h).
  Status start_xdp(const server::ListenConfig& lc, const server::ResponderFactory& factory);

  static void on_signal(uv_signal_t* handle, int signum);
  static void on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status);
  static void on_settle(uv_timer_t* handle);
  static void on_replies(uv_async_t* handle);

  // The config the server started with: the restart-only settings it runs (sockets, control
  // endpoint, query log). What a reload changes lives in serving_.
  zone::ServerConfig config_;
  CommonOptions options_;
  SystemClock clock_;
  server::ServingState serving_;
  server::Snapshots& snapshots_ = serving_.snapshots();
  // Compiles steering tables off the control thread; told whenever zones or GeoIP change.
  std::unique_ptr<server::SteerCompiler> steer_compiler_;
  // [fleet]: started before the prober (which reads it), stopped after it.
  std::unique_ptr<fleet::Fleet> fleet_;
  std::unique_ptr<health::Prober> prober_;
  std::unique_ptr<zone::LastGoodStore> last_good_;  // state_dir/last-good
  std::unique_ptr<server::WorkerPool> pool_;
  std::unique_ptr<server::xdp::XdpPool> xdp_;
  std::chrono::system_clock::time_point started_{};
  // Replies to POST /reload, handed from the reload thread to the control loop.
  std::mutex replies_mutex_;
  std::vector<std::function<void()>> replies_;
  uv_async_t replies_async_{};
  // One counter block per worker (pipeline, RRL, transport), created and registered by the
  // factory on the worker threads (hence the mutex). The daemon owns them, so they outlive
  // the workers and every reader.
  std::mutex counters_mutex_;
  std::vector<std::unique_ptr<server::WorkerCounters>> counters_;
  std::vector<std::unique_ptr<QueryLogRing>> query_logs_;  // --query-log only
  uint64_t query_log_dropped_ = 0;
  bool query_log_ = false;  // [server] query_log or --query-log, fixed at start-up
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
  uv_timer_t warming_timer_{};  // only while answering before the first round completed
  bool stopping_ = false;       // SIGINT/SIGTERM seen
  std::vector<std::unique_ptr<uv_fs_event_t>> watchers_;
  std::vector<std::string> watched_files_;  // basenames that trigger a reload
  std::vector<std::string> watched_dirs_;   // of nets files (zones' input_files)
};

int Daemon::run() {
  started_ = clock_.wall_now();
  query_log_ = config_.logging.query_log;
  // The control loop and the file watchers come first, so that an edit made while the
  // initial load or the first health round is under way is not missed: its events wait in
  // the loop and trigger a reload once the loop runs.
  uv_loop_init(&loop_);
  loop_ready_ = true;
  loop_.data = this;
  uv_timer_init(&loop_, &settle_);
  settle_.data = this;
  uv_async_init(&loop_, &replies_async_, on_replies);
  replies_async_.data = this;
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
  if (!config_.asn_db_path.empty()) {
    std::filesystem::path p(config_.asn_db_path);
    watched_files_.push_back(p.filename().string());
    watch(p.parent_path().empty() ? "." : p.parent_path().string());
  }
  if (!config_.source_file.empty()) {
    std::filesystem::path p(config_.source_file);
    watched_files_.push_back(p.filename().string());
    watch(p.parent_path().empty() ? "." : p.parent_path().string());
  }
  const auto load_started = clock_.now();
  // 1. Zones: a file broken at start-up (an edit the running server rightly refused) serves
  // its last good version from state_dir, or is not served; the others are. Its error is
  // the start-up's reload record: in the log, /status, metrics and the status page.
  last_good_ = std::make_unique<zone::LastGoodStore>(
      config_.prober.state_dir.empty() ? std::string() : config_.prober.state_dir + "/last-good");
  auto report = zone::load_zone_dir(config_.zones_dir, config_, nullptr, nullptr, last_good_.get());
  for (const auto& e : report.errors) log::error("config_error", {{"error", e.to_string()}});
  if (report.zones->zones.empty()) {
    log::error("config_error", {{"error", "no zone to serve in " + config_.zones_dir}});
    return shutdown(1);
  }
  // 2. GeoIP database (optional), with the ASN database looked up beside it.
  if (config_.geoip_path.empty() && !config_.asn_db_path.empty()) {
    log::error("config_error", {{"error", "asn_db needs a geoip database too"}});
    return shutdown(1);
  }
  if (!config_.geoip_path.empty()) {
    auto db = geo::Database::open(config_.geoip_path, config_.asn_db_path);
    if (!db) {
      log::error("config_error", {{"error", db.error().to_string()}});
      return shutdown(1);
    }
    serving_.adopt_geoip(db.value()->description());
    snapshots_.geoip.publish(db.value());
    log::info("geoip_loaded", {{"path", config_.geoip_path}, {"db", db.value()->description()}});
  } else {
    snapshots_.geoip.publish(nullptr);
  }
  // 3. Health: the first round finishes (bounded by the checks' timeout) before any steered
  // name is answered, so the first answers already reflect reality.
  health::ProberOptions popts;
  popts.state_dir = config_.prober.state_dir;
  if (config_.fleet.enabled) {
    auto fopts = fleet::fleet_options(config_.fleet);
    if (!fopts) {
      log::error("fleet_error", {{"error", fopts.error().to_string()}});
      return shutdown(1);
    }
    // Not reachable yet is fine: the fleet connects in the background and we serve alone
    // meanwhile (never unserve because of the fleet).
    fleet_ = std::make_unique<fleet::Fleet>(std::move(*fopts));
    fleet_->start();
    popts.fleet = fleet_.get();
    if (!config_.fleet.probe_source.empty())
      popts.probe_source = IpAddress::parse(config_.fleet.probe_source);
  }
  prober_ = std::make_unique<health::Prober>(clock_, popts);
  if (auto st = prober_->start(); !st) {
    log::error("health_error", {{"error", st.error().to_string()}});
    return shutdown(1);
  }
  prober_->set_datacenters(server::datacenter_names(*report.zones));
  prober_->set_targets(report.zones->targets);
  snapshots_.health = &prober_->view();
  // No worker reads the snapshots yet: published now, /status shows the zones while warming.
  snapshots_.zones.publish(report.zones);
  watch_inputs(*report.zones);
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
  serving_.adopt(
      config_, report, host_name(), random_secret(),
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - load_started));

  // 4. The control loop and its endpoint, bound before the first round and the DNS sockets,
  // so that a warming server already says so and a serving one can be scraped and steered.
  if (!config_.control.listen.empty()) {
    control_ = std::make_unique<ControlServer>(
        &loop_, [this](const HttpRequest& request, ControlServer::Reply reply) {
          handle_control(request, *this, config_.control.token, reply);
        });
    if (auto st = control_->listen(config_.control.listen, !config_.control.token.empty()); !st) {
      log::error("control_error", {{"error", st.error().to_string()}});
      return shutdown(1);
    }
    log::info("control_listening", {{"endpoint", config_.control.listen},
                                    {"port", std::to_string(control_->port())},
                                    {"auth", config_.control.token.empty() ? "none" : "bearer"}});
  }
  // The first round: the control loop runs meanwhile (/status says "warming"; a SIGTERM
  // stops the server), and the DNS sockets open after it, or after its bound.
  notify_systemd("STATUS=warming");
  const auto budget = first_round_budget(*report.zones);
  const auto give_up = clock_.now() + budget;
  while (budget.count() > 0 && !stopping_ &&
         !prober_->wait_first_round(std::chrono::milliseconds(20))) {
    if (clock_.now() >= give_up) {
      log::warn("health_first_round_incomplete", {{"waited_ms", std::to_string(budget.count())}});
      break;
    }
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  if (stopping_) return shutdown(0);
  // 5. Sockets and workers.
  auto listen = server::listen_config(config_.listen, std::thread::hardware_concurrency());
  if (!listen) {
    log::error("config_error", {{"error", listen.error().to_string()}});
    return shutdown(1);
  }
  const server::ListenConfig& lc = listen.value();
  // What the workers start with; each picks up later settings between batches.
  const server::PipelineConfig pc = *snapshots_.settings.load();
  std::atomic<uint64_t> seed{static_cast<uint64_t>(clock_.now().time_since_epoch().count())};
  const server::ResponderFactory make_responder = [this, pc, &seed]() {
    std::lock_guard lock(counters_mutex_);
    counters_.push_back(std::make_unique<server::WorkerCounters>());
    auto pipeline = std::make_unique<server::Pipeline>(snapshots_, pc, seed.fetch_add(0x9e3779b9),
                                                       counters_.back().get());
    if (!query_log_) return std::unique_ptr<server::Responder>(std::move(pipeline));
    // Only with --query-log does the wrapper exist: without it, the packet path is untouched.
    query_logs_.push_back(std::make_unique<QueryLogRing>());
    return std::unique_ptr<server::Responder>(std::make_unique<LoggingResponder>(
        std::move(pipeline), query_logs_.back().get(), &clock_, kQueryLogPerSecond));
  };
  auto pool = server::WorkerPool::start(lc, make_responder);
  if (!pool) {
    log::error("listen_error", {{"error", pool.error().to_string()}});
    return shutdown(1);
  }
  pool_ = std::move(pool.value());
  for (size_t i = 0; i < lc.endpoints.size(); ++i) {
    log::info("listening",
              {{"endpoint", server::format_endpoint(lc.endpoints[i].address, pool_->bound_port(i))},
               {"threads", std::to_string(pool_->udp_worker_count())},
               {"tcp_threads", std::to_string(pool_->tcp_worker_count())}});
  }
  if (!config_.listen.xdp.empty()) {
    if (auto st = start_xdp(lc, make_responder); !st) {
      log::error("xdp_error", {{"error", st.error().to_string()}});
      return shutdown(1);
    }
  }

  // Reloads from here on run on their own thread; the control loop only asks for them.
  serving_.start(prober_.get(), last_good_.get(),
                 [this](const ReloadRecord& record) { on_reload_done(record); });

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
  if (prober_->view().load()->ready()) {
    notify_systemd("READY=1\nSTATUS=serving");
  } else {
    // Answering (the wait is bounded) but still warming: say so until the round completes.
    notify_systemd("READY=1\nSTATUS=warming");
    uv_timer_init(&loop_, &warming_timer_);
    warming_timer_.data = this;
    uv_timer_start(
        &warming_timer_,
        [](uv_timer_t* t) {
          auto* self = static_cast<Daemon*>(t->data);
          if (!self->prober_->view().load()->ready()) return;
          uv_timer_stop(t);
          log::info("health_warm");
          notify_systemd("STATUS=serving");
        },
        250, 250);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  return shutdown(0);
}

Status Daemon::start_xdp(const server::ListenConfig& lc, const server::ResponderFactory& factory) {
  auto mode = server::xdp::parse_attach_mode(config_.listen.xdp_mode);
  if (!mode) return mode.error();
  std::vector<server::Endpoint> endpoints = lc.endpoints;
  for (size_t i = 0; i < endpoints.size(); ++i) endpoints[i].port = pool_->bound_port(i);
  auto xdp = server::xdp::XdpPool::start({config_.listen.xdp, *mode, config_.prober.state_dir},
                                         endpoints, factory);
  if (!xdp) return xdp.error();
  xdp_ = std::move(xdp.value());
  for (const auto& q : xdp_->queues()) {
    log::info("xdp_listening", {{"interface", q.interface},
                                {"queue", std::to_string(q.queue)},
                                {"attach", q.mode},
                                {"socket", q.zero_copy ? "zero-copy" : "copy"}});
  }
  return {};
}

int Daemon::shutdown(int exit_code) {
  log::info("stopping");
  notify_systemd("STOPPING=1");
  if (control_) control_->close();
  // The sockets close at once, even during a reload: nothing is answered after SIGTERM.
  if (xdp_) xdp_->stop();  // detaches the XDP programs: the kernel's sockets answer again
  if (pool_) pool_->stop();
  // A reload under way finishes first (a zone build cannot be interrupted): it publishes
  // snapshots and hands targets to the prober, both of which still exist until it is over.
  if (serving_.progress().in_progress) log::info("stopping_waits_for_reload");
  serving_.stop();
  {
    std::lock_guard lock(replies_mutex_);
    replies_.clear();  // their connections are closed
  }
  if (query_log_) drain_query_logs();  // the workers are gone: log what they left
  if (prober_) prober_->stop();
  if (fleet_) fleet_->stop();  // revokes our lease: the others drop our votes at once
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

// Control loop. The files zones were built from besides their own (nets_file): an edit of
// one reloads like a zone edit. Watches are only added; a stale one costs a needless reload.
void Daemon::watch_inputs(const zone::ZoneSet& zones) {
  for (const auto& z : zones.zones) {
    for (const auto& [file, hash] : z->input_files) {
      const std::filesystem::path p(file);
      const std::string name = p.filename().string();
      const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
      if (std::find(watched_files_.begin(), watched_files_.end(), name) == watched_files_.end()) {
        watched_files_.push_back(name);
      }
      if (std::find(watched_dirs_.begin(), watched_dirs_.end(), dir) == watched_dirs_.end()) {
        watched_dirs_.push_back(dir);
        watch(dir);
      }
    }
  }
}

void Daemon::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<Daemon*>(handle->data);
  if (signum == SIGHUP) {
    notify_systemd("RELOADING=1");
    self->serving_.request_reload("SIGHUP");
    return;
  }
  self->stopping_ = true;  // seen by the first round's wait, which runs the loop itself
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
  notify_systemd("RELOADING=1");
  static_cast<Daemon*>(handle->data)->serving_.request_reload("file change");
}

void Daemon::reload(std::function<void(const ReloadRecord&)> done) {
  notify_systemd("RELOADING=1");
  // The reply goes back through the control loop: connections live on its thread.
  serving_.request_reload("control", [this, done = std::move(done)](const ReloadRecord& record) {
    {
      std::lock_guard lock(replies_mutex_);
      replies_.push_back([done, record] { done(record); });
    }
    uv_async_send(&replies_async_);
  });
}

// Reload thread.
void Daemon::on_reload_done(const ReloadRecord& record) {
  // Zones or GeoIP may have been published again: compile the steering tables anew.
  if (steer_compiler_) steer_compiler_->changed();
  // A reloaded zone may read a nets file from a directory not watched yet. Watchers belong
  // to the control loop: added there.
  if (auto zones = snapshots_.zones.load()) {
    {
      std::lock_guard lock(replies_mutex_);
      replies_.push_back([this, zones] { watch_inputs(*zones); });
    }
    uv_async_send(&replies_async_);
  }
  notify_systemd(record.ok ? "READY=1\nSTATUS=serving"
                           : "READY=1\nSTATUS=serving; last reload reported errors");
}

void Daemon::on_replies(uv_async_t* handle) {
  auto* self = static_cast<Daemon*>(handle->data);
  std::vector<std::function<void()>> replies;
  {
    std::lock_guard lock(self->replies_mutex_);
    replies.swap(self->replies_);
  }
  for (auto& r : replies) r();
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
  s.geoip = serving_.geoip_description();
  s.targets = prober_->status();
  s.overrides = prober_->overrides();
  s.transitions = prober_->recent_transitions(kStatusTransitions);
  s.transitions_total = transitions_total_;
  if (const auto zones = snapshots_.zones.load()) {
    s.zones = describe_zones(*zones, s.targets, *prober_->view().load());
  }
  s.last_reload = serving_.last_reload();
  s.reload_progress = serving_.progress();
  s.answer_names = serving_.answer_slots().name_labels();
  s.answer_datacenters = serving_.answer_slots().datacenter_labels();
  s.answer_zones = serving_.answer_slots().zone_labels();
  s.reloads_total = serving_.reloads_total();
  s.reload_errors_total = serving_.reload_errors_total();
  std::lock_guard lock(counters_mutex_);
  for (const auto& block : counters_) {
    s.traffic.add(block->pipeline);
    s.traffic.add(block->rrl);
    s.traffic.add(block->answers);
    s.traffic.add(block->dnssec);
    s.transport += block->transport.snapshot();
  }
  if (xdp_) {
    s.xdp_enabled = true;
    for (const auto& q : xdp_->queues()) {
      s.xdp_queues.push_back({q.interface, q.queue, q.mode, q.zero_copy,
                              q.counters ? q.counters->snapshot() : server::TransportStats{}});
    }
  }
  // What the workers run (the published settings), not what the file says.
  s.rrl_enabled = snapshots_.settings.load()->rrl.enabled;
  s.warming = !prober_->view().load()->ready();
  if (fleet_) s.fleet = fleet_->status();
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
