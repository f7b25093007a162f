// The answer to a datagram larger than the read buffer (the kernel cut it, MSG_TRUNC): FORMERR
// with the header and, when it arrived whole, the question copied, as Knot answers. Silence
// would leave the client retrying a query that can never work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace geodns::dns {

// `head`: the part of the datagram that was read. Writes the response into `out` and returns
// its length, or 0 when nothing is to be sent (no header, or it is a response itself).
// No allocation: the parse state lives on the stack.
size_t answer_oversized(std::span<const uint8_t> head, std::span<uint8_t> out) noexcept;

}  // namespace geodns::dns
