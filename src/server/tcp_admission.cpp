#include "server/tcp_admission.h"

#include <algorithm>
#include <cstring>

namespace geodns::server {

TcpAdmission::TcpAdmission(size_t max_connections, size_t max_per_client)
    : max_connections_(std::max<size_t>(1, max_connections)),
      max_per_client_(std::clamp<size_t>(max_per_client, 1, max_connections_)) {
  // At most one entry per connection: sized once, so admitting never rehashes.
  clients_.reserve(max_connections_);
}

IpAddress TcpAdmission::client_key(const IpAddress& address) noexcept {
  const IpAddress plain = address.unmapped();
  return plain.is_v6() ? plain.masked(64) : plain;
}

size_t TcpAdmission::KeyHash::operator()(const IpAddress& a) const noexcept {
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, a.bytes.data(), 8);
  std::memcpy(&low, a.bytes.data() + 8, 8);
  // A multiplicative mix: keys differ in few bits (one /24 of resolvers, one /64 each).
  const uint64_t h = (high * 0x9E3779B97F4A7C15ULL) ^ (low + a.family) * 0xC2B2AE3D27D4EB4FULL;
  return static_cast<size_t>(h ^ (h >> 29));
}

size_t TcpAdmission::client_count(const IpAddress& client) const noexcept {
  const auto it = clients_.find(client_key(client));
  return it == clients_.end() ? 0 : it->second.count;
}

void TcpAdmission::push_back(List& list, TcpSlot& slot, TcpSlot::Links TcpSlot::*links) noexcept {
  TcpSlot::Links& l = slot.*links;
  l.prev = list.tail;
  l.next = nullptr;
  if (list.tail != nullptr) {
    (list.tail->*links).next = &slot;
  } else {
    list.head = &slot;
  }
  list.tail = &slot;
}

void TcpAdmission::unlink(List& list, TcpSlot& slot, TcpSlot::Links TcpSlot::*links) noexcept {
  TcpSlot::Links& l = slot.*links;
  if (l.prev != nullptr) {
    (l.prev->*links).next = l.next;
  } else {
    list.head = l.next;
  }
  if (l.next != nullptr) {
    (l.next->*links).prev = l.prev;
  } else {
    list.tail = l.prev;
  }
  l.prev = nullptr;
  l.next = nullptr;
}

TcpSlot* TcpAdmission::pick(const List& served, const List& fresh, uint64_t now_ms) noexcept {
  TcpSlot* old_fresh = fresh.head;
  if (old_fresh != nullptr && now_ms < old_fresh->idle_since_ms_ + kFreshGraceMs) {
    old_fresh = nullptr;  // the oldest fresh one is within its grace, so all are
  }
  if (served.head == nullptr) return old_fresh;
  if (old_fresh == nullptr) return served.head;
  return old_fresh->idle_since_ms_ < served.head->idle_since_ms_ ? old_fresh : served.head;
}

TcpAdmission::Decision TcpAdmission::decide(const IpAddress& client,
                                            uint64_t now_ms) const noexcept {
  Decision d;
  // A limit as large as the cap is the cap itself (every connection is then the client's).
  const auto it =
      max_per_client_ < max_connections_ ? clients_.find(client_key(client)) : clients_.end();
  if (it != clients_.end() && it->second.count >= max_per_client_) {
    // One address never takes more than its share, even while the worker has room: it gives
    // up its own idle connection, never another client's.
    d.by_client_limit = true;
    d.victim = pick(it->second.idle[kServed], it->second.idle[kFresh], now_ms);
    d.admit = d.victim != nullptr;
    return d;
  }
  if (size_ >= max_connections_) {
    d.victim = pick(idle_[kServed], idle_[kFresh], now_ms);
    d.admit = d.victim != nullptr;
  }
  return d;
}

void TcpAdmission::add(TcpSlot& slot, const IpAddress& client, uint64_t now_ms) {
  if (slot.is_admitted()) return;
  slot.key_ = client_key(client);
  ClientEntry& entry = clients_[slot.key_];
  ++entry.count;
  slot.client_ = &entry;
  ++size_;
  slot.is_idle_ = false;
  slot.is_fresh_ = true;
  set_idle(slot, true, now_ms);
}

void TcpAdmission::remove(TcpSlot& slot) noexcept {
  if (!slot.is_admitted()) return;
  set_idle(slot, false, 0);
  auto* entry = static_cast<ClientEntry*>(slot.client_);
  slot.client_ = nullptr;
  --size_;
  if (--entry->count == 0) clients_.erase(slot.key_);
}

void TcpAdmission::set_idle(TcpSlot& slot, bool is_idle, uint64_t now_ms) noexcept {
  if (!slot.is_admitted() || slot.is_idle_ == is_idle) return;
  auto* entry = static_cast<ClientEntry*>(slot.client_);
  const int kind = slot.is_fresh_ ? kFresh : kServed;
  if (is_idle) {
    slot.idle_since_ms_ = now_ms;
    push_back(idle_[kind], slot, &TcpSlot::worker_idle_);
    push_back(entry->idle[kind], slot, &TcpSlot::client_idle_);
    ++idle_count_;
  } else {
    unlink(idle_[kind], slot, &TcpSlot::worker_idle_);
    unlink(entry->idle[kind], slot, &TcpSlot::client_idle_);
    --idle_count_;
  }
  slot.is_idle_ = is_idle;
}

void TcpAdmission::set_served(TcpSlot& slot, uint64_t now_ms) noexcept {
  if (!slot.is_admitted() || !slot.is_fresh_) return;
  const bool was_idle = slot.is_idle_;
  set_idle(slot, false, now_ms);
  slot.is_fresh_ = false;
  if (was_idle) set_idle(slot, true, now_ms);
}

}  // namespace geodns::server
