#include "geo/mmdb_walk.h"

#include <maxminddb.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

namespace geodns::geo {

namespace {

constexpr unsigned kIpv4InIpv6Bits = 96;

// Location fields that steering reads, as bytes: two data records that decode alike (the real
// country databases repeat "DE" under many ASN records) are one class, decided once per rule.
std::string class_key(const Location& loc) {
  std::string key;
  key.append(loc.country.data(), loc.country.size());
  key.append(loc.continent.data(), loc.continent.size());
  key.append(loc.subdivision.data(), loc.subdivision.size());
  key.push_back(loc.has_coordinates ? '1' : '0');
  key.push_back(loc.coordinates_from_centroid ? '1' : '0');
  key.append(reinterpret_cast<const char*>(&loc.latitude), sizeof(loc.latitude));
  key.append(reinterpret_cast<const char*>(&loc.longitude), sizeof(loc.longitude));
  return key;
}

class Walker {
 public:
  Walker(const MMDB_s& mmdb, bool asn) : mmdb_(mmdb), asn_(asn) {}

  Status walk(bool ipv6_tree) {
    if (!ipv6_tree) {
      if (auto st = visit4(0, 0, 0); !st) return st;
      v6_.push_back(Leaf6{0, 0, kNoClass});  // an IPv4 tree knows no IPv6 address
      return {};
    }
    // The IPv4 subtree hangs at ::/96. Aliases (::ffff:0:0/96, 2002::/16, ...) are records
    // that point at that same node; they are expanded from the IPv4 leaves, not walked again.
    uint32_t node = 0;
    for (unsigned depth = 0; depth < kIpv4InIpv6Bits; ++depth) {
      MMDB_search_node_s n;
      if (MMDB_read_node(&mmdb_, node, &n) != MMDB_SUCCESS) return fail("unreadable node");
      if (n.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) {
        // A leaf above ::/96 covers all of IPv4: lookup() then reports a /0 IPv4 network.
        const auto cls = class_of(n.left_record_type, n.left_record_entry);
        if (!cls) return fail("invalid record");
        v4_.push_back(Leaf4{0, 0, *cls});
        ipv4_node_ = kNoNode;
        break;
      }
      node = static_cast<uint32_t>(n.left_record);
      ipv4_node_ = node;
    }
    if (ipv4_node_ != kNoNode) {
      if (auto st = visit4(ipv4_node_, 0, 0); !st) return st;
      aliases_.push_back({0, kIpv4InIpv6Bits});
    }
    if (auto st = visit6(0, 0, 0); !st) return st;
    for (const auto& [start, length] : aliases_) {
      if (length + 32U > 128U) return fail("IPv4 alias too deep in the tree");
      const unsigned shift = 128U - length - 32U;
      for (const Leaf4& l : v4_) {
        v6_.push_back(Leaf6{start | (static_cast<Uint128>(l.start) << shift),
                            static_cast<uint8_t>(length + l.length), l.cls});
      }
    }
    std::sort(v6_.begin(), v6_.end(),
              [](const Leaf6& a, const Leaf6& b) { return a.start < b.start; });
    return {};
  }

  std::vector<Leaf4> v4_;
  std::vector<Leaf6> v6_;
  std::vector<Location> classes_;
  size_t tree_networks_ = 0;

 private:
  static constexpr uint32_t kNoNode = 0xffffffffU;

  static Error fail(const char* what) {
    return make_error(std::string("GeoIP database tree: ") + what);
  }

  // nullopt for an invalid record (a corrupt tree).
  std::optional<uint32_t> class_of(uint8_t type, const MMDB_entry_s& entry) {
    if (type == MMDB_RECORD_TYPE_EMPTY) return kNoClass;
    if (type != MMDB_RECORD_TYPE_DATA) return std::nullopt;
    if (auto it = by_offset_.find(entry.offset); it != by_offset_.end()) return it->second;
    Location loc;
    std::string key;
    if (asn_) {
      loc.asn = Database::decode_asn(entry);
      key.assign(reinterpret_cast<const char*>(&loc.asn), sizeof(loc.asn));
    } else {
      loc.found = true;
      Database::decode(entry, &loc);
      key = class_key(loc);
    }
    const auto [it, inserted] =
        by_content_.emplace(std::move(key), static_cast<uint32_t>(classes_.size()));
    if (inserted) classes_.push_back(loc);
    by_offset_.emplace(entry.offset, it->second);
    return it->second;
  }

  Status visit4(uint32_t node, unsigned depth, uint32_t start) {
    MMDB_search_node_s n;
    if (MMDB_read_node(&mmdb_, node, &n) != MMDB_SUCCESS) return fail("unreadable node");
    const uint8_t types[2] = {n.left_record_type, n.right_record_type};
    const uint64_t records[2] = {n.left_record, n.right_record};
    const MMDB_entry_s entries[2] = {n.left_record_entry, n.right_record_entry};
    for (unsigned b = 0; b < 2; ++b) {
      const uint32_t child = start | (b << (31U - depth));
      if (types[b] == MMDB_RECORD_TYPE_SEARCH_NODE) {
        if (depth + 1 >= 32) return fail("IPv4 subtree deeper than 32 bits");
        if (auto st = visit4(static_cast<uint32_t>(records[b]), depth + 1, child); !st) return st;
        continue;
      }
      const auto cls = class_of(types[b], entries[b]);
      if (!cls) return fail("invalid record");
      v4_.push_back(Leaf4{child, static_cast<uint8_t>(depth + 1), *cls});
      ++tree_networks_;
    }
    return {};
  }

  Status visit6(uint32_t node, unsigned depth, Uint128 start) {
    MMDB_search_node_s n;
    if (MMDB_read_node(&mmdb_, node, &n) != MMDB_SUCCESS) return fail("unreadable node");
    const uint8_t types[2] = {n.left_record_type, n.right_record_type};
    const uint64_t records[2] = {n.left_record, n.right_record};
    const MMDB_entry_s entries[2] = {n.left_record_entry, n.right_record_entry};
    for (unsigned b = 0; b < 2; ++b) {
      const Uint128 child = start | (static_cast<Uint128>(b) << (127U - depth));
      const unsigned child_depth = depth + 1;
      if (types[b] == MMDB_RECORD_TYPE_SEARCH_NODE) {
        const auto target = static_cast<uint32_t>(records[b]);
        if (target == ipv4_node_) {
          // ::/96 itself is added by walk(); anything else pointing here is an alias.
          if (!(child == 0 && child_depth == kIpv4InIpv6Bits)) {
            aliases_.push_back({child, child_depth});
          }
          continue;
        }
        if (child_depth >= 128) return fail("IPv6 tree deeper than 128 bits");
        if (auto st = visit6(target, child_depth, child); !st) return st;
        continue;
      }
      const auto cls = class_of(types[b], entries[b]);
      if (!cls) return fail("invalid record");
      v6_.push_back(Leaf6{child, static_cast<uint8_t>(child_depth), *cls});
      ++tree_networks_;
    }
    return {};
  }

  const MMDB_s& mmdb_;
  const bool asn_;  // classes are autonomous system numbers, not locations
  uint32_t ipv4_node_ = kNoNode;
  std::vector<std::pair<Uint128, unsigned>> aliases_;
  std::unordered_map<uint32_t, uint32_t> by_offset_;
  std::unordered_map<std::string, uint32_t> by_content_;
};

}  // namespace

Result<NetworkIndexPtr> NetworkIndex::walk(const Database& db, bool asn) {
  Walker w(db.mmdb(), asn);
  if (auto st = w.walk(db.is_ipv6_tree()); !st) {
    Error e = st.error();
    e.file = db.path();
    return e;
  }
  auto index = std::make_shared<NetworkIndex>();
  index->v4_ = std::move(w.v4_);
  index->v6_ = std::move(w.v6_);
  index->classes_ = std::move(w.classes_);
  index->tree_networks_ = w.tree_networks_;
  index->v4_.shrink_to_fit();
  index->v6_.shrink_to_fit();
  // The walk has made every page of the file resident (7.5 MiB for the real country
  // database); the compiled tables need none of them, and the lookups that still happen
  // (rules without a table, explain, nearest pools) fault back only the few they read.
  db.release_resident_pages();
  return NetworkIndexPtr(std::move(index));
}

Result<NetworkIndexPtr> NetworkIndex::build(const Database& db) {
  return walk(db, false);
}

Result<NetworkIndexPtr> NetworkIndex::build_asn(const Database& asn_db) {
  return walk(asn_db, true);
}

NetworkIndexPtr NetworkIndex::empty() {
  auto index = std::make_shared<NetworkIndex>();
  index->v4_.push_back(Leaf4{0, 0, kNoClass});
  index->v6_.push_back(Leaf6{0, 0, kNoClass});
  return index;
}

size_t NetworkIndex::bytes() const noexcept {
  return v4_.capacity() * sizeof(Leaf4) + v6_.capacity() * sizeof(Leaf6) +
         classes_.capacity() * sizeof(Location);
}

}  // namespace geodns::geo
