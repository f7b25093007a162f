// Hexadecimal digits, for the few text formats we decode by hand (HTTP percent-encoding, the
// escaped fields of the overrides file).
#pragma once

namespace geodns {

// 0..15 for a hex digit of either case, -1 otherwise.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace geodns
