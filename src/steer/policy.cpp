#include "steer/policy.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include "geo/countries.h"

namespace geodns::steer {
namespace {

uint64_t mix(uint64_t x) noexcept {  // splitmix64 finaliser: spreads a counter over 64 bits
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t address_key(const IpAddress& a) noexcept {
  uint64_t hi = 0;
  uint64_t lo = 0;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  return mix(mix(hi ^ a.family) ^ lo);
}

// Orders `order` by `dist` (km), nearest first. Insertion sort: a handful of candidates, and
// stable, so equal distances keep the configured order.
void sort_by_distance(uint32_t* order, double* dist, size_t n) noexcept {
  for (size_t a = 1; a < n; ++a) {
    const uint32_t o = order[a];
    const double d = dist[a];
    size_t b = a;
    while (b > 0 && dist[b - 1] > d) {
      order[b] = order[b - 1];
      dist[b] = dist[b - 1];
      --b;
    }
    order[b] = o;
    dist[b] = d;
  }
}

const std::vector<DcAddress>& family_addresses(const Datacenter& dc, uint8_t family) noexcept {
  return family == 4 ? dc.v4 : dc.v6;
}

struct DcHealth {
  uint32_t up = 0;
  uint32_t total = 0;
  uint32_t need = 0;  // healthy addresses it needs to count as up (min_up); 0 when total is 0
  Override ov = Override::none;
  bool is_up() const noexcept { return total > 0 && up >= need; }
};

// Inlined: first_up() asks it once or twice per steered query.
[[gnu::always_inline]] inline DcHealth dc_health(const Datacenter& dc, uint8_t family,
                                                 const HealthView& health) noexcept {
  DcHealth h;
  const auto& addrs = family_addresses(dc, family);
  h.total = static_cast<uint32_t>(addrs.size());
  if (h.total > 0) {
    const uint32_t by_percent = (dc.min_up_percent * h.total + 99) / 100;
    h.need = std::clamp(std::max(dc.min_up, by_percent), 1U, h.total);
  }
  h.ov = health.dc_override(dc.id);
  if (h.ov == Override::force_down) return h;  // drained: none of its addresses count
  if (h.ov == Override::force_up) {
    h.up = h.total;
    return h;
  }
  for (const auto& a : addrs) h.up += health.target_up(a.target) ? 1 : 0;
  return h;
}

bool address_up(const Datacenter& dc, const DcAddress& a, const HealthView& health) noexcept {
  const Override ov = health.dc_override(dc.id);
  if (ov == Override::force_down) return false;
  if (ov == Override::force_up) return true;
  return health.target_up(a.target);
}

uint32_t cap_of(const Rule& rule) noexcept {
  return std::min<uint32_t>(rule.answers, static_cast<uint32_t>(kMaxAnswerAddresses));
}

// A uniform number in (0, 1) from 53 bits of a hash.
double unit(uint64_t h) noexcept {
  return (static_cast<double>(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// The datacenters one run of a rule chose, in order.
struct Selection {
  uint32_t dcs[kMaxChosen] = {};
  uint32_t count = 0;
  bool per_subnet = false;
  // Health turned a candidate down on the way (or a spillover happened): only then can a
  // healthy fleet's answer differ, so only then is the all-up run needed.
  bool saw_down = false;
  bool partial = false;  // an answering datacenter has an address of the family down

  bool has(uint32_t dc) const noexcept { return std::find(dcs, dcs + count, dc) != dcs + count; }
  std::span<const uint32_t> chosen() const noexcept { return {dcs, count}; }
};

bool same_set(const Selection& a, const Selection& b) noexcept {
  if (a.count != b.count) return false;
  for (uint32_t i = 0; i < a.count; ++i) {
    if (!b.has(a.dcs[i])) return false;
  }
  return true;
}

enum class Taken : uint8_t { yes, down, absent };

// The hash keys of one query, computed on first use (most rules never hash). Hashed choices
// and spillover follow the client subnet at the granularity the pipeline looks at anyway
// (/24, /56); weighted ones follow the resolver, so that every client of a resolver (which
// caches one answer per name and type at scope 0) sees the same A/AAAA pair.
class Keys {
 public:
  explicit Keys(const ClientView& client) noexcept : client_(client) {}
  unsigned granularity() const noexcept { return client_.address.is_v6() ? 56 : 24; }
  uint64_t subnet() noexcept {
    if (!have_subnet_) {
      subnet_ = address_key(client_.address.masked(granularity()));
      have_subnet_ = true;
    }
    return subnet_;
  }
  uint64_t resolver() noexcept {
    if (!have_resolver_) {
      // Unmapped here, not by the caller: only weighted choices ever need it.
      resolver_ =
          address_key((client_.source.family != 0 ? client_.source : client_.address).unmapped());
      have_resolver_ = true;
    }
    return resolver_;
  }

 private:
  const ClientView& client_;
  uint64_t subnet_ = 0;
  uint64_t resolver_ = 0;
  bool have_subnet_ = false;
  bool have_resolver_ = false;
};

// One run of the rule's lists and pools for one family. `ideal` runs it as if everything were
// up: the answer a healthy fleet would give, against which the real one is compared (degraded
// TTL) and which failing open answers with. Stack only; the trace (explain) is the exception.
class Selector {
 public:
  Selector(const Fleet& fleet, uint8_t family, const HealthView& health, bool ideal,
           const ClientView& client, Keys& keys, Trace* trace) noexcept
      : fleet_(fleet),
        family_(family),
        health_(health),
        ideal_(ideal),
        client_(client),
        keys_(keys),
        trace_(trace) {}

  // Ordered semantics (failover, nearest, a geo list): the first `pick` members that are up.
  // With spillover, a failed member's clients go to the rest ranked by capacity per subnet.
  uint32_t ordered(std::span<const uint32_t> members, const double* distances, uint32_t pick,
                   bool spillover, uint64_t seed) noexcept {
    uint32_t taken = 0;
    size_t k = 0;
    for (; k < members.size() && taken < pick; ++k) {
      const Taken t = take(members[k], distances != nullptr ? distances[k] : -1, nullptr);
      if (t == Taken::yes) {
        ++taken;
      } else if (t == Taken::down && spillover && !ideal_ && k + 1 < members.size()) {
        // gdnsd #126: rather than pile a failed site's whole load onto the next one, spread
        // it over every remaining candidate by capacity. Rendezvous on the client subnet:
        // each resolver keeps its answer while the failure lasts.
        uint64_t caps[kMaxPoolMembers];
        const auto rest = members.subspan(k + 1);
        uint64_t total = 0;
        for (size_t j = 0; j < rest.size(); ++j) {
          caps[j] = capacity_of(rest[j]);
          total += caps[j];
        }
        sel_.per_subnet = true;
        sel_.saw_down = true;
        if (trace_ != nullptr) {
          trace_->steps.push_back("spillover: " + member_name(members[k]) +
                                  " is down; its clients are spread over the rest by capacity "
                                  "(rendezvous hash of the client subnet)");
        }
        taken += ranked(rest, caps, total, pick - taken, keys_.subnet() ^ seed, "capacity");
        return taken;
      }
    }
    if (trace_ != nullptr) {
      // explain shows the whole order, including the members that were not needed.
      for (; k < members.size(); ++k) {
        if (is_pool(members[k])) {
          trace_->steps.push_back(member_name(members[k]) + " not needed");
          continue;
        }
        const Datacenter& dc = fleet_.dcs[members[k]];
        const DcHealth h = dc_health(dc, family_, health_);
        trace_->candidates.push_back(
            Trace::Candidate{members[k], h.up, h.total, h.need, family_, h.ov,
                             distances != nullptr ? distances[k] : -1, via_, "not needed", false});
      }
    }
    return taken;
  }

  // Weighted rendezvous hashing (score = w / -ln u): the member with the best score for this
  // key wins; if it is down the next best does, so removing one member moves only its keys,
  // and keys spread over members in proportion to weight.
  uint32_t ranked(std::span<const uint32_t> members, const uint64_t* weights, uint64_t weight_sum,
                  uint32_t pick, uint64_t key, const char* what) noexcept {
    double score[kMaxPoolMembers];
    bool tried[kMaxPoolMembers] = {};
    const size_t n = std::min(members.size(), kMaxPoolMembers);
    for (size_t k = 0; k < n; ++k) {
      const double u = unit(mix(key ^ seed_of(members[k])));
      score[k] = static_cast<double>(weights[k]) / -std::log(u);
    }
    uint32_t taken = 0;
    for (size_t rank = 1; rank <= n && taken < pick; ++rank) {
      size_t best = n;
      for (size_t k = 0; k < n; ++k) {
        if (!tried[k] && (best == n || score[k] > score[best])) best = k;
      }
      tried[best] = true;
      std::string note;
      if (trace_ != nullptr) {
        note = std::string(what) + " " + std::to_string(weights[best]) + "/" +
               std::to_string(weight_sum) + ", hash rank " + std::to_string(rank);
      }
      if (take(members[best], -1, trace_ != nullptr ? &note : nullptr) == Taken::yes) ++taken;
    }
    return taken;
  }

  uint32_t all(std::span<const uint32_t> members) noexcept {
    uint32_t taken = 0;
    for (uint32_t m : members) taken += take(m, -1, nullptr) == Taken::yes ? 1 : 0;
    return taken;
  }

  uint32_t by_weight(std::span<const uint32_t> members, std::span<const uint32_t> weights,
                     uint32_t pick, uint64_t key, bool per_subnet) noexcept {
    uint64_t w[kMaxPoolMembers];
    uint64_t sum = 0;
    const size_t n = std::min(members.size(), kMaxPoolMembers);
    for (size_t k = 0; k < n; ++k) {
      w[k] = k < weights.size() ? weights[k] : 1;
      sum += w[k];
    }
    if (per_subnet) sel_.per_subnet = true;
    return ranked(members.first(n), w, sum, pick, key, "weight");
  }

  Keys& keys() noexcept { return keys_; }
  const Selection& selection() const noexcept { return sel_; }

 private:
  Taken take(uint32_t member, double distance, const std::string* note) noexcept {
    if (is_pool(member)) return take_pool(pool_index(member), note);
    if (member >= fleet_.dcs.size()) return Taken::absent;
    const Datacenter& dc = fleet_.dcs[member];
    DcHealth h = dc_health(dc, family_, health_);
    if (ideal_) {
      h.up = h.total;
      h.ov = Override::none;
    }
    const bool repeat = sel_.has(member);
    const bool up = h.is_up() && !repeat && sel_.count < kMaxChosen;
    const bool health_down = h.total > 0 && !repeat && !h.is_up();
    if (trace_ != nullptr) {
      Trace::Candidate c{member, h.up, h.total, h.need, family_, h.ov, distance, via_, "", up};
      if (note != nullptr) c.note = *note;
      if (repeat) c.note += std::string(c.note.empty() ? "" : "; ") + "already in the answer";
      trace_->candidates.push_back(std::move(c));
    }
    if (health_down) {
      sel_.saw_down = true;
      return Taken::down;
    }
    if (!up) return Taken::absent;  // no address of the family, or already chosen: skipped
    if (h.up < h.total) sel_.partial = true;
    sel_.dcs[sel_.count++] = member;
    return Taken::yes;
  }

  Taken take_pool(uint32_t index, const std::string* note) noexcept {
    if (index >= fleet_.pools.size() || depth_ >= kMaxPoolDepth) return Taken::absent;
    const Pool& pool = fleet_.pools[index];
    std::string saved_via;
    if (trace_ != nullptr) {
      saved_via = via_;
      via_ += (via_.empty() ? "" : " > ") + pool.name;
      trace_->steps.push_back("pool " + via_ + ": " + std::string(pool_policy_name(pool.policy)) +
                              ", pick " + std::to_string(pool.pick) +
                              (pool.spillover ? ", spillover" : "") +
                              (note != nullptr ? " (" + *note + ")" : ""));
    }
    ++depth_;
    const bool saw_down_before = sel_.saw_down;
    sel_.saw_down = false;
    uint32_t taken = 0;
    switch (pool.policy) {
      case PoolPolicy::failover:
        taken = ordered(pool.members, nullptr, pool.pick, pool.spillover, pool.hash_seed);
        break;
      case PoolPolicy::nearest: {
        uint32_t order[kMaxPoolMembers];
        double dist[kMaxPoolMembers];
        const size_t n = order_by_distance(pool.members, order, dist);
        taken = ordered(std::span<const uint32_t>(order, n), dist, pool.pick, pool.spillover,
                        pool.hash_seed);
        break;
      }
      case PoolPolicy::weighted:
        taken = by_weight(pool.members, pool.weights, pool.pick, keys_.resolver() ^ pool.hash_seed,
                          false);
        break;
      case PoolPolicy::hashed:
        taken =
            by_weight(pool.members, pool.weights, pool.pick, keys_.subnet() ^ pool.hash_seed, true);
        break;
      case PoolPolicy::roundrobin:
        taken = all(pool.members);
        break;
    }
    --depth_;
    if (trace_ != nullptr) via_ = std::move(saved_via);
    const bool inner_down = sel_.saw_down;
    sel_.saw_down = saw_down_before || inner_down;
    // A pool that yields nothing is down to the list around it, like a datacenter: failed if
    // health emptied it, skipped if none of its members has the family at all.
    if (taken > 0) return Taken::yes;
    return inner_down ? Taken::down : Taken::absent;
  }

  size_t order_by_distance(std::span<const uint32_t> members, uint32_t* order,
                           double* dist) const noexcept {
    const size_t n = std::min(members.size(), kMaxPoolMembers);
    const geo::Location* loc = client_.location;
    const bool located = loc != nullptr && loc->found && loc->has_coordinates;
    for (size_t k = 0; k < n; ++k) {
      order[k] = members[k];
      dist[k] = -1;
      if (!located || is_pool(members[k]) || members[k] >= fleet_.dcs.size()) continue;
      const Datacenter& dc = fleet_.dcs[members[k]];
      dist[k] = dc.has_location
                    ? geo::great_circle_km(loc->latitude, loc->longitude, dc.latitude, dc.longitude)
                    : 1e9;
    }
    if (!located) return n;
    sort_by_distance(order, dist, n);
    return n;
  }

  uint64_t capacity_of(uint32_t member) const noexcept {
    if (is_pool(member)) {
      return pool_index(member) < fleet_.pools.size() ? fleet_.pools[pool_index(member)].capacity
                                                      : 1;
    }
    return member < fleet_.dcs.size() ? std::max<uint64_t>(fleet_.dcs[member].capacity, 1) : 1;
  }

  uint64_t seed_of(uint32_t member) const noexcept {
    uint64_t seed = 0;
    if (is_pool(member)) {
      if (pool_index(member) < fleet_.pools.size())
        seed = fleet_.pools[pool_index(member)].hash_seed;
    } else if (member < fleet_.dcs.size()) {
      seed = fleet_.dcs[member].hash_seed;
    }
    return seed != 0 ? seed : mix(member);  // hand-built fleets (tests) may leave it unset
  }

  std::string member_name(uint32_t member) const {
    if (is_pool(member)) {
      return pool_index(member) < fleet_.pools.size()
                 ? "pool " + fleet_.pools[pool_index(member)].name
                 : "?";
    }
    return member < fleet_.dcs.size() ? fleet_.dcs[member].name : "?";
  }

  const Fleet& fleet_;
  const uint8_t family_;
  const HealthView& health_;
  const bool ideal_;
  const ClientView& client_;
  Keys& keys_;
  Trace* const trace_;
  Selection sel_;
  size_t depth_ = 0;
  std::string via_;  // only grows when tracing
};

// The rule's top level, decided once per query before health is looked at.
struct Plan {
  std::span<const uint32_t> members;
  const double* distances = nullptr;
};

Selection run(const Rule& rule, const Plan& plan, Selector& s) noexcept {
  switch (rule.policy) {
    case Policy::geo:
    case Policy::nearest:
    case Policy::failover:
      s.ordered(plan.members, plan.distances, 1, rule.spillover, 0);
      break;
    case Policy::weighted:
      s.by_weight(plan.members, rule.weights, 1, s.keys().resolver(), false);
      break;
    case Policy::hashed:
      s.by_weight(plan.members, rule.weights, 1, s.keys().subnet(), true);
      break;
    case Policy::roundrobin:
      s.all(plan.members);
      break;
  }
  return s.selection();
}

// The datacenters for `family`. An AAAA answer first asks which datacenters the A answer would
// use and keeps those that are up for IPv6: a dual-stack client gets both families from the
// same datacenter whenever that datacenter has both (DESIGN.md), even when a member's IPv4
// and IPv6 health or address sets differ.
Selection choose(const Rule& rule, const Plan& plan, const Fleet& fleet, uint8_t family,
                 const HealthView& health, bool ideal, const ClientView& client, Keys& keys,
                 Trace* trace) noexcept {
  bool v4_down = false;  // health shaped the A choice that AAAA tried to follow
  if (family == 6) {
    Selector s4(fleet, 4, health, ideal, client, keys, trace);
    const Selection a = run(rule, plan, s4);
    Selection kept;
    kept.per_subnet = a.per_subnet;
    v4_down = a.saw_down;
    for (uint32_t i = 0; i < a.count; ++i) {
      DcHealth h = dc_health(fleet.dcs[a.dcs[i]], 6, health);
      if (ideal) h.up = h.total;
      if (h.is_up()) {
        kept.dcs[kept.count++] = a.dcs[i];
        kept.partial = kept.partial || h.up < h.total;
      } else if (h.total > 0) {
        v4_down = true;  // IPv6 health, not the address plan, dropped it
      }
    }
    kept.saw_down = v4_down;
    if (kept.count > 0) {
      if (trace != nullptr) {
        trace->steps.push_back(
            "AAAA follows the datacenters chosen for A (the candidates show IPv4 health), "
            "keeping those up for IPv6");
      }
      return kept;
    }
    if (trace != nullptr) {
      trace->steps.push_back("no datacenter chosen for A is up for IPv6: choosing for AAAA");
      trace->candidates.clear();
    }
  }
  Selector s(fleet, family, health, ideal, client, keys, trace);
  Selection own = run(rule, plan, s);
  own.saw_down = own.saw_down || v4_down;
  return own;
}

// on_all_down naming a pool: the pool's own policy chooses among its healthy members if it
// has any, else as if every member were up (a fallback answers whatever its health, as a
// fallback datacenter does). False if none of its members has an address of the family.
bool fallback_pool(uint32_t member, const Fleet& fleet, uint8_t family, const HealthView& health,
                   const ClientView& client, Keys& keys, Trace* trace, Selection* out,
                   bool* as_if_up) noexcept {
  for (const bool ideal : {false, true}) {
    if (family == 6) {
      // AAAA follows the pool's A choice, as choose() pairs the rule's own: the datacenters it
      // picks for A that are up for IPv6, else a choice of its own below.
      Selector s4(fleet, 4, health, ideal, client, keys, trace);
      s4.ordered(std::span<const uint32_t>(&member, 1), nullptr, 1, false, 0);
      const Selection& a = s4.selection();
      Selection kept;
      kept.per_subnet = a.per_subnet;
      for (uint32_t i = 0; i < a.count; ++i) {
        DcHealth h = dc_health(fleet.dcs[a.dcs[i]], 6, health);
        if (ideal) h.up = h.total;
        if (h.is_up()) kept.dcs[kept.count++] = a.dcs[i];
      }
      if (kept.count > 0) {
        if (trace != nullptr) {
          trace->steps.push_back("fallback pool: AAAA follows the datacenters chosen for A");
        }
        *out = kept;
        *as_if_up = ideal;
        return true;
      }
    }
    Selector s(fleet, family, health, ideal, client, keys, trace);
    s.ordered(std::span<const uint32_t>(&member, 1), nullptr, 1, false, 0);
    if (s.selection().count > 0) {
      *out = s.selection();
      *as_if_up = ideal;
      return true;
    }
  }
  return false;
}

// Answers with the addresses of the chosen datacenters, one from each in turn, so that a
// union ("2 nearest + 1 other") shows every datacenter before a second address of any.
// Starting points rotate per query to spread load within the set; within a datacenter the
// first address is drawn in proportion to the address weights (all 1 unless configured), so
// with `answers = 1` an address's share of queries is its share of the weight.
// A value in [0, n) from 32 random bits, by multiply and shift: the packet path avoids
// 64-bit divisions (tens of cycles each).
uint32_t below(uint64_t bits, size_t n) noexcept {
  return static_cast<uint32_t>(((bits & 0xffffffffULL) * static_cast<uint64_t>(n)) >> 32);
}

// Where the `j`-th chosen datacenter's answer starts among its addresses of the family.
size_t first_offset_weighted(const Datacenter& dc, const std::vector<DcAddress>& addrs,
                             const HealthView& health, bool ignore_health, uint64_t r,
                             uint32_t j) noexcept;

// Inline for the common case, datacenters without address weights.
inline size_t first_offset(const Datacenter& dc, const std::vector<DcAddress>& addrs,
                           const HealthView& health, bool ignore_health, uint64_t r,
                           uint32_t j) noexcept {
  if (addrs.empty()) return 0;
  if (!dc.has_address_weights) return below(r >> 24, addrs.size());
  return first_offset_weighted(dc, addrs, health, ignore_health, r, j);
}

size_t first_offset_weighted(const Datacenter& dc, const std::vector<DcAddress>& addrs,
                             const HealthView& health, bool ignore_health, uint64_t r,
                             uint32_t j) noexcept {
  uint64_t total = 0;
  for (const auto& a : addrs) {
    if (ignore_health || address_up(dc, a, health)) total += a.weight;
  }
  if (total == 0) return 0;
  uint64_t pick = below(mix(r + j), total);
  for (size_t k = 0; k < addrs.size(); ++k) {
    if (!ignore_health && !address_up(dc, addrs[k], health)) continue;
    if (pick < addrs[k].weight) return k;
    pick -= addrs[k].weight;
  }
  return 0;
}

// One datacenter (every geo, nearest or failover answer without a union): the turns of
// gather() reduce to its up addresses in order from the drawn offset, so walk them directly.
void gather_one(const Datacenter& dc, uint8_t family, const HealthView& health, bool ignore_health,
                uint64_t r, uint32_t cap, Decision* out) noexcept {
  const auto& addrs = family_addresses(dc, family);
  const Override ov = ignore_health ? Override::force_up : health.dc_override(dc.id);
  if (ov == Override::force_down) return;  // as address_up(): a drained one has none up
  size_t idx = first_offset(dc, addrs, health, ignore_health, r, 0);
  for (size_t c = 0; c < addrs.size() && out->count < cap; ++c) {
    const DcAddress& a = addrs[idx];
    if (++idx == addrs.size()) idx = 0;
    if (ov == Override::force_up || health.target_up(a.target)) {
      out->addresses[out->count++] = &a.ip;
    }
  }
}

void gather(const Fleet& fleet, std::span<const uint32_t> chosen, uint8_t family,
            const HealthView& health, bool ignore_health, uint64_t r, uint32_t cap,
            Decision* out) noexcept {
  const auto n = static_cast<uint32_t>(chosen.size());
  if (n == 0) return;
  if (n == 1) {
    gather_one(fleet.dcs[chosen[0]], family, health, ignore_health, r, cap, out);
    return;
  }
  size_t cursor[kMaxChosen];
  size_t offset[kMaxChosen];
  for (uint32_t j = 0; j < n; ++j) {
    cursor[j] = 0;
    const Datacenter& dc = fleet.dcs[chosen[j]];
    offset[j] = first_offset(dc, family_addresses(dc, family), health, ignore_health, r, j);
  }
  const uint32_t first = below(r, n);
  bool progress = true;
  while (progress && out->count < cap) {
    progress = false;
    for (uint32_t jj = 0; jj < n && out->count < cap; ++jj) {
      const uint32_t j = first + jj < n ? first + jj : first + jj - n;
      const Datacenter& dc = fleet.dcs[chosen[j]];
      const auto& addrs = family_addresses(dc, family);
      while (cursor[j] < addrs.size()) {
        size_t idx = offset[j] + cursor[j]++;
        if (idx >= addrs.size()) idx -= addrs.size();
        const DcAddress& a = addrs[idx];
        if (!ignore_health && !address_up(dc, a, health)) continue;
        // The same address in two datacenters of a union: answer it once. (A datacenter's
        // own addresses are unique, checked at load, so one datacenter needs no check.)
        if (n > 1) {
          bool dup = false;
          for (uint32_t k = 0; k < out->count && !dup; ++k) dup = *out->addresses[k] == a.ip;
          if (dup) continue;
        }
        out->addresses[out->count++] = &a.ip;
        progress = true;
        break;
      }
    }
  }
}

// The common case without the Selector: an ordered rule (geo, nearest, failover: one
// datacenter, no spillover) whose first candidate with addresses of the family is up, with no
// pool and no failed datacenter before it. A healthy fleet would answer the same by
// construction, so there is no second run and nothing to compare; the Selector would choose
// the same datacenter. Returns false, having written nothing, in every other case (a pool, a
// failed candidate, no candidate with the family, AAAA not following A): evaluate() then
// takes the general path. Worth it because it is what nearly every steered query is.
bool first_up(const Rule& rule, std::span<const uint32_t> members, const Fleet& fleet,
              uint8_t family, const HealthView& health, uint64_t r, uint32_t cap,
              Decision* out) noexcept {
  if (rule.spillover || !(rule.policy == Policy::geo || rule.policy == Policy::nearest ||
                          rule.policy == Policy::failover)) {
    return false;
  }
  uint32_t chosen = 0;
  bool found = false;
  DcHealth h;
  for (const uint32_t m : members) {
    if (is_pool(m)) return false;
    if (m >= fleet.dcs.size()) continue;
    // AAAA follows A (choose()): the A choice first, then kept if it is up for IPv6.
    h = dc_health(fleet.dcs[m], 4, health);
    if (h.total == 0) continue;    // no IPv4 address: skipped, as the Selector does
    if (!h.is_up()) return false;  // health changed the order: compare with a healthy fleet
    chosen = m;
    found = true;
    break;
  }
  if (!found) return false;
  if (family == 6) {
    h = dc_health(fleet.dcs[chosen], 6, health);
    if (!h.is_up()) return false;
  }
  out->degraded = h.up < h.total;  // an answering datacenter has an address down
  out->dcs[0] = chosen;
  out->dc_count = 1;
  out->dc = static_cast<int32_t>(chosen);
  gather_one(fleet.dcs[chosen], family, health, false, r, cap, out);
  return true;
}

std::string names_of(const Fleet& fleet, const Selection& sel) {
  std::string s;
  for (uint32_t i = 0; i < sel.count; ++i) s += (i == 0 ? "" : ", ") + fleet.dcs[sel.dcs[i]].name;
  return s;
}

}  // namespace

const DcList& map_list(const Rule& rule, const geo::Location* loc, Trace* trace) noexcept {
  // The ASN comes from its own database: it may be known where the country is not.
  if (loc != nullptr && loc->asn != 0 && !rule.by_asn.empty()) {
    auto it = std::lower_bound(rule.by_asn.begin(), rule.by_asn.end(),
                               std::pair<uint32_t, uint32_t>{loc->asn, 0});
    if (it != rule.by_asn.end() && it->first == loc->asn) {
      if (trace != nullptr) trace->matched = "map.AS" + std::to_string(loc->asn);
      return rule.lists[it->second];
    }
  }
  if (loc != nullptr && loc->found) {
    const std::string_view sub = loc->subdivision_code();
    if (!sub.empty() && loc->country[0] != 0 && !rule.by_subdivision.empty()) {
      char key[8];
      key[0] = loc->country[0];
      key[1] = loc->country[1];
      key[2] = '-';
      std::memcpy(key + 3, sub.data(), sub.size());
      const std::string_view k(key, 3 + sub.size());
      for (const auto& [name, idx] : rule.by_subdivision) {
        if (name == k) {
          if (trace != nullptr) trace->matched = "map." + name;
          return rule.lists[idx];
        }
      }
    }
    if (loc->country[0] != 0) {
      const auto packed = static_cast<uint16_t>((static_cast<unsigned char>(loc->country[0]) << 8) |
                                                static_cast<unsigned char>(loc->country[1]));
      auto it = std::lower_bound(rule.by_country.begin(), rule.by_country.end(),
                                 std::pair<uint16_t, uint32_t>{packed, 0});
      if (it != rule.by_country.end() && it->first == packed) {
        if (trace != nullptr) trace->matched = "map." + std::string(loc->country_code());
        return rule.lists[it->second];
      }
    }
    if (loc->continent[0] != 0) {
      const auto packed =
          static_cast<uint16_t>((static_cast<unsigned char>(loc->continent[0]) << 8) |
                                static_cast<unsigned char>(loc->continent[1]));
      auto it = std::lower_bound(rule.by_continent.begin(), rule.by_continent.end(),
                                 std::pair<uint16_t, uint32_t>{packed, 0});
      if (it != rule.by_continent.end() && it->first == packed) {
        if (trace != nullptr) trace->matched = "map." + std::string(loc->continent_code());
        return rule.lists[it->second];
      }
    }
  }
  if (trace != nullptr) trace->matched = "map.default";
  return rule.lists[*rule.default_list];
}

size_t nearest_order(const Rule& rule, std::span<const Datacenter> dcs, const geo::Location* loc,
                     uint32_t* order, double* dist, Trace* trace) noexcept {
  const size_t n = std::min(rule.datacenters.size(), kMaxNearestCandidates);
  for (size_t k = 0; k < n; ++k) {
    order[k] = rule.datacenters[k];
    dist[k] = -1;
  }
  if (loc != nullptr && loc->found && loc->has_coordinates) {
    for (size_t k = 0; k < n; ++k) {
      const Datacenter& dc = dcs[order[k]];
      dist[k] = dc.has_location
                    ? geo::great_circle_km(loc->latitude, loc->longitude, dc.latitude, dc.longitude)
                    : 1e9;  // no coordinates: after every located one
    }
    sort_by_distance(order, dist, n);
    if (trace != nullptr) trace->matched = "nearest to the client's coordinates";
  } else if (trace != nullptr) {
    trace->matched = "nearest: client location unknown, configured order";
  }
  return n;
}

void evaluate(const Rule& rule, const Fleet& fleet, uint8_t family, const ClientView& client,
              const HealthView& health, uint64_t rotation, Decision* out, Trace* trace) noexcept {
  out->count = 0;
  out->dc = -1;
  out->dc_count = 0;
  out->per_subnet = false;
  out->degraded = false;
  out->failed_open = false;
  out->nodata = false;
  out->scope = 0;
  const uint64_t r = mix(rotation);

  // nets overrides beat the database (geo and nearest).
  const DcList* list = client.list;
  uint8_t decided_len = client.list_scope;
  if (list == nullptr && rule.depends_on_client && !rule.net_table.empty()) {
    if (auto m = rule.net_table.lookup(client.address)) {
      list = &rule.lists[m->value];
      decided_len = m->prefix_length;
      if (trace != nullptr) {
        for (const auto& [prefix, l] : rule.nets) {
          if (prefix.length == m->prefix_length && prefix.contains(client.address.unmapped())) {
            trace->matched = "nets " + prefix.to_string();
          }
        }
        if (trace->matched.empty()) trace->matched = "nets";
      }
    }
  }

  Plan plan;
  uint32_t order[kMaxNearestCandidates];
  double dist[kMaxNearestCandidates];
  switch (rule.policy) {
    case Policy::geo:
      if (list == nullptr) {
        decided_len = client.location != nullptr ? client.location->prefix_length : 0;
        list = &map_list(rule, client.location, trace);
      }
      plan.members = *list;
      break;
    case Policy::nearest:
      if (list != nullptr) {
        plan.members = *list;
        break;
      }
      decided_len = client.location != nullptr ? client.location->prefix_length : 0;
      plan.members = std::span<const uint32_t>(
          order, nearest_order(rule, fleet.dcs, client.location, order, dist, trace));
      plan.distances = dist;
      break;
    case Policy::failover:
    case Policy::weighted:
    case Policy::hashed:
    case Policy::roundrobin:
      if (trace != nullptr) trace->matched = std::string(policy_name(rule.policy));
      plan.members = rule.datacenters;
      decided_len = 0;
      break;
  }

  Keys keys(client);
  const uint32_t cap = cap_of(rule);
  if (trace != nullptr || !first_up(rule, plan.members, fleet, family, health, r, cap, out)) {
    Selection sel = choose(rule, plan, fleet, family, health, false, client, keys, trace);
    // What a healthy fleet would answer: the same as `sel` unless health turned something down
    // on the way, so the second run is only paid for while something is down.
    Selection ideal_run;
    if (sel.saw_down)
      ideal_run = choose(rule, plan, fleet, family, health, true, client, keys, nullptr);
    const Selection& ideal = sel.saw_down ? ideal_run : sel;  // no copy while all is up
    if (ideal.count == 0) {
      out->nodata = true;
      if (trace != nullptr) trace->outcome = "no candidate has an address of this family: NODATA";
    } else {
      out->per_subnet = sel.per_subnet || ideal.per_subnet;
      if (sel.count == 0) {
        // Every candidate is down (and some has addresses of the family): on_all_down decides.
        Selection pool_fb;
        bool pool_as_if_up = false;
        out->failed_open = true;
        out->degraded = true;
        if (rule.on_all_down == AllDown::nodata) {
          out->nodata = true;
          if (trace != nullptr) {
            trace->outcome = "every candidate is down: NODATA (on_all_down = nodata)";
          }
        } else if (rule.on_all_down == AllDown::fallback && is_pool(rule.fallback_dc) &&
                   fallback_pool(rule.fallback_dc, fleet, family, health, client, keys, trace,
                                 &pool_fb, &pool_as_if_up)) {
          gather(fleet, pool_fb.chosen(), family, health, pool_as_if_up, r, cap, out);
          out->per_subnet = out->per_subnet || pool_fb.per_subnet;
          sel = pool_fb;
          if (trace != nullptr) {
            trace->outcome = "every candidate is down: fallback pool " +
                             fleet.pools[pool_index(rule.fallback_dc)].name + " with " +
                             names_of(fleet, pool_fb) +
                             (pool_as_if_up ? " (down too: as if up)" : "") + " (on_all_down)";
          }
        } else if (rule.on_all_down == AllDown::fallback && rule.fallback_dc < fleet.dcs.size() &&
                   !family_addresses(fleet.dcs[rule.fallback_dc], family).empty()) {
          Selection fb;
          fb.dcs[fb.count++] = rule.fallback_dc;
          gather(fleet, fb.chosen(), family, health, true, r, cap, out);
          sel = fb;
          if (trace != nullptr) {
            trace->outcome = "every candidate is down: fallback datacenter " +
                             fleet.dcs[rule.fallback_dc].name + " (on_all_down)";
          }
        } else {
          // Fail open: answer as a healthy fleet would, so health never empties an answer.
          gather(fleet, ideal.chosen(), family, health, true, r, cap, out);
          sel = ideal;
          if (trace != nullptr) {
            trace->outcome = "every candidate is down: failing open with " + names_of(fleet, ideal);
          }
        }
      } else {
        // Degraded only when health changed THIS answer: another datacenter than a healthy fleet
        // would give, or one of the answering datacenters missing an address. A drained backup
        // that was not going to answer leaves the TTL alone.
        out->degraded = sel.partial || (sel.saw_down && !same_set(sel, ideal));
        gather(fleet, sel.chosen(), family, health, false, r, cap, out);
        if (trace != nullptr) {
          trace->outcome = names_of(fleet, sel) + (sel.count == 1 ? " answers" : " answer");
          if (out->degraded) {
            trace->outcome += " (degraded: a healthy fleet would answer with " +
                              names_of(fleet, ideal) +
                              (same_set(sel, ideal) ? ", all addresses up)" : ")");
          }
        }
      }
      // The whole fixed array (a few vector moves) rather than `count` entries, which GCC turns
      // into a memcpy call; entries past dc_count mean nothing.
      std::copy(std::begin(sel.dcs), std::end(sel.dcs), out->dcs);
      out->dc_count = sel.count;
      if (sel.count == 1) out->dc = static_cast<int32_t>(sel.dcs[0]);
    }
  }

  out->ttl_s = (out->degraded || out->failed_open) ? rule.degraded_ttl_s : rule.ttl_s;
  if (!rule.depends_on_client) {
    if (trace != nullptr) trace->scope_why = "the answer does not depend on the client";
    return;
  }
  uint8_t scope = 0;
  if (client.list != nullptr) {
    scope = client.list_scope;  // the compiled table already accounts for nets entries
  } else {
    scope = rule.net_table.empty()
                ? decided_len
                : rule.net_table.scope_excluding_inner(client.address, decided_len);
    scope = std::min(scope, client.max_scope);
  }
  if (trace != nullptr) {
    trace->scope_why = decided_len > 0 || client.list != nullptr
                           ? "/" + std::to_string(scope) + " from the network that decided"
                           : "the rule's own list is the same for every client";
  }
  if (rule.lists_need_location && client.location != nullptr) {
    // A nearest pool below the rule ranked by the client's coordinates: the answer holds only
    // inside the database network that gave them (the longer of the two prefixes).
    const uint8_t loc_len = client.list != nullptr
                                ? client.location->prefix_length
                                : std::min(client.location->prefix_length, client.max_scope);
    if (loc_len > scope) {
      scope = loc_len;
      if (trace != nullptr) {
        trace->scope_why += "; /" + std::to_string(loc_len) +
                            " from the database network whose coordinates a nearest pool used";
      }
    }
  }
  if (const unsigned granularity = keys.granularity(); out->per_subnet && scope < granularity) {
    // A hashed or spillover choice looked at the client's /24 (/56): the answer holds for that
    // network only (RFC 7871 7.2.1 lets the scope exceed the source prefix).
    scope = static_cast<uint8_t>(granularity);
    if (trace != nullptr) {
      trace->scope_why += "; raised to /" + std::to_string(granularity) +
                          " because a hashed or spillover choice used the client subnet";
    }
  }
  out->scope = scope;
}

}  // namespace geodns::steer
