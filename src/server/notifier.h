// NOTIFY (RFC 1996) to a zone's secondaries when its serial moves: over UDP, signed with the
// secondary's TSIG key, retried with a doubling interval until the secondary answers or
// kMaxAttempts have gone unanswered. Runs on its own thread, off the packet path and off the
// reload thread (a silent secondary must not hold up the next reload).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/ip.h"
#include "common/unique_fd.h"
#include "dns/tsig.h"

namespace geodns::server {

class Notifier {
 public:
  static constexpr int kMaxAttempts = 5;
  static constexpr std::chrono::milliseconds kFirstRetry{1000};

  struct Target {
    IpAddress address;
    uint16_t port = 53;
    std::optional<dns::TsigKey> key;
  };

  Notifier();
  ~Notifier();  // stop()s
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Any thread: NOTIFY `origin` (wire, lower case) at `serial` to each target. A NOTIFY
  // still being retried for the same zone and target is replaced (its serial is stale).
  void notify(const std::string& origin, uint32_t serial, const std::vector<Target>& targets);
  void stop();

  // For status and tests.
  uint64_t sent() const;          // datagrams sent, retries included
  uint64_t acknowledged() const;  // NOTIFYs a secondary answered
  uint64_t abandoned() const;     // NOTIFYs that got no answer in kMaxAttempts

 private:
  struct Job {
    std::string origin;
    uint32_t serial = 0;
    Target target;
    uint16_t id = 0;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
    std::vector<uint8_t> packet;
  };
  void run();
  void send_due(std::chrono::steady_clock::time_point now);
  void receive(int fd);
  std::vector<uint8_t> build(const Job& job);

  mutable std::mutex mutex_;  // guards jobs_, stopping_ and the counters
  std::vector<Job> jobs_;
  bool stopping_ = false;
  uint64_t sent_ = 0;
  uint64_t acknowledged_ = 0;
  uint64_t abandoned_ = 0;
  uint16_t next_id_;
  UniqueFd wake_;  // eventfd: notify() and stop() wake the poll
  UniqueFd v4_;
  UniqueFd v6_;
  dns::TsigSigner signer_;  // notifier thread only
  std::thread thread_;
};

}  // namespace geodns::server
