#include "server/xdp/xdp_pool.h"

#include <pthread.h>
#include <sys/resource.h>

#include <csignal>
#include <exception>
#include <future>

#include "server/xdp/xsk_queue.h"

namespace geodns::server::xdp {

Result<AttachMode> parse_attach_mode(const std::string& text) {
  if (text == "native") return AttachMode::native;
  if (text == "generic") return AttachMode::generic;
  if (text == "native_or_generic") return AttachMode::native_or_generic;
  return make_error("unknown xdp_mode \"" + text + "\" (native, generic, native_or_generic)");
}

Result<std::unique_ptr<XdpPool>> XdpPool::start(const XdpConfig& config,
                                                const std::vector<Endpoint>& endpoints,
                                                ResponderFactory factory) {
  std::unique_ptr<XdpPool> pool(new XdpPool());
  // Frame memory is locked memory: without CAP_IPC_LOCK the UMEM counts against
  // RLIMIT_MEMLOCK, which is 8 MiB by default. Raise it as far as we may (root: unlimited).
  rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);
  for (const std::string& interface : config.interfaces) {
    auto mtu = interface_mtu(interface);
    auto program = XdpProgram::attach(interface, config.mode, endpoints, config.state_dir);
    if (!program) return program.error();
    if (!mtu) return mtu.error();
    const uint32_t queues = queue_count(interface);
    for (uint32_t q = 0; q < queues; ++q) {
      auto socket = XskQueue::open(interface, q, *mtu);
      if (!socket) return socket.error();  // `pool` detaches what it attached
      if (Status st = (*program)->add_socket(q, (*socket)->fd()); !st) return st.error();
      pool->info_.push_back({interface, q, (*socket)->is_zero_copy(), (*program)->mode_name()});
      pool->sockets_.push_back(std::move(socket.value()));
    }
    pool->programs_.push_back(std::move(program.value()));
  }

  std::vector<std::future<Status>> ready;
  QueueInfo* at = pool->info_.data();  // info_[i] is sockets_[i]'s
  for (auto& socket : pool->sockets_) {
    std::promise<Status> promise;
    ready.push_back(promise.get_future());
    XskQueue* queue = socket.get();
    std::atomic<bool>* stop = &pool->stop_;
    pool->threads_.emplace_back([queue, stop, factory, at, promise = std::move(promise)]() mutable {
      // Signals belong to the control thread, as on the socket workers.
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      std::unique_ptr<Responder> responder;
      try {
        responder = factory();
      } catch (const std::exception& e) {
        promise.set_value(make_error(std::string("xdp worker: ") + e.what()));
        return;
      }
      if (!responder) {
        promise.set_value(make_error("xdp worker: no responder"));
        return;
      }
      TransportCounters own;
      TransportCounters* counters = responder->transport_counters();
      at->counters = counters;  // before set_value: start() reads it after get()
      if (counters == nullptr) counters = &own;
      promise.set_value(Status{});
      queue->run(*responder, *counters, *stop);
    });
    ++at;
  }
  for (auto& future : ready) {
    if (Status st = future.get(); !st) return st.error();
  }
  return pool;
}

XdpPool::~XdpPool() {
  stop();
}

void XdpPool::stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_.store(true, std::memory_order_relaxed);
  for (auto& t : threads_) t.join();
  threads_.clear();
  // Program first: from then on the kernel answers, while the sockets go.
  programs_.clear();
  sockets_.clear();
}

}  // namespace geodns::server::xdp
