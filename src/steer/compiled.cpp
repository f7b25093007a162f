#include "steer/compiled.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "steer/policy.h"

namespace geodns::steer {

namespace {

// DcList entries with kPoolBit (rule.h) name pools, not datacenters: nearest ranks only the
// datacenters and keeps the others after them, in configured order.

bool is_compiled_policy(const Rule& rule) noexcept {
  return rule.depends_on_client && (rule.policy == Policy::geo || rule.policy == Policy::nearest);
}

// Each distinct list once, so that equal decisions get equal values (and runs merge).
class Interner {
 public:
  uint32_t intern(const DcList& list) {
    const auto [it, inserted] = ids_.emplace(list, static_cast<uint32_t>(lists_.size()));
    if (inserted) lists_.push_back(list);
    return it->second;
  }
  std::vector<DcList> take() { return std::move(lists_); }

 private:
  std::map<DcList, uint32_t> ids_;
  std::vector<DcList> lists_;
};

// The nearest ordering of the runtime path (nearest_order), over the datacenter entries only.
DcList nearest_list(const Rule& datacenters_only, std::span<const uint32_t> pools,
                    std::span<const Datacenter> dcs, const geo::Location* loc) {
  uint32_t order[kMaxNearestCandidates];
  double dist[kMaxNearestCandidates];
  const size_t n = nearest_order(datacenters_only, dcs, loc, order, dist, nullptr);
  DcList out(order, order + n);
  out.insert(out.end(), pools.begin(), pools.end());
  return out;
}

void append_u32(std::string* out, uint32_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

void append_list(std::string* out, const DcList& list) {
  append_u32(out, static_cast<uint32_t>(list.size()));
  for (uint32_t e : list) append_u32(out, e);
}

void append_double(std::string* out, double v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

}  // namespace

size_t CompiledRule::own_bytes() const noexcept {
  size_t n = map_.patch_bytes() + lists_.capacity() * sizeof(DcList);
  for (const DcList& l : lists_) n += l.capacity() * sizeof(uint32_t);
  return n;
}

std::shared_ptr<const CompiledRule> CompiledRule::compile(const Rule& rule,
                                                          std::span<const Datacenter> dcs,
                                                          const geo::NetworkIndex& index,
                                                          CompileCache* cache,
                                                          const geo::NetworkIndex* asn_index) {
  if (!is_compiled_policy(rule)) return nullptr;
  // 1. The decision for every location class (a few hundred), with the query path's code.
  std::vector<DcList> per_class(index.classes().size());
  DcList not_found;
  const geo::Location missing;  // found = false: the runtime's "no record" (and "no database")
  if (rule.policy == Policy::geo) {
    for (size_t c = 0; c < per_class.size(); ++c) {
      per_class[c] = map_list(rule, &index.classes()[c], nullptr);
    }
    not_found = map_list(rule, &missing, nullptr);
  } else {
    Rule datacenters_only;
    DcList pools;
    for (uint32_t e : rule.datacenters) {
      if ((e & kPoolBit) != 0) {
        pools.push_back(e);
      } else {
        datacenters_only.datacenters.push_back(e);
      }
    }
    for (size_t c = 0; c < per_class.size(); ++c) {
      per_class[c] = nearest_list(datacenters_only, pools, dcs, &index.classes()[c]);
    }
    not_found = nearest_list(datacenters_only, pools, dcs, &missing);
  }
  // 1b. ASN keys (geo only): the list of every ASN class whose number is a key. map_list()
  // puts them before geography, so there they decide whatever the location.
  std::vector<std::pair<uint32_t, const DcList*>> per_asn_class;
  if (asn_index != nullptr && !rule.by_asn.empty()) {
    const auto classes = asn_index->classes();
    for (size_t c = 0; c < classes.size(); ++c) {
      if (classes[c].asn == 0) continue;
      const auto it = std::lower_bound(rule.by_asn.begin(), rule.by_asn.end(),
                                       std::pair<uint32_t, uint32_t>{classes[c].asn, 0});
      if (it != rule.by_asn.end() && it->first == classes[c].asn) {
        per_asn_class.emplace_back(static_cast<uint32_t>(c), &rule.lists[it->second]);
      }
    }
  }
  // 2. The database runs of that class -> list function: shared with every rule that has it.
  std::string key;
  for (const DcList& l : per_class) append_list(&key, l);
  append_list(&key, not_found);
  if (!per_asn_class.empty()) {
    // Longer than any key without ASN classes for this index, so the two never collide.
    for (const auto& [c, list] : per_asn_class) {
      append_u32(&key, c);
      append_list(&key, *list);
    }
  }
  std::shared_ptr<const CompiledBase> base;
  if (cache != nullptr) {
    if (auto it = cache->bases.find(key); it != cache->bases.end()) {
      base = it->second;
    } else if (cache->previous != nullptr) {
      if (auto old = cache->previous->bases.find(key); old != cache->previous->bases.end()) {
        base = old->second;
      }
    }
  }
  if (!base) {
    Interner lists;
    std::vector<uint32_t> class_values(per_class.size());
    for (size_t c = 0; c < per_class.size(); ++c) class_values[c] = lists.intern(per_class[c]);
    const uint32_t nf = lists.intern(not_found);
    auto built = std::make_shared<CompiledBase>();
    built->key = key;
    if (per_asn_class.empty()) {
      built->runs = geo::PrefixMap::make_base(index, class_values, nf);
    } else {
      std::vector<uint32_t> asn_values(asn_index->classes().size(), geo::PrefixMap::kUnder);
      for (const auto& [c, list] : per_asn_class) asn_values[c] = lists.intern(*list);
      built->runs = geo::PrefixMap::make_base(index, class_values, nf, *asn_index, asn_values);
    }
    built->lists = lists.take();
    base = std::move(built);
  }
  if (cache != nullptr) cache->bases.emplace(std::move(key), base);
  // 3. The rule's nets as a patch over the base.
  auto out = std::make_shared<CompiledRule>();
  out->lists_ = base->lists;
  std::vector<geo::PrefixMap::Overlay> overlays;
  overlays.reserve(rule.nets.size());
  for (const auto& [prefix, list] : rule.nets) {
    auto it = std::find(out->lists_.begin(), out->lists_.end(), list);
    if (it == out->lists_.end()) it = out->lists_.insert(out->lists_.end(), list);
    overlays.push_back({prefix, static_cast<uint32_t>(it - out->lists_.begin())});
  }
  out->map_ = geo::PrefixMap::with_overlays(base->runs, overlays);
  out->base_ = std::move(base);
  return out;
}

std::string canonical_key(const Rule& rule, std::span<const Datacenter> dcs) {
  if (!is_compiled_policy(rule)) return {};
  std::string key;
  key.push_back(static_cast<char>(rule.policy));
  if (rule.policy == Policy::geo) {
    std::vector<std::pair<std::string, uint32_t>> subs = rule.by_subdivision;
    std::sort(subs.begin(), subs.end());
    key += 'S';
    for (const auto& [name, idx] : subs) {
      key += name;
      key.push_back('\0');
      append_list(&key, rule.lists[idx]);
    }
    key += 'C';
    for (const auto& [code, idx] : rule.by_country) {
      append_u32(&key, code);
      append_list(&key, rule.lists[idx]);
    }
    key += 'K';
    for (const auto& [code, idx] : rule.by_continent) {
      append_u32(&key, code);
      append_list(&key, rule.lists[idx]);
    }
    key += 'D';
    if (rule.default_list) append_list(&key, rule.lists[*rule.default_list]);
    key += 'A';
    for (const auto& [asn, idx] : rule.by_asn) {  // sorted by compile()
      append_u32(&key, asn);
      append_list(&key, rule.lists[idx]);
    }
  } else {
    key += 'N';
    append_list(&key, rule.datacenters);
    for (uint32_t e : rule.datacenters) {
      if ((e & kPoolBit) != 0 || e >= dcs.size()) continue;
      const Datacenter& dc = dcs[e];
      key.push_back(dc.has_location ? '1' : '0');
      append_double(&key, dc.has_location ? dc.latitude : 0);
      append_double(&key, dc.has_location ? dc.longitude : 0);
    }
  }
  // nets in a fixed order: the table depends on the set, not on how it was written.
  std::vector<std::pair<std::string, const DcList*>> nets;
  for (const auto& [prefix, list] : rule.nets) nets.emplace_back(prefix.to_string(), &list);
  std::sort(nets.begin(), nets.end());
  key += 'T';
  for (const auto& [text, list] : nets) {
    key += text;
    key.push_back('\0');
    append_list(&key, *list);
  }
  return key;
}

}  // namespace geodns::steer
