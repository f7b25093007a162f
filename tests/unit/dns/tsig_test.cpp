// TSIG against an independent implementation: ldns signs requests we verify, and verifies the
// responses (single and chained, as in a zone transfer) we sign.
// stdbool.h first: without it ldns/common.h #defines bool, true and false in C++.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)
//
#include <ldns/ldns.h>

#include <gtest/gtest.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "dns/query.h"
#include "dns/tsig.h"

namespace geodns::dns {
namespace {

constexpr const char* kKeyName = "xfr-key.";
constexpr const char* kSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==";  // 31 bytes

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktDeleter>;

TsigKey key(TsigAlgorithm a = TsigAlgorithm::hmac_sha256, const char* secret = kSecret) {
  TsigKey k;
  k.name = std::string("\7xfr-key\0", 9);
  k.algorithm = a;
  k.secret = *base64_decode(secret);
  return k;
}

// A query for example.org SOA signed by ldns with `algorithm` ("hmac-sha256.").
std::vector<uint8_t> signed_query(const char* algorithm, const char* key_name = kKeyName,
                                  const char* secret = kSecret, uint16_t id = 0x1234) {
  ldns_pkt* raw = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, "example.org.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0),
            LDNS_STATUS_OK);
  Pkt pkt(raw);
  ldns_pkt_set_id(pkt.get(), id);
  EXPECT_EQ(ldns_pkt_tsig_sign(pkt.get(), key_name, secret, 300, algorithm, nullptr),
            LDNS_STATUS_OK);
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
  std::vector<uint8_t> out(wire, wire + size);
  free(wire);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

uint64_t now() {
  return static_cast<uint64_t>(std::time(nullptr));
}

struct Parsed {
  Query q;
  TsigRecord rec;
};

std::unique_ptr<Parsed> parse(const std::vector<uint8_t>& m) {
  auto p = std::make_unique<Parsed>();
  EXPECT_EQ(parse_query(m, &p->q), ParseStatus::ok);
  EXPECT_NE(p->q.tsig_offset, 0U);
  EXPECT_TRUE(parse_tsig(m, p->q.tsig_offset, &p->rec));
  return p;
}

TEST(Tsig, HmacSha256MatchesRfc4231TestCase2) {
  TsigKey k;
  k.algorithm = TsigAlgorithm::hmac_sha256;
  k.secret = {'J', 'e', 'f', 'e'};
  const std::string data = "what do ya want for nothing?";
  const std::span<const uint8_t> part(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  TsigSigner signer;
  uint8_t out[kMaxTsigMac];
  size_t n = 0;
  ASSERT_TRUE(signer.mac(k, std::span(&part, 1), out, &n));
  const uint8_t expected[] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                              0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                              0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
  ASSERT_EQ(n, sizeof(expected));
  EXPECT_EQ(std::memcmp(out, expected, n), 0);
}

TEST(Tsig, Base64) {
  EXPECT_EQ(*base64_decode("SmVmZQ=="), (std::vector<uint8_t>{'J', 'e', 'f', 'e'}));
  EXPECT_EQ(*base64_decode("YWJj"), (std::vector<uint8_t>{'a', 'b', 'c'}));
  EXPECT_FALSE(base64_decode("YWJ"));
  EXPECT_FALSE(base64_decode("Y=Jj"));
  EXPECT_FALSE(base64_decode("YW*j"));
}

TEST(Tsig, AlgorithmNames) {
  EXPECT_EQ(tsig_algorithm_from_text("HMAC-SHA256."), TsigAlgorithm::hmac_sha256);
  EXPECT_EQ(tsig_algorithm_from_text("hmac-sha512"), TsigAlgorithm::hmac_sha512);
  EXPECT_FALSE(tsig_algorithm_from_text("hmac-md5.sig-alg.reg.int"));
}

// ldns 1.8 signs with hmac-sha1, -sha256 and -sha512 (not -sha384).
TEST(Tsig, VerifiesRequestsSignedByLdns) {
  const struct {
    const char* ldns_name;
    TsigAlgorithm algorithm;
  } cases[] = {{"hmac-sha1.", TsigAlgorithm::hmac_sha1},
               {"hmac-sha256.", TsigAlgorithm::hmac_sha256},
               {"hmac-sha512.", TsigAlgorithm::hmac_sha512}};
  TsigSigner signer;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ldns_name);
    const auto m = signed_query(c.ldns_name);
    const auto p = parse(m);
    const TsigKey k = key(c.algorithm);
    const TsigKey keys[] = {k};
    const TsigKey* found = find_tsig_key(p->rec, keys);
    ASSERT_EQ(found, &keys[0]);
    EXPECT_EQ(p->rec.original_id, 0x1234);
    EXPECT_EQ(signer.verify_request(m, p->rec, found, now()), tsig_error::NOERROR);
  }
}

TEST(Tsig, RejectsUnknownKeyWrongAlgorithmBadMacAndTime) {
  TsigSigner signer;
  const auto m = signed_query("hmac-sha256.");
  const auto p = parse(m);
  // Another name, or the right name with another algorithm: BADKEY (RFC 8945 5.2.1).
  TsigKey other = key();
  other.name = std::string("\5other\0", 7);
  const TsigKey only_other[] = {other};
  EXPECT_EQ(find_tsig_key(p->rec, only_other), nullptr);
  const TsigKey sha512[] = {key(TsigAlgorithm::hmac_sha512)};
  EXPECT_EQ(find_tsig_key(p->rec, sha512), nullptr);
  EXPECT_EQ(signer.verify_request(m, p->rec, nullptr, now()), tsig_error::BADKEY);
  // Another secret: BADSIG.
  const TsigKey wrong = key(TsigAlgorithm::hmac_sha256, "d3Jvbmc=");
  EXPECT_EQ(signer.verify_request(m, p->rec, &wrong, now()), tsig_error::BADSIG);
  // One bit of the question flipped: BADSIG.
  auto tampered = m;
  tampered[14] ^= 0x20;
  const auto pt = parse(tampered);
  const TsigKey right = key();
  EXPECT_EQ(signer.verify_request(tampered, pt->rec, &right, now()), tsig_error::BADSIG);
  // Outside the 300 s fudge either way: BADTIME; at the edge: fine.
  EXPECT_EQ(signer.verify_request(m, p->rec, &right, p->rec.time_signed + 301),
            tsig_error::BADTIME);
  EXPECT_EQ(signer.verify_request(m, p->rec, &right, p->rec.time_signed - 301),
            tsig_error::BADTIME);
  EXPECT_EQ(signer.verify_request(m, p->rec, &right, p->rec.time_signed + 300),
            tsig_error::NOERROR);
}

TEST(Tsig, TsigNotLastIsFormerr) {
  auto m = signed_query("hmac-sha256.");
  // Append an OPT record after the TSIG and count it.
  const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
  m.insert(m.end(), opt, opt + sizeof(opt));
  m[11] = static_cast<uint8_t>(m[11] + 1);
  Query q;
  EXPECT_EQ(parse_query(m, &q), ParseStatus::formerr);
}

// A response to `query_wire` with one A record, QR set, as a server would write it.
std::vector<uint8_t> response_to(const std::vector<uint8_t>& query_wire, const Query& q,
                                 int serial) {
  // Header and question copied from the query (GCC 12 misreads a 12-byte copy plus an
  // insert as out of bounds, so the prefix is taken whole and cut).
  std::vector<uint8_t> r(query_wire.begin(),
                         query_wire.begin() + static_cast<std::ptrdiff_t>(12 + q.qname_len + 4));
  r[2] |= 0x84;  // QR, AA
  r[6] = 0;
  r[7] = 1;  // ANCOUNT
  r[10] = 0;
  r[11] = 0;
  const uint8_t rr[] = {0xc0, 12, 0, 1, 0,   1, 0, 0,
                        0,    60, 0, 4, 192, 0, 2, static_cast<uint8_t>(serial)};
  r.insert(r.end(), rr, rr + sizeof(rr));
  return r;
}

bool ldns_verifies(const std::vector<uint8_t>& wire, const ldns_rdf* prior_mac, int timers_only,
                   const char* secret = kSecret) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK) return false;
  Pkt pkt(raw);
  return ldns_pkt_tsig_verify_next(pkt.get(), wire.data(), wire.size(), kKeyName, secret, prior_mac,
                                   timers_only);
}

TEST(Tsig, LdnsVerifiesOurSignedResponse) {
  const auto m = signed_query("hmac-sha256.");
  const auto p = parse(m);
  const TsigKey k = key();
  auto resp = response_to(m, p->q, 1);
  const size_t len = resp.size();
  resp.resize(len + 200);
  TsigSigner signer;
  TsigSigner::Response r;
  r.key = &k;
  r.key_name = p->rec.key_name;
  r.key_name_len = p->rec.key_name_len;
  r.algorithm = p->rec.algorithm;
  r.algorithm_len = p->rec.algorithm_len;
  r.prior_mac = p->rec.mac;
  r.prior_mac_len = p->rec.mac_len;
  r.time_signed = now();
  uint8_t mac[kMaxTsigMac];
  size_t mac_len = 0;
  const size_t n = signer.sign(resp.data(), len, resp.size(), r, mac, &mac_len);
  ASSERT_EQ(n, len + TsigSigner::record_bytes(r));
  resp.resize(n);
  EXPECT_EQ(mac_len, 32U);
  ldns_rdf* request_mac = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, p->rec.mac_len + 2U,
                                                m.data() + (p->rec.mac - m.data()) - 2);
  EXPECT_TRUE(ldns_verifies(resp, request_mac, 0));
  // A different secret must not verify: the check can fail.
  EXPECT_FALSE(ldns_verifies(resp, request_mac, 0, "d3Jvbmc="));
  ldns_rdf_deep_free(request_mac);
}

TEST(Tsig, LdnsVerifiesAChainedTransfer) {
  const auto m = signed_query("hmac-sha256.");
  const auto p = parse(m);
  const TsigKey k = key();
  TsigSigner signer;
  std::vector<uint8_t> prior(p->rec.mac, p->rec.mac + p->rec.mac_len);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    auto resp = response_to(m, p->q, i);
    const size_t len = resp.size();
    resp.resize(len + 200);
    TsigSigner::Response r;
    r.key = &k;
    r.key_name = p->rec.key_name;
    r.key_name_len = p->rec.key_name_len;
    r.algorithm = p->rec.algorithm;
    r.algorithm_len = p->rec.algorithm_len;
    r.prior_mac = prior.data();
    r.prior_mac_len = prior.size();
    r.time_signed = now();
    r.timers_only = i > 0;
    uint8_t mac[kMaxTsigMac];
    size_t mac_len = 0;
    const size_t n = signer.sign(resp.data(), len, resp.size(), r, mac, &mac_len);
    ASSERT_GT(n, len);
    resp.resize(n);
    std::vector<uint8_t> prior_rdata(2);
    prior_rdata[0] = static_cast<uint8_t>(prior.size() >> 8);
    prior_rdata[1] = static_cast<uint8_t>(prior.size());
    prior_rdata.insert(prior_rdata.end(), prior.begin(), prior.end());
    ldns_rdf* prior_rdf =
        ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, prior_rdata.size(), prior_rdata.data());
    EXPECT_TRUE(ldns_verifies(resp, prior_rdf, i > 0 ? 1 : 0));
    ldns_rdf_deep_free(prior_rdf);
    prior.assign(mac, mac + mac_len);
  }
}

TEST(Tsig, UnsignedErrorRecordHasNoMac) {
  const auto m = signed_query("hmac-sha256.");
  const auto p = parse(m);
  auto resp = response_to(m, p->q, 1);
  const size_t len = resp.size();
  resp.resize(len + 200);
  TsigSigner signer;
  TsigSigner::Response r;
  r.key_name = p->rec.key_name;
  r.key_name_len = p->rec.key_name_len;
  r.algorithm = p->rec.algorithm;
  r.algorithm_len = p->rec.algorithm_len;
  r.time_signed = 1234567;
  r.error = tsig_error::BADKEY;
  const size_t n = signer.sign(resp.data(), len, resp.size(), r, nullptr, nullptr);
  ASSERT_GT(n, len);
  resp.resize(n);
  // ldns reads it back as a TSIG record with an empty MAC and error 17.
  ldns_pkt* raw = nullptr;
  ASSERT_EQ(ldns_wire2pkt(&raw, resp.data(), resp.size()), LDNS_STATUS_OK);
  Pkt pkt(raw);
  const ldns_rr* tsig = ldns_pkt_tsig(pkt.get());
  ASSERT_NE(tsig, nullptr);
  // The MAC field is length-prefixed in ldns (INT16_DATA): just the two zero bytes.
  EXPECT_EQ(ldns_rdf_size(ldns_rr_rdf(tsig, 3)), 2U);
  EXPECT_EQ(ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5)), 17);  // error
  // Too little room: nothing written.
  EXPECT_EQ(signer.sign(resp.data(), len, len + 10, r, nullptr, nullptr), 0U);
}

}  // namespace
}  // namespace geodns::dns

namespace geodns::dns {
namespace {

// The query parser's transfer hooks: the client's SOA of an IXFR (RFC 1995 3) is read, and an
// authority record is accepted for IXFR only.
std::vector<uint8_t> ixfr_with_authority(uint16_t qtype, uint16_t authority_type) {
  ldns_pkt* raw = nullptr;
  ldns_rr* soa = nullptr;
  EXPECT_EQ(
      ldns_rr_new_frm_str(&soa, "example.org. 60 IN SOA a.example.org. b.example.org. 77 1 1 1 1",
                          0, nullptr, nullptr),
      LDNS_STATUS_OK);
  ldns_rr_set_type(soa, static_cast<ldns_rr_type>(authority_type));
  EXPECT_EQ(ldns_pkt_ixfr_request_new_frm_str(&raw, "example.org.", LDNS_RR_CLASS_IN, 0, soa),
            LDNS_STATUS_OK);
  Pkt pkt(raw);
  ldns_rr_set_type(ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0),
                   static_cast<ldns_rr_type>(qtype));
  uint8_t* wire = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&wire, pkt.get(), &size), LDNS_STATUS_OK);
  std::vector<uint8_t> out(wire, wire + size);
  free(wire);  // NOLINT(cppcoreguidelines-no-malloc)
  return out;
}

TEST(QueryTransferHooks, IxfrSerialFromTheAuthoritySoa) {
  Query q;
  ASSERT_EQ(parse_query(ixfr_with_authority(rrtype::IXFR, rrtype::SOA), &q), ParseStatus::ok);
  EXPECT_TRUE(q.has_ixfr_serial);
  EXPECT_EQ(q.ixfr_serial, 77U);
  EXPECT_EQ(q.tsig_offset, 0U);
  // An authority record in any other query, or a non-SOA one: FORMERR.
  EXPECT_EQ(parse_query(ixfr_with_authority(rrtype::AXFR, rrtype::SOA), &q), ParseStatus::formerr);
  EXPECT_EQ(parse_query(ixfr_with_authority(rrtype::IXFR, rrtype::A), &q), ParseStatus::formerr);
  // The fields are reset for the next query on the same struct.
  ASSERT_EQ(parse_query(signed_query("hmac-sha256."), &q), ParseStatus::ok);
  EXPECT_FALSE(q.has_ixfr_serial);
  EXPECT_NE(q.tsig_offset, 0U);
}

}  // namespace
}  // namespace geodns::dns
