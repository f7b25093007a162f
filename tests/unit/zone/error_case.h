// One row of a load-error table: a zone file's text and where and how loading it must fail.
// Shared by the zone, pool and map error tables, so every table checks positions alike.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "zone/loader.h"

namespace geodns::zone {

struct ErrorCase {
  const char* name;
  std::string text;
  uint32_t line;
  uint32_t column;
  const char* message;  // substring of the message
};

// Loads `c.text` as zones/example.com.toml and checks the error's file, line, column and text.
inline void expect_load_error(const ErrorCase& c) {
  auto r = load_zone_text(c.text, "zones/example.com.toml", ServerConfig{}, nullptr);
  ASSERT_FALSE(r.ok()) << "loaded without error:\n" << c.text;
  const Error& e = r.error();
  EXPECT_EQ(e.file, "zones/example.com.toml");
  EXPECT_EQ(e.line, c.line) << e.to_string();
  EXPECT_EQ(e.column, c.column) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos)
      << "message: " << e.message << "\nexpected to contain: " << c.message;
}

// Lines 1-15: a zone with two located datacenters, fra and ams; a case continues on line 16.
inline std::string two_datacenter_zone() {
  return R"([zone]
name = "example.com."
[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
serial = 7
[records]
"@" = "NS ns1"
ns1 = "A 192.0.2.1"
[datacenters.fra]
addresses = ["192.0.2.10"]
location = { lat = 50, lon = 8 }
[datacenters.ams]
addresses = ["192.0.2.20"]
location = { lat = 52, lon = 5 }
)";
}

}  // namespace geodns::zone
