#include "dnssec/canonical.h"

#include <algorithm>
#include <cstring>

#include "dns/name.h"
#include "dns/wire.h"

namespace geodns::dnssec {
namespace {

// Where the embedded names of a type's RDATA are, as a tiny program: fixed-size fields to
// copy, names to lowercase, character-strings to skip (RFC 4034 6.2 item 3's list, minus NSEC
// per RFC 6840 5.1; HINFO is on that list but holds no names).
enum class Field : uint8_t { end, name, u8, u16, u32, u48, u144, text };

struct Layout {
  uint16_t type;
  Field fields[6];
};

constexpr Layout kLayouts[] = {
    {2, {Field::name}},                            // NS
    {3, {Field::name}},                            // MD
    {4, {Field::name}},                            // MF
    {5, {Field::name}},                            // CNAME
    {6, {Field::name, Field::name}},               // SOA (then five u32, copied)
    {7, {Field::name}},                            // MB
    {8, {Field::name}},                            // MG
    {9, {Field::name}},                            // MR
    {12, {Field::name}},                           // PTR
    {14, {Field::name, Field::name}},              // MINFO
    {15, {Field::u16, Field::name}},               // MX
    {17, {Field::name, Field::name}},              // RP
    {18, {Field::u16, Field::name}},               // AFSDB
    {21, {Field::u16, Field::name}},               // RT
    {24, {Field::u144, Field::name}},              // SIG: 18 fixed octets, signer
    {26, {Field::u16, Field::name, Field::name}},  // PX
    {30, {Field::name}},                           // NXT (then a bitmap)
    {33, {Field::u48, Field::name}},               // SRV
    {35, {Field::u32, Field::text, Field::text, Field::text, Field::name}},  // NAPTR
    {36, {Field::u16, Field::name}},                                         // KX
    {39, {Field::name}},                                                     // DNAME
    {46, {Field::u144, Field::name}},                                        // RRSIG
};

const Layout* layout_of(uint16_t type) noexcept {
  for (const auto& l : kLayouts) {
    if (l.type == type) return &l;
  }
  return nullptr;
}

// Lowercases the uncompressed name at in[*pos] into out[*pos]; false when malformed.
bool lower_embedded_name(const uint8_t* in, size_t len, size_t* pos, uint8_t* out) noexcept {
  size_t p = *pos;
  size_t name_len = 0;
  for (;;) {
    if (p >= len) return false;
    const uint8_t l = in[p];
    if (l > dns::kMaxLabelLength) return false;  // compression is not allowed in our RDATA
    if (p + 1 + l > len) return false;
    name_len += 1u + l;
    if (name_len > dns::kMaxNameLength) return false;
    out[p] = l;
    for (size_t i = 1; i <= l; ++i) out[p + i] = dns::ascii_lower(in[p + i]);
    p += 1u + l;
    if (l == 0) break;
  }
  *pos = p;
  return true;
}

int compare_octets(std::string_view a, std::string_view b) noexcept {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);  // memcmp is unsigned
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

}  // namespace

bool rdata_names_lowercased(uint16_t type) noexcept {
  return layout_of(type) != nullptr;
}

size_t canonical_rdata(uint16_t type, std::string_view rdata, uint8_t* out, size_t cap) noexcept {
  if (rdata.size() > cap) return kCanonicalFailed;
  const auto* in = reinterpret_cast<const uint8_t*>(rdata.data());
  const size_t len = rdata.size();
  if (len != 0) std::memcpy(out, in, len);
  const Layout* layout = layout_of(type);
  if (layout == nullptr) return len;
  size_t pos = 0;
  for (const Field f : layout->fields) {
    switch (f) {
      case Field::end:
        return len;
      case Field::name:
        if (!lower_embedded_name(in, len, &pos, out)) return kCanonicalFailed;
        break;
      case Field::u8:
        pos += 1;
        break;
      case Field::u16:
        pos += 2;
        break;
      case Field::u32:
        pos += 4;
        break;
      case Field::u48:
        pos += 6;
        break;
      case Field::u144:
        pos += 18;
        break;
      case Field::text:
        if (pos >= len) return kCanonicalFailed;
        pos += 1u + in[pos];
        break;
    }
    if (pos > len) return kCanonicalFailed;
  }
  return len;
}

size_t canonical_rdata_set(uint16_t type, std::span<const std::string_view> rdatas,
                           uint8_t* scratch, size_t scratch_cap, std::string_view* sorted,
                           size_t sorted_cap) noexcept {
  if (rdatas.size() > sorted_cap) return kCanonicalFailed;
  size_t used = 0;
  for (size_t i = 0; i < rdatas.size(); ++i) {
    const size_t n = canonical_rdata(type, rdatas[i], scratch + used, scratch_cap - used);
    if (n == kCanonicalFailed) return kCanonicalFailed;
    sorted[i] = std::string_view(reinterpret_cast<const char*>(scratch + used), n);
    used += n;
  }
  // RFC 4034 6.3: canonical order, and duplicates removed (they would change the signed data
  // though a receiver sees one record). std::sort works in place: nothing is allocated.
  std::sort(sorted, sorted + rdatas.size(),
            [](std::string_view a, std::string_view b) { return compare_octets(a, b) < 0; });
  return static_cast<size_t>(std::unique(sorted, sorted + rdatas.size()) - sorted);
}

uint8_t rrsig_labels(const uint8_t* wire, size_t len) noexcept {
  uint8_t labels = 0;
  size_t pos = 0;
  while (pos < len && wire[pos] != 0) {
    ++labels;
    pos += 1u + wire[pos];
  }
  if (labels > 0 && wire[0] == 1 && len > 1 && wire[1] == '*') --labels;  // RFC 4034 3.1.3
  return labels;
}

}  // namespace geodns::dnssec
