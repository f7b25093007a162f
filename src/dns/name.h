// Domain names in wire format (RFC 1035 3.1): parsing with compression pointers (RFC 1035
// 4.1.4), case folding and comparison. No allocation: callers pass fixed buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "dns/wire.h"

namespace geodns::dns {

// Reads the name at `*pos` in `msg`, following compression pointers (each must point strictly
// backwards, at most 64 hops, so loops are impossible), and writes it uncompressed, case
// preserved, to `out` (room for kMaxNameLength). On success *pos is just past the name as it
// appears at the original position and *out_len its wire length. Fails on truncation, bad
// label types, over-long names and pointer loops.
bool read_name(const uint8_t* msg, size_t msg_len, size_t* pos, uint8_t* out,
               size_t* out_len) noexcept;

// Advances *pos past the name at *pos without copying it (same checks as read_name).
bool skip_name(const uint8_t* msg, size_t msg_len, size_t* pos) noexcept;

// read_name() followed by lower_name(), for a question: the general path, used by
// read_name_lower() for a compressed name.
bool read_name_lower_general(const uint8_t* msg, size_t msg_len, size_t* pos, uint8_t* out,
                             uint8_t* lower, size_t* out_len) noexcept;

inline uint8_t ascii_lower(uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}

// ASCII upper case to lower case in each byte of `x`, any other byte unchanged (SWAR: the
// per-query path folds names eight bytes at a time).
inline uint64_t ascii_lower8(uint64_t x) noexcept {
  constexpr uint64_t k7f = 0x7f7f7f7f7f7f7f7fULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  const uint64_t low7 = x & k7f;                             // no carry leaves a byte below
  const uint64_t at_least_a = low7 + 0x3f3f3f3f3f3f3f3fULL;  // high bit: low7 >= 'A'
  const uint64_t above_z = low7 + 0x2525252525252525ULL;     // high bit: low7 > 'Z'
  const uint64_t upper = at_least_a & ~above_z & ~x & k80;   // and the byte is ASCII
  return x | (upper >> 2);                                   // 0x80 >> 2 = 'a' - 'A'
}

// read_name() for a question, which also writes the lower-cased copy to `lower` (room for
// kMaxNameLength). Same checks and results as read_name() then lower_name(); an uncompressed
// name (what every client sends) is walked once over its length octets, then copied and
// folded eight bytes at a time. Inline: it runs once per query, in parse_query().
inline bool read_name_lower(const uint8_t* msg, size_t msg_len, size_t* pos, uint8_t* out,
                            uint8_t* lower, size_t* out_len) noexcept {
  const size_t start = *pos;
  // A name's last length octet (the root) is at most 254 bytes after its first.
  const size_t limit = msg_len - start > kMaxNameLength ? start + kMaxNameLength : msg_len;
  size_t p = start;
  for (;;) {
    if (p >= limit) return false;  // past the message, or longer than a name may be
    const uint8_t len = msg[p];
    if (len == 0) break;
    if (len > kMaxLabelLength) {
      return read_name_lower_general(msg, msg_len, pos, out, lower, out_len);
    }
    p += 1 + len;
  }
  const size_t n = p + 1 - start;
  const uint8_t* in = msg + start;
  if (n >= 8) {
    uint64_t v;
    // Whole words, then the last eight bytes again (overlapping: folding is idempotent).
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&v, in + i, 8);
      std::memcpy(out + i, &v, 8);
      v = ascii_lower8(v);
      std::memcpy(lower + i, &v, 8);
    }
    std::memcpy(&v, in + n - 8, 8);
    std::memcpy(out + n - 8, &v, 8);
    v = ascii_lower8(v);
    std::memcpy(lower + n - 8, &v, 8);
  } else {
    for (size_t i = 0; i < n; ++i) {
      out[i] = in[i];
      lower[i] = ascii_lower(in[i]);
    }
  }
  *pos = p + 1;
  *out_len = n;
  return true;
}

// Lower-cases the label bytes of an uncompressed wire name (length octets untouched).
void lower_name(const uint8_t* in, size_t len, uint8_t* out) noexcept;

// Case-insensitive equality of two uncompressed wire names.
bool names_equal_nocase(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len) noexcept;

// "www.example.com." <-> wire. from_text accepts a trailing dot or not (always absolute) and
// \DDD / \X escapes; returns false on syntax errors or over-long labels/names.
bool name_from_text(std::string_view text, std::string* wire);
std::string name_to_text(const uint8_t* wire, size_t len);
inline std::string name_to_text(std::string_view wire) {
  return name_to_text(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
}

}  // namespace geodns::dns
