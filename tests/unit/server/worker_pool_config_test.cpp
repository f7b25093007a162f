// WorkerPool::start() rejects a bad configuration before it creates any socket.
#include <gtest/gtest.h>

#include "server/worker_pool.h"

namespace geodns::server {
namespace {

class NullResponder final : public Responder {
 public:
  size_t respond(std::span<const uint8_t>, const ClientInfo&,
                 std::span<uint8_t>) noexcept override {
    return 0;
  }
};

ResponderFactory factory() {
  return [] { return std::make_unique<NullResponder>(); };
}

ListenConfig one_endpoint() {
  ListenConfig config;
  const Result<Endpoint> endpoint = parse_endpoint("127.0.0.1:0");
  EXPECT_TRUE(endpoint.ok());
  config.endpoints.push_back(*endpoint);
  return config;
}

void expect_rejected(const ListenConfig& config, const std::string& fragment) {
  const auto pool = WorkerPool::start(config, factory());
  ASSERT_FALSE(pool.ok());
  EXPECT_NE(pool.error().message.find(fragment), std::string::npos) << pool.error().message;
}

TEST(WorkerPoolConfig, NoEndpoint) {
  expect_rejected(ListenConfig{}, "no address");
}

TEST(WorkerPoolConfig, ZeroThreads) {
  ListenConfig config = one_endpoint();
  config.threads = 0;
  expect_rejected(config, "threads");
}

TEST(WorkerPoolConfig, TooManyTcpThreads) {
  ListenConfig config = one_endpoint();
  config.tcp_threads = 257;
  expect_rejected(config, "TCP threads");
}

TEST(WorkerPoolConfig, ZeroConnections) {
  ListenConfig config = one_endpoint();
  config.tcp_max_connections = 0;
  expect_rejected(config, "tcp_max_connections");
}

TEST(WorkerPoolConfig, NonPositiveTimeouts) {
  ListenConfig config = one_endpoint();
  config.tcp_stall_timeout = std::chrono::milliseconds(0);
  expect_rejected(config, "timeouts");
}

}  // namespace
}  // namespace geodns::server
