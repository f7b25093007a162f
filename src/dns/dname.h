// DNAME substitution (RFC 6672 2.2): the owner's suffix of a name is replaced by the DNAME's
// target. Pure byte work on uncompressed wire names, for the packet path: no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace geodns::dns {

// Writes `name` with its last `owner_len` bytes (the DNAME owner, which `name` is strictly
// below) replaced by `target` into `out` (room for kMaxNameLength bytes). Returns the new
// length, or 0 when it would exceed 255 bytes: the answer is then YXDOMAIN (RFC 6672 2.2).
// The labels kept keep their case as in `name`.
size_t substitute_dname(const uint8_t* name, size_t name_len, size_t owner_len,
                        const uint8_t* target, size_t target_len, uint8_t* out) noexcept;

}  // namespace geodns::dns
