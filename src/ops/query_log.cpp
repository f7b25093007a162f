#include "ops/query_log.h"

#include <cstdio>

namespace geodns::ops {

bool QueryLogRing::push(const QueryLogEntry& e) noexcept {
  const size_t head = head_.load(std::memory_order_relaxed);
  if (head - tail_.load(std::memory_order_acquire) >= kCapacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  slots_[head % kCapacity] = e;
  head_.store(head + 1, std::memory_order_release);
  return true;
}

size_t QueryLogRing::drain(const std::function<void(const QueryLogEntry&)>& sink) {
  size_t tail = tail_.load(std::memory_order_relaxed);
  const size_t head = head_.load(std::memory_order_acquire);
  size_t n = 0;
  for (; tail != head; ++tail, ++n) {
    sink(slots_[tail % kCapacity]);
    // Release each slot at once so a busy worker can reuse it while we format the rest.
    tail_.store(tail + 1, std::memory_order_release);
  }
  return n;
}

size_t question_name(std::span<const uint8_t> m, std::span<char> out) noexcept {
  if (m.size() < 12 || ((m[4] << 8) | m[5]) == 0) return 0;
  size_t pos = 12;
  size_t len = 0;
  auto put = [&](char c) {
    if (len < out.size()) out[len++] = c;
  };
  for (int labels = 0; labels < 128; ++labels) {
    if (pos >= m.size()) return 0;
    const uint8_t l = m[pos++];
    if (l == 0) {
      if (len == 0) put('.');
      return len;
    }
    if (l > 63 || pos + l > m.size()) return 0;  // compression is not valid in a question
    for (size_t i = 0; i < l; ++i) {
      const uint8_t c = m[pos + i];
      if (c > 0x20 && c < 0x7f && c != '\\' && c != '.' && c != '"') {
        put(static_cast<char>(c));
      } else {
        char esc[5];
        std::snprintf(esc, sizeof(esc), "\\%03u", c);
        for (int k = 0; k < 4; ++k) put(esc[k]);
      }
    }
    pos += l;
    put('.');
  }
  return 0;
}

size_t LoggingResponder::respond(std::span<const uint8_t> query, const server::ClientInfo& client,
                                 std::span<uint8_t> out) noexcept {
  const size_t n = inner_->respond(query, client, out);
  if (n < 12) return n;
  const int64_t second =
      std::chrono::duration_cast<std::chrono::seconds>(clock_->now().time_since_epoch()).count();
  if (second != current_second_) {
    current_second_ = second;
    logged_this_second_ = 0;
  }
  if (logged_this_second_ >= per_second_) {
    ++suppressed_;
    return n;
  }
  ++logged_this_second_;
  QueryLogEntry e;
  e.at = clock_->wall_now();
  e.client = client.address;
  e.port = client.port;
  e.transport = client.transport;
  e.rcode = static_cast<uint8_t>(out[3] & 0x0F);
  e.answers = static_cast<uint16_t>((out[6] << 8) | out[7]);
  e.response_bytes = static_cast<uint16_t>(n);
  e.name_length = static_cast<uint8_t>(question_name(query, e.name));
  // The type follows the name in the question: read it from the response, which echoes it.
  size_t pos = 12;
  while (pos < n && out[pos] != 0 && out[pos] <= 63) pos += out[pos] + 1U;
  const bool has_question = ((out[4] << 8) | out[5]) != 0;
  if (has_question && pos + 2 < n)
    e.qtype = static_cast<uint16_t>((out[pos + 1] << 8) | out[pos + 2]);
  ring_->push(e);
  return n;
}

}  // namespace geodns::ops
