#include "server/notifier.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "common/log.h"
#include "common/socket_address.h"
#include "dns/name.h"
#include "dns/wire.h"

namespace geodns::server {

namespace {

constexpr uint8_t kOpcodeNotify = 4;  // RFC 1996 3

uint64_t unix_now_s() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string endpoint_text(const Notifier::Target& t) {
  const std::string a = t.address.to_string();
  return (t.address.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(t.port);
}

}  // namespace

Notifier::Notifier()
    : next_id_(static_cast<uint16_t>(std::random_device{}())),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      v4_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)),
      v6_(::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
  thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() {
  stop();
}

void Notifier::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  if (wake_.is_open()) (void)!::write(wake_.get(), &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

void Notifier::notify(const std::string& origin, uint32_t serial,
                      const std::vector<Target>& targets) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& t : targets) {
      std::erase_if(jobs_, [&](const Job& j) {
        return j.origin == origin && j.target.address == t.address && j.target.port == t.port;
      });
      Job job;
      job.origin = origin;
      job.serial = serial;
      job.target = t;
      job.id = next_id_++;
      job.due = std::chrono::steady_clock::now();
      jobs_.push_back(std::move(job));
    }
  }
  const uint64_t one = 1;
  if (wake_.is_open()) (void)!::write(wake_.get(), &one, sizeof(one));
}

std::vector<uint8_t> Notifier::build(const Job& job) {
  // Header, one question (origin SOA IN), and the TSIG record when the secondary has a key.
  std::vector<uint8_t> m(dns::kHeaderSize + job.origin.size() + 4 + 512);
  dns::write_u16(m.data(), job.id);
  dns::write_u16(m.data() + 2, static_cast<uint16_t>((kOpcodeNotify << 11) | dns::flag::AA));
  dns::write_u16(m.data() + 4, 1);
  size_t len = dns::kHeaderSize;
  std::memcpy(m.data() + len, job.origin.data(), job.origin.size());
  len += job.origin.size();
  dns::write_u16(m.data() + len, dns::rrtype::SOA);
  dns::write_u16(m.data() + len + 2, dns::rrclass::IN);
  len += 4;
  if (job.target.key) {
    const dns::TsigKey& key = *job.target.key;
    const std::string_view alg = dns::tsig_algorithm_wire(key.algorithm);
    dns::TsigSigner::Response r;
    r.key = &key;
    r.key_name = reinterpret_cast<const uint8_t*>(key.name.data());
    r.key_name_len = key.name.size();
    r.algorithm = reinterpret_cast<const uint8_t*>(alg.data());
    r.algorithm_len = alg.size();
    r.time_signed = unix_now_s();
    const size_t n = signer_.sign(m.data(), len, m.size(), r, nullptr, nullptr);
    if (n != 0) len = n;
  }
  m.resize(len);
  return m;
}

void Notifier::send_due(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = *it;
    if (job.due > now) {
      ++it;
      continue;
    }
    if (job.attempts == kMaxAttempts) {
      ++abandoned_;
      log::warn("notify_unanswered", {{"zone", dns::name_to_text(job.origin)},
                                      {"serial", std::to_string(job.serial)},
                                      {"secondary", endpoint_text(job.target)},
                                      {"attempts", std::to_string(job.attempts)}});
      it = jobs_.erase(it);
      continue;
    }
    // Signed afresh for each attempt: the TSIG time must stay within the secondary's fudge.
    job.packet = build(job);
    const SocketAddress to = to_socket_address(job.target.address, job.target.port);
    const int fd = job.target.address.is_v6() ? v6_.get() : v4_.get();
    if (fd >= 0 && to.length != 0) {
      (void)::sendto(fd, job.packet.data(), job.packet.size(), 0, to.get(), to.length);
      ++sent_;
    }
    // 1 s, 2 s, 4 s, ...: RFC 1996 3.6 leaves the interval to us; doubling is what BIND does.
    job.due = now + kFirstRetry * (1 << job.attempts);
    ++job.attempts;
    ++it;
  }
}

void Notifier::receive(int fd) {
  uint8_t buf[4096];
  for (;;) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n =
        ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return;
    if (static_cast<size_t>(n) < dns::kHeaderSize) continue;
    const uint16_t id = dns::read_u16(buf);
    const uint16_t flags = dns::read_u16(buf + 2);
    if ((flags & dns::flag::QR) == 0 || ((flags >> 11) & 0xF) != kOpcodeNotify) continue;
    const IpAddress address = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&from));
    const uint16_t port = port_of(reinterpret_cast<const sockaddr*>(&from));
    std::lock_guard lock(mutex_);
    // Any answer from the secondary ends the retries (RFC 1996 3.6); its rcode is logged so
    // that a secondary refusing us (no such zone, bad key) is visible.
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (it->id != id || !(it->target.address == address.unmapped()) || it->target.port != port) {
        continue;
      }
      ++acknowledged_;
      log::info("notify_answered", {{"zone", dns::name_to_text(it->origin)},
                                    {"serial", std::to_string(it->serial)},
                                    {"secondary", endpoint_text(it->target)},
                                    {"rcode", std::to_string(flags & 0xF)}});
      jobs_.erase(it);
      break;
    }
  }
}

void Notifier::run() {
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    send_due(now);
    int timeout_ms = -1;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      for (const auto& j : jobs_) {
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(j.due - now).count() + 1;
        const int w = static_cast<int>(std::clamp<int64_t>(wait, 0, 60000));
        timeout_ms = timeout_ms < 0 ? w : std::min(timeout_ms, w);
      }
    }
    pollfd fds[3] = {{wake_.get(), POLLIN, 0}, {v4_.get(), POLLIN, 0}, {v6_.get(), POLLIN, 0}};
    if (::poll(fds, 3, timeout_ms) < 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      uint64_t v = 0;
      (void)!::read(wake_.get(), &v, sizeof(v));
    }
    if ((fds[1].revents & POLLIN) != 0) receive(v4_.get());
    if ((fds[2].revents & POLLIN) != 0) receive(v6_.get());
  }
}

uint64_t Notifier::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}
uint64_t Notifier::acknowledged() const {
  std::lock_guard lock(mutex_);
  return acknowledged_;
}
uint64_t Notifier::abandoned() const {
  std::lock_guard lock(mutex_);
  return abandoned_;
}

}  // namespace geodns::server
