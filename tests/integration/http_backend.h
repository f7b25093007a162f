// A minimal HTTP/1.0 backend for health checks through the real binary: answers every request
// with 200 "ok", or refuses connections while stopped (its socket is closed).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

namespace geodns::test {

class HttpBackend {
 public:
  HttpBackend(const std::string& address, uint16_t port) : address_(address), port_(port) {}
  ~HttpBackend() { stop(); }

  bool start() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    // Accepted connections may linger (FIN_WAIT) after a stop; let the restart bind anyway.
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port_);
    inet_pton(AF_INET, address_.c_str(), &sa.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd_, 64) != 0) {
      std::perror("backend bind/listen");
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    running_ = true;
    thread_ = std::thread([this] { serve(); });
    return true;
  }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void serve() {
    while (running_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      char buf[2048];
      pollfd cp{c, POLLIN, 0};
      if (::poll(&cp, 1, 500) > 0) (void)::read(c, buf, sizeof(buf));
      const std::string reply = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";
      (void)::write(c, reply.data(), reply.size());
      ::close(c);
    }
  }
  std::string address_;
  uint16_t port_;
  int fd_ = -1;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace geodns::test
