// The body of one EDNS option in a decoded response, for unit and integration tests alike.
#pragma once

// stdbool.h first: without it ldns/common.h #defines bool, true and false in C++.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)
//
#include <ldns/ldns.h>

#include <cstdint>
#include <vector>

namespace geodns::testing {

// The data of the first option `code` in the OPT record of `p` (empty when there is none).
inline std::vector<uint8_t> edns_option(const ldns_pkt* p, uint16_t code) {
  std::vector<uint8_t> out;
  const ldns_rdf* data = p == nullptr ? nullptr : ldns_pkt_edns_data(p);
  if (data == nullptr) return out;
  const uint8_t* o = ldns_rdf_data(data);
  const size_t n = ldns_rdf_size(data);
  for (size_t i = 0; i + 4 <= n;) {
    const size_t option = (size_t{o[i]} << 8) | o[i + 1];
    const size_t len = (size_t{o[i + 2]} << 8) | o[i + 3];
    if (i + 4 + len > n) break;
    if (option == code) return std::vector<uint8_t>(o + i + 4, o + i + 4 + len);
    i += 4 + len;
  }
  return out;
}

}  // namespace geodns::testing
