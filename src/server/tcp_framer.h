// DNS over TCP framing (RFC 1035 4.2.2, RFC 7766): a stream of messages, each preceded by
// its length as two bytes in network order. Pure (no sockets) so that pipelining, split
// prefixes and partial messages are unit-tested; one per TCP connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace geodns::server {

class TcpFramer {
 public:
  // Appends bytes read from the connection. May move buffered bytes: spans returned by
  // next() before this call become invalid.
  void append(std::span<const uint8_t> bytes);

  // The next complete message, without its length prefix, or nullopt when the buffered
  // bytes do not hold one yet. The span stays valid until the next append() or clear().
  std::optional<std::span<const uint8_t>> next() noexcept;

  // True when a complete message is buffered.
  bool has_message() const noexcept;
  // True when bytes are buffered but do not complete a message (a partial prefix or body).
  bool has_partial() const noexcept { return buffered_bytes() > 0 && !has_message(); }
  size_t buffered_bytes() const noexcept { return buffer_.size() - start_; }

  void clear() noexcept;

 private:
  std::vector<uint8_t> buffer_;
  size_t start_ = 0;  // first byte not yet returned by next()
};

// Writes the two-byte length prefix of a message of `length` bytes (<= 65535) into `out`.
inline void write_tcp_length(uint8_t* out, size_t length) noexcept {
  out[0] = static_cast<uint8_t>(length >> 8);
  out[1] = static_cast<uint8_t>(length & 0xFF);
}

}  // namespace geodns::server
