// Where a client is, as far as steering cares. Plain data, no allocation: filled in per query.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace geodns::geo {

struct Location {
  bool found = false;                 // the database had a record for the address
  std::array<char, 2> country{};      // ISO 3166-1 alpha-2, upper case; {0,0} unknown
  std::array<char, 2> continent{};    // AF AN AS EU NA OC SA; derived from country if absent
  std::array<char, 3> subdivision{};  // ISO 3166-2 part after "CC-", upper case, NUL padded
  bool has_coordinates = false;
  bool coordinates_from_centroid = false;  // the database had none: country centroid used
  double latitude = 0;
  double longitude = 0;
  // Length of the database network that contains the address, counted in the address's own
  // family (0..32 for IPv4 even when the database is an IPv6 tree). Also set on a miss (the
  // length of the empty network the address falls in), so an ECS scope can still be given.
  uint8_t prefix_length = 0;
  // From the ASN database ([server] asn_db), 0 = none or unknown. With one, prefix_length is
  // the longer of the two databases' networks: an answer may depend on either.
  uint32_t asn = 0;

  std::string_view country_code() const noexcept {
    return country[0] ? std::string_view(country.data(), 2) : std::string_view();
  }
  std::string_view continent_code() const noexcept {
    return continent[0] ? std::string_view(continent.data(), 2) : std::string_view();
  }
  std::string_view subdivision_code() const noexcept {
    size_t n = 0;
    while (n < subdivision.size() && subdivision[n] != 0) ++n;
    return std::string_view(subdivision.data(), n);
  }
};

}  // namespace geodns::geo
