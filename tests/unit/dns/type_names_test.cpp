// The one table of type and rcode names: registry spellings, and the generic form otherwise.
#include "dns/type_names.h"

#include <gtest/gtest.h>

#include "dns/wire.h"

namespace geodns::dns {
namespace {

TEST(TypeNames, RegistrySpellingsAndTheGenericForm) {
  EXPECT_EQ(type_name(rrtype::A), "A");
  EXPECT_EQ(type_name(rrtype::AAAA), "AAAA");
  EXPECT_EQ(type_name(65), "HTTPS");
  EXPECT_EQ(type_name(64), "SVCB");
  EXPECT_EQ(type_name(rrtype::CAA), "CAA");
  EXPECT_EQ(type_name(23), "NSAP-PTR");
  EXPECT_EQ(type_name(0), "TYPE0");
  EXPECT_EQ(type_name(65280), "TYPE65280");
}

TEST(RcodeNames, BaseAndExtendedCodes) {
  EXPECT_EQ(rcode_name(rcode::NOERROR), "NOERROR");
  EXPECT_EQ(rcode_name(rcode::NXDOMAIN), "NXDOMAIN");
  EXPECT_EQ(rcode_name(rcode::REFUSED), "REFUSED");
  EXPECT_EQ(rcode_name(rcode::BADVERS), "BADVERS");
  EXPECT_EQ(rcode_name(rcode::BADCOOKIE), "BADCOOKIE");
  EXPECT_EQ(rcode_name(12), "RCODE12");
  EXPECT_EQ(rcode_name(4095), "RCODE4095");
}

}  // namespace
}  // namespace geodns::dns
