// Hand-built request bytes for codec tests: every field under the test's control, including
// the malformed ones a real client library refuses to produce.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace geodns::dns::testing {

inline void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}

inline std::vector<uint8_t> wire_name(const std::string& dotted) {
  std::vector<uint8_t> out;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(static_cast<uint8_t>(dot - start));
    for (size_t i = start; i < dot; ++i) out.push_back(static_cast<uint8_t>(dotted[i]));
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

struct QueryBuilder {
  uint16_t id = 0xBEEF;
  uint16_t flags = 0x0100;  // RD
  std::string name = "www.example.com";
  uint16_t qtype = 1;
  uint16_t qclass = 1;
  uint16_t qdcount = 1;
  bool edns = false;
  uint16_t payload = 1232;
  uint8_t version = 0;
  bool do_bit = false;
  bool co_bit = false;           // RFC 9824 Compact Answers OK, the EDNS flag after DO
  std::vector<uint8_t> options;  // raw EDNS options
  bool question = true;          // false: no question section bytes at all

  QueryBuilder& cookie(std::vector<uint8_t> bytes) {
    edns = true;
    put16(options, 10);
    put16(options, static_cast<uint16_t>(bytes.size()));
    options.insert(options.end(), bytes.begin(), bytes.end());
    return *this;
  }

  QueryBuilder& ecs(uint16_t family, uint8_t source, uint8_t scope, std::vector<uint8_t> addr) {
    edns = true;
    put16(options, 8);
    put16(options, static_cast<uint16_t>(4 + addr.size()));
    put16(options, family);
    options.push_back(source);
    options.push_back(scope);
    options.insert(options.end(), addr.begin(), addr.end());
    return *this;
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> m;
    put16(m, id);
    put16(m, flags);
    put16(m, qdcount);
    put16(m, 0);
    put16(m, 0);
    put16(m, edns ? 1 : 0);
    if (question) {
      auto n = wire_name(name);
      m.insert(m.end(), n.begin(), n.end());
      put16(m, qtype);
      put16(m, qclass);
    }
    if (edns) {
      m.push_back(0);
      put16(m, 41);
      put16(m, payload);
      m.push_back(0);
      m.push_back(version);
      put16(m, static_cast<uint16_t>((do_bit ? 0x8000 : 0) | (co_bit ? 0x4000 : 0)));
      put16(m, static_cast<uint16_t>(options.size()));
      m.insert(m.end(), options.begin(), options.end());
    }
    return m;
  }
};

}  // namespace geodns::dns::testing
