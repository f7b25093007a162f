#include "harness.h"

#include <chrono>
#include <random>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace geodns::test {

namespace {

using Clock = std::chrono::steady_clock;

socklen_t loopback(uint16_t port, bool v6, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr = in6addr_loopback;
    return sizeof(sockaddr_in6);
  }
  auto* sin = reinterpret_cast<sockaddr_in*>(out);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sizeof(sockaddr_in);
}

// Binds a socket of `type` on loopback:port; returns the fd (caller closes) or -1.
int bind_loopback(int type, uint16_t port, bool v6) {
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_storage addr;
  const socklen_t length = loopback(port, v6, &addr);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

std::string temp_file(const char* suffix) {
  std::string pattern = "/tmp/geodns-test-XXXXXX";
  pattern += suffix;
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  const int fd = ::mkstemps(buf.data(), static_cast<int>(std::strlen(suffix)));
  if (fd < 0) return {};
  ::close(fd);
  return buf.data();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Bytes frame(const Bytes& message) {
  Bytes out;
  out.reserve(message.size() + 2);
  out.push_back(static_cast<uint8_t>(message.size() >> 8));
  out.push_back(static_cast<uint8_t>(message.size() & 0xFF));
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

}  // namespace

bool has_ipv6_loopback() {
  const int fd = bind_loopback(SOCK_DGRAM, 0, true);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

uint16_t free_port() {
  // Ports come from 20000..32767, below Linux's ephemeral range (32768..60999): a port the
  // kernel hands out for port 0 can be taken again at any moment by another test's client
  // socket (ctest runs tests in parallel) before the server under test binds it.
  static std::mt19937 rng(
      static_cast<uint32_t>(::getpid()) * 2654435761U ^
      static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int> pick(20000, 32767);
  const bool v6 = has_ipv6_loopback();
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<uint16_t>(pick(rng));
    std::vector<int> held;
    const int udp = bind_loopback(SOCK_DGRAM, port, false);
    bool ok = udp >= 0;
    if (ok) held.push_back(udp);
    if (ok) {
      const int tcp = bind_loopback(SOCK_STREAM, port, false);
      ok = tcp >= 0;
      if (ok) held.push_back(tcp);
    }
    if (ok && v6) {
      const int udp6 = bind_loopback(SOCK_DGRAM, port, true);
      const int tcp6 = bind_loopback(SOCK_STREAM, port, true);
      ok = udp6 >= 0 && tcp6 >= 0;
      if (udp6 >= 0) held.push_back(udp6);
      if (tcp6 >= 0) held.push_back(tcp6);
    }
    for (const int fd : held) ::close(fd);
    if (ok) return port;
  }
  ADD_FAILURE() << "no free loopback port";
  return 0;
}

// ---- ServerProcess ----------------------------------------------------------------------

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& args) {
  stdout_path_ = temp_file(".stdout");
  stderr_path_ = temp_file(".stderr");
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    if (::getppid() != parent) ::_exit(126);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    const int out_fd = ::open(stdout_path_.c_str(), O_WRONLY | O_TRUNC);
    const int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_TRUNC);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (out_fd >= 0) ::dup2(out_fd, 1);
    if (err_fd >= 0) ::dup2(err_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    const char message[] = "exec failed\n";
    (void)!::write(2, message, sizeof(message) - 1);
    ::_exit(127);
  }
  if (pid_ < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
}

ServerProcess::~ServerProcess() {
  stop();
  // Keep the logs of a failed test for the post-mortem.
  if (!::testing::Test::HasFailure()) {
    if (!stdout_path_.empty()) ::unlink(stdout_path_.c_str());
    if (!stderr_path_.empty()) ::unlink(stderr_path_.c_str());
  }
}

bool ServerProcess::running() {
  if (pid_ <= 0 || exited_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    wait_status_ = status;
    return false;
  }
  return r == 0;
}

bool ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool ServerProcess::wait_ready(uint16_t port, std::chrono::milliseconds timeout, bool v6) {
  const Bytes probe = make_query(".", LDNS_RR_TYPE_SOA);
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!running()) return false;
    const auto started = Clock::now();
    if (udp_query(port, probe, 100ms, v6)) return true;
    // A refused port answers at once: do not spin.
    const auto spent = Clock::now() - started;
    if (spent < 50ms) std::this_thread::sleep_for(50ms - spent);
  }
  return false;
}

int ServerProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return 0;
  if (running()) {
    ::kill(pid_, SIGTERM);
    if (!wait_exit(grace)) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      if (::waitpid(pid_, &status, 0) == pid_) {
        exited_ = true;
        wait_status_ = status;
      }
    }
  }
  return wait_status_;
}

std::optional<int> ServerProcess::exit_code() const {
  if (!exited_ || !WIFEXITED(wait_status_)) return std::nullopt;
  return WEXITSTATUS(wait_status_);
}

int ServerProcess::term_signal() const {
  return exited_ && WIFSIGNALED(wait_status_) ? WTERMSIG(wait_status_) : 0;
}

std::string ServerProcess::stderr_text() const {
  return read_file(stderr_path_);
}
std::string ServerProcess::stdout_text() const {
  return read_file(stdout_path_);
}

// ---- UDP / TCP clients ------------------------------------------------------------------

std::optional<Bytes> udp_query(uint16_t port, const Bytes& query, std::chrono::milliseconds timeout,
                               bool v6) {
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_storage addr;
  const socklen_t length = loopback(port, v6, &addr);
  std::optional<Bytes> result;
  // connect(): an ICMP port-unreachable then fails the recv at once.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), length) == 0 &&
      ::send(fd, query.data(), query.size(), 0) == static_cast<ssize_t>(query.size())) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      Bytes buf(65536);
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n >= 0) {
        buf.resize(static_cast<size_t>(n));
        result = std::move(buf);
      }
    }
  }
  ::close(fd);
  return result;
}

TcpClient::TcpClient(TcpClient&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

TcpClient& TcpClient::operator=(TcpClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

TcpClient::~TcpClient() {
  close();
}

void TcpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TcpClient::connect(uint16_t port, bool v6) {
  close();
  fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_storage addr;
  const socklen_t length = loopback(port, v6, &addr);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), length) != 0) {
    if (errno != EINPROGRESS) {
      close();
      return false;
    }
    pollfd p{fd_, POLLOUT, 0};
    int error = 0;
    socklen_t error_length = sizeof(error);
    if (::poll(&p, 1, 2000) != 1 ||
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &error_length) != 0 || error != 0) {
      close();
      return false;
    }
  }
  return true;
}

bool TcpClient::send_raw(const Bytes& bytes) {
  if (fd_ < 0) return false;
  const auto deadline = Clock::now() + 2s;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) != 1) return false;
  }
  return true;
}

bool TcpClient::send_message(const Bytes& message) {
  return send_raw(frame(message));
}

bool TcpClient::read_exact(uint8_t* out, size_t length, Clock::time_point deadline) {
  size_t got = 0;
  while (got < length) {
    const ssize_t n = ::recv(fd_, out + got, length - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return false;  // EOF
    if (errno != EAGAIN && errno != EINTR) return false;
    pollfd p{fd_, POLLIN, 0};
    const int left = remaining_ms(deadline);
    if (left == 0 || ::poll(&p, 1, left) != 1) return false;
  }
  return true;
}

std::optional<Bytes> TcpClient::read_message(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  uint8_t prefix[2];
  if (!read_exact(prefix, 2, deadline)) return std::nullopt;
  Bytes message((size_t{prefix[0]} << 8) | prefix[1]);
  if (!message.empty() && !read_exact(message.data(), message.size(), deadline)) {
    return std::nullopt;
  }
  return message;
}

bool TcpClient::wait_closed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  const auto deadline = Clock::now() + timeout;
  uint8_t scratch[4096];
  while (true) {
    const ssize_t n = ::recv(fd_, scratch, sizeof(scratch), 0);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;  // reset counts as closed
    if (n > 0) continue;
    pollfd p{fd_, POLLIN, 0};
    const int left = remaining_ms(deadline);
    if (left == 0) return false;
    ::poll(&p, 1, left);
  }
}

bool TcpClient::shutdown_write() {
  return fd_ >= 0 && ::shutdown(fd_, SHUT_WR) == 0;
}

std::optional<Bytes> tcp_query(uint16_t port, const Bytes& query, std::chrono::milliseconds timeout,
                               bool v6) {
  TcpClient client;
  if (!client.connect(port, v6) || !client.send_message(query)) return std::nullopt;
  return client.read_message(timeout);
}

std::vector<Bytes> tcp_query_many(uint16_t port, const std::vector<Bytes>& queries,
                                  std::chrono::milliseconds timeout, bool v6) {
  std::vector<Bytes> responses;
  TcpClient client;
  if (!client.connect(port, v6)) return responses;
  Bytes stream;
  for (const Bytes& query : queries) {
    const Bytes framed = frame(query);
    stream.insert(stream.end(), framed.begin(), framed.end());
  }
  if (!client.send_raw(stream)) return responses;
  const auto deadline = Clock::now() + timeout;
  for (size_t i = 0; i < queries.size(); ++i) {
    auto response =
        client.read_message(std::chrono::milliseconds(std::max(1, remaining_ms(deadline))));
    if (!response) break;
    responses.push_back(std::move(*response));
  }
  return responses;
}

// ---- ldns ---------------------------------------------------------------------------------

Bytes make_query(const std::string& name, ldns_rr_type type, const QueryOptions& options) {
  ldns_rdf* owner = ldns_dname_new_frm_str(name.c_str());
  if (owner == nullptr) {
    ADD_FAILURE() << "ldns cannot parse name " << name;
    return {};
  }
  uint16_t flags = 0;
  if (options.rd) flags |= LDNS_RD;
  if (options.cd) flags |= LDNS_CD;
  ldns_pkt* packet =
      ldns_pkt_query_new(owner, type, static_cast<ldns_rr_class>(options.qclass), flags);
  ldns_pkt_set_id(packet, options.id);
  if (options.edns_payload || options.dnssec_ok || !options.edns_options.empty()) {
    ldns_pkt_set_edns_udp_size(packet, options.edns_payload.value_or(1232));
    ldns_pkt_set_edns_do(packet, options.dnssec_ok);
    if (!options.edns_options.empty()) {
      ldns_pkt_set_edns_data(
          packet, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, options.edns_options.size(),
                                        options.edns_options.data()));
    }
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  Bytes out;
  if (ldns_pkt2wire(&wire, packet, &size) == LDNS_STATUS_OK) out.assign(wire, wire + size);
  std::free(wire);
  ldns_pkt_free(packet);
  if (out.empty()) ADD_FAILURE() << "ldns cannot encode the query for " << name;
  return out;
}

Bytes ecs_option(const std::string& prefix, uint8_t scope_length) {
  const size_t slash = prefix.find('/');
  const std::string address = prefix.substr(0, slash);
  const int length = slash == std::string::npos ? -1 : std::atoi(prefix.c_str() + slash + 1);
  uint8_t bytes[16] = {};
  uint16_t family = 0;
  if (::inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    family = 1;
  } else if (::inet_pton(AF_INET6, address.c_str(), bytes) == 1) {
    family = 2;
  } else {
    ADD_FAILURE() << "bad ECS prefix " << prefix;
    return {};
  }
  const int source_length = length < 0 ? (family == 1 ? 32 : 128) : length;
  const size_t address_bytes = static_cast<size_t>((source_length + 7) / 8);
  const size_t option_length = 4 + address_bytes;
  Bytes out = {0,
               8,  // OPTION-CODE 8: edns-client-subnet
               static_cast<uint8_t>(option_length >> 8),
               static_cast<uint8_t>(option_length),
               0,
               static_cast<uint8_t>(family),
               static_cast<uint8_t>(source_length),
               scope_length};
  out.insert(out.end(), bytes, bytes + address_bytes);
  return out;
}

Packet decode(const Bytes& wire) {
  ldns_pkt* packet = nullptr;
  if (ldns_wire2pkt(&packet, wire.data(), wire.size()) != LDNS_STATUS_OK) return nullptr;
  return Packet(packet);
}

std::string question_name(const ldns_pkt* packet) {
  const ldns_rr_list* questions = ldns_pkt_question(packet);
  if (questions == nullptr || ldns_rr_list_rr_count(questions) == 0) return {};
  char* text = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(questions, 0)));
  std::string out = text != nullptr ? text : "";
  std::free(text);
  return out;
}

std::vector<std::string> section_strings(const ldns_pkt* packet, ldns_pkt_section section) {
  std::vector<std::string> out;
  ldns_rr_list* list = ldns_pkt_get_section_clone(packet, section);
  if (list == nullptr) return out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string line = text != nullptr ? text : "";
    std::free(text);
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    for (char& c : line) {
      if (c == '\t') c = ' ';
    }
    out.push_back(std::move(line));
  }
  ldns_rr_list_deep_free(list);
  return out;
}

}  // namespace geodns::test
