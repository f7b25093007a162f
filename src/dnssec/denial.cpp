#include "dnssec/denial.h"

#include <cstring>

#include "dns/wire.h"

namespace geodns::dnssec {

size_t next_name(const uint8_t* name, size_t len, uint8_t* out, size_t cap) noexcept {
  if (len <= 1 || len > dns::kMaxNameLength) return 0;  // the root has no compact successor
  if (len + 2 <= dns::kMaxNameLength) {
    if (cap < len + 2) return 0;
    out[0] = 1;
    out[1] = 0;
    std::memcpy(out + 2, name, len);
    return len + 2;
  }
  if (cap < len) return 0;
  std::memcpy(out, name, len);
  // A full-length name: the next one in canonical order is found in its first label. With
  // room for another octet in it (the name is 254 long), append \000; otherwise increment
  // its last octet, dropping trailing 0xff octets (RFC 4470 3.1.2). The result sorts after
  // the name and every name below it, and before any other existing name but the ones that
  // cannot exist here (they would be longer than 255 octets).
  const uint8_t first = out[0];
  if (len < dns::kMaxNameLength && first < dns::kMaxLabelLength) {
    if (cap < len + 1) return 0;
    std::memmove(out + 2 + first, out + 1 + first, len - 1 - first);
    out[1 + first] = 0;
    out[0] = static_cast<uint8_t>(first + 1);
    return len + 1;
  }
  size_t label_len = first;
  while (label_len > 0 && out[label_len] == 0xff) --label_len;
  if (label_len == 0) return 0;  // an all-0xff label: no successor of this shape
  uint8_t c = static_cast<uint8_t>(out[label_len] + 1);
  if (c == 'A') c = '[';  // 'A'..'Z' compare as 'a'..'z': skip them (RFC 4034 6.1)
  out[label_len] = c;
  if (label_len != first) {
    // Shorten the label to drop the 0xff tail.
    std::memmove(out + 1 + label_len, out + 1 + first, len - 1 - first);
    out[0] = static_cast<uint8_t>(label_len);
    return len - (first - label_len);
  }
  return len;
}

size_t type_bitmap(std::span<const uint16_t> types, uint8_t* out, size_t cap) noexcept {
  // RFC 4034 4.1.2: per window (high octet) in increasing order, the window number, the
  // number of bitmap octets (trailing zero octets dropped) and the bits.
  size_t pos = 0;
  int prev_window = -1;
  for (;;) {
    int window = 256;
    for (const uint16_t t : types) {
      const int w = t >> 8;
      if (w > prev_window && w < window) window = w;
    }
    if (window == 256) break;
    uint8_t bits[32] = {};
    size_t used = 0;
    for (const uint16_t t : types) {
      if ((t >> 8) != window) continue;
      const uint8_t low = static_cast<uint8_t>(t & 0xff);
      bits[low / 8] = static_cast<uint8_t>(bits[low / 8] | (0x80 >> (low % 8)));
      if (low / 8u + 1 > used) used = low / 8u + 1;
    }
    if (pos + 2 + used > cap) return 0;
    out[pos] = static_cast<uint8_t>(window);
    out[pos + 1] = static_cast<uint8_t>(used);
    std::memcpy(out + pos + 2, bits, used);
    pos += 2 + used;
    prev_window = window;
  }
  return pos;
}

size_t compact_nsec_rdata(const uint8_t* qname, size_t qname_len, std::span<const uint16_t> types,
                          uint8_t* out, size_t cap) noexcept {
  const size_t n = next_name(qname, qname_len, out, cap);
  if (n == 0) return 0;
  const size_t b = type_bitmap(types, out + n, cap - n);
  if (b == 0) return 0;
  return n + b;
}

}  // namespace geodns::dnssec
