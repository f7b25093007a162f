// Arbitrary Ethernet frames through the AF_XDP path's code, as XskQueue runs it: the frame
// reader (server/xdp/frame.h), the real Pipeline (demo zones and GeoIP database) on what it
// accepts, capped at the MTU, and the answer frame writer. Every frame is either refused or
// answered by a well-formed frame: one our own reader accepts again (lengths and both
// checksums valid), addressed back to the sender, whose payload is the pipeline's response
// and fits the MTU. Anything else aborts so libFuzzer records the input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "server/pipeline.h"
#include "server/xdp/frame.h"
#include "zone/loader.h"

namespace {

using geodns::server::ClientInfo;
using geodns::server::Pipeline;
using geodns::server::Transport;
namespace xdp = geodns::server::xdp;

constexpr uint32_t kMtu = 1500;
constexpr size_t kFrameBytes = 4096;  // XskQueue's frames

struct World {
  geodns::server::Snapshots snapshots;
  geodns::Published<geodns::steer::HealthView> health;
  std::unique_ptr<Pipeline> pipeline;
  uint8_t reply[kFrameBytes];
};

World* make_world() {
  auto* w = new World();
  geodns::zone::ServerConfig config;
  auto report =
      geodns::zone::load_zone_dir(std::string(GEODNS_SOURCE_DIR) + "/zones", config, nullptr);
  if (!report.errors.empty()) std::abort();
  w->snapshots.zones.publish(report.zones);
  auto db = geodns::geo::Database::open(std::string(GEODNS_SOURCE_DIR) + "/geoip/demo.mmdb");
  if (!db) std::abort();
  w->snapshots.geoip.publish(db.value());
  w->health.publish(std::make_shared<geodns::steer::HealthView>());
  w->snapshots.health = &w->health;
  w->pipeline = std::make_unique<Pipeline>(w->snapshots, geodns::server::PipelineConfig{}, 1);
  w->pipeline->begin_batch();
  return w;
}

[[noreturn]] void fail(const char* why) {
  std::fprintf(stderr, "fuzz_frame: %s\n", why);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = make_world();
  if (size > kFrameBytes) return 0;  // the UMEM frame bounds what a NIC can hand us
  xdp::QueryFrame query;
  if (!xdp::parse_frame({data, size}, &query)) return 0;
  if (query.payload_offset + query.payload_bytes > size) fail("payload outside the frame");
  const size_t header = xdp::reply_header_bytes(query);
  const size_t room = std::min(kFrameBytes - header, xdp::reply_payload_limit(query, kMtu));
  ClientInfo client;
  client.address = query.source;
  client.port = query.source_port;
  client.transport = Transport::udp;
  uint8_t* reply = world->reply;
  const size_t n = world->pipeline->respond({data + query.payload_offset, query.payload_bytes},
                                            client, {reply + header, room});
  if (n == 0) return 0;
  if (n > room) fail("response over the MTU");
  const size_t length = xdp::write_reply(data, query, reply, n);
  if (length != header + n) fail("answer frame length");
  xdp::QueryFrame back;
  if (!xdp::parse_frame({reply, length}, &back)) fail("answer frame does not parse back");
  if (back.source != query.destination || back.destination != query.source ||
      back.source_port != query.destination_port || back.destination_port != query.source_port) {
    fail("answer not addressed back to the sender");
  }
  if (back.payload_bytes != n || back.payload_offset != header) fail("answer payload");
  // A query on a VLAN is answered on the same one, with its priority and drop eligibility.
  if (back.is_tagged != query.is_tagged || back.vlan_tci != query.vlan_tci) fail("VLAN tag");
  if (std::memcmp(reply, data + 6, 6) != 0 || std::memcmp(reply + 6, data, 6) != 0) {
    fail("Ethernet addresses not swapped");
  }
  return 0;
}
