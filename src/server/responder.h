// The seam between transport (UDP/TCP workers on libuv) and the DNS work (the pipeline).
// One Responder per worker thread: it owns its scratch buffers and counters, so respond()
// needs no lock and no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "common/ip.h"
#include "server/transport_stats.h"

namespace geodns::server {

enum class Transport : uint8_t { udp, tcp };

class TransferStream;  // server/transfer.h

struct ClientInfo {
  IpAddress address;  // source address of the packet / peer of the connection
  uint16_t port = 0;
  Transport transport = Transport::udp;
  // TCP: the idle timeout this connection applies now, in units of 100 ms, for the
  // edns-tcp-keepalive option (RFC 7828 3.3.2: the value associated with the session).
  uint16_t tcp_keepalive_100ms = 0;
};

class Responder {
 public:
  virtual ~Responder() = default;
  // Called by the worker before each batch of received packets (and before each TCP read
  // callback): the place to pick up newly published snapshots.
  virtual void begin_batch() noexcept {}
  // Answers one DNS message. `out` has room for 65535 bytes. Returns the response length,
  // or 0 to send nothing (e.g. the message was itself a response).
  virtual size_t respond(std::span<const uint8_t> query, const ClientInfo& client,
                         std::span<uint8_t> out) noexcept = 0;
  // Over TCP, before respond(): a zone transfer request this responder serves as a stream
  // of messages (server/transfer.h) returns that stream; null = answer it with respond().
  // (Defined in transfer.cpp, where TransferStream is complete.)
  virtual std::unique_ptr<TransferStream> start_transfer(std::span<const uint8_t> query,
                                                         const ClientInfo& client);
  // Where the worker counts its transport events: the responder's counter block when it has
  // one (worker_counters.h), so that one block holds everything a worker counts; null = the
  // worker keeps its own.
  virtual TransportCounters* transport_counters() noexcept { return nullptr; }
};

// Called once per worker thread, on that thread, before it starts serving.
using ResponderFactory = std::function<std::unique_ptr<Responder>()>;

}  // namespace geodns::server
