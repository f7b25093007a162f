#include "dns/name.h"

#include <cstdio>
#include <cstring>

namespace geodns::dns {

namespace {

constexpr int kMaxPointerHops = 64;

// The walk of read_name() and skip_name(): one function, so that both accept exactly the same
// names; `out` is null for skip_name, which only moves past the name (no copy).
template <bool kCopy>
inline bool walk_name(const uint8_t* msg, size_t msg_len, size_t* pos, uint8_t* out,
                      size_t* out_len) noexcept {
  size_t p = *pos;
  size_t n = 0;
  size_t end_pos = 0;  // where the caller resumes: after the first pointer, or the root label
  bool jumped = false;
  int hops = 0;
  for (;;) {
    if (p >= msg_len) return false;
    const uint8_t len = msg[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= msg_len) return false;
      const size_t target = (static_cast<size_t>(len & 0x3F) << 8) | msg[p + 1];
      // Only backward pointers: a name can only refer to what came before it, which also
      // rules out loops; the hop limit is a second line of defence.
      if (target >= p || ++hops > kMaxPointerHops) return false;
      if (!jumped) {
        end_pos = p + 2;
        jumped = true;
      }
      p = target;
      continue;
    }
    if ((len & 0xC0) != 0) return false;  // 0x40/0x80: extended/binary labels (obsolete)
    if (n + 1 + len > kMaxNameLength) return false;
    if (p + 1 + len > msg_len) return false;
    if constexpr (kCopy) out[n] = len;
    if (len == 0) {
      ++n;
      if (!jumped) end_pos = p + 1;
      break;
    }
    if constexpr (kCopy) std::memcpy(out + n + 1, msg + p + 1, len);
    n += 1 + len;
    p += 1 + len;
  }
  *pos = end_pos;
  if constexpr (kCopy) *out_len = n;
  return true;
}

}  // namespace

bool read_name(const uint8_t* msg, size_t msg_len, size_t* pos, uint8_t* out,
               size_t* out_len) noexcept {
  return walk_name<true>(msg, msg_len, pos, out, out_len);
}

bool skip_name(const uint8_t* msg, size_t msg_len, size_t* pos) noexcept {
  return walk_name<false>(msg, msg_len, pos, nullptr, nullptr);
}

bool read_name_lower_general(const uint8_t* msg, size_t msg_len, size_t* pos, uint8_t* out,
                             uint8_t* lower, size_t* out_len) noexcept {
  if (!read_name(msg, msg_len, pos, out, out_len)) return false;
  lower_name(out, *out_len, lower);
  return true;
}

void lower_name(const uint8_t* in, size_t len, uint8_t* out) noexcept {
  // Length octets are below 64, never letters: folding every byte is safe, and the flat loop
  // (no walk over the labels) is what the per-query path wants, eight bytes at a time.
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t v;
    std::memcpy(&v, in + i, 8);
    v = ascii_lower8(v);
    std::memcpy(out + i, &v, 8);
  }
  for (; i < len; ++i) out[i] = ascii_lower(in[i]);
}

bool names_equal_nocase(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len) noexcept {
  if (a_len != b_len) return false;
  // Length octets are < 64 and never letters, so folding every byte is safe. Names compared
  // while compressing usually have the same case: eight equal bytes at a time settle most of
  // the work, and only a chunk that differs is folded byte by byte.
  size_t i = 0;
  for (; i + 8 <= a_len; i += 8) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x == y) continue;
    for (size_t j = i; j < i + 8; ++j) {
      if (ascii_lower(a[j]) != ascii_lower(b[j])) return false;
    }
  }
  for (; i < a_len; ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool name_from_text(std::string_view text, std::string* wire) {
  // Built in a fixed buffer: GCC 12 warns falsely (-Wrestrict) on string appends here.
  uint8_t out[kMaxNameLength + 1];
  size_t n = 0;
  uint8_t label[kMaxLabelLength + 1];
  size_t label_len = 0;
  auto flush = [&]() -> bool {
    if (label_len == 0 || label_len > kMaxLabelLength) return false;
    if (n + 1 + label_len + 1 > kMaxNameLength) return false;
    out[n++] = static_cast<uint8_t>(label_len);
    std::memcpy(out + n, label, label_len);
    n += label_len;
    label_len = 0;
    return true;
  };
  auto push = [&](char c) -> bool {
    if (label_len >= kMaxLabelLength + 1) return false;
    label[label_len++] = static_cast<uint8_t>(c);
    return true;
  };
  if (!(text == "." || text.empty())) {
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '\\') {
        if (i + 1 >= text.size()) return false;
        const char n1 = text[i + 1];
        if (n1 >= '0' && n1 <= '9') {
          // \DDD: exactly three decimal digits, value <= 255.
          if (i + 3 >= text.size()) return false;
          int v = 0;
          for (size_t k = 1; k <= 3; ++k) {
            const char d = text[i + k];
            if (d < '0' || d > '9') return false;
            v = v * 10 + (d - '0');
          }
          if (v > 255 || !push(static_cast<char>(v))) return false;
          i += 3;
        } else {
          if (!push(n1)) return false;
          ++i;
        }
      } else if (c == '.') {
        if (!flush()) return false;
      } else if (!push(c)) {
        return false;
      }
    }
    if (label_len > 0 && !flush()) return false;
  }
  out[n++] = 0;
  wire->assign(reinterpret_cast<const char*>(out), n);
  return true;
}

std::string name_to_text(const uint8_t* wire, size_t len) {
  // Worst case 4 text bytes per wire byte (\DDD); built in a fixed buffer (see above).
  char out[kMaxNameLength * 4 + 2];
  size_t n = 0;
  size_t i = 0;
  while (i < len && wire[i] != 0 && n + 4 * (wire[i] + 1U) + 1 < sizeof(out)) {
    const uint8_t l = wire[i++];
    for (size_t j = 0; j < l && i < len; ++j, ++i) {
      const auto c = static_cast<unsigned char>(wire[i]);
      if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')') {
        out[n++] = '\\';
        out[n++] = static_cast<char>(c);
      } else if (c <= 0x20 || c >= 0x7f) {
        out[n++] = '\\';
        out[n++] = static_cast<char>('0' + c / 100);
        out[n++] = static_cast<char>('0' + (c / 10) % 10);
        out[n++] = static_cast<char>('0' + c % 10);
      } else {
        out[n++] = static_cast<char>(c);
      }
    }
    out[n++] = '.';
  }
  if (n == 0) out[n++] = '.';
  return std::string(out, n);
}

}  // namespace geodns::dns
