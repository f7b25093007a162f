// The serving state: the snapshots the workers answer from (zones, GeoIP, pipeline settings)
// and the reload that replaces them. A reload runs on its own thread, so the control loop
// (signals, the control endpoint, scrapes) never waits for a zone build; requests that arrive
// while one runs are coalesced into one more reload, never a queue.
//
// Each server setting is either applied by a reload (pipeline settings, paths, shared
// datacenters and checks, log level) or restart-only (sockets, threads, TCP limits, control
// endpoint, state_dir, query_log): a reload that changes a restart-only one keeps the running
// value, and says so in its ReloadRecord (restart_required) until the server restarts.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "dns/cookie.h"
#include "health/prober.h"
#include "server/answer_slots.h"
#include "server/notifier.h"
#include "server/pipeline.h"
#include "server/transfer.h"
#include "zone/config.h"
#include "zone/loader.h"

namespace geodns::server {

// The outcome of one (re)load, for status, metrics and the page.
struct ReloadRecord {
  std::chrono::system_clock::time_point at{};  // when it started
  std::string reason;                          // "startup", "SIGHUP", "file change", "control"
  bool ok = true;                              // no error at all (every file loaded)
  std::vector<std::string> errors;             // "file:line:column: message"
  size_t zones = 0;                            // zones served after it
  size_t zones_rebuilt = 0;                    // built from their file
  size_t zones_reused = 0;                     // unchanged: the previous Zone kept as it was
  std::chrono::milliseconds duration{0};
  // Settings whose value in the file differs from what runs and that only a restart applies
  // ("server.listen", "control.token"), sorted; empty when everything in the file runs.
  std::vector<std::string> restart_required;
  uint64_t sequence = 0;  // 1 = start-up, then one more per reload
};

// What a reload is doing right now, for /status.
struct ReloadProgress {
  bool in_progress = false;
  std::string reason;
  std::chrono::system_clock::time_point since{};
  uint64_t requested = 0;  // requests so far (a coalesced one counts once per request)
};

// Restart-only settings whose value differs between `running` and `file` (names as written in
// geodns.toml, sorted).
std::vector<std::string> restart_only_changes(const zone::ServerConfig& running,
                                              const zone::ServerConfig& file);

// The one conversion from the config file's [server] pipeline settings to what a Pipeline runs.
// `chaos_host` stands in for an empty chaos_id; `generated_secret` for a missing cookie secret.
// `retired_secret`, when given and not otherwise listed, is still accepted (the secret that
// ran before a reload changed it), so clients holding a cookie made with it keep it valid.
PipelineConfig pipeline_config(const zone::ServerConfig& config, const std::string& chaos_host,
                               const dns::CookieSecret& generated_secret,
                               const std::optional<dns::CookieSecret>& retired_secret);

// Every zone's use of a datacenter, for the prober (steer::DcSlot): a server datacenter used
// by two zones is two slots, "example.com/iad" and "example.net/iad", both of shared "iad".
std::vector<steer::DcSlot> datacenter_names(const zone::ZoneSet& zones);

class ServingState {
 public:
  // Reads geodns.toml again (with the command line applied); called on the reload thread.
  using ConfigSource = std::function<Result<zone::ServerConfig>()>;
  // Called on the reload thread once a reload is over.
  using Done = std::function<void(const ReloadRecord&)>;

  ServingState(const Clock& clock, ConfigSource source);
  ~ServingState();  // stop()s
  ServingState(const ServingState&) = delete;
  ServingState& operator=(const ServingState&) = delete;

  Snapshots& snapshots() noexcept { return snapshots_; }
  const Snapshots& snapshots() const noexcept { return snapshots_; }

  // Start-up, before start(): the config and zones the server came up with. Publishes the
  // pipeline settings; the caller published zones and GeoIP itself.
  void adopt(zone::ServerConfig config, const zone::LoadReport& report, std::string chaos_host,
             dns::CookieSecret generated_secret, std::chrono::milliseconds duration);
  // GeoIP opened at start-up (the reload reopens it when its file changes).
  void adopt_geoip(const std::string& description);
  // Starts the reload thread; `prober` gets the targets of every reload (thread-safe inbox);
  // `last_good` (may be null) stores every zone that loads and stands in for one that fails.
  void start(health::Prober* prober, const zone::LastGoodStore* last_good, Done on_done);
  // Waits for a running reload to finish, then joins the thread. Idempotent.
  void stop();

  // Any thread. Runs a reload soon: at once if none is running, else once more after the
  // running one (however many requests arrive meanwhile). `done`, if given, is called with the
  // record of the reload that started after this request.
  void request_reload(std::string reason, Done done = nullptr);

  ReloadRecord last_reload() const;
  ReloadProgress progress() const;
  uint64_t reloads_total() const;
  uint64_t reload_errors_total() const;
  std::string geoip_description() const;
  // Labels of the answer counters' slots (any thread).
  const AnswerSlots& answer_slots() const noexcept { return answer_slots_; }

 private:
  void run();
  ReloadRecord reload(const std::string& reason);
  // When the reload thread must rebuild on its own: the earliest ZoneSigning::resign_by_unix
  // of the served zones (signatures renewed, key timing events applied), as a steady time.
  // Reload thread only.
  std::chrono::steady_clock::time_point resign_deadline();
  int64_t resign_attempted_for_ = 0;  // the resign_by a timed reload last ran for
  // Zone transfers after a load: extends the IXFR journal of every zone with secondaries
  // whose serial moved from `current` and publishes the journals. Returns the zones to
  // NOTIFY, sent once the zones themselves are published.
  struct PendingNotify {
    std::string origin;
    uint32_t serial;
    std::vector<Notifier::Target> targets;
  };
  std::vector<PendingNotify> update_transfers(const zone::ZoneSet* current,
                                              const zone::ZoneSet& next);

  const Clock& clock_;
  ConfigSource source_;
  Snapshots snapshots_;
  AnswerSlots answer_slots_;
  health::Prober* prober_ = nullptr;
  const zone::LastGoodStore* last_good_ = nullptr;
  Done on_done_;

  // Reload thread only (and adopt(), before the thread starts).
  zone::ServerConfig running_;  // what runs: the file's values, restart-only ones from start-up
  std::string chaos_host_;
  dns::CookieSecret generated_secret_{};
  struct FileStamp {
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };
  struct GeoipStamp {
    FileStamp geoip;
    FileStamp asn;  // zero without an ASN database
    friend bool operator==(const GeoipStamp&, const GeoipStamp&) = default;
  };
  GeoipStamp geoip_stamp_;
  // origin -> journal, for the zones with secondaries (what Snapshots::journals publishes).
  std::unordered_map<std::string, std::shared_ptr<const ZoneJournal>> journals_;
  std::unique_ptr<Notifier> notifier_;  // made by start(): NOTIFY only follows reloads
  static FileStamp stamp_of(const std::string& path);
  static GeoipStamp geoip_inputs_stamp(const zone::ServerConfig& c);

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  bool pending_ = false;
  bool stopping_ = false;
  std::string pending_reason_;
  std::vector<Done> pending_waiters_;
  ReloadProgress progress_;
  ReloadRecord last_;
  uint64_t reloads_total_ = 0;
  uint64_t reload_errors_total_ = 0;
  std::string geoip_description_;
  std::thread thread_;
};

}  // namespace geodns::server
