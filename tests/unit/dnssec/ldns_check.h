// Test helpers: our wire bytes -> ldns objects, so that an independent implementation checks
// every signature, digest and bitmap we make.
#pragma once

#include <ldns/ldns.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns/name.h"
#include "dns/wire.h"

namespace geodns::dnssec::testing {

inline std::string wire(std::string_view text) {
  std::string w;
  if (!dns::name_from_text(text, &w)) return {};
  return w;
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(dns::ascii_lower(static_cast<uint8_t>(c)));
  return s;
}

// A temporary directory removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/geodns-dnssec-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// One RR (class IN) from its wire parts, decoded by ldns.
inline ldns_rr* rr_from_wire(std::string_view owner, uint16_t type, uint32_t ttl,
                             std::string_view rdata) {
  std::vector<uint8_t> buf(owner.begin(), owner.end());
  buf.resize(owner.size() + 10);
  dns::write_u16(buf.data() + owner.size(), type);
  dns::write_u16(buf.data() + owner.size() + 2, dns::rrclass::IN);
  dns::write_u32(buf.data() + owner.size() + 4, ttl);
  dns::write_u16(buf.data() + owner.size() + 8, static_cast<uint16_t>(rdata.size()));
  buf.insert(buf.end(), rdata.begin(), rdata.end());
  ldns_rr* rr = nullptr;
  size_t pos = 0;
  if (ldns_wire2rr(&rr, buf.data(), buf.size(), &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
    return nullptr;
  }
  return rr;
}

// The DNSKEY RR of a .key file, read by ldns's zone-file parser.
inline ldns_rr* read_key_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  ldns_rr* rr = nullptr;
  int line = 0;
  ldns_status s = LDNS_STATUS_SYNTAX_EMPTY;
  while (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
         s == LDNS_STATUS_SYNTAX_ORIGIN) {
    if (std::feof(f)) break;
    s = ldns_rr_new_frm_fp_l(&rr, f, nullptr, nullptr, nullptr, &line);
  }
  std::fclose(f);
  return s == LDNS_STATUS_OK ? rr : nullptr;
}

// ldns's verdict on `rrsig` over the RRset (owner, type, ttl, rdatas) with the DNSKEY `key`.
inline ldns_status ldns_verify(std::string_view owner, uint16_t type, uint32_t ttl,
                               std::span<const std::string_view> rdatas,
                               std::span<const uint8_t> rrsig, const ldns_rr* key) {
  ldns_rr_list* set = ldns_rr_list_new();
  for (const auto& rd : rdatas) ldns_rr_list_push_rr(set, rr_from_wire(owner, type, ttl, rd));
  ldns_rr* sig =
      rr_from_wire(owner, dns::rrtype::RRSIG, ttl,
                   std::string_view(reinterpret_cast<const char*>(rrsig.data()), rrsig.size()));
  ldns_rr_list* keys = ldns_rr_list_new();
  ldns_rr_list_push_rr(keys, ldns_rr_clone(key));
  ldns_status s =
      sig == nullptr ? LDNS_STATUS_ERR : ldns_verify_rrsig_keylist(set, sig, keys, nullptr);
  ldns_rr_list_deep_free(set);
  ldns_rr_list_deep_free(keys);
  ldns_rr_free(sig);
  return s;
}

}  // namespace geodns::dnssec::testing
