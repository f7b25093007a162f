#include "server/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "dns/dname.h"
#include "dns/name.h"
#include "dnssec/denial.h"

namespace geodns::server {

using dns::Section;
namespace rrtype = dns::rrtype;
namespace rcode = dns::rcode;

namespace {

// Before any health view is published: nothing is down. At namespace scope, so the packet
// path does not test a function-local static's guard.
const steer::HealthView kAllUpView;

// An unsigned RRset owned by the question with nothing to compress (A, AAAA, TXT, ...): the
// common static answer, written inline, whole or not at all, as add_rrset() would.
bool add_plain_rrset(dns::ResponseWriter& w, Section s, const zone::RRset& rrset) noexcept {
  const size_t mark = w.mark();
  const uint16_t count = w.count(s);
  for (const auto& rd : rrset.rdatas) {
    if (!w.add_question_owned(s, rrset.type, rrset.ttl_s,
                              reinterpret_cast<const uint8_t*>(rd.data()), rd.size())) {
      w.rollback(mark, s, count);
      return false;
    }
  }
  return true;
}

// Types a compact-denial bitmap lists at most: a node has one RRset per type, and no zone
// has this many types at one name.
constexpr size_t kMaxBitmapTypes = 64;

std::string txt_rdata(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size() || i == 0; i += 255) {
    const std::string chunk = text.substr(i, 255);
    out.push_back(static_cast<char>(chunk.size()));
    out += chunk;
    if (text.empty()) break;
  }
  return out;
}

// Is `name` equal to or below `origin` (both lower-case uncompressed wire names)?
bool is_at_or_below(const uint8_t* name, size_t len, const std::string& origin) noexcept {
  if (len < origin.size()) return false;
  size_t pos = 0;
  while (len - pos > origin.size()) {
    if (name[pos] == 0) return false;
    pos += 1 + name[pos];
  }
  return len - pos == origin.size() && std::memcmp(name + pos, origin.data(), origin.size()) == 0;
}

bool equals_literal(const dns::Query& q, const char* wire, size_t len) noexcept {
  return q.qname_len == len && std::memcmp(q.qname_lower, wire, len) == 0;
}

struct Lookup {
  enum Kind { found, referral, dname, nxdomain } kind = nxdomain;
  // found: the node (maybe a wildcard); referral: the cut; dname: the DNAME owner above
  const zone::Node* node = nullptr;
};

// RFC 1034 4.3.2 step 3, without the parts handled by the caller (CNAME, steering).
Lookup find(const zone::Zone& zone, const uint8_t* name, size_t len, uint16_t qtype,
            uint8_t* wildcard_buf) noexcept {
  const std::string_view key(reinterpret_cast<const char*>(name), len);
  if (const zone::Node* node = zone.find(key)) {
    if (node->cut >= 0) {
      const zone::Node& cut = zone.nodes[static_cast<size_t>(node->cut)];
      // The parent side answers DS at the cut itself (RFC 4035 3.1.4.1); all else is referred.
      if (!(&cut == node && qtype == rrtype::DS)) return {Lookup::referral, &cut};
    }
    return {Lookup::found, node};
  }
  // Closest encloser: strip labels until a node exists (the apex always does).
  size_t pos = 0;
  const zone::Node* encloser = nullptr;
  while (pos < len && name[pos] != 0) {
    pos += 1 + name[pos];
    if (len - pos < zone.origin.size()) break;
    encloser = zone.find(key.substr(pos));
    if (encloser != nullptr) break;
  }
  if (encloser == nullptr) return {};
  if (encloser->cut >= 0)
    return {Lookup::referral, &zone.nodes[static_cast<size_t>(encloser->cut)]};
  // The loader refuses names below a DNAME owner, so it is their closest encloser (RFC 6672
  // 3.2: the substitution comes before any wildcard).
  if (encloser->has_dname) return {Lookup::dname, encloser};
  // Wildcard at the closest encloser (RFC 4592 3.3.1).
  if (!encloser->has_wildcard_child) return {};
  const size_t enc_len = len - pos;
  if (enc_len + 2 > dns::kMaxNameLength) return {};
  wildcard_buf[0] = 1;
  wildcard_buf[1] = '*';
  std::memcpy(wildcard_buf + 2, name + pos, enc_len);
  const std::string_view wkey(reinterpret_cast<const char*>(wildcard_buf), enc_len + 2);
  if (const zone::Node* wild = zone.find(wkey)) return {Lookup::found, wild};
  return {};
}

}  // namespace

Pipeline::Pipeline(const Snapshots& snapshots, PipelineConfig config, uint64_t seed,
                   WorkerCounters* counters)
    : own_block_(counters == nullptr ? std::make_unique<WorkerCounters>() : nullptr),
      block_(counters != nullptr ? counters : own_block_.get()),
      counters_(block_->pipeline),
      settings_(&snapshots.settings),
      slots_source_(&snapshots.answer_slots),
      zones_(snapshots.zones),
      health_(*snapshots.health),
      geoip_(snapshots.geoip),
      steering_(snapshots.steering),
      rotation_(seed),
      rrl_(config.rrl, seed, &block_->rrl),
      journals_(snapshots.journals),
      tsig_signer_(std::make_unique<dns::TsigSigner>()) {
  apply(std::move(config));
  note_zones();
}

void Pipeline::note_zones() noexcept {
  serves_signed_zone_ = false;
  if (const zone::ZoneSet* set = zones_.get()) {
    for (const auto& z : set->zones) serves_signed_zone_ = serves_signed_zone_ || z->signing;
  }
  if (serves_signed_zone_ && !dnssec_->ready()) {
    try {
      dnssec_->prepare();
    } catch (const std::bad_alloc&) {
      // No memory for the cache: DO answers are those of an unsigned zone until a later batch
      // tries again.
    }
  }
}

void Pipeline::apply(PipelineConfig config) {
  config.max_udp_payload = std::clamp<uint32_t>(config.max_udp_payload, 512, 4096);
  if (!(config.rrl == config_.rrl)) rrl_.configure(config.rrl);
  if (dnssec_ == nullptr || config.signature_cache_entries != dnssec_cache_entries_) {
    // A new cache (its memory is fixed at construction): between batches, like the RRL table.
    dnssec_ = std::make_unique<DnssecAnswer>(config.signature_cache_entries, &block_->dnssec);
    dnssec_cache_entries_ = config.signature_cache_entries;
  }
  config_ = std::move(config);
  chaos_id_txt_ = txt_rdata(config_.chaos_id);
  chaos_version_txt_ = txt_rdata(config_.chaos_version);
}

void Pipeline::begin_batch() noexcept {
  // Picking up a new snapshot copies a shared_ptr under the publisher's mutex: once per batch
  // and only when the generation moved, never per query.
  const bool new_zones = zones_.refresh();
  health_.refresh();
  geoip_.refresh();
  // New settings from a reload: strings copied and maybe an RRL table allocated, between
  // batches on this worker's thread (the same cost as picking up a zone snapshot).
  if (const uint64_t g = settings_->generation(); g != settings_seen_) {
    settings_seen_ = g;
    if (const auto fresh = settings_->load()) apply(*fresh);
  }
  if (const uint64_t g = slots_source_->generation(); g != slots_seen_) {
    slots_seen_ = g;
    slots_ = slots_source_->load();
  }
  // A new set may sit where the old one was: the zone's tables are looked up again.
  if (steering_.refresh()) tables_set_ = nullptr;
  journals_.refresh();
  // Cookie timestamps and signature windows have a resolution of seconds: one clock read
  // per batch is plenty.
  now_unix_ = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  now_s_ = static_cast<uint32_t>(now_unix_);
  // A new zone set, or new settings that replaced dnssec_: prepared if a zone is signed.
  if (new_zones || (serves_signed_zone_ && !dnssec_->ready())) note_zones();
}

size_t Pipeline::respond_explained(std::span<const uint8_t> query, const ClientInfo& client,
                                   std::span<uint8_t> out, SteerExplanation* explanation) {
  explain_ = explanation;
  const size_t n = respond(query, client, out);
  explain_ = nullptr;
  return n;
}

size_t Pipeline::respond(std::span<const uint8_t> query, const ClientInfo& client,
                         std::span<uint8_t> out) noexcept {
  counters_.bump(client.transport == Transport::tcp ? counters_.queries_tcp
                                                    : counters_.queries_udp);
  dns::ParseStatus st = dns::parse_query(query, &q_);
  if (st == dns::ParseStatus::drop) {
    counters_.bump(counters_.dropped);
    return 0;
  }
  // edns-tcp-keepalive (RFC 7828): a TIMEOUT in a TCP query is malformed (3.2.1: clients
  // MUST omit it); over UDP the option is ignored whatever it holds (3.3.1).
  const bool keepalive_asked =
      client.transport == Transport::tcp && q_.tcp_keepalive != dns::KeepaliveOption::absent;
  if (keepalive_asked && st == dns::ParseStatus::ok &&
      q_.tcp_keepalive == dns::KeepaliveOption::with_timeout) {
    st = dns::ParseStatus::formerr;
    q_.error_text = "edns-tcp-keepalive with a TIMEOUT in a query";
  }
  size_t limit = dns::kMaxMessage;
  if (client.transport == Transport::udp) {
    limit = q_.has_edns
                ? std::clamp<size_t>(q_.udp_payload, dns::kMaxUdpPlain, config_.max_udp_payload)
                : dns::kMaxUdpPlain;
  }
  // A signed request (RFC 8945): verified here, its answer signed below; room for the
  // response's TSIG record is kept out of what the answer may use.
  tsig_present_ = false;
  const size_t full_limit = limit;
  if (q_.tsig_offset != 0) {
    if (!check_tsig(query)) {
      st = dns::ParseStatus::formerr;
    } else {
      tsig_response_ = make_tsig_response();
      const size_t room = dns::TsigSigner::record_bytes(tsig_response_);
      limit = room < limit ? limit - room : 0;
    }
  }
  // A client that sends back a valid server cookie has proven it receives at its address:
  // its answers are never rate limited (they cannot be reflected elsewhere).
  bool proven_address = false;
  const uint8_t* cookie = nullptr;
  if (q_.has_cookie && !config_.cookie_secrets.empty()) {
    const auto verdict = dns::check_server_cookie(
        q_.client_cookie, q_.server_cookie, q_.server_cookie_len, client.address, now_s_,
        config_.cookie_secrets.data(), config_.cookie_secrets.size());
    if (verdict == dns::CookieVerdict::fresh) {
      std::memcpy(server_cookie_, q_.server_cookie, dns::kServerCookieBytes);  // keep it
    } else {
      dns::make_server_cookie(q_.client_cookie, client.address, now_s_,
                              config_.cookie_secrets.front(), server_cookie_);
    }
    proven_address = verdict != dns::CookieVerdict::invalid;
    counters_.bump(proven_address ? counters_.cookies_valid : counters_.cookies_new);
    cookie = server_cookie_;
  }
  w_.begin(q_, out, limit, q_.has_edns, cookie);
  if (keepalive_asked && st == dns::ParseStatus::ok) {
    w_.set_tcp_keepalive(client.tcp_keepalive_100ms);
  }
  overflow_ = false;
  // RFC 5001 2.2: the identity only to a query that asked for it, before any record so that
  // it always fits.
  if (q_.nsid_requested && !config_.nsid.empty()) {
    w_.add_option(dns::edns::kOptionNsid, reinterpret_cast<const uint8_t*>(config_.nsid.data()),
                  config_.nsid.size());
  }
  // RFC 8945 5.2: a request whose TSIG does not verify is answered NOTAUTH, nothing else.
  if (tsig_present_ && tsig_error_ != 0 && st != dns::ParseStatus::formerr) {
    w_.set_rcode(dns::kRcodeNotAuth);
    st = dns::ParseStatus::drop;  // handled: skip the switch below
  }
  switch (st) {
    case dns::ParseStatus::formerr:
      w_.set_rcode(rcode::FORMERR);
      // RFC 8914 4.1 "Other Error", with the parser's reason when it has one.
      w_.set_extended_error(dns::ede::kOther, q_.error_text != nullptr ? q_.error_text : "");
      break;
    case dns::ParseStatus::notimp:
      w_.set_rcode(rcode::NOTIMP);
      w_.set_extended_error(dns::ede::kNotSupported, "opcode not supported");
      break;
    case dns::ParseStatus::badvers:
      w_.set_rcode(rcode::BADVERS);
      break;
    case dns::ParseStatus::ok:
      // No question: a client fetching a server cookie (RFC 7873 5.4), answered NOERROR.
      if (q_.question_ok) answer(client);
      break;
    case dns::ParseStatus::drop:
      break;
  }
  if (overflow_) truncate();
  size_t n = w_.finish();
  if (tsig_present_) {
    // Room was reserved in `limit`; a zero return (no room after all) sends it unsigned.
    const size_t signed_n = tsig_signer_->sign(out.data(), n, std::min(full_limit, out.size()),
                                               tsig_response_, nullptr, nullptr);
    if (signed_n != 0) n = signed_n;
  }
  counters_.bump(counters_.qtypes[q_.qtype < 256 ? q_.qtype : 0]);
  if (client.transport == Transport::udp && rrl_.enabled() && !proven_address) {
    // Only UDP can be spoofed, so only UDP is limited (server/rrl.h). A dropped or slipped
    // response is counted by the limiter, not as its rcode: the rcodes are what was sent.
    switch (rrl_.account(client.address, q_, out.first(n))) {
      case RrlAction::send:
        break;
      case RrlAction::drop:
        return 0;
      case RrlAction::slip:
        w_.clear_records();
        w_.set_tc();
        return w_.finish();
    }
  }
  // The rcode as sent: header bits, BADVERS (16) lives in the OPT record's extended bits.
  counters_.bump(counters_.rcodes[st == dns::ParseStatus::badvers ? 16U
                                  : n >= 4                        ? (out[3] & 0x0FU)
                                                                  : 2U]);
  return n;
}

// Inlined into answer_steered(), its one caller on the packet path.
[[gnu::always_inline]] inline void Pipeline::count_steered(const zone::Zone& zone,
                                                           int32_t rule) noexcept {
  counters_.bump(counters_.steered);
  if (decision_.failed_open) counters_.bump(counters_.failed_open);
  uint16_t name_slot = 0;
  uint16_t dc_slot = 0;
  // The slots answer() found for this query's zone (a steered CNAME chain stays in it).
  if (const auto* zs = zone_slots_; zs != nullptr && zs->zone == &zone) {
    if (rule >= 0 && static_cast<size_t>(rule) < zs->rule.size()) {
      name_slot = zs->rule[static_cast<size_t>(rule)];
    }
    if (decision_.dc >= 0 && static_cast<size_t>(decision_.dc) < zs->dc.size()) {
      dc_slot = zs->dc[static_cast<size_t>(decision_.dc)];
    }
  }
  auto& a = block_->answers;
  counters_.bump(a.by_name[name_slot]);
  if (decision_.failed_open) counters_.bump(a.failed_open[name_slot]);
  if (decision_.dc >= 0) counters_.bump(a.by_datacenter[dc_slot]);
}

bool Pipeline::check_tsig(std::span<const uint8_t> query) noexcept {
  if (!dns::parse_tsig(query, q_.tsig_offset, &tsig_)) return false;
  tsig_present_ = true;
  tsig_key_ = dns::find_tsig_key(tsig_, config_.tsig_keys);
  tsig_now_s_ = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  tsig_error_ = tsig_signer_->verify_request(query, tsig_, tsig_key_, tsig_now_s_);
  return true;
}

dns::TsigSigner::Response Pipeline::make_tsig_response() const noexcept {
  dns::TsigSigner::Response r;
  // RFC 8945 5.3.2: errors about the key or the MAC go back unsigned (MAC size 0); BADTIME
  // is signed, carries the client's Time Signed and our time as Other Data (5.2.3).
  const bool is_signed = tsig_error_ == 0 || tsig_error_ == dns::tsig_error::BADTIME;
  r.key = is_signed ? tsig_key_ : nullptr;
  r.key_name = tsig_.key_name;
  r.key_name_len = tsig_.key_name_len;
  r.algorithm = tsig_.algorithm;
  r.algorithm_len = tsig_.algorithm_len;
  r.prior_mac = tsig_.mac;
  r.prior_mac_len = tsig_.mac_len;
  r.error = tsig_error_;
  r.time_signed = tsig_error_ == dns::tsig_error::BADTIME ? tsig_.time_signed : tsig_now_s_;
  r.other_time = tsig_now_s_;
  return r;
}

std::unique_ptr<TransferStream> Pipeline::start_transfer(std::span<const uint8_t> query,
                                                         const ClientInfo& client) noexcept {
  // A peek at the question first: every other TCP message goes straight to respond().
  if (!is_transfer_request(query)) return nullptr;
  if (dns::parse_query(query, &q_) != dns::ParseStatus::ok || !q_.question_ok) return nullptr;
  tsig_present_ = false;
  if (q_.tsig_offset != 0 && (!check_tsig(query) || tsig_error_ != 0)) return nullptr;
  const zone::ZoneSet* zones = zones_.get();
  if (zones == nullptr || (q_.qclass != dns::rrclass::IN && q_.qclass != dns::rrclass::ANY)) {
    return nullptr;
  }
  try {
    const auto it = zones->by_origin.find(
        std::string(reinterpret_cast<const char*>(q_.qname_lower), q_.qname_len));
    if (it == zones->by_origin.end()) return nullptr;
    const zone::ZonePtr& zone = zones->zones[it->second];
    if (transfer_permission(*zone, client.address, verified_key()) == nullptr) return nullptr;
    std::shared_ptr<const ZoneJournal> journal;
    if (const TransferJournals* j = journals_.get()) {
      if (auto jt = j->by_origin.find(zone->origin); jt != j->by_origin.end()) journal = jt->second;
    }
    auto stream = open_transfer(q_, zone, std::move(journal), tsig_present_ ? &tsig_ : nullptr,
                                verified_key());
    counters_.bump(counters_.queries_tcp);
    counters_.bump(counters_.qtypes[q_.qtype < 256 ? q_.qtype : 0]);
    return stream;
  } catch (const std::exception&) {
    return nullptr;  // out of memory: respond() refuses it
  }
}

void Pipeline::answer_transfer(const ClientInfo& client) noexcept {
  // Over TCP, start_transfer() took every permitted request: what reaches here is refused,
  // and so is AXFR over UDP (RFC 5936 4.2).
  const zone::ZoneSet* zones = zones_.get();
  const zone::Zone* zone = zones == nullptr
                               ? nullptr
                               : zones->find_zone(std::string_view(
                                     reinterpret_cast<const char*>(q_.qname_lower), q_.qname_len));
  const bool at_apex = zone != nullptr && zone->origin.size() == q_.qname_len &&
                       std::memcmp(zone->origin.data(), q_.qname_lower, q_.qname_len) == 0;
  if (!at_apex || q_.qtype != rrtype::IXFR || client.transport != Transport::udp ||
      transfer_permission(*zone, client.address, verified_key()) == nullptr) {
    w_.set_rcode(rcode::REFUSED);
    w_.set_extended_error(dns::ede::kProhibited, "");  // RFC 8914 4.19
    return;
  }
  // IXFR over UDP (RFC 1995 2): the differences are not sent; a single SOA of the current
  // version tells a client that is behind to ask again over TCP, and one that is current
  // that nothing changed.
  w_.set_aa(true);
  const zone::RRset* soa = zone->apex().find(rrtype::SOA);
  if (soa == nullptr || !add_rrset(Section::answer, nullptr, 0, *soa)) overflow_ = true;
}

void Pipeline::truncate() noexcept {
  // RFC 2181 9 / RFC 1035: a UDP answer that does not fit is sent with TC and no records, and
  // the resolver retries over TCP.
  w_.clear_records();
  w_.set_tc();
  counters_.bump(counters_.truncated);
}

void Pipeline::answer(const ClientInfo& client) noexcept {
  zone_slots_ = nullptr;  // set below once the zone is known; slots_ may have been replaced
  dnssec_->end();         // nothing is signed until a signed zone answers a DO query
  if (q_.qclass == dns::rrclass::CH) {
    answer_chaos();
    return;
  }
  if (q_.qclass != dns::rrclass::IN && q_.qclass != dns::rrclass::ANY) {
    w_.set_rcode(rcode::REFUSED);
    return;
  }
  switch (q_.qtype) {
    case rrtype::OPT:
    case rrtype::TSIG:
    case rrtype::TKEY:
      // Meta types that may not appear in a question (RFC 6895 3.1).
      w_.set_rcode(rcode::FORMERR);
      w_.set_extended_error(dns::ede::kOther, "meta type as a question");
      return;
    case dnssec::kTypeNxname:
      // RFC 9824 3.5: NXNAME lives only in a compact denial's bitmap; asked for, FORMERR.
      w_.set_rcode(rcode::FORMERR);
      w_.set_extended_error(dns::ede::kInvalidQueryType, "");
      return;
    case rrtype::MAILA:
    case rrtype::MAILB:
      w_.set_rcode(rcode::NOTIMP);
      w_.set_extended_error(dns::ede::kNotSupported, "");
      return;
    case rrtype::AXFR:
    case rrtype::IXFR:
      answer_transfer(client);
      return;
    default:
      break;
  }
  const zone::ZoneSet* zones = zones_.get();
  const zone::Zone* zone =
      zones == nullptr
          ? nullptr
          : zones->find_zone_for(
                std::string_view(reinterpret_cast<const char*>(q_.qname_lower), q_.qname_len),
                q_.qtype);
  if (zone == nullptr) {
    w_.set_rcode(rcode::REFUSED);  // not authoritative for this name
    w_.set_extended_error(dns::ede::kNotAuthoritative, "");
    return;
  }
  // The answer counters' slots for this zone, looked up once per query. The map must index
  // the zone set being answered from: right after a reload, one of the two may be a batch
  // ahead of the other, and those answers count as "other".
  zone_slots_ = slots_ && slots_->generation == zones->generation ? slots_->find(zone) : nullptr;
  counters_.bump(block_->answers.by_zone[zone_slots_ != nullptr ? zone_slots_->zone_slot : 0]);
  // RFC 4035 3.1: DNSSEC records only to a query with DO, only from a signed zone.
  dnssec_->begin(*zone, q_.dnssec_ok, now_unix_);
  answer_in_zone(*zone, client);
  dnssec_->end();
}

void Pipeline::answer_chaos() noexcept {
  static constexpr char kIdServer[] = "\2id\6server";
  static constexpr char kHostnameBind[] = "\x08hostname\4bind";
  static constexpr char kVersionBind[] = "\7version\4bind";
  static constexpr char kVersionServer[] = "\7version\6server";
  const std::string* txt = nullptr;
  if (!config_.chaos_enabled) {
    w_.set_rcode(rcode::REFUSED);
    return;
  }
  // sizeof includes the terminating NUL, which doubles as the root label.
  if (equals_literal(q_, kIdServer, sizeof(kIdServer)) ||
      equals_literal(q_, kHostnameBind, sizeof(kHostnameBind))) {
    txt = &chaos_id_txt_;
    if (config_.chaos_id.empty()) txt = nullptr;
  } else if (equals_literal(q_, kVersionBind, sizeof(kVersionBind)) ||
             equals_literal(q_, kVersionServer, sizeof(kVersionServer))) {
    txt = &chaos_version_txt_;
    if (config_.chaos_version.empty()) txt = nullptr;
  }
  if (txt == nullptr) {
    w_.set_rcode(rcode::REFUSED);
    return;
  }
  w_.set_aa(true);
  if (q_.qtype != rrtype::TXT && q_.qtype != rrtype::ANY) return;  // NODATA
  if (!w_.add(Section::answer, nullptr, 0, rrtype::TXT, 0,
              reinterpret_cast<const uint8_t*>(txt->data()), txt->size())) {
    overflow_ = true;
  }
}

bool Pipeline::add_rrset(Section s, const uint8_t* owner, size_t owner_len,
                         const zone::RRset& rrset, const uint8_t* synth_lower,
                         size_t synth_len) noexcept {
  const size_t mark = w_.mark();
  const uint16_t count = w_.count(s);
  // Owned by the question with nothing to compress: the writer's short path.
  const bool plain = owner == nullptr && dns::rdata_layout(rrset.type) == dns::RdataLayout::opaque;
  for (const auto& rd : rrset.rdatas) {
    const auto* data = reinterpret_cast<const uint8_t*>(rd.data());
    const bool added = plain
                           ? w_.add_question_owned(s, rrset.type, rrset.ttl_s, data, rd.size())
                           : w_.add(s, owner, owner_len, rrset.type, rrset.ttl_s, data, rd.size());
    if (!added) {
      w_.rollback(mark, s, count);  // an RRset goes out whole or not at all
      return false;
    }
  }
  if (!dnssec_->active()) return true;
  const bool fits = synth_lower != nullptr
                        ? dnssec_->add_online(w_, s, synth_lower, synth_len, rrset.type,
                                              rrset.ttl_s, rrset.rdatas)
                        : dnssec_->add_static(w_, s, rrset, rrset.ttl_s);
  // RFC 4035 3.1.1: in the answer and authority sections an RRset goes with its RRSIGs or
  // the response is truncated; in the additional section it may go without them (and the
  // response is not truncated for their sake).
  if (!fits && s != Section::additional) {
    w_.rollback(mark, s, count);
    return false;
  }
  return true;
}

void Pipeline::add_soa_negative(const zone::Zone& zone) noexcept {
  const zone::RRset* soa = zone.apex().find(rrtype::SOA);
  if (soa == nullptr || soa->rdatas.empty()) return;
  const auto& rd = soa->rdatas.front();
  // RFC 2308 3: the SOA's TTL in a negative answer is min(SOA TTL, MINIMUM).
  const auto* origin = reinterpret_cast<const uint8_t*>(zone.origin.data());
  if (!w_.add(Section::authority, origin, zone.origin.size(), rrtype::SOA, zone.negative_ttl_s,
              reinterpret_cast<const uint8_t*>(rd.data()), rd.size())) {
    overflow_ = true;
    return;
  }
  if (dnssec_->active() &&
      !dnssec_->add_static(w_, Section::authority, *soa, zone.negative_ttl_s)) {
    overflow_ = true;
  }
}

void Pipeline::add_negative(const zone::Zone& zone, const zone::Node* node, const uint8_t* owner,
                            size_t owner_len, const uint8_t* lower, size_t lower_len) noexcept {
  const bool denial = dnssec_->active();
  // RFC 9824 3.2: NXDOMAIN is answered as NODATA (the NSEC's NXNAME says the name does not
  // exist) unless the client set CO, which asks for the NXDOMAIN rcode back (RFC 9824 4).
  const bool nxdomain = node == nullptr && (!denial || q_.compact_ok);
  if (nxdomain) w_.set_rcode(rcode::NXDOMAIN);
  // An explicit NSEC query (DO, signed zone): the name's NSEC is the answer. A NODATA would
  // carry that same NSEC, whose bitmap lists NSEC (every NSEC does, RFC 4034 4.1.2), and so
  // contradict itself.
  const bool nsec_answer = denial && !nxdomain && q_.qtype == rrtype::NSEC;
  if (!nsec_answer) add_soa_negative(zone);
  if (!denial || overflow_) return;
  uint16_t types[kMaxBitmapTypes];
  size_t n = 0;
  if (node == nullptr) {
    types[n++] = dnssec::kTypeNxname;
  } else if (node->is_delegation) {
    // The parent side of a cut (RFC 4035 3.1.4.1: this NSEC proves there is no DS): only
    // NS is authoritative here, the rest is glue.
    types[n++] = rrtype::NS;
    if (node->find(rrtype::DS) != nullptr) types[n++] = rrtype::DS;
  } else {
    // RFC 9824 3.1: the types that exist at the name (none for an empty non-terminal); a
    // steered name has its addresses, except the type being denied.
    if (node->rule >= 0) {
      for (const uint16_t t : {rrtype::A, rrtype::AAAA}) {
        if (t != q_.qtype && node->find(t) == nullptr) types[n++] = t;
      }
    }
    for (const zone::RRset& r : node->rrsets) {
      if (n < kMaxBitmapTypes && r.type != q_.qtype) types[n++] = r.type;
    }
  }
  if (!dnssec_->add_denial(w_, owner, owner_len, lower, lower_len,
                           std::span<const uint16_t>(types, n),
                           nsec_answer ? Section::answer : Section::authority)) {
    overflow_ = true;
  }
}

void Pipeline::add_target_addresses(const zone::Zone& zone, const zone::RRset& rrset,
                                    Section section, bool required) noexcept {
  // Addresses of the names an NS/MX/SRV RRset points to, when we hold them (RFC 1034 4.3.2
  // step 6; for referrals the glue of RFC 9471, which must fit or the answer is truncated).
  for (const auto& rd : rrset.rdatas) {
    const auto* p = reinterpret_cast<const uint8_t*>(rd.data());
    size_t off = 0;
    if (rrset.type == rrtype::MX) off = 2;
    if (rrset.type == rrtype::SRV) off = 6;
    if (rd.size() <= off) continue;
    const size_t len = rd.size() - off;
    uint8_t lower[dns::kMaxNameLength];
    if (len > sizeof(lower)) continue;
    dns::lower_name(p + off, len, lower);
    if (!is_at_or_below(lower, len, zone.origin)) continue;
    const zone::Node* target =
        zone.find(std::string_view(reinterpret_cast<const char*>(lower), len));
    if (target == nullptr) continue;
    const bool in_bailiwick = target->cut >= 0;
    for (uint16_t type : {rrtype::A, rrtype::AAAA}) {
      const zone::RRset* addr = target->find(type);
      if (addr == nullptr) continue;
      if (!add_rrset(section, p + off, len, *addr) && required && in_bailiwick) {
        overflow_ = true;
        return;
      }
    }
  }
}

void Pipeline::add_referral(const zone::Zone& zone, const zone::Node& cut,
                            bool authoritative) noexcept {
  // RFC 1034 4.3.2 step 3b: not authoritative below a cut; refer with NS and glue. After a
  // CNAME of ours (`authoritative`) AA stays: it speaks for the first name (RFC 1035 4.1.1).
  if (!authoritative) w_.set_aa(false);
  const zone::RRset* ns = cut.find(rrtype::NS);
  if (ns == nullptr) return;
  const auto* owner = reinterpret_cast<const uint8_t*>(cut.name.data());
  if (!add_rrset(Section::authority, owner, cut.name.size(), *ns)) {
    overflow_ = true;
    return;
  }
  if (dnssec_->active()) {
    // RFC 4035 3.1.4: the DS RRset with its RRSIGs (the NS above is unsigned: the child's),
    // or, for an insecure delegation, an NSEC at the cut whose bitmap proves there is no DS.
    const zone::RRset* ds = cut.find(rrtype::DS);
    bool fits = true;
    if (ds != nullptr) {
      fits = add_rrset(Section::authority, owner, cut.name.size(), *ds,
                       dnssec_->has_static(*ds) ? nullptr : owner, cut.name.size());
    } else {
      static constexpr uint16_t kAtCut[] = {rrtype::NS};
      fits = dnssec_->add_denial(w_, owner, cut.name.size(), owner, cut.name.size(), kAtCut);
    }
    if (!fits) {
      overflow_ = true;
      return;
    }
  }
  add_target_addresses(zone, *ns, Section::additional, true);
}

Pipeline::SteeredAnswer Pipeline::answer_steered(const zone::Zone& zone, const zone::Node& node,
                                                 const uint8_t* owner, size_t owner_len,
                                                 const uint8_t* lower, size_t lower_len,
                                                 uint16_t qtype,
                                                 const ClientInfo& client) noexcept {
  const steer::Rule& rule = zone.rules[static_cast<size_t>(node.rule)];
  const uint8_t family = qtype == rrtype::AAAA ? 6 : 4;
  if (explain_ != nullptr && explain_->steered) {
    // A steered CNAME chain: the link explained so far is kept, so explain shows every one.
    SteerExplanation link = std::move(*explain_);
    std::vector<SteerExplanation> chain = std::move(link.chain);
    chain.push_back(std::move(link));
    *explain_ = SteerExplanation{};
    explain_->chain = std::move(chain);
  }
  steer::ClientView view;
  view.source = client.address;  // weighted picks are sticky per resolver (unmapped there)
  uint8_t scope_offset = 0;      // v4-mapped ECS: scopes are reported in IPv6 bits
  const geo::Database* db = geoip_.get();
  // A compiled table counts only if it was built against the database we serve with.
  const CompiledSteering* compiled = steering_.get();
  const steer::CompiledRule* table = nullptr;
  if (rule.depends_on_client && compiled != nullptr && compiled->database.get() == db) {
    // The zone's tables are looked up once per zone and snapshot, then indexed by rule.
    if (compiled != tables_set_ || &zone != tables_zone_) {
      tables_ = compiled->tables_of(&zone);
      tables_set_ = compiled;
      tables_zone_ = &zone;
    }
    const auto i = static_cast<size_t>(node.rule);
    table = i < tables_.size() ? tables_[i] : nullptr;
  }
  uint8_t merged_len = 0;
  if (rule.depends_on_client) {
    const dns::EcsOption& ecs = q_.ecs;
    if (ecs.present && ecs.source_prefix > 0) {
      // RFC 7871 7.1.1 / privacy: never look deeper than /24 (IPv4) or /56 (IPv6).
      IpAddress a = ecs.address;
      unsigned src = ecs.source_prefix;
      if (a.is_v6() && src >= 96 && a.is_v4_mapped()) {
        a = a.unmapped();
        src -= 96;
        scope_offset = 96;
      }
      const unsigned eff = std::min(src, a.is_v4() ? 24U : 56U);
      // parse_ecs() rejects host bits beyond the source prefix: only a longer one needs masking.
      view.address = eff < src ? a.masked(eff) : a;
      view.max_scope = static_cast<uint8_t>(eff);
    } else {
      // No ECS (or ECS /0, the resolver's opt-out): locate by the packet's source address.
      view.address = client.address.unmapped();
      view.max_scope = ecs.present ? 0 : view.address.bit_length();
    }
    if (table != nullptr && table->lookup(view.address, &view.list, &merged_len)) {
      // The merged network may be longer than the source prefix (RFC 7871 7.2.1: the answer
      // holds only for part of the client's subnet) and is then announced as such; an ECS /0
      // opt-out still gets scope 0.
      view.list_scope = view.max_scope == 0 ? 0 : merged_len;
    }
    // libmaxminddb only for rules that are not compiled (and for explain's trace).
    // A nearest pool inside a compiled list still ranks by the client's coordinates.
    if (db != nullptr &&
        (view.list == nullptr || explain_ != nullptr || rule.lists_need_location)) {
      db->lookup(view.address, &location_);
      view.location = &location_;
    }
  }
  steer::Trace* trace = explain_ != nullptr ? &explain_->trace : nullptr;
  const steer::HealthView& health = health_.get() != nullptr ? *health_.get() : kAllUpView;
  if (explain_ != nullptr && view.list != nullptr) {
    // Explain walks the runtime path for its trace, then answers with the compiled scope.
    steer::ClientView runtime = view;
    runtime.list = nullptr;
    runtime.list_scope = 0;
    steer::evaluate(rule, steer::Fleet{zone.datacenters, zone.pools}, family, runtime, health,
                    rotation_++, &decision_, trace);
    // As evaluate() does with a compiled list: hashed or spillover choices need the client
    // subnet, a nearest pool the database network.
    decision_.scope = view.list_scope;
    if (decision_.per_subnet) {
      decision_.scope = std::max<uint8_t>(decision_.scope, view.address.is_v6() ? 56 : 24);
    }
    if (rule.lists_need_location && view.location != nullptr) {
      decision_.scope = std::max(decision_.scope, view.location->prefix_length);
    }
  } else {
    steer::evaluate(rule, steer::Fleet{zone.datacenters, zone.pools}, family, view, health,
                    rotation_++, &decision_, trace);
  }
  count_steered(zone, node.rule);
  uint8_t scope = decision_.scope;
  if (scope_offset != 0) scope = static_cast<uint8_t>(scope + scope_offset);
  // The runtime scope never exceeds the source prefix; a compiled one may (see above).
  if (view.list == nullptr) scope = std::min(scope, q_.ecs.source_prefix);
  // A CNAME chain through several steered names is one response with one ECS option: it
  // carries the longest scope any of them needs, so no resolver caches it too widely.
  chain_scope_ = std::max(chain_scope_, scope);
  scope = chain_scope_;
  if (q_.ecs.present) w_.set_ecs_scope(scope);
  if (explain_ != nullptr) {
    explain_->steered = true;
    explain_->zone = &zone;
    explain_->rule = &rule;
    explain_->have_database = db != nullptr;
    explain_->location = location_;
    explain_->lookup_address = view.address;
    explain_->decision = decision_;
    explain_->response_scope = q_.ecs.present ? scope : 0;
    explain_->compiled = view.list != nullptr;
    if (view.list != nullptr) {
      explain_->compiled_network = IpPrefix{view.address.masked(merged_len), merged_len};
    }
  }
  if (decision_.count == 0) return {SteeredAnswer::nodata, {}};
  if (decision_.dc >= 0) {
    const std::string& target = zone.datacenters[static_cast<size_t>(decision_.dc)].target;
    if (!target.empty()) {
      const size_t mark = w_.mark();
      const uint16_t count = w_.count(Section::answer);
      if (!w_.add(Section::answer, owner, owner_len, rrtype::CNAME, decision_.ttl_s,
                  reinterpret_cast<const uint8_t*>(target.data()), target.size())) {
        return {SteeredAnswer::overflow, {}};
      }
      // A steered CNAME is signed online like steered addresses (the cache keeps one per
      // target and TTL).
      const std::string_view rdata(target);
      if (dnssec_->active() &&
          !dnssec_->add_online(w_, Section::answer, lower, lower_len, rrtype::CNAME,
                               decision_.ttl_s, std::span<const std::string_view>(&rdata, 1))) {
        w_.rollback(mark, Section::answer, count);
        return {SteeredAnswer::overflow, {}};
      }
      return {SteeredAnswer::cname, target};
    }
  }
  // A name that may answer CNAME is steered for every type; addresses answer only A/AAAA.
  if (qtype != rrtype::A && qtype != rrtype::AAAA && qtype != rrtype::ANY) {
    return {SteeredAnswer::nodata, {}};
  }
  const uint16_t type = family == 6 ? rrtype::AAAA : rrtype::A;
  const size_t rdlen = family == 6 ? 16 : 4;
  const size_t mark = w_.mark();
  const uint16_t count = w_.count(Section::answer);
  for (uint32_t i = 0; i < decision_.count; ++i) {
    const uint8_t* data = decision_.addresses[i]->bytes.data();
    if (!(owner == nullptr
              ? w_.add_question_owned(Section::answer, type, decision_.ttl_s, data, rdlen)
              : w_.add(Section::answer, owner, owner_len, type, decision_.ttl_s, data, rdlen))) {
      // Fewer addresses is still a correct answer; none at all is not. Signed, the answer
      // is the whole RRset with its RRSIG or TC (RFC 4035 3.1.1): a shorter RRset would
      // need its own signature, and that would not fit either.
      if (i == 0 || dnssec_->active()) {
        w_.rollback(mark, Section::answer, count);
        return {SteeredAnswer::overflow, {}};
      }
      break;
    }
  }
  if (dnssec_->active()) {
    // The RRset as health and steering made it, signed online: the cache key is its
    // canonical content, so the rotation order does not matter (issue 13).
    const auto rdatas = dnssec_->address_rdatas(decision_.addresses, decision_.count, rdlen);
    if (!dnssec_->add_online(w_, Section::answer, lower, lower_len, type, decision_.ttl_s,
                             rdatas)) {
      w_.rollback(mark, Section::answer, count);
      return {SteeredAnswer::overflow, {}};
    }
  }
  return {SteeredAnswer::addresses, {}};
}

bool Pipeline::seen_in_chain(const uint8_t* name, size_t len) const noexcept {
  for (size_t i = 0; i < chain_count_; ++i) {
    if (chain_[i].len == len && std::memcmp(chain_[i].name, name, len) == 0) return true;
  }
  return false;
}

bool Pipeline::answer_dname(const zone::Node& dname_owner, const uint8_t* owner, size_t owner_len,
                            const uint8_t* lower, const uint8_t** target,
                            size_t* target_len) noexcept {
  const zone::RRset* dname = dname_owner.find(rrtype::DNAME);
  if (dname == nullptr || dname->rdatas.empty() || synth_count_ >= kMaxChain) return false;
  const uint8_t* current = owner != nullptr ? owner : q_.qname;
  const size_t current_len = owner != nullptr ? owner_len : q_.qname_len;
  const size_t suffix = dname_owner.name.size();
  if (suffix >= current_len) return false;  // find() returns a DNAME only strictly above
  bool listed = false;                      // a chain may pass the same DNAME twice
  for (size_t i = 0; i < dnames_count_; ++i) listed = listed || dnames_[i] == &dname_owner;
  if (!listed) {
    // Its owner spelled as the client did: the tail of the current name.
    if (!add_rrset(Section::answer, current + current_len - suffix, suffix, *dname)) {
      overflow_ = true;
      return false;
    }
    dnames_[dnames_count_++] = &dname_owner;
  }
  const std::string_view to = dname->rdatas.front();
  uint8_t* out = synth_[synth_count_];
  // From the lower-cased name, as Knot synthesizes: the new name is ours, not the client's.
  const size_t n = dns::substitute_dname(
      lower, current_len, suffix, reinterpret_cast<const uint8_t*>(to.data()), to.size(), out);
  if (n == 0) {
    w_.set_rcode(dns::rcode::YXDOMAIN);  // RFC 6672 2.2: the DNAME alone, no CNAME
    return false;
  }
  ++synth_count_;
  // RFC 6672 3.1: the synthesized CNAME has the DNAME's TTL.
  if (!w_.add(Section::answer, owner, owner_len, rrtype::CNAME, dname->ttl_s, out, n)) {
    overflow_ = true;
    return false;
  }
  *target = out;
  *target_len = n;
  return true;
}

void Pipeline::answer_in_zone(const zone::Zone& zone, const ClientInfo& client) noexcept {
  w_.set_aa(true);
  const uint16_t qtype = q_.qtype;
  const uint8_t* owner = nullptr;  // nullptr: the question name (pointer to offset 12)
  size_t owner_len = 0;
  const uint8_t* name = q_.qname_lower;
  size_t name_len = q_.qname_len;
  uint8_t wildcard_buf[dns::kMaxNameLength + 2];
  chain_scope_ = 0;
  chain_[0] = {name, name_len};
  chain_count_ = 1;
  dnames_count_ = 0;
  synth_count_ = 0;

  // Follows in-zone CNAME chains (RFC 1034 4.3.2 step 3a), as Knot and NSD do: a name seen
  // before ends the chain, so a loop lists each record once; 16 links at most otherwise.
  // Returns false when the chain stops. `target` must outlive the response (zone data or
  // synth_): the writer points at the names it wrote for compression.
  auto follow = [&](const uint8_t* target, size_t len) noexcept {
    if (len > dns::kMaxNameLength || chain_count_ >= kMaxChain) return false;
    uint8_t* next = lower_[chain_count_];
    dns::lower_name(target, len, next);
    if (seen_in_chain(next, len)) return false;
    chain_[chain_count_++] = {next, len};
    owner = target;
    owner_len = len;
    name = next;
    name_len = len;
    return is_at_or_below(name, name_len, zone.origin);  // false: it leaves the zone
  };
  for (int hop = 0; hop < static_cast<int>(kMaxChain); ++hop) {
    const Lookup lk = find(zone, name, name_len, qtype, wildcard_buf);
    if (lk.kind == Lookup::referral) {
      // A CNAME into a delegated name: the restarted lookup reaches a cut (RFC 1034 4.3.2
      // step 3b), so the referral goes along, with AA still set for our CNAME.
      add_referral(zone, *lk.node, hop > 0);
      return;
    }
    if (lk.kind == Lookup::nxdomain) {
      // RFC 6604: the rcode speaks for the last name (as does the compact denial).
      add_negative(zone, nullptr, owner, owner_len, name, name_len);
      return;
    }
    if (lk.kind == Lookup::dname) {
      const uint8_t* target = nullptr;
      size_t target_len = 0;
      if (!answer_dname(*lk.node, owner, owner_len, name, &target, &target_len)) return;
      // The synthesized CNAME is the answer to CNAME; every other type follows it, ANY too
      // (the CNAME is not the owner's own RRset here; Knot follows it alike).
      if (qtype == rrtype::CNAME) return;
      if (!follow(target, target_len)) return;
      continue;
    }
    const zone::Node& node = *lk.node;
    // An RRset of a wildcard is signed online at the name it answers (add_rrset).
    const uint8_t* synth = node.is_wildcard ? name : nullptr;
    // The rule answers A and AAAA (every type when it may answer a CNAME); static records at
    // the same owner answer the other types (docs/decisions.md, "Steered names").
    if (node.rule >= 0 &&
        (node.may_cname || qtype == rrtype::A || qtype == rrtype::AAAA || qtype == rrtype::ANY)) {
      const SteeredAnswer a =
          answer_steered(zone, node, owner, owner_len, name, name_len, qtype, client);
      switch (a.kind) {
        case SteeredAnswer::overflow:
          overflow_ = true;
          return;
        case SteeredAnswer::addresses:
          return;
        case SteeredAnswer::cname:
          // ANY: the CNAME is the one RRset (RFC 8482 4.1); CNAME: it is the answer.
          if (qtype == rrtype::CNAME || qtype == rrtype::ANY) return;
          if (!follow(reinterpret_cast<const uint8_t*>(a.target.data()), a.target.size())) {
            return;
          }
          continue;
        case SteeredAnswer::nodata:
          // ANY gets one RRset (RFC 8482): the steered one, else a static one of the owner.
          if (qtype == rrtype::ANY && !node.rrsets.empty()) {
            if (!add_rrset(Section::answer, owner, owner_len, node.rrsets.front(), synth,
                           name_len)) {
              overflow_ = true;
            }
            return;
          }
          add_negative(zone, &node, owner, owner_len, name, name_len);
          return;
      }
    }
    const zone::RRset* cname = node.find(rrtype::CNAME);
    // RRSIG and NSEC live beside a CNAME (RFC 4035 2.5, RFC 2181 10.1): asked for, they are
    // answered from the owner itself, never through the alias.
    const bool beside_cname =
        qtype == rrtype::CNAME || qtype == rrtype::RRSIG || qtype == rrtype::NSEC;
    if (cname != nullptr && !beside_cname && !cname->rdatas.empty()) {
      if (!add_rrset(Section::answer, owner, owner_len, *cname, synth, name_len)) {
        overflow_ = true;
        return;
      }
      // ANY matches the CNAME itself (RFC 1034 4.3.2 step 3a): no chase, as Knot and NSD.
      if (qtype == rrtype::ANY) return;
      const std::string_view target = cname->rdatas.front();
      if (!follow(reinterpret_cast<const uint8_t*>(target.data()), target.size())) return;
      continue;
    }
    if (qtype == rrtype::ANY) {
      // RFC 8482 4.1: answer ANY with one RRset rather than everything at the name.
      if (!node.rrsets.empty()) {
        const zone::RRset& one = node.rrsets.front();
        if (!add_rrset(Section::answer, owner, owner_len, one, synth, name_len)) {
          overflow_ = true;
        } else if (one.type == rrtype::MX || one.type == rrtype::SRV || one.type == rrtype::NS) {
          add_target_addresses(zone, one, Section::additional, false);  // as for the type itself
        }
      } else {
        add_negative(zone, &node, owner, owner_len, name, name_len);
      }
      return;
    }
    const zone::RRset* rrset = node.find(qtype);
    if (rrset == nullptr) {
      // NODATA (also for empty non-terminals and a wildcard without the type).
      add_negative(zone, &node, owner, owner_len, name, name_len);
      return;
    }
    const bool plain = owner == nullptr && !dnssec_->active() &&
                       dns::rdata_layout(rrset->type) == dns::RdataLayout::opaque;
    if (!(plain ? add_plain_rrset(w_, Section::answer, *rrset)
                : add_rrset(Section::answer, owner, owner_len, *rrset, synth, name_len))) {
      overflow_ = true;
      return;
    }
    if (qtype == rrtype::MX || qtype == rrtype::SRV || qtype == rrtype::NS) {
      add_target_addresses(zone, *rrset, Section::additional, false);
    }
    return;
  }
}

}  // namespace geodns::server
