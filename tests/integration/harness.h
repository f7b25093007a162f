// Test harness for integration tests: start a server binary on a free loopback port, talk to
// it over UDP and TCP, and build/decode DNS messages with ldns (an independent codec, not
// ours). Everything is bounded in time; every child process is stopped by PID.
#pragma once

// <stdbool.h> first: without __bool_true_false_are_defined, ldns/common.h #defines bool,
// true and false, which breaks C++ headers included after it. Include ldns via this file.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace geodns::test {

using Bytes = std::vector<uint8_t>;
using namespace std::chrono_literals;

// A port free for both UDP and TCP on 127.0.0.1 (and, when IPv6 loopback exists, on ::1)
// at the time of the call. Fails the test (ADD_FAILURE) and returns 0 if none is found.
uint16_t free_port();

// True when ::1 can be bound (containers without IPv6 skip v6 tests).
bool has_ipv6_loopback();

// A child process running `binary args...`, its stdout and stderr captured to files.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::vector<std::string>& args);
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // Stops the child if it still runs.
  ~ServerProcess();

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // Waits until a UDP query to `port` gets any reply. False if `timeout` passes or the
  // child exits first (fails fast).
  bool wait_ready(uint16_t port, std::chrono::milliseconds timeout = 10s, bool v6 = false);

  // True while the child has not exited (reaps it when it has).
  bool running();
  // Waits up to `timeout` for the child to exit on its own; true if it did.
  bool wait_exit(std::chrono::milliseconds timeout);

  // SIGTERM, then SIGKILL if still running after `grace`. Returns the raw wait status
  // (see exit_code / term_signal). Idempotent.
  int stop(std::chrono::milliseconds grace = 3s);

  // After exit: the exit code, or nullopt if killed by a signal / still running.
  std::optional<int> exit_code() const;
  // After exit: the signal that killed the child, or 0.
  int term_signal() const;

  std::string stderr_text() const;
  std::string stdout_text() const;
  const std::string& stderr_path() const { return stderr_path_; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int wait_status_ = 0;
  std::string stdout_path_;
  std::string stderr_path_;
};

// One UDP query/response on 127.0.0.1 (or ::1); nullopt on timeout.
std::optional<Bytes> udp_query(uint16_t port, const Bytes& query,
                               std::chrono::milliseconds timeout = 2s, bool v6 = false);
// One TCP query/response (length-prefixed) on its own connection; nullopt on failure.
std::optional<Bytes> tcp_query(uint16_t port, const Bytes& query,
                               std::chrono::milliseconds timeout = 2s, bool v6 = false);
// All queries pipelined in one write on one connection; the responses in the order read
// (fewer than asked if the server closed or the timeout passed).
std::vector<Bytes> tcp_query_many(uint16_t port, const std::vector<Bytes>& queries,
                                  std::chrono::milliseconds timeout = 2s, bool v6 = false);

// A raw TCP client for transport tests (partial messages, stalls, caps).
class TcpClient {
 public:
  TcpClient() = default;
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;
  TcpClient(TcpClient&& other) noexcept;
  TcpClient& operator=(TcpClient&& other) noexcept;
  ~TcpClient();

  bool connect(uint16_t port, bool v6 = false);
  bool is_connected() const { return fd_ >= 0; }
  bool send_raw(const Bytes& bytes);
  // Sends a DNS message with its 2-byte length prefix.
  bool send_message(const Bytes& message);
  // Reads one length-prefixed message; nullopt on timeout, EOF or error.
  std::optional<Bytes> read_message(std::chrono::milliseconds timeout = 2s);
  // Waits until the server closes the connection (EOF or reset); false on timeout. Data
  // that arrives meanwhile is discarded.
  bool wait_closed(std::chrono::milliseconds timeout);
  // Half-close: the server sees EOF but can still answer.
  bool shutdown_write();
  void close();

 private:
  bool read_exact(uint8_t* out, size_t length, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
};

// ---- ldns helpers ----------------------------------------------------------------------

struct PacketDeleter {
  void operator()(ldns_pkt* packet) const { ldns_pkt_free(packet); }
};
using Packet = std::unique_ptr<ldns_pkt, PacketDeleter>;

struct QueryOptions {
  uint16_t id = 0x4242;
  bool rd = false;
  bool cd = false;
  uint16_t qclass = LDNS_RR_CLASS_IN;
  std::optional<uint16_t> edns_payload;  // set -> OPT record with this UDP payload size
  bool dnssec_ok = false;                // DO bit (implies an OPT record)
  Bytes edns_options;                    // raw option bytes (code, length, data)...
};

// A query built with ldns. `name` keeps its case ("WwW.Example.COM.").
Bytes make_query(const std::string& name, ldns_rr_type type, const QueryOptions& options = {});
// The raw bytes of an EDNS Client Subnet option (RFC 7871) for "a.b.c.d/len" or "x::/len".
Bytes ecs_option(const std::string& prefix, uint8_t scope_length = 0);

// Decodes with ldns_wire2pkt; nullptr when ldns cannot parse it.
Packet decode(const Bytes& wire);
// The owner name of the first question, as ldns prints it ("www.example.com.").
std::string question_name(const ldns_pkt* packet);
// The records of a section, each as ldns prints it (one line, no trailing newline).
std::vector<std::string> section_strings(const ldns_pkt* packet, ldns_pkt_section section);

}  // namespace geodns::test
