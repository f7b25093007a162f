// Names of RR types and response codes as the IANA registries spell them ("AAAA", "HTTPS",
// "NXDOMAIN"), for logs, metrics and status. One table each, so every place that prints a type
// or an rcode agrees; unknown values get the RFC 3597 / generic form ("TYPE65280", "RCODE12").
// Not for the packet path (returns std::string).
#pragma once

#include <cstdint>
#include <string>

namespace geodns::dns {

std::string type_name(uint16_t type);
// Extended rcodes (RFC 6891: up to 4095) included: 16 is "BADVERS", 23 "BADCOOKIE".
std::string rcode_name(uint16_t rcode);

}  // namespace geodns::dns
