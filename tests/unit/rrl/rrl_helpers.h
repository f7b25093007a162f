// Queries and minimal responses for driving Rrl directly: the limiter only reads the
// response's RCODE, so a header is enough.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../dns/test_query.h"
#include "dns/query.h"

namespace geodns::server::testing {

inline dns::Query parsed(const std::string& name, uint16_t qtype = 1) {
  dns::testing::QueryBuilder b;
  b.name = name;
  b.qtype = qtype;
  dns::Query q;
  const auto bytes = b.build();
  (void)dns::parse_query(bytes, &q);
  return q;
}

inline std::vector<uint8_t> header_with_rcode(uint8_t rcode) {
  std::vector<uint8_t> r(12, 0);
  r[2] = 0x84;  // QR, AA
  r[3] = rcode;
  return r;
}

}  // namespace geodns::server::testing
