// Zone-loader findings of fuzz_zone, pinned down as assertions that also hold in builds
// without sanitizers. Each test names its input in fuzz/regressions/zone/.
#include <gtest/gtest.h>

#include <string>

#include "dns/wire.h"
#include "zone/loader.h"

namespace geodns::zone {
namespace {

constexpr const char* kHead = R"([zone]
name = "fuzz.example."
[zone.soa]
mname = "ns1.fuzz.example."
rname = "h.fuzz.example."
refresh = "1h"
retry = "10m"
expire = "14d"
minimum = "60s"
[records]
"@" = "NS ns1.fuzz.example."
ns1 = "A 192.0.2.1"
)";

// fuzz/regressions/zone/type-number-out-of-range: "TYPE881008" went through
// ldns_get_rr_type_by_name, which returns any number as an ldns_rr_type (UB: enum out of
// range) that the loader then truncated to 16 bits — TYPE65537 became type 1, an A record.
TEST(ZoneFuzzRegressions, GenericTypeNumberAbove65535IsAnError) {
  const ServerConfig config;
  for (const char* rr : {R"(x = 'TYPE65537 \# 4 01020304')", R"(x = 'TYPE881008 \# 0')",
                         R"(x = 'TYPE4294967297 \# 4 01020304')"}) {
    const auto z = load_zone_text(std::string(kHead) + rr + "\n", "fuzz.toml", config, nullptr);
    EXPECT_FALSE(z.ok()) << rr << " loaded as a record of another type";
  }
  // A private-use type number in range is fine.
  const auto ok = load_zone_text(std::string(kHead) + R"(x = 'TYPE65280 \# 4 01020304')" + "\n",
                                 "fuzz.toml", config, nullptr);
  EXPECT_TRUE(ok.ok()) << ok.error().to_string();
}

}  // namespace
}  // namespace geodns::zone
