// The optional query log (`geodns serve --query-log`): one line per answered query, at most
// `per_second` lines per worker. Workers never format or write: a LoggingResponder wraps the
// worker's pipeline and copies a fixed-size record into its own single-producer ring (no
// allocation, no lock, no syscall; a full ring drops and counts), and the control loop drains
// the rings and writes the lines. When the log is off the wrapper is not installed at all, so
// the packet path is exactly the same as without this feature.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "server/responder.h"

namespace geodns::ops {

struct QueryLogEntry {
  std::chrono::system_clock::time_point at{};
  IpAddress client;
  uint16_t port = 0;
  server::Transport transport = server::Transport::udp;
  uint16_t qtype = 0;
  uint8_t rcode = 0;
  uint16_t answers = 0;
  uint16_t response_bytes = 0;
  uint8_t name_length = 0;
  std::array<char, 255> name{};  // presentation form, possibly cut

  std::string name_text() const { return std::string(name.data(), name_length); }
};

// Single producer (one worker), single consumer (the control loop).
class QueryLogRing {
 public:
  static constexpr size_t kCapacity = 1024;
  bool push(const QueryLogEntry& e) noexcept;
  // Calls `sink` for every queued entry, oldest first; returns how many.
  size_t drain(const std::function<void(const QueryLogEntry&)>& sink);
  uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  std::array<QueryLogEntry, kCapacity> slots_{};
  std::atomic<size_t> head_{0};  // next slot to write (producer)
  std::atomic<size_t> tail_{0};  // next slot to read (consumer)
  std::atomic<uint64_t> dropped_{0};
};

class LoggingResponder final : public server::Responder {
 public:
  LoggingResponder(std::unique_ptr<server::Responder> inner, QueryLogRing* ring, const Clock* clock,
                   uint32_t per_second)
      : inner_(std::move(inner)), ring_(ring), clock_(clock), per_second_(per_second) {}

  void begin_batch() noexcept override { inner_->begin_batch(); }
  server::TransportCounters* transport_counters() noexcept override {
    return inner_->transport_counters();
  }
  size_t respond(std::span<const uint8_t> query, const server::ClientInfo& client,
                 std::span<uint8_t> out) noexcept override;

 private:
  std::unique_ptr<server::Responder> inner_;
  QueryLogRing* ring_;
  const Clock* clock_;
  uint32_t per_second_;
  int64_t current_second_ = -1;
  uint32_t logged_this_second_ = 0;
  uint64_t suppressed_ = 0;
};

// The query name of a DNS message in presentation form ("www.example.com."), written into
// `out`; returns its length (0 if the message is malformed). Labels with unusual bytes are
// escaped as \DDD so a log line stays one printable line.
size_t question_name(std::span<const uint8_t> message, std::span<char> out) noexcept;

}  // namespace geodns::ops
