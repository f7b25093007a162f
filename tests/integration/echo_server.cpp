// A test server for the transport alone: the real WorkerPool with a Responder that answers
// every query with REFUSED, echoing its ID and question (or FORMERR when the question does
// not parse), and answers nothing to messages that are themselves responses. Optional EDNS
// padding (RFC 7830) makes big, well-formed responses for backpressure tests.
//
//   echo_server --listen 127.0.0.1:5353 [--listen [::1]:5353] [--threads N]
//               [--tcp-idle-ms MS] [--tcp-stall-ms MS] [--tcp-max-conn N]
//               [--tcp-max-per-client N] [--tcp-busy-idle-ms MS] [--pad-bytes N]
//               [--log-level debug|info|warn|error]
// Runs until SIGTERM or SIGINT, then stops the pool and exits 0.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/log.h"
#include "server/listen_config.h"
#include "server/worker_pool.h"

namespace {

using geodns::server::ClientInfo;
using geodns::server::Responder;

constexpr uint8_t kRcodeFormErr = 1;
constexpr uint8_t kRcodeRefused = 5;
constexpr uint16_t kOptionPadding = 12;

class EchoResponder final : public Responder {
 public:
  explicit EchoResponder(size_t pad_bytes) : pad_bytes_(pad_bytes) {}

  size_t respond(std::span<const uint8_t> query, const ClientInfo& /*client*/,
                 std::span<uint8_t> out) noexcept override {
    if (query.size() < 12) return 0;
    if ((query[2] & 0x80) != 0) return 0;  // a response: never answer it
    const size_t question_end = parse_question(query);
    const size_t copied = question_end == 0 ? 12 : question_end;
    std::memcpy(out.data(), query.data(), copied);
    out[2] = static_cast<uint8_t>(0x80 | (query[2] & 0x79));  // QR, keep opcode and RD
    out[3] = question_end == 0 ? kRcodeFormErr : kRcodeRefused;
    out[4] = 0;
    out[5] = question_end == 0 ? 0 : 1;  // QDCOUNT
    std::memset(out.data() + 6, 0, 6);   // AN, NS, AR
    size_t length = copied;
    if (pad_bytes_ > 0 && length + 15 + pad_bytes_ <= out.size()) {
      // OPT: root owner, type 41, payload 4096, TTL 0, RDATA = one padding option.
      const size_t rdlength = 4 + pad_bytes_;
      const uint8_t header[] = {0,
                                0,
                                41,
                                0x10,
                                0x00,
                                0,
                                0,
                                0,
                                0,
                                static_cast<uint8_t>(rdlength >> 8),
                                static_cast<uint8_t>(rdlength & 0xFF),
                                0,
                                kOptionPadding,
                                static_cast<uint8_t>(pad_bytes_ >> 8),
                                static_cast<uint8_t>(pad_bytes_ & 0xFF)};
      std::memcpy(out.data() + length, header, sizeof(header));
      length += sizeof(header);
      std::memset(out.data() + length, 0, pad_bytes_);
      length += pad_bytes_;
      out[11] = 1;  // ARCOUNT
    }
    return length;
  }

 private:
  // End of the single question, or 0 if there is not exactly one well-formed question.
  static size_t parse_question(std::span<const uint8_t> query) noexcept {
    if (query[4] != 0 || query[5] != 1) return 0;
    size_t pos = 12;
    for (int labels = 0; labels < 128; ++labels) {
      if (pos >= query.size()) return 0;
      const uint8_t label = query[pos];
      if (label == 0) {
        pos += 1;
        return pos + 4 <= query.size() ? pos + 4 : 0;
      }
      if ((label & 0xC0) != 0) return 0;  // no compression in a question we echo
      pos += 1 + label;
    }
    return 0;
  }

  size_t pad_bytes_;
};

bool parse_unsigned(const char* text, unsigned long* out) {
  char* end = nullptr;
  *out = std::strtoul(text, &end, 10);
  return end != text && *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  geodns::server::ListenConfig config;
  size_t pad_bytes = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "echo_server: %s needs a value\n", flag.c_str());
      return 2;
    }
    const char* value = argv[++i];
    unsigned long number = 0;
    if (flag == "--listen") {
      auto endpoint = geodns::server::parse_endpoint(value);
      if (!endpoint) {
        std::fprintf(stderr, "echo_server: %s\n", endpoint.error().to_string().c_str());
        return 2;
      }
      config.endpoints.push_back(*endpoint);
    } else if (flag == "--log-level") {
      geodns::log::Level level;
      if (!geodns::log::parse_level(value, &level)) {
        std::fprintf(stderr, "echo_server: bad log level %s\n", value);
        return 2;
      }
      geodns::log::set_level(level);
    } else if (!parse_unsigned(value, &number)) {
      std::fprintf(stderr, "echo_server: %s: not a number: %s\n", flag.c_str(), value);
      return 2;
    } else if (flag == "--threads") {
      config.threads = static_cast<unsigned>(number);
    } else if (flag == "--tcp-idle-ms") {
      config.tcp_idle_timeout = std::chrono::milliseconds(number);
    } else if (flag == "--tcp-stall-ms") {
      config.tcp_stall_timeout = std::chrono::milliseconds(number);
    } else if (flag == "--tcp-max-conn") {
      config.tcp_max_connections = static_cast<unsigned>(number);
    } else if (flag == "--tcp-max-per-client") {
      config.tcp_max_per_client = static_cast<unsigned>(number);
    } else if (flag == "--tcp-busy-idle-ms") {
      config.tcp_busy_idle_timeout = std::chrono::milliseconds(number);
    } else if (flag == "--pad-bytes") {
      pad_bytes = number;
    } else {
      std::fprintf(stderr, "echo_server: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }

  // Block the stop signals before any thread exists, then wait for them here.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto pool = geodns::server::WorkerPool::start(
      config, [pad_bytes] { return std::make_unique<EchoResponder>(pad_bytes); });
  if (!pool) {
    std::fprintf(stderr, "echo_server: %s\n", pool.error().to_string().c_str());
    return 1;
  }
  for (size_t i = 0; i < config.endpoints.size(); ++i) {
    std::fprintf(stderr, "echo_server: listening %s port %u\n", config.endpoints[i].text.c_str(),
                 static_cast<unsigned>((*pool)->bound_port(i)));
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*pool)->stop();
  // One line the tests read back: which limits fired.
  const geodns::server::TransportStats stats = (*pool)->stats();
  std::fprintf(stderr,
               "echo_server: stats udp_received=%llu udp_sent=%llu tcp_accepted=%llu "
               "tcp_rejected=%llu tcp_received=%llu tcp_sent=%llu tcp_idle_closed=%llu "
               "tcp_stall_closed=%llu tcp_backpressure=%llu tcp_open=%llu tcp_evicted=%llu "
               "tcp_client_evicted=%llu tcp_parked=%llu\n",
               static_cast<unsigned long long>(stats.udp_received),
               static_cast<unsigned long long>(stats.udp_sent),
               static_cast<unsigned long long>(stats.tcp_accepted),
               static_cast<unsigned long long>(stats.tcp_rejected),
               static_cast<unsigned long long>(stats.tcp_received),
               static_cast<unsigned long long>(stats.tcp_sent),
               static_cast<unsigned long long>(stats.tcp_idle_closed),
               static_cast<unsigned long long>(stats.tcp_stall_closed),
               static_cast<unsigned long long>(stats.tcp_backpressure),
               static_cast<unsigned long long>(stats.tcp_open),
               static_cast<unsigned long long>(stats.tcp_evicted),
               static_cast<unsigned long long>(stats.tcp_client_evicted),
               static_cast<unsigned long long>(stats.tcp_parked));
  std::fprintf(stderr, "echo_server: stopped on signal %d\n", signal_number);
  return 0;
}
