// Which TCP connection gives way when a worker is full (RFC 7766 6.2.3: "servers MAY close
// the connection idle longest"), and how many connections one client may hold. Pure (no
// sockets, no libuv) so that the choice is unit-tested; one per worker, on its thread.
//
// "Idle" means losing nothing by closing: no byte of a query buffered (complete or partial),
// no answer queued, none being written. A connection is busy from the first byte of a query
// until its last answer's write completes; its place in the idle order is taken again when it
// becomes idle, so the idle lists are ordered by idle-since, oldest first. Closing a busy
// connection would drop an answer the client waits for, so at the cap a new connection is
// refused when no connection can go.
//
// A connection that has not been answered yet ("fresh") may go only after kFreshGraceMs idle:
// its client connected to send a query, which may not have been read yet. Without the grace a
// burst of newcomers beyond the cap closes each other before any is read, and nothing is
// answered (10,000 clients against a cap of 2 x 1,024 did just that); with it every
// connection gets its first answer, and a client that connects and sends nothing still gives
// way after the grace.
//
// Every connection is linked into intrusive lists (the worker's idle list and its client's),
// so admitting, touching and removing cost O(1) and allocate nothing. A client's entry in the
// per-address table is made when its first connection is admitted and freed with its last one
// (per accept, never per query).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "common/ip.h"

namespace geodns::server {

class TcpAdmission;

// How long a connection never answered is spared after it was admitted (see above).
inline constexpr uint64_t kFreshGraceMs = 1000;

// A connection's links in a TcpAdmission. TcpConnection derives from it; tests use it alone.
class TcpSlot {
 public:
  TcpSlot() = default;
  TcpSlot(const TcpSlot&) = delete;
  TcpSlot& operator=(const TcpSlot&) = delete;

  bool is_admitted() const noexcept { return client_ != nullptr; }
  bool is_idle() const noexcept { return is_idle_; }

 private:
  friend class TcpAdmission;
  struct Links {
    TcpSlot* prev = nullptr;
    TcpSlot* next = nullptr;
  };
  Links worker_idle_;       // in the worker's idle list (of its kind: fresh or served)
  Links client_idle_;       // in its client's idle list (of its kind)
  void* client_ = nullptr;  // its TcpAdmission::ClientEntry while admitted
  IpAddress key_;           // its client key, to free the entry with its last connection
  uint64_t idle_since_ms_ = 0;
  bool is_idle_ = false;
  bool is_fresh_ = true;  // never answered
};

class TcpAdmission {
 public:
  // `max_connections` per worker (at least 1); `max_per_client` connections one client key
  // may hold on this worker (clamped to 1..max_connections).
  TcpAdmission(size_t max_connections, size_t max_per_client);
  TcpAdmission(const TcpAdmission&) = delete;
  TcpAdmission& operator=(const TcpAdmission&) = delete;

  struct Decision {
    bool admit = true;
    // When admitting: the connection to close first (nullptr: there is room).
    TcpSlot* victim = nullptr;
    // The per-client limit decided (the victim is the client's own, or the refusal is its).
    bool by_client_limit = false;
  };
  // What to do with a new connection from `client`, in this order: over the client's limit,
  // close that client's idle-longest connection, or refuse if all of its connections are
  // busy; at the worker's cap, close the worker's idle-longest connection, or refuse if every
  // connection is busy; otherwise admit. The caller closes the victim (remove()) and then
  // add()s the new one.
  // `now_ms`: the loop's clock, for the fresh connections' grace.
  Decision decide(const IpAddress& client, uint64_t now_ms) const noexcept;

  // Records an admitted connection; it starts idle and fresh, newest in the order.
  void add(TcpSlot& slot, const IpAddress& client, uint64_t now_ms);
  // Forgets a connection (closed). Does nothing for one never added.
  void remove(TcpSlot& slot) noexcept;
  // Busy -> idle puts it last (idle the shortest); idle -> busy takes it out of the order.
  void set_idle(TcpSlot& slot, bool is_idle, uint64_t now_ms) noexcept;
  // The connection has been answered: from now on it may go whenever it is idle.
  void set_served(TcpSlot& slot, uint64_t now_ms) noexcept;

  size_t size() const noexcept { return size_; }
  size_t idle_count() const noexcept { return idle_count_; }
  size_t max_connections() const noexcept { return max_connections_; }
  size_t max_per_client() const noexcept { return max_per_client_; }
  // Connections held by `client`'s key.
  size_t client_count(const IpAddress& client) const noexcept;
  // The connection a newcomer would close at the cap now (nullptr: none may go).
  const TcpSlot* idle_longest(uint64_t now_ms) const noexcept {
    return pick(idle_[kServed], idle_[kFresh], now_ms);
  }
  // Above 3/4 of the cap: the worker shortens the idle timeout it applies and advertises
  // (RFC 7828 6.2: a server under pressure signals a lower timeout).
  bool is_under_pressure() const noexcept { return size_ * 4 > max_connections_ * 3; }

  // The key one client is counted under: IPv4 (and v4-mapped) by address, IPv6 by /64, since
  // a single IPv6 host holds a whole /64 (RFC 7421).
  static IpAddress client_key(const IpAddress& address) noexcept;

 private:
  struct List {
    TcpSlot* head = nullptr;  // idle longest
    TcpSlot* tail = nullptr;  // idle the shortest
  };
  static constexpr int kServed = 0;
  static constexpr int kFresh = 1;
  struct ClientEntry {
    size_t count = 0;
    List idle[2];  // by kind
  };
  struct KeyHash {
    size_t operator()(const IpAddress& a) const noexcept;
  };

  static void push_back(List& list, TcpSlot& slot, TcpSlot::Links TcpSlot::*links) noexcept;
  static void unlink(List& list, TcpSlot& slot, TcpSlot::Links TcpSlot::*links) noexcept;
  // The one idle longest of the served head and the fresh head past its grace.
  static TcpSlot* pick(const List& served, const List& fresh, uint64_t now_ms) noexcept;

  size_t max_connections_;
  size_t max_per_client_;
  size_t size_ = 0;
  size_t idle_count_ = 0;
  List idle_[2];  // by kind
  std::unordered_map<IpAddress, ClientEntry, KeyHash> clients_;
};

}  // namespace geodns::server
