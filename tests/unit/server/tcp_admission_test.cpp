// TcpAdmission without sockets: which connection gives way at the cap and at a client's
// limit, the idle order, and the bookkeeping as connections come and go.
#include "server/tcp_admission.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

namespace geodns::server {
namespace {

// Past every fresh connection's grace (the tests add at 0 and touch at 1).
constexpr uint64_t kLater = 10 * kFreshGraceMs;

IpAddress v4(uint8_t last) {
  return IpAddress::v4(192, 0, 2, last);
}
IpAddress v6(const char* text) {
  return *IpAddress::parse(text);
}

TEST(TcpAdmission, AdmitsWhileThereIsRoom) {
  TcpAdmission admission(3, 3);
  std::array<TcpSlot, 3> slots;
  for (uint8_t i = 0; i < 3; ++i) {
    const auto d = admission.decide(v4(i), kLater);
    EXPECT_TRUE(d.admit);
    EXPECT_EQ(d.victim, nullptr);
    admission.add(slots[i], v4(i), 0);
    EXPECT_TRUE(slots[i].is_admitted());
    EXPECT_TRUE(slots[i].is_idle()) << "a new connection has nothing in progress";
  }
  EXPECT_EQ(admission.size(), 3U);
  EXPECT_EQ(admission.idle_count(), 3U);
}

TEST(TcpAdmission, AtTheCapTheConnectionIdleLongestGoes) {
  TcpAdmission admission(3, 3);
  std::array<TcpSlot, 3> slots;
  for (uint8_t i = 0; i < 3; ++i) admission.add(slots[i], v4(i), 0);
  // slots[0] answers a query: busy, then idle again, now the most recently idle.
  admission.set_idle(slots[0], false, 1);
  admission.set_idle(slots[0], true, 1);
  auto d = admission.decide(v4(9), kLater);
  EXPECT_TRUE(d.admit);
  EXPECT_FALSE(d.by_client_limit);
  EXPECT_EQ(d.victim, &slots[1]);
  admission.remove(slots[1]);
  TcpSlot newcomer;
  admission.add(newcomer, v4(9), 0);
  EXPECT_EQ(admission.size(), 3U);
  // Next in the idle order: slots[2], then slots[0], then the newcomer.
  EXPECT_EQ(admission.idle_longest(kLater), &slots[2]);
  admission.remove(slots[2]);
  EXPECT_EQ(admission.idle_longest(kLater), &slots[0]);
  admission.remove(slots[0]);
  EXPECT_EQ(admission.idle_longest(kLater), &newcomer);
}

TEST(TcpAdmission, BusyConnectionsAreNeverChosen) {
  TcpAdmission admission(3, 3);
  std::array<TcpSlot, 3> slots;
  for (uint8_t i = 0; i < 3; ++i) admission.add(slots[i], v4(i), 0);
  admission.set_idle(slots[0], false, 1);  // a query half read
  admission.set_idle(slots[1], false, 1);  // an answer being written
  auto d = admission.decide(v4(9), kLater);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.victim, &slots[2]) << "the only idle one, though newest";
  admission.set_idle(slots[2], false, 1);
  d = admission.decide(v4(9), kLater);
  EXPECT_FALSE(d.admit) << "every connection busy: refuse rather than drop an answer";
  EXPECT_EQ(d.victim, nullptr);
  EXPECT_EQ(admission.idle_count(), 0U);
  // One answer finishes: it can make room again.
  admission.set_idle(slots[1], true, 1);
  d = admission.decide(v4(9), kLater);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.victim, &slots[1]);
}

// A connection never answered is spared for kFreshGraceMs: a burst of newcomers must not close
// each other before any query is read. An answered one may go at once when idle.
TEST(TcpAdmission, FreshConnectionsHaveAGraceServedOnesDoNot) {
  TcpAdmission admission(2, 2);
  std::array<TcpSlot, 2> slots;
  admission.add(slots[0], v4(1), 100);
  admission.add(slots[1], v4(2), 100);
  auto d = admission.decide(v4(3), 100 + kFreshGraceMs - 1);
  EXPECT_FALSE(d.admit) << "both fresh and within their grace";
  EXPECT_EQ(admission.idle_longest(100 + kFreshGraceMs - 1), nullptr);
  d = admission.decide(v4(3), 100 + kFreshGraceMs);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.victim, &slots[0]) << "past the grace, a silent client gives way";
  // slots[1] is answered at 150 and idle again at 160: it may go though just answered.
  admission.set_idle(slots[1], false, 150);
  admission.set_served(slots[1], 150);
  admission.set_idle(slots[1], true, 160);
  d = admission.decide(v4(3), 161);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.victim, &slots[1]);
  // Of a served one and a fresh one past its grace, the one idle longer goes.
  d = admission.decide(v4(3), 100 + kFreshGraceMs);
  EXPECT_EQ(d.victim, &slots[0]) << "fresh since 100, served idle since 160";
}

TEST(TcpAdmission, SetServedKeepsAnIdleConnectionIdle) {
  TcpAdmission admission(1, 1);
  TcpSlot slot;
  admission.add(slot, v4(1), 0);
  admission.set_served(slot, 5);
  admission.set_served(slot, 6);
  EXPECT_TRUE(slot.is_idle());
  EXPECT_EQ(admission.idle_count(), 1U);
  EXPECT_EQ(admission.idle_longest(6), &slot);
  admission.remove(slot);
  EXPECT_EQ(admission.idle_count(), 0U);
  EXPECT_EQ(admission.idle_longest(6), nullptr);
}

TEST(TcpAdmission, SetIdleTwiceKeepsTheOrder) {
  TcpAdmission admission(2, 2);
  std::array<TcpSlot, 2> slots;
  admission.add(slots[0], v4(1), 0);
  admission.add(slots[1], v4(2), 0);
  admission.set_idle(slots[0], true, 1);  // already idle: stays first
  EXPECT_EQ(admission.idle_longest(kLater), &slots[0]);
  EXPECT_EQ(admission.idle_count(), 2U);
  admission.set_idle(slots[1], false, 1);
  admission.set_idle(slots[1], false, 1);
  EXPECT_EQ(admission.idle_count(), 1U);
}

TEST(TcpAdmission, OneClientGivesUpItsOwnIdleConnection) {
  TcpAdmission admission(10, 2);
  std::array<TcpSlot, 2> mine;
  TcpSlot other;
  admission.add(other, v4(7), 0);  // idle longest of the worker, but another client's
  admission.add(mine[0], v4(1), 0);
  admission.add(mine[1], v4(1), 0);
  EXPECT_EQ(admission.client_count(v4(1)), 2U);
  auto d = admission.decide(v4(1), kLater);
  EXPECT_TRUE(d.admit);
  EXPECT_TRUE(d.by_client_limit);
  EXPECT_EQ(d.victim, &mine[0]) << "never another client's connection";
  // Both of its connections busy: the client is refused, though the worker has room.
  admission.set_idle(mine[0], false, 1);
  admission.set_idle(mine[1], false, 1);
  d = admission.decide(v4(1), kLater);
  EXPECT_FALSE(d.admit);
  EXPECT_TRUE(d.by_client_limit);
  // Another client is admitted meanwhile.
  d = admission.decide(v4(8), kLater);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.victim, nullptr);
}

TEST(TcpAdmission, ClientLimitIsClampedToTheCap) {
  TcpAdmission zero(4, 0);
  EXPECT_EQ(zero.max_per_client(), 1U);
  TcpAdmission big(4, 100);
  EXPECT_EQ(big.max_per_client(), 4U);
  TcpAdmission no_cap(0, 0);
  EXPECT_EQ(no_cap.max_connections(), 1U);
}

TEST(TcpAdmission, Ipv6ClientsCountByTheirSlash64AndMappedV4ByAddress) {
  EXPECT_EQ(TcpAdmission::client_key(v6("2001:db8:1:2:aaaa::1")),
            TcpAdmission::client_key(v6("2001:db8:1:2:bbbb::9")));
  EXPECT_NE(TcpAdmission::client_key(v6("2001:db8:1:2::1")),
            TcpAdmission::client_key(v6("2001:db8:1:3::1")));
  EXPECT_EQ(TcpAdmission::client_key(v6("::ffff:192.0.2.1")), v4(1));
  TcpAdmission admission(10, 1);
  TcpSlot a;
  admission.add(a, v6("2001:db8::1"), 0);
  admission.set_idle(a, false, 1);
  EXPECT_FALSE(admission.decide(v6("2001:db8::2"), kLater).admit) << "same /64, over its limit";
  EXPECT_TRUE(admission.decide(v6("2001:db8:0:1::2"), kLater).admit);
}

TEST(TcpAdmission, RemoveFreesTheClientAndIgnoresStrangers) {
  TcpAdmission admission(4, 1);
  TcpSlot a;
  TcpSlot never_added;
  admission.remove(never_added);
  admission.set_idle(never_added, true, 1);
  EXPECT_FALSE(never_added.is_admitted());
  EXPECT_FALSE(never_added.is_idle());
  admission.add(a, v4(1), 0);
  admission.remove(a);
  admission.remove(a);
  EXPECT_FALSE(a.is_admitted());
  EXPECT_EQ(admission.size(), 0U);
  EXPECT_EQ(admission.idle_count(), 0U);
  EXPECT_EQ(admission.client_count(v4(1)), 0U);
  EXPECT_EQ(admission.idle_longest(kLater), nullptr);
  // The client starts afresh: admitted without closing anything.
  const auto d = admission.decide(v4(1), kLater);
  EXPECT_TRUE(d.admit);
  EXPECT_EQ(d.victim, nullptr);
}

TEST(TcpAdmission, PressureAboveThreeQuartersOfTheCap) {
  TcpAdmission admission(8, 8);
  std::array<TcpSlot, 7> slots;
  for (uint8_t i = 0; i < 6; ++i) admission.add(slots[i], v4(i), 0);
  EXPECT_FALSE(admission.is_under_pressure()) << "6 of 8 is exactly 3/4";
  admission.add(slots[6], v4(6), 0);
  EXPECT_TRUE(admission.is_under_pressure());
  admission.remove(slots[6]);
  EXPECT_FALSE(admission.is_under_pressure());
}

// A long random-ish walk against a plain model: the lists stay consistent with the counts.
TEST(TcpAdmission, ChurnKeepsTheBookkeepingExact) {
  constexpr size_t kCap = 16;
  TcpAdmission admission(kCap, 4);
  std::vector<std::unique_ptr<TcpSlot>> open;
  std::vector<IpAddress> owner;
  uint32_t state = 12345;
  auto next = [&state]() {
    state = state * 1103515245U + 12345U;
    return state >> 16;
  };
  for (int step = 0; step < 5000; ++step) {
    const uint32_t action = next() % 4;
    if (action == 0 || open.empty()) {
      const IpAddress client = v4(static_cast<uint8_t>(next() % 6));
      const auto d = admission.decide(client, kLater);
      if (!d.admit) {
        // Refused only when nothing it could close is idle.
        if (d.by_client_limit) {
          ASSERT_EQ(admission.client_count(client), 4U);
        } else {
          ASSERT_EQ(admission.size(), kCap);
          ASSERT_EQ(admission.idle_count(), 0U);
        }
        continue;
      }
      if (d.victim != nullptr) {
        ASSERT_TRUE(d.victim->is_idle());
        for (size_t i = 0; i < open.size(); ++i) {
          if (open[i].get() == d.victim) {
            if (d.by_client_limit) {
              ASSERT_EQ(owner[i], client);
            }
            admission.remove(*open[i]);
            open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
            owner.erase(owner.begin() + static_cast<std::ptrdiff_t>(i));
            break;
          }
        }
      }
      open.push_back(std::make_unique<TcpSlot>());
      owner.push_back(client);
      admission.add(*open.back(), client, 0);
    } else if (action == 1) {
      const size_t i = next() % open.size();
      admission.set_idle(*open[i], !open[i]->is_idle(), 1);
    } else if (action == 3) {
      admission.set_served(*open[next() % open.size()], 1);
    } else {
      const size_t i = next() % open.size();
      admission.remove(*open[i]);
      open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
      owner.erase(owner.begin() + static_cast<std::ptrdiff_t>(i));
    }
    ASSERT_LE(admission.size(), kCap);
    ASSERT_EQ(admission.size(), open.size());
    size_t idle = 0;
    for (const auto& s : open) idle += s->is_idle() ? 1 : 0;
    ASSERT_EQ(admission.idle_count(), idle);
  }
  for (auto& s : open) admission.remove(*s);
  EXPECT_EQ(admission.size(), 0U);
  EXPECT_EQ(admission.idle_longest(kLater), nullptr);
}

}  // namespace
}  // namespace geodns::server
