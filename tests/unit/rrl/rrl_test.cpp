// The limiter alone: buckets, refill, slip, keys, table pressure. Time is a ManualClock.
#include "server/rrl.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "rrl_helpers.h"

namespace geodns::server::testing {
namespace {

using namespace std::chrono_literals;

constexpr uint8_t kNoError = 0;
constexpr uint8_t kNxdomain = 3;
constexpr uint8_t kRefused = 5;

class RrlTest : public ::testing::Test {
 protected:
  RrlConfig config(uint32_t rate, uint32_t slip, std::chrono::seconds window = 1s) {
    RrlConfig c;
    c.enabled = true;
    c.responses_per_second = rate;
    c.slip = slip;
    c.window = window;
    c.clock = &clock_;
    return c;
  }

  RrlAction once(Rrl& rrl, const char* client, const std::string& name, uint8_t rcode = kNoError,
                 uint16_t qtype = 1) {
    const dns::Query q = parsed(name, qtype);
    const auto response = header_with_rcode(rcode);
    return rrl.account(*IpAddress::parse(client), q, response);
  }

  // How many of `n` back-to-back responses (no time passing) are sent.
  int sent_of(Rrl& rrl, int n, const char* client, const std::string& name,
              uint8_t rcode = kNoError) {
    int sent = 0;
    for (int i = 0; i < n; ++i) sent += once(rrl, client, name, rcode) == RrlAction::send;
    return sent;
  }

  ManualClock clock_;
};

TEST_F(RrlTest, DisabledByDefaultAndSendsEverything) {
  Rrl rrl(RrlConfig{}, 1);
  EXPECT_FALSE(rrl.enabled());
  EXPECT_EQ(sent_of(rrl, 1000, "192.0.2.1", "www.example.com"), 1000);
}

TEST_F(RrlTest, ZeroRateMeansDisabled) {
  Rrl rrl(config(0, 2), 1);
  EXPECT_FALSE(rrl.enabled());
}

TEST_F(RrlTest, BurstOfOneSecondThenLimited) {
  Rrl rrl(config(20, 2), 1);
  EXPECT_EQ(sent_of(rrl, 20, "192.0.2.1", "www.example.com"), 20);
  EXPECT_NE(once(rrl, "192.0.2.1", "www.example.com"), RrlAction::send);
}

TEST_F(RrlTest, RefillsAtTheConfiguredRate) {
  Rrl rrl(config(20, 0), 1);
  EXPECT_EQ(sent_of(rrl, 25, "192.0.2.1", "www.example.com"), 20);
  clock_.advance(49ms);  // 20/s = one token per 50 ms
  EXPECT_EQ(once(rrl, "192.0.2.1", "www.example.com"), RrlAction::drop);
  clock_.advance(1ms);
  EXPECT_EQ(once(rrl, "192.0.2.1", "www.example.com"), RrlAction::send);
  EXPECT_EQ(once(rrl, "192.0.2.1", "www.example.com"), RrlAction::drop);
  // A steady 40 queries/s for 10 s gets 20/s through.
  int sent = 0;
  for (int i = 0; i < 400; ++i) {
    clock_.advance(25ms);
    sent += once(rrl, "192.0.2.1", "www.example.com") == RrlAction::send;
  }
  EXPECT_EQ(sent, 200);
  // A long silence refills the bucket only up to its capacity.
  clock_.advance(1h);
  EXPECT_EQ(sent_of(rrl, 30, "192.0.2.1", "www.example.com"), 20);
}

TEST_F(RrlTest, WindowScalesTheBurst) {
  Rrl rrl(config(20, 0, 3s), 1);
  EXPECT_EQ(sent_of(rrl, 100, "192.0.2.1", "www.example.com"), 60);
}

TEST_F(RrlTest, SlipTwoAlternatesDropAndTruncate) {
  Rrl rrl(config(5, 2), 1);
  EXPECT_EQ(sent_of(rrl, 5, "192.0.2.1", "www.example.com"), 5);
  std::vector<RrlAction> got;
  for (int i = 0; i < 6; ++i) got.push_back(once(rrl, "192.0.2.1", "www.example.com"));
  const std::vector<RrlAction> want = {RrlAction::drop, RrlAction::slip, RrlAction::drop,
                                       RrlAction::slip, RrlAction::drop, RrlAction::slip};
  EXPECT_EQ(got, want);
  EXPECT_EQ(rrl.counters().dropped.load(), 3U);
  EXPECT_EQ(rrl.counters().slipped.load(), 3U);
}

TEST_F(RrlTest, SlipZeroDropsAllAndSlipOneTruncatesAll) {
  Rrl drop_all(config(1, 0), 1);
  Rrl slip_all(config(1, 1), 1);
  EXPECT_EQ(once(drop_all, "192.0.2.1", "a.example.com"), RrlAction::send);
  EXPECT_EQ(once(slip_all, "192.0.2.1", "a.example.com"), RrlAction::send);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(once(drop_all, "192.0.2.1", "a.example.com"), RrlAction::drop);
    EXPECT_EQ(once(slip_all, "192.0.2.1", "a.example.com"), RrlAction::slip);
  }
}

TEST_F(RrlTest, ClientsShareABucketPerSlash24AndSlash56) {
  Rrl rrl(config(10, 0), 1);
  EXPECT_EQ(sent_of(rrl, 6, "192.0.2.1", "www.example.com"), 6);
  EXPECT_EQ(sent_of(rrl, 6, "192.0.2.200", "www.example.com"), 4);  // same /24
  EXPECT_EQ(sent_of(rrl, 6, "192.0.3.1", "www.example.com"), 6);    // next /24
  EXPECT_EQ(sent_of(rrl, 6, "2001:db8:0:ff::1", "www.example.com"), 6);
  EXPECT_EQ(sent_of(rrl, 6, "2001:db8:0:ab:1:2:3:4", "www.example.com"), 4);  // same /56
  EXPECT_EQ(sent_of(rrl, 6, "2001:db8:0:100::1", "www.example.com"), 6);      // next /56
}

TEST_F(RrlTest, V4MappedClientIsItsV4Network) {
  Rrl rrl(config(10, 0), 1);
  EXPECT_EQ(sent_of(rrl, 6, "192.0.2.1", "www.example.com"), 6);
  EXPECT_EQ(sent_of(rrl, 6, "::ffff:192.0.2.9", "www.example.com"), 4);
}

TEST_F(RrlTest, AnswersAreLimitedPerNameAndType) {
  Rrl rrl(config(3, 0), 1);
  EXPECT_EQ(sent_of(rrl, 5, "192.0.2.1", "www.example.com"), 3);
  EXPECT_EQ(sent_of(rrl, 5, "192.0.2.1", "WWW.Example.COM"), 0);  // case folds
  EXPECT_EQ(sent_of(rrl, 5, "192.0.2.1", "mail.example.com"), 3);
  int aaaa = 0;
  for (int i = 0; i < 5; ++i)
    aaaa += once(rrl, "192.0.2.1", "www.example.com", 0, 28) == RrlAction::send;
  EXPECT_EQ(aaaa, 3);
}

TEST_F(RrlTest, RandomSubdomainNxdomainsShareTheParentsBucket) {
  Rrl rrl(config(5, 0), 1);
  int sent = 0;
  for (int i = 0; i < 50; ++i) {
    sent += once(rrl, "192.0.2.1", "r" + std::to_string(i) + ".example.com", kNxdomain) ==
            RrlAction::send;
  }
  EXPECT_EQ(sent, 5);
  // ... which is not the bucket of positive answers for the same names.
  EXPECT_EQ(once(rrl, "192.0.2.1", "r1.example.com", kNoError), RrlAction::send);
}

TEST_F(RrlTest, ErrorsAreLimitedPerClientNetworkWhateverTheName) {
  Rrl rrl(config(5, 0), 1);
  int sent = 0;
  for (int i = 0; i < 50; ++i) {
    sent += once(rrl, "192.0.2.1", "n" + std::to_string(i) + ".example.org", kRefused) ==
            RrlAction::send;
  }
  EXPECT_EQ(sent, 5);
  // A response too short for a header, or to a query without a question, is an error too.
  dns::Query no_question;
  const std::vector<uint8_t> empty;
  EXPECT_EQ(rrl.account(*IpAddress::parse("192.0.2.1"), no_question, empty), RrlAction::drop);
}

TEST_F(RrlTest, ClockGoingBackwardsRefillsNothing) {
  Rrl rrl(config(10, 0), 1);
  EXPECT_EQ(sent_of(rrl, 10, "192.0.2.1", "www.example.com"), 10);
  clock_.advance(-10s);  // steady clocks do not do this, but a bug elsewhere must not refill
  EXPECT_EQ(once(rrl, "192.0.2.1", "www.example.com"), RrlAction::drop);
}

TEST_F(RrlTest, FullTableEvictsLeastRecentlyUsedAndKeepsWorking) {
  RrlConfig c = config(2, 0);
  c.table_entries = 4;  // one set of four buckets
  Rrl rrl(c, 1);
  // Five keys cycling through four buckets: LRU evicts each one just before it comes back,
  // so every key arrives with a fresh, full bucket (the cost of a table that is too small).
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 5; ++k) {
      const std::string name = "k" + std::to_string(k) + ".example.com";
      clock_.advance(1ms);  // orders the buckets by use; refills almost nothing
      EXPECT_EQ(once(rrl, "192.0.2.1", name), RrlAction::send) << name;
    }
  }
  EXPECT_GT(rrl.counters().evicted.load(), 0U);
  // Four keys fit: their state is kept, so the third response of each is limited.
  Rrl fits(c, 1);
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 4; ++k) {
      const std::string name = "k" + std::to_string(k) + ".example.com";
      clock_.advance(1ms);
      EXPECT_EQ(once(fits, "192.0.2.1", name) == RrlAction::send, round < 2) << name;
    }
  }
  EXPECT_EQ(fits.counters().evicted.load(), 0U);
}

TEST_F(RrlTest, QuietBucketsAreReusedWithoutCountingEvictions) {
  RrlConfig c = config(2, 0);
  c.table_entries = 4;
  Rrl rrl(c, 1);
  for (int k = 0; k < 4; ++k) once(rrl, "192.0.2.1", "k" + std::to_string(k) + ".example.com");
  clock_.advance(2s);  // every bucket has refilled: forgetting them loses nothing
  for (int k = 4; k < 8; ++k) once(rrl, "192.0.2.1", "k" + std::to_string(k) + ".example.com");
  EXPECT_EQ(rrl.counters().evicted.load(), 0U);
}

TEST_F(RrlTest, SeedChangesBucketPlacementNotBehaviour) {
  for (uint64_t seed : {0ULL, 1ULL, 0xFFFFFFFFFFFFFFFFULL}) {
    Rrl rrl(config(4, 0), seed);
    EXPECT_EQ(sent_of(rrl, 10, "192.0.2.1", "www.example.com"), 4) << seed;
  }
}

}  // namespace
}  // namespace geodns::server::testing
