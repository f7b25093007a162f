#include "server/worker_pool.h"

#include <unistd.h>

#include <future>
#include <string>
#include <utility>

#include "server/socket_setup.h"
#include "server/worker.h"

namespace geodns::server {

namespace {

constexpr unsigned kMaxThreads = 256;
// Port 0 for an endpoint: the kernel picks a UDP port, which TCP may not have free; a few
// tries, then give up.
constexpr int kPortPickAttempts = 16;

void close_fds(std::vector<std::vector<int>>& fds) {
  for (auto& per_worker : fds) {
    for (const int fd : per_worker) {
      if (fd >= 0) ::close(fd);
    }
  }
}

// Binds the first worker's UDP and TCP sockets of one endpoint, resolving port 0 to one
// port free for both.
Result<uint16_t> bind_first(const Endpoint& endpoint, int* udp_fd, int* tcp_fd) {
  if (endpoint.port != 0) {
    if (Status st = check_port_unused(endpoint.address, endpoint.port); !st) return st.error();
  }
  for (int attempt = 0; attempt < kPortPickAttempts; ++attempt) {
    Result<int> udp = open_bound_socket(SocketKind::udp, endpoint.address, endpoint.port);
    if (!udp) return udp.error();
    uint16_t port = endpoint.port;
    if (port == 0) {
      Result<uint16_t> chosen = local_port(*udp);
      if (!chosen) {
        ::close(*udp);
        return chosen.error();
      }
      port = *chosen;
    }
    Result<int> tcp = open_bound_socket(SocketKind::tcp, endpoint.address, port);
    if (!tcp) {
      ::close(*udp);
      if (endpoint.port == 0) continue;
      return tcp.error();
    }
    *udp_fd = *udp;
    *tcp_fd = *tcp;
    return port;
  }
  return make_error("listen " + endpoint.text + ": no port free for both UDP and TCP");
}

}  // namespace

Result<std::unique_ptr<WorkerPool>> WorkerPool::start(const ListenConfig& config,
                                                      ResponderFactory factory) {
  if (config.endpoints.empty()) return make_error("listen: no address to listen on");
  if (config.threads == 0 || config.threads > kMaxThreads) {
    return make_error("threads must be 1.." + std::to_string(kMaxThreads));
  }
  if (config.tcp_threads > kMaxThreads) {
    return make_error("TCP threads must be 0.." + std::to_string(kMaxThreads));
  }
  if (config.tcp_max_connections == 0) return make_error("tcp_max_connections must be > 0");
  if (config.tcp_idle_timeout.count() <= 0 || config.tcp_stall_timeout.count() <= 0) {
    return make_error("TCP timeouts must be positive");
  }

  // All sockets first, on this thread, so that every bind error is reported here. With
  // dedicated TCP workers, workers [0, threads) get only UDP sockets and the rest only TCP
  // listeners; an empty vector is a transport the worker does not serve.
  const bool split = config.tcp_threads > 0;
  const size_t total = config.threads + config.tcp_threads;
  const auto serves_udp = [&](size_t w) { return w < config.threads; };
  const auto serves_tcp = [&](size_t w) { return !split || w >= config.threads; };
  const size_t endpoint_count = config.endpoints.size();
  std::vector<std::vector<int>> udp_fds(total);
  std::vector<std::vector<int>> tcp_fds(total);
  for (size_t w = 0; w < total; ++w) {
    if (serves_udp(w)) udp_fds[w].assign(endpoint_count, -1);
    if (serves_tcp(w)) tcp_fds[w].assign(endpoint_count, -1);
  }
  const size_t first_tcp = split ? config.threads : 0;
  std::vector<uint16_t> ports(endpoint_count, 0);
  for (size_t e = 0; e < endpoint_count; ++e) {
    const Endpoint& endpoint = config.endpoints[e];
    Result<uint16_t> port = bind_first(endpoint, &udp_fds[0][e], &tcp_fds[first_tcp][e]);
    if (!port) {
      close_fds(udp_fds);
      close_fds(tcp_fds);
      return port.error();
    }
    ports[e] = *port;
    for (size_t w = 0; w < total; ++w) {
      const std::pair<std::vector<std::vector<int>>*, SocketKind> kinds[] = {
          {&udp_fds, SocketKind::udp}, {&tcp_fds, SocketKind::tcp}};
      for (const auto& [fds, kind] : kinds) {
        std::vector<int>& mine = (*fds)[w];
        if (mine.empty() || mine[e] >= 0) continue;  // not served here, or bound by bind_first
        Result<int> fd = open_bound_socket(kind, endpoint.address, ports[e]);
        if (!fd) {
          close_fds(udp_fds);
          close_fds(tcp_fds);
          return fd.error();
        }
        mine[e] = *fd;
      }
    }
  }

  std::unique_ptr<WorkerPool> pool(new WorkerPool());
  pool->ports_ = ports;
  pool->udp_workers_ = config.threads;
  pool->tcp_workers_ = split ? config.tcp_threads : config.threads;
  for (size_t w = 0; w < total; ++w) {
    auto worker = std::make_unique<Worker>(w, config, factory);
    // Adopted before init(), which sizes the UDP buffers only for a worker that has UDP.
    worker->adopt_sockets(std::move(udp_fds[w]), std::move(tcp_fds[w]));
    if (Status status = worker->init(); !status) {
      // This worker closes its own sockets; those of later workers are not adopted yet.
      worker.reset();
      for (size_t rest = w + 1; rest < total; ++rest) {
        for (const int fd : udp_fds[rest]) ::close(fd);
        for (const int fd : tcp_fds[rest]) ::close(fd);
      }
      pool->stop();
      return status.error();
    }
    pool->workers_.push_back(std::move(worker));
  }

  std::vector<std::future<Status>> ready;
  for (auto& worker : pool->workers_) {
    std::promise<Status> promise;
    ready.push_back(promise.get_future());
    worker->start(std::move(promise));
  }
  for (auto& future : ready) {
    Status status = future.get();
    if (!status) {
      pool->stop();
      return status.error();
    }
  }
  return pool;
}

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& worker : workers_) worker->request_stop();
  for (auto& worker : workers_) worker->join();
}

TransportStats WorkerPool::stats() const noexcept {
  TransportStats total;
  for (const auto& worker : workers_) total += worker->stats();
  return total;
}

uint16_t WorkerPool::bound_port(size_t endpoint_index) const {
  return endpoint_index < ports_.size() ? ports_[endpoint_index] : 0;
}

}  // namespace geodns::server
