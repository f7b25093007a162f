#include "ops/daemon.h"

#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "geo/database.h"
#include "health/prober.h"
#include "server/listen_config.h"
#include "server/pipeline.h"
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

std::time_t mtime_of(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mtime;
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
  for (const auto& t : zones.targets) {
    if (t.check.type != steer::CheckType::none) longest = std::max(longest, t.check.timeout);
  }
  // A first check can only take its timeout; a little slack for scheduling and jitter.
  return longest + std::chrono::milliseconds(longest.count() > 0 ? 500 : 0);
}

class Daemon {
 public:
  Daemon(zone::ServerConfig config, CommonOptions options)
      : config_(std::move(config)), options_(std::move(options)) {}

  int run();

 private:
  void reload(const char* why);
  void schedule_reload();
  void watch(const std::string& dir);

  static void on_signal(uv_signal_t* handle, int signum);
  static void on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status);
  static void on_settle(uv_timer_t* handle);

  zone::ServerConfig config_;
  CommonOptions options_;
  SystemClock clock_;
  server::Snapshots snapshots_;
  std::unique_ptr<health::Prober> prober_;
  std::unique_ptr<server::WorkerPool> pool_;
  std::time_t geoip_mtime_ = 0;
  uv_loop_t loop_{};
  uv_signal_t sigint_{}, sigterm_{}, sighup_{};
  uv_timer_t settle_{};
  std::vector<std::unique_ptr<uv_fs_event_t>> watchers_;
  std::vector<std::string> watched_files_;  // basenames that trigger a reload
};

int Daemon::run() {
  // 1. Zones: a broken file at start-up is fatal, with every error printed.
  auto report = zone::load_zone_dir(config_.zones_dir, config_, nullptr);
  if (!report.errors.empty()) {
    for (const auto& e : report.errors) log::error("config_error", {{"error", e.to_string()}});
    return 1;
  }
  if (report.zones->zones.empty()) {
    log::error("config_error", {{"error", "no zone files (*.toml) in " + config_.zones_dir}});
    return 1;
  }
  // 2. GeoIP database (optional).
  if (!config_.geoip_path.empty()) {
    auto db = geo::Database::open(config_.geoip_path);
    if (!db) {
      log::error("config_error", {{"error", db.error().to_string()}});
      return 1;
    }
    geoip_mtime_ = mtime_of(config_.geoip_path);
    snapshots_.geoip.publish(db.value());
    log::info("geoip_loaded", {{"path", config_.geoip_path}, {"db", db.value()->description()}});
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
    return 1;
  }
  prober_->set_datacenters(datacenter_names(*report.zones));
  prober_->set_targets(report.zones->targets);
  const auto budget = first_round_budget(*report.zones);
  if (budget.count() > 0 && !prober_->wait_first_round(budget)) {
    log::warn("health_first_round_incomplete", {{"waited_ms", std::to_string(budget.count())}});
  }
  snapshots_.health = &prober_->view();
  snapshots_.zones.publish(report.zones);
  for (const auto& z : report.zones->zones) {
    log::info("zone_loaded", {{"zone", z->origin_text},
                              {"serial", std::to_string(z->serial)},
                              {"file", z->source_file}});
  }

  // 4. Sockets and workers.
  server::ListenConfig lc;
  for (const auto& text : config_.listen) {
    auto ep = server::parse_endpoint(text);
    if (!ep) {
      log::error("config_error", {{"error", ep.error().to_string()}});
      return 1;
    }
    lc.endpoints.push_back(ep.value());
  }
  lc.threads = config_.threads != 0 ? config_.threads
                                    : std::max(1U, std::thread::hardware_concurrency());
  lc.tcp_idle_timeout = config_.tcp_idle_timeout;
  lc.tcp_stall_timeout = config_.tcp_stall_timeout;
  lc.tcp_max_connections = config_.tcp_max_connections;
  server::PipelineConfig pc;
  pc.max_udp_payload = config_.max_udp_payload;
  pc.chaos_enabled = config_.chaos_enabled;
  pc.chaos_id = config_.chaos_id.empty() ? host_name() : config_.chaos_id;
  pc.chaos_version = config_.chaos_version;
  std::atomic<uint64_t> seed{static_cast<uint64_t>(clock_.now().time_since_epoch().count())};
  auto pool = server::WorkerPool::start(lc, [this, pc, &seed]() {
    return std::make_unique<server::Pipeline>(snapshots_, pc, seed.fetch_add(0x9e3779b9));
  });
  if (!pool) {
    log::error("listen_error", {{"error", pool.error().to_string()}});
    prober_->stop();
    return 1;
  }
  pool_ = std::move(pool.value());
  for (size_t i = 0; i < lc.endpoints.size(); ++i) {
    log::info("listening", {{"endpoint", server::format_endpoint(lc.endpoints[i].address,
                                                                 pool_->bound_port(i))},
                            {"threads", std::to_string(lc.threads)}});
  }

  // 5. The control loop: signals and file watching.
  uv_loop_init(&loop_);
  loop_.data = this;
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sighup_);
  for (uv_signal_t* s : {&sigint_, &sigterm_, &sighup_}) s->data = this;
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sighup_, on_signal, SIGHUP);
  uv_timer_init(&loop_, &settle_);
  settle_.data = this;
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
  log::info("ready");
  uv_run(&loop_, UV_RUN_DEFAULT);

  log::info("stopping");
  pool_->stop();
  prober_->stop();
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  log::info("stopped");
  return 0;
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
    self->reload("SIGHUP");
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
  static_cast<Daemon*>(handle->data)->reload("file change");
}

void Daemon::reload(const char* why) {
  log::info("reload_start", {{"reason", why}});
  // The server config: shared datacenters/checks and paths. Listen addresses and threads
  // need a restart; a broken config keeps the running one.
  if (!config_.source_file.empty() || !options_.config_path.empty()) {
    auto fresh = resolve_config(options_);
    if (!fresh) {
      log::error("reload_error", {{"error", fresh.error().to_string()}});
    } else {
      if (fresh->listen != config_.listen || fresh->threads != config_.threads) {
        log::warn("reload_needs_restart", {{"what", "listen/threads"}});
      }
      config_ = std::move(fresh.value());
    }
  }
  const auto current = snapshots_.zones.load();
  auto report = zone::load_zone_dir(config_.zones_dir, config_, current.get());
  for (const auto& e : report.errors) {
    log::error("reload_error", {{"error", e.to_string()}});  // the old zone keeps serving
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
  // GeoIP: reopened when the file changed; a broken file keeps the old database.
  if (!config_.geoip_path.empty()) {
    const std::time_t mt = mtime_of(config_.geoip_path);
    if (mt != geoip_mtime_) {
      auto db = geo::Database::open(config_.geoip_path);
      if (!db) {
        log::error("reload_error", {{"error", db.error().to_string()}});
      } else {
        geoip_mtime_ = mt;
        snapshots_.geoip.publish(db.value());
        log::info("geoip_loaded",
                  {{"path", config_.geoip_path}, {"db", db.value()->description()}});
      }
    }
  }
  log::info("reload_done", {{"zones", std::to_string(report.zones->zones.size())},
                            {"errors", std::to_string(report.errors.size())}});
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
