// Domain names in wire format (RFC 1035 3.1): parsing with compression pointers (RFC 1035
// 4.1.4), case folding and comparison. No allocation: callers pass fixed buffers.
#pragma once

#include <cstddef>
#include <cstdint>
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

inline uint8_t ascii_lower(uint8_t c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
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
