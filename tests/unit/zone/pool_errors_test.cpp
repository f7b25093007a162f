// Every way a pool, a datacenter's min_up/capacity or a spillover can be written wrong: each is
// reported with the file, line and column of the culprit (one table row per error).
#include <gtest/gtest.h>

#include <string>

#include "error_case.h"
#include "zone/loader.h"

namespace geodns::zone {
namespace {

std::string base() {
  return two_datacenter_zone();
}

// Lines 16-18: a pool `eu` of both datacenters by weight.
std::string with_pool() {
  return base() + "[pools.eu]\npolicy = \"weighted\"\nmembers = { fra = 70, ams = 30 }\n";
}

using Case = ErrorCase;

class PoolErrors : public ::testing::TestWithParam<Case> {};

TEST_P(PoolErrors, ReportsPositionAndMessage) {
  expect_load_error(GetParam());
}

// clang-format off
const Case kCases[] = {
  // --- pools ---
  {"UnknownMember", base() + "[pools.eu]\npolicy = \"weighted\"\nmembers = { fra = 70, amz = 30 }\n", 18, 23, "unknown datacenter \"amz\""},
  {"UnknownPolicy", base() + "[pools.eu]\npolicy = \"random\"\nmembers = [\"fra\"]\n", 17, 10, "unknown pool policy \"random\""},
  {"MissingPolicy", base() + "[pools.eu]\nmembers = [\"fra\"]\n", 16, 1, "missing policy"},
  {"MissingMembers", base() + "[pools.eu]\npolicy = \"failover\"\n", 16, 1, "pool \"eu\" has no members"},
  {"EmptyMembers", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = []\n", 18, 11, "pool \"eu\" has no members"},
  {"EmptyWeightTable", base() + "[pools.eu]\npolicy = \"weighted\"\nmembers = {}\n", 18, 11, "pool \"eu\" has no members"},
  {"MembersNotNames", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = [1]\n", 18, 12, "members must be a list of names"},
  {"DuplicateMember", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = [\"fra\", \"fra\"]\n", 18, 19, "\"fra\" listed twice in pool \"eu\""},
  {"SelfCycle", base() + "[pools.a]\npolicy = \"failover\"\nmembers = [\"a\"]\n", 18, 12, "pool \"a\" contains itself: a -> a"},
  {"Cycle", base() + "[pools.a]\npolicy = \"failover\"\nmembers = [\"b\"]\n[pools.b]\npolicy = \"failover\"\nmembers = [\"fra\", \"a\"]\n", 21, 19, "pool \"a\" contains itself: a -> b -> a"},
  {"TooDeep", base() +
      "[pools.p1]\npolicy = \"failover\"\nmembers = [\"p2\"]\n"
      "[pools.p2]\npolicy = \"failover\"\nmembers = [\"p3\"]\n"
      "[pools.p3]\npolicy = \"failover\"\nmembers = [\"p4\"]\n"
      "[pools.p4]\npolicy = \"failover\"\nmembers = [\"p5\"]\n"
      "[pools.p5]\npolicy = \"failover\"\nmembers = [\"fra\"]\n", 18, 12, "pools nest at most 4 deep: p1 -> p2 -> p3 -> p4 -> p5"},
  {"WeightsOnFailover", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = { fra = 1 }\n", 18, 11, "members with weights are only for pool policies weighted and hashed"},
  {"WeightTooBig", base() + "[pools.eu]\npolicy = \"weighted\"\nmembers = { fra = 1001 }\n", 18, 19, "weight of \"fra\" must be 1..1000"},
  {"PickTooBig", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = [\"fra\", \"ams\"]\npick = 3\n", 19, 8, "pick 3 exceeds the pool's 2 members"},
  {"PickZero", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = [\"fra\"]\npick = 0\n", 19, 8, "pick must be 1..64"},
  {"PickOnRoundrobin", base() + "[pools.eu]\npolicy = \"roundrobin\"\nmembers = [\"fra\"]\npick = 1\n", 19, 8, "pick is not for policy \"roundrobin\""},
  {"SpilloverOnWeighted", base() + "[pools.eu]\npolicy = \"weighted\"\nmembers = [\"fra\"]\nspillover = true\n", 19, 13, "spillover is only for pool policies failover and nearest"},
  {"SpilloverNotBool", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = [\"fra\"]\nspillover = 1\n", 19, 13, "spillover must be true or false"},
  {"NearestPoolOfPools", with_pool() + "[pools.near]\npolicy = \"nearest\"\nmembers = [\"eu\"]\n", 21, 12, "a nearest pool ranks datacenters by distance; \"eu\" is a pool"},
  {"NearestPoolNoLocation", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\n[pools.near]\npolicy = \"nearest\"\nmembers = [\"fra\", \"iad\"]\n", 20, 19, "datacenter \"iad\" has no location"},
  {"PoolNamedLikeDatacenter", base() + "[pools.fra]\npolicy = \"failover\"\nmembers = [\"ams\"]\n", 16, 1, "\"fra\" is both a datacenter and a pool"},
  {"UnknownPoolKey", base() + "[pools.eu]\npolicy = \"failover\"\nmembers = [\"fra\"]\nanswers = 2\n", 19, 1, "unknown key \"answers\" in [pools.eu]"},

  // --- pools in rules ---
  {"UnknownNameInMap", with_pool() + "[steer.www]\npolicy = \"geo\"\nmap.EU = [\"eu\", \"iad\"]\nmap.default = [\"fra\"]\n", 21, 17, "unknown datacenter \"iad\""},
  {"PoolListedTwiceInMap", with_pool() + "[steer.www]\npolicy = \"geo\"\nmap.default = [\"eu\", \"eu\"]\n", 21, 22, "\"eu\" listed twice"},
  {"NearestRuleWithPool", with_pool() + "[steer.www]\npolicy = \"nearest\"\ndatacenters = [\"fra\", \"eu\"]\n", 21, 23, "\"eu\" is a pool"},
  {"SpilloverOnWeightedRule", with_pool() + "[steer.www]\npolicy = \"weighted\"\nweights = { eu = 1 }\nspillover = true\n", 22, 13, "spillover is only for policies geo, nearest and failover"},
  {"WeightsOnFailoverRule", with_pool() + "[steer.www]\npolicy = \"failover\"\ndatacenters = [\"eu\"]\nweights = { eu = 1 }\n", 22, 11, "weights is only for policies \"weighted\" and \"hashed\""},
  {"HashedRuleNeedsMembers", base() + "[steer.www]\npolicy = \"hashed\"\n", 16, 1, "needs weights"},

  // A target datacenter (CNAME) reached through a pool that answers with several at once.
  {"TargetInRoundrobinPool", base() + "[checks.cdn]\ntype = \"tcp\"\nport = 80\nprobe_address = \"192.0.2.81\"\n[datacenters.edge]\ntarget = \"edge.example.net.\"\ncheck = \"cdn\"\n[pools.both]\npolicy = \"roundrobin\"\nmembers = [\"fra\", \"edge\"]\n[steer.www]\npolicy = \"failover\"\ndatacenters = [\"both\"]\n", 26, 8, "pool \"both\" answers from several datacenters at once and cannot use \"edge\""},

  // --- datacenter min_up and capacity ---
  {"MinUpZero", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\nmin_up = 0\n", 18, 10, "min_up must be 1..1000"},
  {"MinUpPercentTooBig", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\nmin_up = \"150%\"\n", 18, 10, "min_up must be a count (2) or a percentage"},
  {"MinUpNotPercent", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\nmin_up = \"half\"\n", 18, 10, "min_up must be a count (2) or a percentage"},
  {"MinUpFloat", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\nmin_up = 0.5\n", 18, 10, "min_up must be a count (2) or a percentage"},
  {"AddressWeightUnknown", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\naddress_weights = { \"198.51.100.2\" = 3 }\n", 18, 21, "\"198.51.100.2\" is not an address of datacenter \"iad\""},
  {"AddressWeightZero", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\naddress_weights = { \"198.51.100.1\" = 0 }\n", 18, 38, "weight of \"198.51.100.1\" must be 1..1000"},
  {"CapacityZero", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\ncapacity = 0\n", 18, 12, "capacity must be 1..1000000"},
  // Capacity on some datacenters a spillover spreads over and not on others (a share of 1).
  {"CapacityMixedInSpilloverRule", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\ncapacity = 300\n[steer.www]\npolicy = \"failover\"\nspillover = true\ndatacenters = [\"fra\", \"ams\", \"iad\"]\n", 19, 1, "datacenters spills over by capacity, but datacenter \"iad\" sets capacity and \"ams\" does not"},
  {"CapacityMixedInSpilloverPool", base() + "[datacenters.iad]\naddresses = [\"198.51.100.1\"]\ncapacity = 300\n[pools.eu]\npolicy = \"failover\"\nmembers = [\"fra\", \"ams\", \"iad\"]\nspillover = true\n", 19, 1, "pool \"eu\" spills over by capacity, but datacenter \"iad\" sets capacity and \"ams\" does not"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(All, PoolErrors, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace geodns::zone
