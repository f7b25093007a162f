// Arbitrary bytes as a DNS request through the real Pipeline (demo zones + demo GeoIP
// database), over UDP and TCP, from an IPv4 and an IPv6 client. The response must be a
// well-formed DNS message that an independent decoder (ldns) accepts, within the transport's
// size limit; anything else aborts so libFuzzer records the input. A second pipeline with
// response rate limiting (rate 2/s, slip 2, time frozen) covers dropped and slipped answers.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers): before ldns (it #defines bool)

#include <ldns/ldns.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "dns/query.h"
#include "dnssec/key.h"
#include "server/pipeline.h"
#include "zone/loader.h"

namespace {

using geodns::IpAddress;
using geodns::server::ClientInfo;
using geodns::server::Pipeline;
using geodns::server::PipelineConfig;
using geodns::server::Snapshots;
using geodns::server::Transport;

constexpr uint32_t kMaxUdpPayload = 1232;  // PipelineConfig's default ceiling

struct World {
  Snapshots snapshots;
  geodns::Published<geodns::steer::HealthView> health;
  geodns::ManualClock clock;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<Pipeline> limited;  // with RRL
  uint8_t out[65535];
};

constexpr const char* kSignedZone = R"([zone]
name = "signed.fuzz."
dnssec = true
[zone.soa]
mname = "ns1.signed.fuzz."
rname = "hostmaster.signed.fuzz."
[records]
"@" = ["NS ns1.signed.fuzz.", "MX 10 mail.signed.fuzz."]
ns1 = "A 192.0.2.53"
mail = ["A 192.0.2.25", "AAAA 2001:db8::25"]
alias = "CNAME mail"
"*.wild" = ["A 192.0.2.7", 'TXT "wild"']
"a.b.ent" = "A 192.0.2.8"
d = "DNAME mail.signed.fuzz."
deleg = "NS ns.deleg.signed.fuzz."
"ns.deleg" = "A 192.0.2.54"
[datacenters.fra]
addresses = ["192.0.2.10", "192.0.2.11", "2001:db8::10"]
[datacenters.iad]
addresses = ["198.51.100.10"]
[steer.www]
policy = "roundrobin"
datacenters = ["fra", "iad"]
answers = 2
[steer.geo]
policy = "geo"
map.EU = ["fra"]
map.default = ["iad"]
)";

geodns::zone::ZonePtr make_signed_zone() {
  char dir[] = "/tmp/geodns-fuzz-keys-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return nullptr;
  const auto now = static_cast<int64_t>(std::time(nullptr));
  auto key = geodns::dnssec::generate_key("signed.fuzz.", geodns::dnssec::Algorithm::ed25519,
                                          geodns::dnssec::KeyRole::csk, now);
  if (!key) return nullptr;
  key->timing.activate_unix = now - 60;
  const std::string keys = std::string(dir) + "/keys";
  if (!geodns::dnssec::write_key_files(*key, keys)) return nullptr;
  geodns::zone::ServerConfig config;
  config.dnssec.key_directory = keys;
  auto z = geodns::zone::load_zone_text(kSignedZone, "signed.fuzz.toml", config, nullptr);
  std::filesystem::remove_all(dir);  // loaded: the zone holds the key
  return z ? z.value() : nullptr;
}

World* make_world() {
  auto* w = new World();
  geodns::zone::ServerConfig config;
  auto report =
      geodns::zone::load_zone_dir(std::string(GEODNS_SOURCE_DIR) + "/zones", config, nullptr);
  if (!report.errors.empty() || report.zones->zones.empty()) {
    std::fprintf(stderr, "fuzz_pipeline: demo zones failed to load\n");
    std::abort();
  }
  // A signed zone beside the demo ones (its key made now, in a directory of its own), so that
  // the DO inputs below reach RRSIGs, online signatures and compact denial.
  auto set = std::make_shared<geodns::zone::ZoneSet>(*report.zones);
  if (auto signed_zone = make_signed_zone()) {
    set->zones.push_back(signed_zone);
    set->reindex();
  } else {
    std::fprintf(stderr, "fuzz_pipeline: the signed zone failed to load\n");
    std::abort();
  }
  w->snapshots.zones.publish(set);
  auto db = geodns::geo::Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb");
  if (!db) {
    std::fprintf(stderr, "fuzz_pipeline: demo.mmdb failed to open\n");
    std::abort();
  }
  w->snapshots.geoip.publish(db.value());
  w->health.publish(std::make_shared<geodns::steer::HealthView>());
  w->snapshots.health = &w->health;
  PipelineConfig pc;
  pc.max_udp_payload = kMaxUdpPayload;
  pc.chaos_id = "fuzz-ns";
  pc.chaos_version = "geodns fuzz";
  pc.cookie_secrets = {geodns::dns::CookieSecret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                                 16}};  // cookie paths are fuzzed too
  w->pipeline = std::make_unique<Pipeline>(w->snapshots, pc, 1);
  w->pipeline->begin_batch();
  pc.rrl.enabled = true;
  pc.rrl.responses_per_second = 2;
  pc.rrl.slip = 2;
  pc.rrl.table_entries = 64;
  pc.rrl.clock = &w->clock;
  w->limited = std::make_unique<Pipeline>(w->snapshots, pc, 2);
  w->limited->begin_batch();
  return w;
}

[[noreturn]] void fail(const char* why, const uint8_t* resp, size_t n) {
  std::fprintf(stderr, "fuzz_pipeline: %s (response %zu bytes)\n", why, n);
  for (size_t i = 0; i < n && i < 512; ++i) std::fprintf(stderr, "%02x", resp[i]);
  std::fprintf(stderr, "\n");
  std::abort();
}

uint16_t get16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

bool has_pointer_in_qname(std::span<const uint8_t> query) {
  size_t pos = geodns::dns::kHeaderSize;
  while (pos < query.size() && query[pos] != 0) {
    if ((query[pos] & 0xC0) != 0) return true;
    pos += 1U + query[pos];
  }
  return false;
}

void check(World& w, Pipeline& pipeline, std::span<const uint8_t> query, const ClientInfo& client,
           bool may_drop) {
  const size_t n = pipeline.respond(query, client, w.out);
  const uint8_t* r = w.out;
  const bool query_is_response = query.size() >= 3 && (query[2] & 0x80) != 0;
  if (n == 0) {
    // Only non-queries are dropped: anything with a header and QR clear gets an answer, at
    // worst FORMERR (RFC 1035 4.1.1 / DESIGN: never a silent hang for a client).
    if (!may_drop && query.size() >= geodns::dns::kHeaderSize && !query_is_response) {
      fail("a query with a header was dropped", r, n);
    }
    return;
  }
  if (n < geodns::dns::kHeaderSize) fail("response shorter than a header", r, n);
  if (query.size() < 2) fail("answered a message without an ID", r, n);

  size_t limit = geodns::dns::kMaxMessage;
  if (client.transport == Transport::udp) {
    geodns::dns::Query q;
    const auto st = geodns::dns::parse_query(query, &q);
    limit = geodns::dns::kMaxUdpPlain;
    if (st != geodns::dns::ParseStatus::drop && q.has_edns) {
      limit = std::clamp<size_t>(q.udp_payload, geodns::dns::kMaxUdpPlain, kMaxUdpPayload);
    }
  }
  if (n > limit) fail("response longer than the transport limit", r, n);
  if (get16(r) != get16(query.data())) fail("ID not copied", r, n);
  if ((r[2] & 0x80) == 0) fail("QR not set", r, n);
  if (get16(r + 4) > 1) fail("QDCOUNT > 1", r, n);

  if (get16(r + 4) == 1 && !has_pointer_in_qname(query)) {
    // The question is echoed exactly as received (RFC 1035 4.1.1; case kept, RFC 4343). A
    // compressed query name comes back decompressed, so only plain ones are compared.
    size_t end = geodns::dns::kHeaderSize;
    while (end < n && r[end] != 0 && (r[end] & 0xC0) == 0) end += 1U + r[end];
    end += 1 + 4;  // root label, type, class
    if (end > n) fail("question runs past the response", r, n);
    if (end > query.size() ||
        std::memcmp(r + geodns::dns::kHeaderSize, query.data() + geodns::dns::kHeaderSize,
                    end - geodns::dns::kHeaderSize) != 0) {
      fail("question not echoed exactly", r, n);
    }
  }

  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, r, n) != LDNS_STATUS_OK) fail("ldns cannot parse the response", r, n);
  // Without an OPT record in the response the client did not get EDNS: 512 bytes over UDP.
  const bool has_opt = ldns_pkt_edns(pkt);
  ldns_pkt_free(pkt);
  if (client.transport == Transport::udp && !has_opt && n > geodns::dns::kMaxUdpPlain) {
    fail("UDP response without OPT longer than 512 bytes", r, n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = make_world();  // leaked on purpose: lives as long as the process
  static const IpAddress kV4 = *IpAddress::parse("81.2.69.160");
  static const IpAddress kV6 = *IpAddress::parse("2a01:4f8::1");
  const std::span<const uint8_t> query(data, size);
  for (Transport t : {Transport::udp, Transport::tcp}) {
    for (const IpAddress* a : {&kV4, &kV6}) {
      ClientInfo client;
      client.address = *a;
      client.port = 5353;
      client.transport = t;
      check(*world, *world->pipeline, query, client, false);
    }
  }
  ClientInfo client;
  client.address = kV4;
  client.transport = Transport::udp;
  check(*world, *world->limited, query, client, true);
  // DNSSEC: the first byte selects DO (bit 0) and CO (bit 1, RFC 9824), added to the rest of
  // the input as an OPT record, so the signed answers (RRSIGs, compact denial, truncation
  // with signatures) are fuzzed too. The input above, as it came, keeps the corpus's meaning.
  if (size >= 1 + geodns::dns::kHeaderSize && (data[0] & 3) != 0) {
    static uint8_t with_opt[65535 + 11];
    const size_t n = std::min<size_t>(size - 1, 65535);
    std::memcpy(with_opt, data + 1, n);
    // One more additional record: an OPT (payload 1232, DO/CO as selected) after the rest.
    const auto arcount = static_cast<uint16_t>(get16(with_opt + 10) + 1);
    with_opt[10] = static_cast<uint8_t>(arcount >> 8);
    with_opt[11] = static_cast<uint8_t>(arcount);
    const uint8_t flags =
        static_cast<uint8_t>(((data[0] & 1) != 0 ? 0x80 : 0) | ((data[0] & 2) != 0 ? 0x40 : 0));
    const uint8_t opt[11] = {0, 0, 41, 0x04, 0xD0, 0, 0, flags, 0, 0, 0};
    std::memcpy(with_opt + n, opt, sizeof(opt));
    const std::span<const uint8_t> dnssec_query(with_opt, n + sizeof(opt));
    for (Transport t : {Transport::udp, Transport::tcp}) {
      client.transport = t;
      check(*world, *world->pipeline, dnssec_query, client, false);
    }
  }
  return 0;
}
