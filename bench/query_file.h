// What the bench tools that send queries share (geodns-loadgen, geodns-xdp-gun): the query
// file in dnsperf's format, names and types in wire form, and the ECS /24s, so that both send
// exactly the same queries. Header-only and independent of the server's code.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tool_cli.h"

namespace geodns::bench {

struct QuerySpec {
  std::vector<uint8_t> qname;  // wire form, ends with the root label
  uint16_t qtype = 0;
};

inline std::optional<uint16_t> parse_qtype(std::string type) {
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  static const std::map<std::string, uint16_t> kTypes = {
      {"A", 1},      {"NS", 2},      {"CNAME", 5}, {"SOA", 6},    {"PTR", 12},   {"HINFO", 13},
      {"MX", 15},    {"TXT", 16},    {"AAAA", 28}, {"SRV", 33},   {"NAPTR", 35}, {"DS", 43},
      {"RRSIG", 46}, {"DNSKEY", 48}, {"SVCB", 64}, {"HTTPS", 65}, {"ANY", 255},  {"CAA", 257}};
  if (auto it = kTypes.find(type); it != kTypes.end()) return it->second;
  // RFC 3597 generic form, e.g. TYPE65280.
  if (type.size() > 4 && type.starts_with("TYPE")) {
    char* end = nullptr;
    unsigned long value = std::strtoul(type.c_str() + 4, &end, 10);
    if (*end == '\0' && value <= 65535) return static_cast<uint16_t>(value);
  }
  return std::nullopt;
}

// Names in dnsperf files are taken as absolute whether or not they end in a dot. Escapes
// (\DDD, \.) are not needed for benchmark data and are rejected rather than mis-encoded.
inline std::optional<std::vector<uint8_t>> encode_name(const std::string& name) {
  std::vector<uint8_t> wire;
  if (name != ".") {
    size_t start = 0;
    while (start < name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      size_t label_len = dot - start;
      if (label_len == 0 || label_len > 63) return std::nullopt;
      if (name.find('\\', start) < dot) return std::nullopt;
      wire.push_back(static_cast<uint8_t>(label_len));
      wire.insert(wire.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                  name.begin() + static_cast<std::ptrdiff_t>(dot));
      start = dot + 1;
    }
  }
  wire.push_back(0);
  if (wire.size() > 255) return std::nullopt;
  return wire;
}

inline std::vector<QuerySpec> read_query_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot open query file " + path);
  std::vector<QuerySpec> specs;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string name;
    std::string type;
    if (!(fields >> name)) continue;  // blank or comment-only line
    if (!(fields >> type))
      // A missing type means A, as in dnsperf. (push_back rather than = "A": the latter trips a
      // GCC 12 -Wrestrict false positive, GCC bug 105329.)
      if (!(fields >> type)) type.push_back('A');
    auto qname = encode_name(name);
    auto qtype = parse_qtype(type);
    if (!qname || !qtype) {
      die(path + ":" + std::to_string(line_no) + ": cannot parse query '" + line + "'");
    }
    specs.push_back({std::move(*qname), *qtype});
  }
  if (specs.empty()) die(path + ": no queries");
  return specs;
}

inline bool is_reserved_v4(uint32_t a) {
  struct Net {
    uint32_t prefix;
    int bits;
  };
  // IANA special-purpose registry (RFC 6890 and successors) plus multicast/class E.
  static constexpr std::array<Net, 15> kReserved = {{
      {0x00000000, 8},   // 0/8 "this network"
      {0x0A000000, 8},   // 10/8 private
      {0x64400000, 10},  // 100.64/10 shared address space
      {0x7F000000, 8},   // 127/8 loopback
      {0xA9FE0000, 16},  // 169.254/16 link local
      {0xAC100000, 12},  // 172.16/12 private
      {0xC0000000, 24},  // 192.0.0/24 IETF protocol assignments
      {0xC0000200, 24},  // 192.0.2/24 TEST-NET-1
      {0xC0586300, 24},  // 192.88.99/24 6to4 relay
      {0xC0A80000, 16},  // 192.168/16 private
      {0xC6120000, 15},  // 198.18/15 benchmarking
      {0xC6336400, 24},  // 198.51.100/24 TEST-NET-2
      {0xCB007100, 24},  // 203.0.113/24 TEST-NET-3
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved
  }};
  for (const Net& net : kReserved) {
    uint32_t mask = ~uint32_t{0} << (32 - net.bits);
    if ((a & mask) == net.prefix) return true;
  }
  return false;
}

// N distinct /24s spread over the public v4 space: consecutive subnets take consecutive first
// octets (1..223), so even a small N touches many regions of a GeoIP database. The second and
// third octets come from a bijection on 16 bits, so pairs never repeat within one first octet.
inline std::vector<std::array<uint8_t, 3>> make_ecs_subnets(uint32_t count) {
  std::vector<uint8_t> first_octets;
  for (uint32_t a = 1; a <= 223; ++a) {
    if (a != 10 && a != 127) first_octets.push_back(static_cast<uint8_t>(a));
  }
  std::vector<std::array<uint8_t, 3>> subnets;
  subnets.reserve(count);
  const uint32_t n_first = static_cast<uint32_t>(first_octets.size());
  for (uint32_t k = 0; subnets.size() < count && k < n_first * 65536u; ++k) {
    uint8_t a = first_octets[k % n_first];
    uint32_t mixed = ((k / n_first) * 40503u) & 0xFFFFu;  // odd multiplier: a bijection mod 2^16
    uint8_t b = static_cast<uint8_t>(mixed >> 8);
    uint8_t c = static_cast<uint8_t>(mixed & 0xFFu);
    uint32_t addr = (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8);
    if (!is_reserved_v4(addr)) subnets.push_back({a, b, c});
  }
  return subnets;
}

}  // namespace geodns::bench
