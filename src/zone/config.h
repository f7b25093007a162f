// The server's own configuration (geodns.toml) and the datacenter/check definitions that both
// it and the zone files may hold. Plain values: toml++ stays inside the .cpp files that parse.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "dns/tsig.h"
#include "steer/target.h"

namespace geodns::zone {

// Where a definition was written, so that errors found later (when a zone uses it) can still
// point at the right file:line:column.
struct SourcePos {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;

  Error error(std::string message) const { return Error{std::move(message), file, line, column}; }
};

// A [checks.NAME] table, already validated (types, ranges, timeout < interval).
struct CheckDef {
  steer::CheckSpec spec;  // spec.name = NAME
  SourcePos pos;
};

// A [datacenters.NAME] table. The check name is resolved when a zone uses the datacenter.
struct DatacenterDef {
  std::string name;
  std::vector<IpAddress> addresses;  // at least one, no duplicates, in file order (or none
                                     // with a target)
  std::string target;                // a CNAME target instead of addresses ("" = none)
  bool has_location = false;
  double latitude = 0;
  double longitude = 0;
  std::string check;    // "" = no check (always up)
  SourcePos pos;        // the table
  SourcePos check_pos;  // the `check` value
  SourcePos target_pos;
  uint32_t min_up = 1;  // `min_up = 2` or `min_up = "50%"` (then min_up_percent)
  uint32_t min_up_percent = 0;
  uint32_t capacity = 1;      // `capacity = N`: its share when a failed datacenter spills over
  bool has_capacity = false;  // written: spillover sets may not mix set and unset (steer/rule.h)
  std::vector<uint32_t> address_weights;  // parallel to addresses; empty = all 1
};

// A [pools.NAME] table. Member names are resolved when a zone uses the pool, in that zone's
// names first (so a zone's own datacenter or pool shadows a shared one there too).
struct PoolDef {
  std::string name;
  std::string policy;  // failover | nearest | weighted | roundrobin | hashed
  struct Member {
    std::string name;
    SourcePos pos;
    uint32_t weight = 1;
  };
  std::vector<Member> members;    // file order
  bool weighted_members = false;  // written as a table { name = weight }
  uint32_t pick = 1;
  bool has_pick = false;
  bool spillover = false;
  SourcePos pos, policy_pos, members_pos, pick_pos, spillover_pos;
};

struct NameRef {
  std::string name;  // a datacenter or pool name
  SourcePos pos;
};

// `map.KEY = [...]` and `nets."CIDR" = [...]` entries, in a steer table or a [maps.NAME].
struct MapEntryDef {
  std::string key;
  SourcePos pos;
  std::vector<NameRef> dcs;
};
struct NetEntryDef {
  IpPrefix prefix;
  SourcePos pos;  // the key, or the line of a nets file
  std::vector<NameRef> dcs;
};

// A file read while loading (a `nets_file`): a later reload compares its content to decide
// whether what was built from it is still current.
struct InputFile {
  std::string path;
  uint64_t hash = 0;  // content_hash_of(its text)
};

// A [maps.NAME] table: geo map keys and nets that many steered names share (`map = "NAME"`).
// Names are resolved in the zone that uses it, like a pool's members.
struct MapDef {
  std::string name;
  SourcePos pos;
  std::vector<MapEntryDef> map;
  bool has_map = false;
  SourcePos map_pos;
  std::vector<NetEntryDef> nets;  // inline nets, then every nets_file line
  bool has_nets = false;
  SourcePos nets_pos;
  std::vector<InputFile> files;
};

// A [tsig.NAME] table of the server config: a key for signed queries and zone transfers.
struct TsigKeyDef {
  std::string name;  // NAME as written ("xfr-key"); key.name is its wire form
  dns::TsigKey key;
  SourcePos pos;
  friend bool operator==(const TsigKeyDef& a, const TsigKeyDef& b) {
    return a.name == b.name && a.key == b.key;
  }
};

// A [[zone.secondary]] entry of a zone file: who may transfer the zone (AXFR/IXFR), with
// which key, and where to send NOTIFY when its serial moves.
struct SecondaryDef {
  IpPrefix allow;             // transfer requests from here (a host address: /32 or /128)
  bool notify = false;        // send NOTIFY (a host address only)
  IpAddress notify_address;   // with notify_port: where NOTIFY goes
  uint16_t notify_port = 53;  //
  std::string key;            // [tsig.NAME] the requests must be signed with; "" = none
  std::string key_wire;       // its wire form, lower case (what a TSIG record names)
  SourcePos pos, key_pos;
};

// The server's settings, one struct per owner. Each default is written here once (the
// member initialisers); the owners use these structs or convert them in one place. Whether a
// reload applies a setting or it needs a restart is decided by its owner
// (server/serving_state.h) and listed in the README.

// [server] listen, threads and [server.tcp]: the sockets and worker threads (server/).
struct ListenSettings {
  std::vector<std::string> addresses = {"127.0.0.1:5353"};  // "addr:port", "[v6]:port"
  unsigned threads = 0;                                     // 0 = one per core
  // [server.tcp] threads: workers that serve only TCP, beside `threads` that serve only UDP,
  // so that connection churn takes no loop time from UDP; 0 = every worker serves both.
  unsigned tcp_threads = 1;
  std::chrono::milliseconds tcp_idle_timeout{10000};
  std::chrono::milliseconds tcp_stall_timeout{3000};
  unsigned tcp_max_connections = 1024;
  // One client address (IPv6: its /64) holds at most this many of a worker's connections.
  unsigned tcp_max_per_client = 64;
  // The idle timeout applied and advertised (RFC 7828) above 3/4 of max_connections.
  std::chrono::milliseconds tcp_busy_idle_timeout{2000};
  // [server] xdp: interfaces whose UDP queries to `addresses` are answered over AF_XDP
  // (server/xdp/); xdp_mode: "native", "generic" or "native_or_generic".
  std::vector<std::string> xdp;
  std::string xdp_mode = "native";

  friend bool operator==(const ListenSettings&, const ListenSettings&) = default;
};

// [server.rrl]: UDP response rate limiting, off by default (server/rrl.h).
struct RrlSettings {
  bool enabled = false;
  uint32_t responses_per_second = 20;
  std::chrono::seconds window{1};  // burst: responses_per_second x window
  uint32_t slip = 2;               // every slip-th limited response goes out with TC
  uint32_t table_entries = 16384;  // buckets per worker thread

  friend bool operator==(const RrlSettings&, const RrlSettings&) = default;
};

// [server.cookies]: DNS cookies (RFC 7873) with RFC 9018 server cookies, on by default.
struct CookieSettings {
  bool enabled = true;
  std::optional<std::array<uint8_t, 16>> secret;           // none = random at start-up
  std::optional<std::array<uint8_t, 16>> previous_secret;  // still accepted

  friend bool operator==(const CookieSettings&, const CookieSettings&) = default;
};

// What the query pipeline answers with (server/pipeline.h); a reload applies all of it.
struct PipelineSettings {
  uint32_t max_udp_payload = 1232;  // 512..4096
  bool chaos_enabled = true;
  std::string chaos_id;  // "" -> the host name (resolved by the server)
  std::string chaos_version = "geodns 0.1.0";
  std::string nsid;  // RFC 5001 identity (bytes, from text or "0x" hex); "" = NSID off
  RrlSettings rrl;
  CookieSettings cookies;

  friend bool operator==(const PipelineSettings&, const PipelineSettings&) = default;
};

// The health prober (health/prober.h).
struct ProberSettings {
  std::string state_dir;  // health state persistence; "" = none

  friend bool operator==(const ProberSettings&, const ProberSettings&) = default;
};

// [control]: the HTTP control endpoint (ops/).
struct ControlSettings {
  std::string listen = "127.0.0.1:8053";  // "" disables it
  std::string token;                      // "" = no authentication (loopback only)

  friend bool operator==(const ControlSettings&, const ControlSettings&) = default;
};

// [fleet]: shared drains and health votes through etcd (fleet/fleet.h); absent = off, and
// nothing else changes. A restart applies changes to it.
struct FleetSettings {
  bool enabled = false;
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379", "https://..."
  std::string name = "default";        // the fleet: keys live under /geodns/<name>/
  std::string server;                  // this server's name; "" -> the host name
  std::string tls_ca, tls_cert, tls_key;
  std::string user;
  std::string password_file;  // the password is read from here, never from geodns.toml
  std::chrono::seconds lease_ttl{10};
  bool quorum_majority = true;      // quorum = "majority"
  uint32_t quorum_count = 0;        // quorum = N
  uint32_t probers_per_target = 0;  // k of n; 0 = every server probes every target
  std::string probe_source;         // source address of this server's probes; "" = any

  friend bool operator==(const FleetSettings&, const FleetSettings&) = default;
};

struct LoggingSettings {
  std::string level = "info";
  bool query_log = false;  // log answered queries (rate-limited per worker)

  friend bool operator==(const LoggingSettings&, const LoggingSettings&) = default;
};

// [dnssec]: where the keys of zones with `dnssec = true` are and how long signatures last
// (zone/zone_signer.h). Defaults are Knot's.
struct DnssecSettings {
  std::string key_directory;  // "" = <state_dir>/keys
  std::chrono::seconds signature_validity{14 * 86400};
  std::chrono::seconds signature_refresh{7 * 86400};  // re-sign when less than this is left
  std::chrono::seconds inception_offset{3600};        // back-dated, for clocks behind ours
  // How long `geodns dnssec retire` keeps a key published after it stops signing (then
  // Delete): long enough for cached signatures by it to expire.
  std::chrono::seconds retire_wait{86400};
  // Entries of each worker's cache of online signatures (steered, wildcard and denial
  // answers; server/dnssec_answer.h), up to 512 bytes each.
  uint32_t signature_cache = 16384;
  // Not a file key: false for the tools that read answers offline (`geodns diff`, `explain`),
  // which build a signed zone's records unsigned, since a pull request's checkout or an
  // operator's laptop has no private keys and the signatures change no steering decision.
  bool sign = true;

  friend bool operator==(const DnssecSettings&, const DnssecSettings&) = default;
};

struct ServerConfig {
  std::string source_file;          // "" when running without a config file
  std::string zones_dir = "zones";  // resolved against the config file's directory
  std::string geoip_path;           // "" = no database
  std::string asn_db_path;          // [server] asn_db: ASN database for map.AS<n> keys, or ""
  ListenSettings listen;
  PipelineSettings pipeline;
  ProberSettings prober;
  ControlSettings control;
  LoggingSettings logging;
  FleetSettings fleet;
  DnssecSettings dnssec;

  // The key directory of signed zones: [dnssec] key_directory, else <state_dir>/keys, else ""
  // (then a signed zone is a load error that says to set one).
  std::string dnssec_key_directory() const {
    if (!dnssec.key_directory.empty()) return dnssec.key_directory;
    return prober.state_dir.empty() ? std::string() : prober.state_dir + "/keys";
  }

  // Shared definitions usable by every zone; a zone's own definition of a name shadows these.
  // A shared datacenter's `check` refers to a shared check (validated at config load).
  std::vector<DatacenterDef> datacenters;
  std::vector<CheckDef> checks;
  std::vector<PoolDef> pools;
  std::vector<MapDef> maps;
  std::vector<TsigKeyDef> tsig_keys;  // [tsig.NAME], file order

  const DatacenterDef* find_datacenter(std::string_view name) const;
  const PoolDef* find_pool(std::string_view name) const;
  const MapDef* find_map(std::string_view name) const;
  const CheckDef* find_check(std::string_view name) const;
  const TsigKeyDef* find_tsig_key(std::string_view name) const;
};

// Parses and validates a server config file. Relative paths in it (zones, geoip, state_dir)
// are resolved against the directory of `path`.
Result<ServerConfig> load_server_config(const std::string& path);
// Same from text (tests); `display_name` appears in errors, `base_dir` resolves paths.
Result<ServerConfig> load_server_config_text(std::string_view text, const std::string& display_name,
                                             const std::string& base_dir);

}  // namespace geodns::zone
