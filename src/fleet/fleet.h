// The fleet: this server's membership in a set of geodns servers sharing drains and health
// votes through etcd (issue 14). Owns two threads of its own, never the packet path's or the
// prober's:
//  - the session thread keeps a lease (keepalive every lease_ttl/3), registers this server
//    under it, writes this server's votes and override changes, and on (re)connect reads the
//    whole fleet prefix once;
//  - the watch thread streams every change under the prefix into the in-memory state.
// Readers (the prober) take an immutable FleetView snapshot and the override set; a listener
// set by the prober is called (on a fleet thread, with no fleet lock held) after any change.
//
// Never unserve because of the fleet: while etcd is unreachable the view says
// connected = false, and the prober then decides from its own probes and the last known
// overrides. Writes made meanwhile are queued and sent on reconnect.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/published.h"
#include "common/result.h"
#include "fleet/etcd_client.h"
#include "fleet/keys.h"
#include "fleet/quorum.h"
#include "fleet/records.h"
#include "zone/config.h"

namespace geodns::fleet {

struct FleetOptions {
  EtcdOptions etcd;
  std::string fleet_name = "default";
  std::string server;  // this server's name (a key component)
  std::chrono::seconds lease_ttl{10};
  QuorumSpec quorum;
  size_t probers_per_target = 0;  // k; 0 = all
  // Reconnect pauses grow from min to max: etcd back -> reconnected within max.
  std::chrono::milliseconds reconnect_min{200};
  std::chrono::milliseconds reconnect_max{2000};
};

// [fleet] settings -> options: reads password_file, defaults the server name to the host
// name, checks names. Errors name the setting.
Result<FleetOptions> fleet_options(const zone::FleetSettings& settings);

struct FleetView {
  bool connected = false;
  std::vector<std::string> members;  // live servers, sorted (this one included once connected)
  // target id -> (server, up) of every live vote seen
  std::unordered_map<std::string, std::vector<std::pair<std::string, bool>>> votes;

  bool is_member(std::string_view server) const;
};

struct Tally {
  size_t observers = 0;  // live servers with a vote (this one when `own` is set)
  size_t down = 0;
};
Tally count_votes(const FleetView& view, std::string_view target_id, std::string_view self,
                  std::optional<bool> own);

// The verdict for one target: this server's own state (`own`, none when it does not probe
// the target or has no result yet) plus the live votes of the others. Verdict::none when
// disconnected or nobody has voted: the caller then decides alone.
Verdict tally(const FleetView& view, std::string_view target_id, std::string_view self,
              std::optional<bool> own, const QuorumSpec& quorum);

struct FleetStatus {
  std::string fleet;
  std::string server;
  bool connected = false;
  std::string endpoint;
  std::optional<std::chrono::system_clock::time_point> last_contact;
  std::string last_error;
  std::vector<std::string> members;
  size_t votes_seen = 0;  // live votes of all servers
  size_t overrides = 0;   // in etcd (as last seen)
  size_t pending_writes = 0;
  uint64_t connects = 0;
  uint64_t errors = 0;
  QuorumSpec quorum;
  size_t probers_per_target = 0;
};

class Fleet {
 public:
  explicit Fleet(FleetOptions options);
  ~Fleet();  // stop()s
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  void start();
  // Revokes the lease when connected (this server's votes leave at once), joins the threads.
  void stop();

  // Called after any change of the view or the overrides, on a fleet thread, without a fleet
  // lock held (so it may call back into Fleet). nullptr removes it.
  void set_listener(std::function<void()> listener);

  std::shared_ptr<const FleetView> view() const { return view_.load(); }
  // The fleet's overrides (etcd's as last seen, with this server's unsent changes applied) if
  // they changed since the last call; nullopt otherwise, and before the first contact (the
  // local copy then stands).
  std::optional<std::vector<OverrideRecord>> take_overrides();

  // Any thread. Queued; sent at once when connected, else on reconnect.
  void put_override(OverrideRecord record);
  void delete_override(std::string key);
  // This server's vote for a target; nullopt withdraws it (target removed or not probed).
  void set_vote(const std::string& target_id, const std::string& target_key,
                std::optional<bool> up);

  // Whether this server probes the target (k-of-n); true while disconnected.
  bool should_probe(std::string_view target_id) const;

  const std::string& server() const { return options_.server; }
  const QuorumSpec& quorum() const { return options_.quorum; }
  FleetStatus status() const;

 private:
  struct OverrideOp {
    std::string key;
    std::optional<OverrideRecord> record;  // none = delete
  };

  void session_main();
  Status connect(EtcdClient& client);
  Status flush(EtcdClient& client);
  void disconnect(const Error& why);
  void start_watch(int64_t from_revision);
  void stop_watch();
  Status apply_watch(const WatchMessage& message);
  void apply_kv_locked(const KeyValue& kv, bool deleted);
  void publish_locked();
  void notify();

  FleetOptions options_;
  KeyLayout keys_;
  Published<FleetView> view_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool connected_ = false;
  bool ever_connected_ = false;
  bool watch_failed_ = false;
  std::string watch_error_;
  std::string last_error_;
  std::string endpoint_;
  std::optional<std::chrono::system_clock::time_point> last_contact_;
  uint64_t connects_ = 0;
  uint64_t errors_ = 0;
  int64_t lease_ = 0;
  std::set<std::string> members_;
  std::map<std::string, std::map<std::string, bool>> votes_;  // target id -> server -> up
  std::map<std::string, OverrideRecord> mirror_;              // etcd's overrides
  std::deque<OverrideOp> pending_;
  std::map<std::string, std::pair<std::string, bool>> own_votes_;  // id -> (key, up)
  std::set<std::string> dirty_votes_;                              // ids to write or delete
  bool overrides_dirty_ = false;

  std::mutex listener_mu_;
  std::function<void()> listener_;

  std::thread session_;
  std::thread watch_;
  std::atomic<bool> watch_stop_{false};
};

}  // namespace geodns::fleet
