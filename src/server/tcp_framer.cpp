#include "server/tcp_framer.h"

namespace geodns::server {

void TcpFramer::append(std::span<const uint8_t> bytes) {
  if (start_ == buffer_.size()) {
    // Everything was consumed (the common case): rewind without moving bytes or freeing.
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 0) {
    // Drop what next() already handed out so that the buffer holds only what is pending.
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

bool TcpFramer::has_message() const noexcept {
  const size_t available = buffered_bytes();
  if (available < 2) return false;
  const size_t length = (size_t{buffer_[start_]} << 8) | buffer_[start_ + 1];
  return available >= 2 + length;
}

std::optional<std::span<const uint8_t>> TcpFramer::next() noexcept {
  if (!has_message()) return std::nullopt;
  const size_t length = (size_t{buffer_[start_]} << 8) | buffer_[start_ + 1];
  const std::span<const uint8_t> message(buffer_.data() + start_ + 2, length);
  start_ += 2 + length;
  return message;
}

void TcpFramer::clear() noexcept {
  buffer_.clear();
  start_ = 0;
}

}  // namespace geodns::server
