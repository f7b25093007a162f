// Compact denial NSEC RDATA (RFC 9824), decoded by ldns.
#include "dnssec/denial.h"

#include <gtest/gtest.h>

#include "dns/wire.h"
#include "ldns_check.h"

namespace geodns::dnssec::testing {
namespace {

ldns_rr* nsec_of(std::string_view owner, const uint8_t* rdata, size_t n) {
  return rr_from_wire(owner, dns::rrtype::NSEC, 300,
                      std::string_view(reinterpret_cast<const char*>(rdata), n));
}

std::string rdf_text(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s;
  free(s);
  return out;
}

TEST(CompactDenial, NxdomainNsecCoversOnlyTheName) {
  const std::string q = wire("nope.example.com.");
  const uint16_t types[] = {dns::rrtype::NSEC, dns::rrtype::RRSIG, kTypeNxname};
  uint8_t out[512];
  const size_t n = compact_nsec_rdata(reinterpret_cast<const uint8_t*>(q.data()), q.size(), types,
                                      out, sizeof out);
  ASSERT_GT(n, 0u);
  ldns_rr* rr = nsec_of(q, out, n);
  ASSERT_NE(rr, nullptr);
  EXPECT_EQ(rdf_text(ldns_rr_rdf(rr, 0)), "\\000.nope.example.com.");
  const ldns_rdf* bitmap = ldns_rr_rdf(rr, 1);
  EXPECT_TRUE(ldns_nsec_bitmap_covers_type(bitmap, LDNS_RR_TYPE_NSEC));
  EXPECT_TRUE(ldns_nsec_bitmap_covers_type(bitmap, LDNS_RR_TYPE_RRSIG));
  EXPECT_TRUE(ldns_nsec_bitmap_covers_type(bitmap, static_cast<ldns_rr_type>(128)));
  EXPECT_FALSE(ldns_nsec_bitmap_covers_type(bitmap, LDNS_RR_TYPE_A));
  EXPECT_FALSE(ldns_nsec_bitmap_covers_type(bitmap, LDNS_RR_TYPE_NS));
  // Minimally covering: the next name is the very next one, so neither a sibling nor even a
  // child ("\000" sorts before every other label) falls between owner and next.
  ldns_rdf* child = ldns_dname_new_frm_str("x.nope.example.com.");
  ldns_rdf* sibling = ldns_dname_new_frm_str("nopf.example.com.");
  ldns_rdf* first_child = ldns_dname_new_frm_str("\\000.nope.example.com.");
  EXPECT_FALSE(ldns_nsec_covers_name(rr, child));
  EXPECT_FALSE(ldns_nsec_covers_name(rr, sibling));
  EXPECT_EQ(ldns_dname_compare(ldns_rr_rdf(rr, 0), first_child), 0);
  EXPECT_LT(ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_rdf(rr, 0)), 0);
  ldns_rdf_deep_free(first_child);
  ldns_rdf_deep_free(child);
  ldns_rdf_deep_free(sibling);
  ldns_rr_free(rr);
}

TEST(CompactDenial, BitmapWindowsMatchLdns) {
  // Types in three windows, unsorted, with a duplicate: CAA (257) and a private type (65280).
  const uint16_t types[] = {65280,
                            dns::rrtype::A,
                            257,
                            dns::rrtype::MX,
                            dns::rrtype::A,
                            dns::rrtype::AAAA,
                            dns::rrtype::RRSIG,
                            dns::rrtype::NSEC};
  uint8_t ours[256];
  const size_t n = type_bitmap(types, ours, sizeof ours);
  ASSERT_GT(n, 0u);
  ldns_rr_type list[] = {LDNS_RR_TYPE_A,
                         LDNS_RR_TYPE_MX,
                         LDNS_RR_TYPE_AAAA,
                         LDNS_RR_TYPE_RRSIG,
                         LDNS_RR_TYPE_NSEC,
                         static_cast<ldns_rr_type>(257),
                         static_cast<ldns_rr_type>(65280)};
  ldns_rdf* theirs = ldns_dnssec_create_nsec_bitmap(list, 7, LDNS_RR_TYPE_NSEC);
  ASSERT_NE(theirs, nullptr);
  EXPECT_EQ(
      std::string(reinterpret_cast<const char*>(ours), n),
      std::string(reinterpret_cast<const char*>(ldns_rdf_data(theirs)), ldns_rdf_size(theirs)));
  ldns_rdf_deep_free(theirs);
  uint8_t small[3];
  EXPECT_EQ(type_bitmap(types, small, sizeof small), 0u);
}

TEST(CompactDenial, FullLengthNamesGetTheEpsilonSuccessor) {
  // 255 octets: four 62-octet labels (4 * 63 = 252) + a 1-octet label (2) + root.
  std::string name;
  for (int i = 0; i < 4; ++i) name += char(62) + std::string(62, 'a');
  name += std::string("\1b", 2);
  name.push_back('\0');
  ASSERT_EQ(name.size(), 255u);
  uint8_t out[300];
  size_t n = next_name(reinterpret_cast<const uint8_t*>(name.data()), name.size(), out, sizeof out);
  ASSERT_EQ(n, 255u);
  // The first label's last octet incremented: 'a' -> 'b'.
  EXPECT_EQ(out[62], 'b');
  ldns_rdf* a = ldns_dname_new_frm_data(static_cast<uint16_t>(name.size()), name.data());
  ldns_rdf* b = ldns_dname_new_frm_data(static_cast<uint16_t>(n), out);
  EXPECT_LT(ldns_dname_compare(a, b), 0);
  ldns_rdf_deep_free(a);
  ldns_rdf_deep_free(b);
  // 254 octets: room for a \000 octet at the end of the first label.
  std::string short_name = name.substr(0, 252) + std::string("\0", 1);
  short_name = std::string(1, char(61)) + std::string(61, 'a') + name.substr(63);
  ASSERT_EQ(short_name.size(), 254u);
  n = next_name(reinterpret_cast<const uint8_t*>(short_name.data()), short_name.size(), out,
                sizeof out);
  ASSERT_EQ(n, 255u);
  EXPECT_EQ(out[0], 62);
  EXPECT_EQ(out[62], 0);
  // An 'z'-ending... 0x40 + 1 = 'A' sorts as 'a' in canonical order: skipped to '['.
  std::string at = name;
  at[62] = '@';
  n = next_name(reinterpret_cast<const uint8_t*>(at.data()), at.size(), out, sizeof out);
  ASSERT_EQ(n, 255u);
  EXPECT_EQ(out[62], '[');
  // The root has no compact successor.
  const uint8_t root = 0;
  EXPECT_EQ(next_name(&root, 1, out, sizeof out), 0u);
}

}  // namespace
}  // namespace geodns::dnssec::testing
