// [server.tcp] threads (issue 12, "UDP unaffected"): with dedicated TCP workers the UDP
// workers open no TCP listener and the TCP workers no UDP socket, and both transports still
// answer. The sockets are counted in /proc/net/{udp,tcp}: one SO_REUSEPORT socket per worker
// and endpoint, so the counts tell which workers serve what.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

// Sockets bound to 127.0.0.1:port in /proc/net/<table>, in kernel state `state` (hex, as
// the kernel prints it: 0A is TCP LISTEN, 07 an unconnected UDP socket).
int bound_sockets(const std::string& table, uint16_t port, const std::string& state) {
  char local[32];
  std::snprintf(local, sizeof(local), "0100007F:%04X", port);
  std::ifstream f("/proc/net/" + table);
  std::string line;
  std::getline(f, line);  // header
  int count = 0;
  while (std::getline(f, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, st;
    fields >> slot >> local_address >> remote_address >> st;
    if (local_address == local && st == state) ++count;
  }
  return count;
}

void expect_both_answer(Server& server) {
  for (int i = 0; i < 4; ++i) {
    const Packet udp = server.udp("ns1.example.com", LDNS_RR_TYPE_A);
    ASSERT_NE(udp, nullptr) << "no UDP answer";
    EXPECT_TRUE(has_line(section_strings(udp.get(), LDNS_SECTION_ANSWER), "198.51.100.53"));
    const Packet tcp = server.tcp("ns1.example.com", LDNS_RR_TYPE_A);
    ASSERT_NE(tcp, nullptr) << "no TCP answer";
    EXPECT_TRUE(has_line(section_strings(tcp.get(), LDNS_SECTION_ANSWER), "198.51.100.53"));
  }
}

TEST(TcpThreads, DedicatedWorkersServeOnlyTheirTransport) {
  ServeOptions o;
  o.threads = 2;
  o.v6 = false;
  o.extra_config = "[server.tcp]\nthreads = 3\n";
  Server server(o);
  ASSERT_TRUE(server.ready) << server.process->stderr_text();
  expect_both_answer(server);
  EXPECT_EQ(bound_sockets("udp", server.port, "07"), 2);  // the UDP workers
  EXPECT_EQ(bound_sockets("tcp", server.port, "0A"), 3);  // the TCP workers
  EXPECT_NE(server.process->stderr_text().find("tcp_threads=3"), std::string::npos)
      << server.process->stderr_text();
}

TEST(TcpThreads, ZeroSharesEveryWorker) {
  ServeOptions o;
  o.threads = 2;
  o.v6 = false;
  o.extra_config = "[server.tcp]\nthreads = 0\n";
  Server server(o);
  ASSERT_TRUE(server.ready) << server.process->stderr_text();
  expect_both_answer(server);
  EXPECT_EQ(bound_sockets("udp", server.port, "07"), 2);
  EXPECT_EQ(bound_sockets("tcp", server.port, "0A"), 2);
  EXPECT_NE(server.process->stderr_text().find("tcp_threads=2"), std::string::npos)
      << server.process->stderr_text();
}

// Without the key: one TCP worker beside the UDP workers.
TEST(TcpThreads, DefaultIsOneTcpWorker) {
  ServeOptions o;
  o.threads = 2;
  o.v6 = false;
  Server server(o);
  ASSERT_TRUE(server.ready) << server.process->stderr_text();
  expect_both_answer(server);
  EXPECT_EQ(bound_sockets("udp", server.port, "07"), 2);
  EXPECT_EQ(bound_sockets("tcp", server.port, "0A"), 1);
}

}  // namespace
}  // namespace geodns::test
