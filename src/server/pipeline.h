// The query pipeline: request bytes + client -> response bytes, written into the caller's
// buffer. One Pipeline per worker thread: it owns its parse state, its snapshot readers and its
// counters, so respond() takes no lock and allocates nothing.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/published.h"
#include "dns/cookie.h"
#include "dns/query.h"
#include "dns/tsig.h"
#include "dns/writer.h"
#include "geo/database.h"
#include "server/answer_slots.h"
#include "server/dnssec_answer.h"
#include "server/pipeline_counters.h"
#include "server/responder.h"
#include "server/rrl.h"
#include "server/steer_compiler.h"
#include "server/transfer.h"
#include "server/worker_counters.h"
#include "steer/health_view.h"
#include "steer/policy.h"
#include "zone/config.h"
#include "zone/zone_set.h"

namespace geodns::server {

// The resolved pipeline settings (serving_state.h pipeline_config() makes them from the file's
// zone::PipelineSettings, whose defaults these repeat by reference, not by value).
struct PipelineConfig {
  // Our ceiling for UDP responses (512..4096).
  uint32_t max_udp_payload = zone::PipelineSettings{}.max_udp_payload;
  bool chaos_enabled = zone::PipelineSettings{}.chaos_enabled;
  std::string chaos_id;       // id.server / hostname.bind
  std::string chaos_version;  // version.bind / version.server; "" = refuse
  std::string nsid;           // RFC 5001 identity sent to queries that ask; "" = off
  RrlConfig rrl;              // response rate limiting over UDP (off by default)
  // DNS cookies (RFC 7873, RFC 9018 server cookies): the secret new cookies are made with,
  // then any older one still accepted. Empty: cookies are ignored (no server cookie sent).
  std::vector<dns::CookieSecret> cookie_secrets;
  // TSIG keys (RFC 8945) signed queries and zone transfers may use.
  std::vector<dns::TsigKey> tsig_keys;
  // Entries of each worker's signature cache for online DNSSEC signatures ([dnssec]
  // signature_cache; README "What is signed online" for how many a steered name needs).
  uint32_t signature_cache_entries = zone::DnssecSettings{}.signature_cache;

  friend bool operator==(const PipelineConfig&, const PipelineConfig&) = default;
};

// What every worker's pipeline reads: the published snapshots. Owned by the daemon; the
// health view is published by the prober (src/health), or is a fixed all-up view.
struct Snapshots {
  Published<zone::ZoneSet> zones;
  Published<geo::Database> geoip;  // may hold nullptr: no database configured
  const Published<steer::HealthView>* health = nullptr;
  // The pipeline settings a reload applies (payload, chaos, RRL, cookies), published by the
  // serving state. Until something is published (tests), a Pipeline keeps the
  // PipelineConfig it was constructed with.
  Published<PipelineConfig> settings;
  // Slots of the per-name and per-datacenter answer counters for the published ZoneSet.
  Published<AnswerSlotMap> answer_slots;
  // Published by a SteerCompiler; used only while it matches `zones` and `geoip`.
  Published<CompiledSteering> steering;
  // The IXFR journals of zones with secondaries (server/transfer.h), published by a reload.
  Published<TransferJournals> journals;
};

// The facts behind a steered answer, for `geodns explain`.
struct SteerExplanation {
  bool steered = false;
  const zone::Zone* zone = nullptr;
  const steer::Rule* rule = nullptr;
  geo::Location location;
  bool have_database = false;
  IpAddress lookup_address;
  steer::Decision decision;
  steer::Trace trace;
  uint8_t response_scope = 0;
  // A compiled table holds the rule: what a query gets is its merged network (the trace above
  // is the runtime path's, which decides alike).
  bool compiled = false;
  IpPrefix compiled_network;
  // The links of a steered CNAME chain before this one, in order (each explained as above).
  std::vector<SteerExplanation> chain;
};

class Pipeline final : public Responder {
 public:
  // `counters`: the worker's block, owned by the caller and outliving the pipeline; null = a
  // block of its own (tests, explain).
  Pipeline(const Snapshots& snapshots, PipelineConfig config, uint64_t seed,
           WorkerCounters* counters = nullptr);

  void begin_batch() noexcept override;
  size_t respond(std::span<const uint8_t> query, const ClientInfo& client,
                 std::span<uint8_t> out) noexcept override;
  // A permitted AXFR/IXFR over TCP (server/transfer.h); anything else, including a refused
  // or badly signed transfer request, is left to respond().
  std::unique_ptr<TransferStream> start_transfer(std::span<const uint8_t> query,
                                                 const ClientInfo& client) noexcept override;

  // Same as respond(), and records why a steered name got its answer (allocates: explain only).
  size_t respond_explained(std::span<const uint8_t> query, const ClientInfo& client,
                           std::span<uint8_t> out, SteerExplanation* explanation);

  const Counters& counters() const noexcept { return counters_; }
  const RrlCounters& rrl_counters() const noexcept { return rrl_.counters(); }
  // The caller's block only: a block of its own dies with the pipeline, before its worker.
  TransportCounters* transport_counters() noexcept override {
    return own_block_ ? nullptr : &block_->transport;
  }
  // The settings this pipeline answers with now (the last published ones it picked up).
  const PipelineConfig& config() const noexcept { return config_; }

 private:
  void answer(const ClientInfo& client) noexcept;
  void answer_chaos() noexcept;
  void answer_in_zone(const zone::Zone& zone, const ClientInfo& client) noexcept;
  // Writes the RRset whole (and, for a DO query of a signed zone, its RRSIGs) or nothing.
  // `synth_lower`: set for an RRset synthesized from a wildcard, the lower-cased name it
  // answers, where it is signed online (a static RRSIG would need a denial proof beside it).
  bool add_rrset(dns::Section s, const uint8_t* owner, size_t owner_len, const zone::RRset& rrset,
                 const uint8_t* synth_lower = nullptr, size_t synth_len = 0) noexcept;
  void add_soa_negative(const zone::Zone& zone) noexcept;
  // A negative answer: the SOA and, for a DO query of a signed zone, the compact denial of
  // RFC 9824 for `lower` (the current name): `node` null = the name does not exist
  // (NXDOMAIN, or NODATA with NXNAME unless the client set CO), else NODATA at `node`.
  void add_negative(const zone::Zone& zone, const zone::Node* node, const uint8_t* owner,
                    size_t owner_len, const uint8_t* lower, size_t lower_len) noexcept;
  void add_referral(const zone::Zone& zone, const zone::Node& cut, bool authoritative) noexcept;
  // Writes the DNAME above the current name (once per response) and the CNAME synthesized
  // from it (RFC 6672 3.2); false when the chain ends here (YXDOMAIN or no room).
  // `lower`: the current name lower-cased (`owner` as the client or the zone spelled it).
  bool answer_dname(const zone::Node& dname_owner, const uint8_t* owner, size_t owner_len,
                    const uint8_t* lower, const uint8_t** target, size_t* target_len) noexcept;
  // Has this CNAME/DNAME chain visited `name` (lower case) already?
  bool seen_in_chain(const uint8_t* name, size_t len) const noexcept;
  void add_target_addresses(const zone::Zone& zone, const zone::RRset& rrset, dns::Section section,
                            bool required) noexcept;
  // What a steered name put in the answer section.
  struct SteeredAnswer {
    enum Kind { nodata, addresses, cname, overflow } kind = nodata;
    std::string_view target;  // cname: the target datacenter's name (wire format)
  };
  // Steers `qtype` at `node` (addresses for A/AAAA/ANY, a CNAME to a target datacenter for
  // any type) and writes the answer records.
  // `lower`: the name lower-cased (where an online signature is made).
  SteeredAnswer answer_steered(const zone::Zone& zone, const zone::Node& node, const uint8_t* owner,
                               size_t owner_len, const uint8_t* lower, size_t lower_len,
                               uint16_t qtype, const ClientInfo& client) noexcept;
  void truncate() noexcept;
  // TSIG of the request just parsed: verifies it (tsig_ holds the outcome). Returns false
  // when the record is malformed (FORMERR). Only signed requests come here, and they may cost
  // an allocation inside OpenSSL's HMAC besides the HMAC itself; unsigned ones never do.
  bool check_tsig(std::span<const uint8_t> query) noexcept;
  // The request's verified key, or null (unsigned, or the check failed).
  const dns::TsigKey* verified_key() const noexcept {
    return tsig_present_ && tsig_error_ == 0 ? tsig_key_ : nullptr;
  }
  dns::TsigSigner::Response make_tsig_response() const noexcept;
  void answer_transfer(const ClientInfo& client) noexcept;
  void apply(PipelineConfig config);
  // Notes whether the zone set just picked up has a signed zone (then dnssec_ is prepared).
  void note_zones() noexcept;
  // Counts a steered answer (decision_) by name, datacenter and fail-open, in bounded slots.
  void count_steered(const zone::Zone& zone, int32_t rule) noexcept;

  std::unique_ptr<WorkerCounters> own_block_;  // only without a caller's block
  WorkerCounters* block_;
  Counters& counters_;
  PipelineConfig config_;
  const Published<PipelineConfig>* settings_;
  uint64_t settings_seen_ = 0;  // generation of `settings_` applied; 0 = never published
  const Published<AnswerSlotMap>* slots_source_;
  uint64_t slots_seen_ = 0;
  std::shared_ptr<const AnswerSlotMap> slots_;            // null: every answer counts as "other"
  const AnswerSlotMap::ZoneSlots* zone_slots_ = nullptr;  // this query's zone, in slots_
  Published<zone::ZoneSet>::Reader zones_;
  Published<steer::HealthView>::Reader health_;
  Published<geo::Database>::Reader geoip_;
  Published<CompiledSteering>::Reader steering_;
  // The compiled tables of the zone answered last (steering_'s, for tables_zone_).
  const CompiledSteering* tables_set_ = nullptr;
  const zone::Zone* tables_zone_ = nullptr;
  std::span<const steer::CompiledRule* const> tables_;
  dns::Query q_;
  dns::ResponseWriter w_;
  geo::Location location_;
  steer::Decision decision_;
  uint64_t rotation_;
  // The names a CNAME/DNAME chain visits: at most kMaxChain lookups per query. The storage
  // is ours, not the stack's: the writer keeps pointers to names it wrote until finish().
  static constexpr size_t kMaxChain = 16;
  struct ChainName {
    const uint8_t* name;  // lower case
    size_t len;
  };
  ChainName chain_[kMaxChain] = {};
  size_t chain_count_ = 0;
  uint8_t lower_[kMaxChain][dns::kMaxNameLength];  // lower-cased targets (chain_ points here)
  uint8_t synth_[kMaxChain][dns::kMaxNameLength];  // CNAME targets synthesized from DNAMEs
  size_t synth_count_ = 0;
  const zone::Node* dnames_[kMaxChain] = {};  // DNAMEs already in this answer
  size_t dnames_count_ = 0;
  // DNSSEC records of answers (server/dnssec_answer.h): the Signer and signature cache.
  std::unique_ptr<DnssecAnswer> dnssec_;
  uint32_t dnssec_cache_entries_ = 0;  // what dnssec_'s cache was made with
  int64_t now_unix_ = 0;               // read once per batch: online signature windows
  bool serves_signed_zone_ = false;    // the zone set has a signed zone: dnssec_ prepared
  std::string chaos_id_txt_;
  std::string chaos_version_txt_;
  SteerExplanation* explain_ = nullptr;
  bool overflow_ = false;    // a required record did not fit: the answer gets TC
  uint8_t chain_scope_ = 0;  // longest ECS scope of the steered names answered so far
  uint8_t server_cookie_[dns::kServerCookieBytes] = {};  // for the response being written
  uint32_t now_s_ = 0;  // unix time (mod 2^32) for cookies, read once per batch
  Rrl rrl_;
  Published<TransferJournals>::Reader journals_;
  // The TSIG of the request being answered (only a signed request touches these).
  bool tsig_present_ = false;
  uint16_t tsig_error_ = 0;
  const dns::TsigKey* tsig_key_ = nullptr;
  uint64_t tsig_now_s_ = 0;
  dns::TsigRecord tsig_;
  // The response's TSIG parameters: a member, so an unsigned query does not initialize one.
  dns::TsigSigner::Response tsig_response_;
  std::unique_ptr<dns::TsigSigner> tsig_signer_;  // its OpenSSL context, made once
};

}  // namespace geodns::server
