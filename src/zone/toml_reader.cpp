// The TOML stage of loading: zone files and the server config file -> plain, validated values
// (zone_source.h, config.h). This is the only file that includes toml++ (slow to compile, and
// nothing after load time should depend on it). DNS-level checks happen in zone_builder.cpp.
// stdbool.h first: without it ldns/common.h #defines bool, true and false in C++.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)
//
#include <ldns/ldns.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/hex.h"
#include "common/log.h"
#include "dns/name.h"
#include "zone/config.h"
#include "zone/zone_builder.h"
#include "zone/zone_source.h"

namespace geodns::zone {

namespace {

// Thrown by the helpers below and caught at the two entry points of this file, so that the
// validation code reads as a straight list of checks. Never escapes this file.
struct Failure {
  Error error;
};

// RFC 2181 section 8: TTLs are 31-bit.
constexpr int64_t kMaxTtl = 2147483647;

class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}

  SourcePos at(const toml::source_region& r) const {
    return SourcePos{file_, static_cast<uint32_t>(r.begin.line),
                     static_cast<uint32_t>(r.begin.column)};
  }
  SourcePos at(const toml::node& n) const { return at(n.source()); }
  SourcePos at(const toml::key& k) const { return at(k.source()); }

  [[noreturn]] void fail(const SourcePos& pos, std::string message) const {
    throw Failure{pos.error(std::move(message))};
  }
  [[noreturn]] void fail(const toml::node& n, std::string message) const {
    fail(at(n), std::move(message));
  }

  // Keys of a table in file order (toml++ keeps them sorted by name).
  static std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(
      const toml::table& t) {
    std::vector<std::pair<const toml::key*, const toml::node*>> out;
    for (auto&& [k, v] : t) out.emplace_back(&k, &v);
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      const auto& sa = a.first->source().begin;
      const auto& sb = b.first->source().begin;
      return sa.line != sb.line ? sa.line < sb.line : sa.column < sb.column;
    });
    return out;
  }

  void only_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
                 const std::string& where) const {
    for (auto&& [k, v] : t) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      std::string msg = "unknown key \"" + std::string(k.str()) + "\" in " + where;
      if (v.is_table() && where.find('.') != std::string::npos) {
        msg += " (quote names that contain dots, e.g. [steer.\"a.b\"])";
      }
      fail(at(k), msg);
    }
  }

  const toml::table& table(const toml::node& n, const std::string& what) const {
    if (!n.is_table()) fail(n, what + " must be a table");
    return *n.as_table();
  }

  std::string string(const toml::node& n, const std::string& what) const {
    if (!n.is_string()) fail(n, what + " must be a string");
    return n.as_string()->get();
  }

  int64_t integer(const toml::node& n, const std::string& what, int64_t min, int64_t max) const {
    if (!n.is_integer()) fail(n, what + " must be an integer");
    const int64_t v = n.as_integer()->get();
    if (v < min || v > max) {
      fail(n, what + " must be " + std::to_string(min) + ".." + std::to_string(max));
    }
    return v;
  }

  bool boolean(const toml::node& n, const std::string& what) const {
    if (!n.is_boolean()) fail(n, what + " must be true or false");
    return n.as_boolean()->get();
  }

  double number(const toml::node& n, const std::string& what, double min, double max) const {
    double v = 0;
    if (n.is_integer()) {
      v = static_cast<double>(n.as_integer()->get());
    } else if (n.is_floating_point()) {
      v = n.as_floating_point()->get();
    } else {
      fail(n, what + " must be a number");
    }
    if (!(v >= min && v <= max)) {
      fail(n, what + " must be " + std::to_string(min) + ".." + std::to_string(max));
    }
    return v;
  }

  // Integer seconds or a duration string; returns milliseconds.
  int64_t duration_ms(const toml::node& n, const std::string& what) const {
    if (n.is_integer()) {
      const int64_t s = n.as_integer()->get();
      if (s < 0 || s > kMaxTtl) fail(n, what + " must be 0.." + std::to_string(kMaxTtl));
      return s * 1000;
    }
    if (!n.is_string()) fail(n, what + " must be an integer (seconds) or a duration like \"30s\"");
    std::string why;
    auto ms = parse_duration_ms(n.as_string()->get(), &why);
    if (!ms) fail(n, what + ": " + why);
    return *ms;
  }

  uint32_t seconds(const toml::node& n, const std::string& what, int64_t min = 0,
                   int64_t max = kMaxTtl) const {
    const int64_t ms = duration_ms(n, what);
    if (ms % 1000 != 0) fail(n, what + " must be a whole number of seconds");
    const int64_t s = ms / 1000;
    if (s < min || s > max) {
      fail(n, what + " must be " + std::to_string(min) + ".." + std::to_string(max) + " seconds");
    }
    return static_cast<uint32_t>(s);
  }

  std::chrono::milliseconds millis(const toml::node& n, const std::string& what, int64_t min_ms,
                                   int64_t max_ms) const {
    const int64_t ms = duration_ms(n, what);
    if (ms < min_ms || ms > max_ms) {
      fail(n, what + " must be " + std::to_string(min_ms) + "ms.." + std::to_string(max_ms) + "ms");
    }
    return std::chrono::milliseconds(ms);
  }

  // A non-empty array of strings (a single string is accepted as a list of one).
  std::vector<NameRef> names(const toml::node& n, const std::string& what) const {
    std::vector<NameRef> out;
    if (n.is_string()) {
      out.push_back({n.as_string()->get(), at(n)});
      return out;
    }
    if (!n.is_array()) fail(n, what + " must be a list of names");
    const auto& arr = *n.as_array();
    if (arr.empty()) fail(n, what + ": empty list");
    for (const auto& e : arr) {
      if (!e.is_string()) fail(e, what + " must be a list of names");
      out.push_back({e.as_string()->get(), at(e)});
    }
    return out;
  }

  const std::string& file() const { return file_; }

 private:
  const std::string& file_;
};

// ---- checks ----

constexpr std::string_view kCheckCommonKeys[] = {"type", "port", "interval",      "timeout",
                                                 "fall", "rise", "probe_address", "probe_port"};
constexpr std::string_view kCheckHttpKeys[] = {"path", "host", "expect", "body"};
constexpr std::string_view kCheckHttpsKeys[] = {"verify_tls"};
constexpr std::string_view kCheckTcpKeys[] = {"send", "expect_text"};
constexpr std::string_view kCheckDnsKeys[] = {"query", "query_type", "expect_rcode"};

template <size_t N>
bool contains(const std::string_view (&arr)[N], std::string_view k) {
  return std::find(std::begin(arr), std::end(arr), k) != std::end(arr);
}

std::optional<uint8_t> parse_rcode(std::string_view s) {
  static constexpr std::pair<std::string_view, uint8_t> kRcodes[] = {
      {"NOERROR", 0},  {"FORMERR", 1}, {"SERVFAIL", 2},
      {"NXDOMAIN", 3}, {"NOTIMP", 4},  {"REFUSED", 5}};
  for (const auto& [name, code] : kRcodes) {
    if (name.size() == s.size() &&
        std::equal(name.begin(), name.end(), s.begin(),
                   [](char a, char b) { return a == std::toupper(static_cast<unsigned char>(b)); }))
      return code;
  }
  return std::nullopt;
}

void read_expect(const Reader& r, const toml::node& n, steer::CheckSpec& spec) {
  const std::string what = "expect";
  if (n.is_integer()) {
    spec.expect_min = spec.expect_max = static_cast<uint16_t>(r.integer(n, what, 100, 599));
    return;
  }
  if (n.is_array()) {
    const auto& arr = *n.as_array();
    if (arr.size() != 2) r.fail(n, "expect range must be [min, max]");
    const auto lo = r.integer(arr[0], what, 100, 599);
    const auto hi = r.integer(arr[1], what, 100, 599);
    if (lo > hi) r.fail(n, "expect range must be [min, max] with min <= max");
    spec.expect_min = static_cast<uint16_t>(lo);
    spec.expect_max = static_cast<uint16_t>(hi);
    return;
  }
  if (n.is_string()) {
    const std::string s = n.as_string()->get();
    if (s.size() == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
        (s[2] == 'x' || s[2] == 'X')) {
      spec.expect_min = static_cast<uint16_t>((s[0] - '0') * 100);
      spec.expect_max = static_cast<uint16_t>(spec.expect_min + 99);
      return;
    }
  }
  r.fail(n, "expect must be a status code (200), a range ([200, 299]) or a class (\"2xx\")");
}

CheckDef read_check(const Reader& r, const toml::key& key, const toml::node& node) {
  const std::string where = "[checks." + std::string(key.str()) + "]";
  const auto& t = r.table(node, where);
  CheckDef def;
  def.pos = r.at(node);
  def.spec.name = std::string(key.str());
  auto& spec = def.spec;

  const toml::node* type_node = t.get("type");
  if (!type_node) r.fail(node, where + ": missing type (http, https, tcp, dns or none)");
  const std::string type = r.string(*type_node, "type");
  if (type == "http") {
    spec.type = steer::CheckType::http;
  } else if (type == "https") {
    spec.type = steer::CheckType::https;
  } else if (type == "tcp") {
    spec.type = steer::CheckType::tcp;
  } else if (type == "dns") {
    spec.type = steer::CheckType::dns;
  } else if (type == "none") {
    spec.type = steer::CheckType::none;
  } else {
    r.fail(*type_node, "unknown check type \"" + type + "\" (http, https, tcp, dns or none)");
  }

  // Keys are checked against the type so that e.g. a `path` on a tcp check is not silently
  // ignored.
  for (auto&& [k, v] : t) {
    const std::string_view name = k.str();
    bool ok = false;
    switch (spec.type) {
      case steer::CheckType::none:
        ok = name == "type";
        break;
      case steer::CheckType::http:
        ok = contains(kCheckCommonKeys, name) || contains(kCheckHttpKeys, name);
        break;
      case steer::CheckType::https:
        ok = contains(kCheckCommonKeys, name) || contains(kCheckHttpKeys, name) ||
             contains(kCheckHttpsKeys, name);
        break;
      case steer::CheckType::tcp:
        ok = contains(kCheckCommonKeys, name) || contains(kCheckTcpKeys, name);
        break;
      case steer::CheckType::dns:
        ok = contains(kCheckCommonKeys, name) || contains(kCheckDnsKeys, name);
        break;
    }
    if (ok) continue;
    const bool known = contains(kCheckCommonKeys, name) || contains(kCheckHttpKeys, name) ||
                       contains(kCheckHttpsKeys, name) || contains(kCheckTcpKeys, name) ||
                       contains(kCheckDnsKeys, name);
    if (known) {
      r.fail(r.at(k), "key \"" + std::string(name) + "\" does not apply to a " + type + " check");
    }
    r.fail(r.at(k), "unknown key \"" + std::string(name) + "\" in " + where);
  }

  if (auto* n = t.get("port")) spec.port = static_cast<uint16_t>(r.integer(*n, "port", 1, 65535));
  if (auto* n = t.get("probe_port")) {
    spec.probe_port = static_cast<uint16_t>(r.integer(*n, "probe_port", 1, 65535));
  }
  if (auto* n = t.get("probe_address")) {
    const std::string s = r.string(*n, "probe_address");
    auto ip = IpAddress::parse(s);
    if (!ip) r.fail(*n, "bad address \"" + s + "\"");
    spec.probe_address = *ip;
  }
  if (auto* n = t.get("path")) {
    spec.path = r.string(*n, "path");
    if (spec.path.empty() || spec.path[0] != '/') r.fail(*n, "path must start with \"/\"");
  }
  if (auto* n = t.get("host")) spec.host = r.string(*n, "host");
  if (auto* n = t.get("expect")) read_expect(r, *n, spec);
  if (auto* n = t.get("body")) spec.body_match = r.string(*n, "body");
  if (auto* n = t.get("verify_tls")) spec.verify_tls = r.boolean(*n, "verify_tls");
  if (auto* n = t.get("send")) spec.send = r.string(*n, "send");
  if (auto* n = t.get("expect_text")) spec.expect = r.string(*n, "expect_text");
  if (auto* n = t.get("query")) {
    spec.query_name = r.string(*n, "query");
    if (spec.query_name.empty()) r.fail(*n, "query must be a domain name");
    if (spec.query_name.back() != '.') spec.query_name += '.';
  }
  if (auto* n = t.get("query_type")) {
    const std::string s = r.string(*n, "query_type");
    const auto qt = ldns_get_rr_type_by_name(s.c_str());
    if (qt == 0) r.fail(*n, "unknown query_type \"" + s + "\"");
    spec.query_type = static_cast<uint16_t>(qt);
  }
  if (auto* n = t.get("expect_rcode")) {
    if (n->is_integer()) {
      spec.expect_rcode = static_cast<uint8_t>(r.integer(*n, "expect_rcode", 0, 15));
    } else {
      const std::string s = r.string(*n, "expect_rcode");
      auto rc = parse_rcode(s);
      if (!rc) r.fail(*n, "unknown expect_rcode \"" + s + "\" (NOERROR, NXDOMAIN, ...)");
      spec.expect_rcode = *rc;
    }
  }
  if (auto* n = t.get("interval")) spec.interval = r.millis(*n, "interval", 100, 3600 * 1000);
  if (auto* n = t.get("timeout")) {
    spec.timeout = r.millis(*n, "timeout", 10, 3600 * 1000);
    if (spec.timeout >= spec.interval) {
      r.fail(*n, "timeout must be shorter than interval (" + std::to_string(spec.interval.count()) +
                     "ms)");
    }
  } else {
    // Default: min(500ms, interval / 2). At the defaults (interval 1s, fall 3) a blackholed
    // backend is down within ~1s + 3 x 0.5s + 2 fast re-checks, i.e. under 3 s.
    spec.timeout = std::min(std::chrono::milliseconds(500), spec.interval / 2);
  }
  if (auto* n = t.get("fall")) spec.fall = static_cast<uint32_t>(r.integer(*n, "fall", 1, 100));
  if (auto* n = t.get("rise")) spec.rise = static_cast<uint32_t>(r.integer(*n, "rise", 1, 100));
  if (spec.type == steer::CheckType::https && spec.verify_tls && spec.host.empty()) {
    // Verified against the bare IP, nearly every real certificate fails: every address would
    // go down and the answers would silently fail open.
    r.fail(node, where +
                     ": an https check that verifies certificates needs a host (the name "
                     "the certificate is for), or verify_tls = false");
  }
  if (spec.type == steer::CheckType::tcp && spec.port == 0 && !spec.probe_port) {
    r.fail(node, where + ": a tcp check needs a port");
  }
  return def;
}

std::vector<CheckDef> read_checks(const Reader& r, const toml::node& node) {
  std::vector<CheckDef> out;
  for (auto [k, v] : Reader::in_file_order(r.table(node, "[checks]"))) {
    out.push_back(read_check(r, *k, *v));
  }
  return out;
}

// ---- datacenters ----

// `target = "eu.cdn.example.net."`: the datacenter is answered as a CNAME to that name
// instead of with addresses. It is health-checked through its check's probe_address (the
// builder insists on one), so it needs a check and cannot also have addresses.
void read_dc_target(const Reader& r, const toml::table& t, const toml::node& n, DatacenterDef& dc) {
  dc.target = r.string(n, "target");
  dc.target_pos = r.at(n);
  if (t.get("addresses") != nullptr) {
    r.fail(*t.get("addresses"), "datacenter \"" + dc.name +
                                    "\" has a target: it is answered as a CNAME, not with "
                                    "addresses (remove one of them)");
  }
  if (dc.target.empty() || dc.target.back() != '.' || dc.target == ".") {
    r.fail(n,
           "target must be an absolute host name ending in \".\", such as "
           "\"eu.cdn.example.net.\"");
  }
  if (t.get("check") == nullptr) {
    r.fail(n, "datacenter \"" + dc.name +
                  "\" has a target and needs a check with a probe_address (its health is "
                  "probed there)");
  }
}

DatacenterDef read_datacenter(const Reader& r, const toml::key& key, const toml::node& node) {
  const std::string where = "[datacenters." + std::string(key.str()) + "]";
  const auto& t = r.table(node, where);
  r.only_keys(t,
              {"addresses", "location", "check", "target", "min_up", "capacity", "address_weights"},
              where);
  DatacenterDef dc;
  dc.name = std::string(key.str());
  dc.pos = r.at(node);
  const toml::node* addrs = t.get("addresses");
  if (const toml::node* target = t.get("target")) {
    read_dc_target(r, t, *target, dc);
  } else if (!addrs) {
    r.fail(node, "datacenter \"" + dc.name + "\" has no addresses");
  }
  if (addrs) {
    if (!addrs->is_array()) r.fail(*addrs, "addresses must be a list of IP addresses");
    if (addrs->as_array()->empty()) {
      r.fail(*addrs, "datacenter \"" + dc.name + "\" has no addresses");
    }
    for (const auto& e : *addrs->as_array()) {
      if (!e.is_string()) r.fail(e, "addresses must be a list of IP addresses");
      const std::string s = e.as_string()->get();
      auto ip = IpAddress::parse(s);
      if (!ip) r.fail(e, "bad address \"" + s + "\"");
      const IpAddress addr = ip->unmapped();
      if (std::find(dc.addresses.begin(), dc.addresses.end(), addr) != dc.addresses.end()) {
        r.fail(e, "duplicate address \"" + s + "\"");
      }
      dc.addresses.push_back(addr);
    }
  }
  if (auto* n = t.get("location")) {
    const auto& loc = r.table(*n, "location");
    r.only_keys(loc, {"lat", "lon"}, "location");
    const toml::node* lat = loc.get("lat");
    const toml::node* lon = loc.get("lon");
    if (!lat || !lon) r.fail(*n, "location needs lat and lon");
    dc.latitude = r.number(*lat, "lat", -90, 90);
    dc.longitude = r.number(*lon, "lon", -180, 180);
    dc.has_location = true;
  }
  if (auto* n = t.get("check")) {
    dc.check = r.string(*n, "check");
    dc.check_pos = r.at(*n);
    if (dc.check.empty()) r.fail(*n, "check must name a [checks.NAME] table");
  }
  if (auto* n = t.get("min_up")) {
    // gdnsd's up_thresh: a count, or a share of the addresses of the asked family.
    if (n->is_string()) {
      const std::string text = n->as_string()->get();
      uint32_t pct = 0;
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, pct);
      if (ec != std::errc() || ptr + 1 != end || *ptr != '%' || pct < 1 || pct > 100) {
        r.fail(*n, "min_up must be a count (2) or a percentage \"1%\"..\"100%\"");
      }
      dc.min_up_percent = pct;
    } else {
      if (!n->is_integer()) {
        r.fail(*n, "min_up must be a count (2) or a percentage \"1%\"..\"100%\"");
      }
      dc.min_up = static_cast<uint32_t>(r.integer(*n, "min_up", 1, 1000));
    }
  }
  if (auto* n = t.get("capacity")) {
    dc.capacity = static_cast<uint32_t>(r.integer(*n, "capacity", 1, 1000000));
    dc.has_capacity = true;
  }
  if (auto* n = t.get("address_weights")) {
    // { "192.0.2.10" = 3 }: per-address shares inside the datacenter; unlisted ones weigh 1.
    dc.address_weights.assign(dc.addresses.size(), 1);
    for (auto [k, v] : Reader::in_file_order(r.table(*n, "address_weights"))) {
      const std::string text(k->str());
      auto a = IpAddress::parse(text);
      auto it = a ? std::find(dc.addresses.begin(), dc.addresses.end(), a->unmapped())
                  : dc.addresses.end();
      if (it == dc.addresses.end()) {
        r.fail(r.at(*k), "\"" + text + "\" is not an address of datacenter \"" + dc.name + "\"");
      }
      dc.address_weights[static_cast<size_t>(it - dc.addresses.begin())] =
          static_cast<uint32_t>(r.integer(*v, "weight of \"" + text + "\"", 1, 1000));
    }
  }
  return dc;
}

std::vector<DatacenterDef> read_datacenters(const Reader& r, const toml::node& node) {
  std::vector<DatacenterDef> out;
  for (auto [k, v] : Reader::in_file_order(r.table(node, "[datacenters]"))) {
    out.push_back(read_datacenter(r, *k, *v));
  }
  return out;
}

// ---- pools ----

PoolDef read_pool(const Reader& r, const toml::key& key, const toml::node& node) {
  const std::string where = "[pools." + std::string(key.str()) + "]";
  const auto& t = r.table(node, where);
  r.only_keys(t, {"policy", "members", "pick", "spillover"}, where);
  PoolDef p;
  p.name = std::string(key.str());
  p.pos = r.at(node);
  const toml::node* policy = t.get("policy");
  if (!policy) {
    r.fail(node, where + ": missing policy (failover, nearest, weighted, roundrobin or hashed)");
  }
  p.policy = r.string(*policy, "policy");
  p.policy_pos = r.at(*policy);
  const toml::node* members = t.get("members");
  if (!members) r.fail(node, "pool \"" + p.name + "\" has no members");
  p.members_pos = r.at(*members);
  if (members->is_table()) {
    // { fra = 70, ams = 30 }: weights, for the policies that use them.
    p.weighted_members = true;
    for (auto [k, v] : Reader::in_file_order(*members->as_table())) {
      const auto w = r.integer(*v, "weight of \"" + std::string(k->str()) + "\"", 1, 1000);
      p.members.push_back({std::string(k->str()), r.at(*k), static_cast<uint32_t>(w)});
    }
  } else if (members->is_array()) {
    for (const auto& e : *members->as_array()) {
      if (!e.is_string()) r.fail(e, "members must be a list of names or a table of weights");
      p.members.push_back({e.as_string()->get(), r.at(e), 1});
    }
  } else {
    r.fail(*members, "members must be a list of names or a table of weights");
  }
  if (p.members.empty()) r.fail(*members, "pool \"" + p.name + "\" has no members");
  if (auto* n = t.get("pick")) {
    p.pick = static_cast<uint32_t>(r.integer(*n, "pick", 1, 64));
    p.has_pick = true;
    p.pick_pos = r.at(*n);
  }
  if (auto* n = t.get("spillover")) {
    p.spillover = r.boolean(*n, "spillover");
    p.spillover_pos = r.at(*n);
  }
  return p;
}

std::vector<PoolDef> read_pools(const Reader& r, const toml::node& node) {
  std::vector<PoolDef> out;
  for (auto [k, v] : Reader::in_file_order(r.table(node, "[pools]"))) {
    out.push_back(read_pool(r, *k, *v));
  }
  return out;
}

// ---- zone files ----

void read_record_entry(const Reader& r, const toml::node& n, OwnerDef& owner) {
  if (n.is_string()) {
    owner.records.push_back({n.as_string()->get(), std::nullopt, r.at(n)});
    return;
  }
  if (n.is_table()) {
    const auto& t = *n.as_table();
    if (!t.contains("rr") && !t.contains("ttl")) {
      // `a.b = "A ..."` unquoted is TOML for the table a = { b = "A ..." }.
      const auto first = Reader::in_file_order(t);
      r.fail(first.empty() ? r.at(n) : r.at(*first.front().first),
             "\"" + owner.owner + "\" is a table: quote owner names that contain dots (\"" +
                 owner.owner +
                 (first.empty() ? "" : "." + std::string(first.front().first->str())) +
                 "\" = ...), or write { ttl = ..., rr = \"...\" }");
    }
    r.only_keys(t, {"ttl", "rr"}, "record of \"" + owner.owner + "\"");
    std::optional<uint32_t> ttl;
    if (auto* tn = t.get("ttl")) ttl = r.seconds(*tn, "ttl");
    const toml::node* rr = t.get("rr");
    if (!rr) r.fail(n, "record of \"" + owner.owner + "\" needs rr = \"TYPE RDATA\"");
    if (rr->is_string()) {
      owner.records.push_back({rr->as_string()->get(), ttl, r.at(*rr)});
      return;
    }
    if (!rr->is_array()) r.fail(*rr, "rr must be a string or a list of strings");
    if (rr->as_array()->empty()) r.fail(*rr, "rr: empty list");
    for (const auto& e : *rr->as_array()) {
      if (!e.is_string()) r.fail(e, "rr must be a string or a list of strings");
      owner.records.push_back({e.as_string()->get(), ttl, r.at(e)});
    }
    return;
  }
  r.fail(n, "a record must be a string \"TYPE RDATA\" or a table { ttl = ..., rr = ... }");
}

std::vector<OwnerDef> read_records(const Reader& r, const toml::node& node) {
  std::vector<OwnerDef> out;
  for (auto [k, v] : Reader::in_file_order(r.table(node, "[records]"))) {
    OwnerDef owner;
    owner.owner = std::string(k->str());
    owner.pos = r.at(*k);
    if (v->is_array()) {
      if (v->as_array()->empty()) r.fail(*v, "\"" + owner.owner + "\": empty list");
      for (const auto& e : *v->as_array()) {
        if (e.is_array()) r.fail(e, "nested lists are not allowed in [records]");
        read_record_entry(r, e, owner);
      }
    } else {
      read_record_entry(r, *v, owner);
    }
    out.push_back(std::move(owner));
  }
  return out;
}

SoaDef read_soa(const Reader& r, const toml::node& node) {
  const auto& t = r.table(node, "[zone.soa]");
  r.only_keys(t, {"mname", "rname", "refresh", "retry", "expire", "minimum", "serial", "ttl"},
              "[zone.soa]");
  SoaDef soa;
  soa.present = true;
  soa.pos = r.at(node);
  const toml::node* mname = t.get("mname");
  const toml::node* rname = t.get("rname");
  if (!mname) r.fail(node, "[zone.soa] needs mname (the primary name server)");
  if (!rname) r.fail(node, "[zone.soa] needs rname (the administrator's mailbox as a name)");
  soa.mname = r.string(*mname, "mname");
  soa.mname_pos = r.at(*mname);
  soa.rname = r.string(*rname, "rname");
  soa.rname_pos = r.at(*rname);
  if (auto* n = t.get("refresh")) soa.refresh_s = r.seconds(*n, "refresh");
  if (auto* n = t.get("retry")) soa.retry_s = r.seconds(*n, "retry");
  if (auto* n = t.get("expire")) soa.expire_s = r.seconds(*n, "expire");
  if (auto* n = t.get("minimum")) soa.minimum_s = r.seconds(*n, "minimum");
  if (auto* n = t.get("ttl")) soa.ttl_s = r.seconds(*n, "ttl");
  if (auto* n = t.get("serial")) {
    soa.serial = static_cast<uint32_t>(r.integer(*n, "serial", 1, 4294967295LL));
  }
  return soa;
}

// Shared by steer tables and [maps.NAME]: both hold map, nets and nets_file the same way.
template <class Def>
void read_dc_map(const Reader& r, const toml::node& node, Def& s) {
  const auto& t = r.table(node, "map");
  s.has_map = true;
  s.map_pos = r.at(node);
  if (t.empty()) r.fail(node, "map: empty table");
  for (auto [k, v] : Reader::in_file_order(t)) {
    s.map.push_back({std::string(k->str()), r.at(*k), r.names(*v, "map." + std::string(k->str()))});
  }
}

template <class Def>
void add_net(const Reader& r, Def& s, const std::string& text, const SourcePos& pos,
             std::vector<NameRef> dcs) {
  std::string why;
  auto prefix = IpPrefix::parse(text, &why);
  if (!prefix) r.fail(pos, "bad CIDR \"" + text + "\"" + (why.empty() ? "" : ": " + why));
  for (const auto& e : s.nets) {
    if (e.prefix == *prefix) {
      r.fail(pos, "duplicate CIDR \"" + text + "\" (also at " + e.pos.file + ":" +
                      std::to_string(e.pos.line) + ")");
    }
  }
  s.nets.push_back({*prefix, pos, std::move(dcs)});
}

template <class Def>
void read_nets(const Reader& r, const toml::node& node, Def& s) {
  const auto& t = r.table(node, "nets");
  s.has_nets = true;
  s.nets_pos = r.at(node);
  if (t.empty()) r.fail(node, "nets: empty table");
  for (auto [k, v] : Reader::in_file_order(t)) {
    const std::string text(k->str());
    add_net(r, s, text, r.at(*k), r.names(*v, "nets.\"" + text + "\""));
  }
}

// A nets file is kept small like a zone file; anything huge is a mistake.
constexpr std::uintmax_t kMaxNetsFileBytes = 16 * 1024 * 1024;

// `nets_file = "nets/office.txt"`, relative to the file that names it. One network a line:
// `CIDR datacenter[,datacenter...]`, `#` starts a comment. Its lines are nets entries with
// their own file:line:column; the file's content hash is kept so that an edit of it alone
// rebuilds the zone on the next reload.
template <class Def>
void read_nets_file(const Reader& r, const toml::node& node, Def& s) {
  const std::string name = r.string(node, "nets_file");
  if (name.empty()) r.fail(node, "nets_file must name a file");
  std::filesystem::path path(name);
  if (path.is_relative()) {
    path = (std::filesystem::path(r.file()).parent_path() / path).lexically_normal();
  }
  const std::string file = path.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) r.fail(node, "cannot read nets_file \"" + file + "\": " + ec.message());
  if (size > kMaxNetsFileBytes) r.fail(node, "nets_file \"" + file + "\" is too large");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in || in.bad()) r.fail(node, "cannot read nets_file \"" + file + "\"");
  const std::string text = ss.str();
  s.files.push_back({file, content_hash_of(text)});
  s.has_nets = true;
  if (s.nets_pos.file.empty()) s.nets_pos = r.at(node);

  const Reader fr(file);
  uint32_t line_no = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    std::string_view line(text.data() + begin, end - begin);
    begin = end + 1;
    if (const auto hash = line.find('#'); hash != std::string_view::npos)
      line.remove_suffix(line.size() - hash);
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    // Tokens: the CIDR, then datacenter names separated by commas and/or blanks.
    std::vector<std::pair<std::string, uint32_t>> tokens;  // text, column
    for (size_t i = 0; i < line.size();) {
      if (is_space(line[i]) || line[i] == ',') {
        ++i;
        continue;
      }
      const size_t start = i;
      while (i < line.size() && !is_space(line[i]) && line[i] != ',') ++i;
      tokens.emplace_back(std::string(line.substr(start, i - start)),
                          static_cast<uint32_t>(start + 1));
    }
    if (tokens.empty()) continue;
    if (tokens.size() < 2) {
      fr.fail(SourcePos{file, line_no, tokens[0].second},
              "expected \"CIDR datacenter[,datacenter...]\"");
    }
    std::vector<NameRef> dcs;
    for (size_t i = 1; i < tokens.size(); ++i) {
      dcs.push_back({tokens[i].first, SourcePos{file, line_no, tokens[i].second}});
    }
    add_net(fr, s, tokens[0].first, SourcePos{file, line_no, tokens[0].second}, std::move(dcs));
  }
}

// `[maps.NAME]`: the map and nets a steer table refers to with `map = "NAME"`.
std::vector<MapDef> read_maps(const Reader& r, const toml::node& node) {
  std::vector<MapDef> out;
  for (auto [k, v] : Reader::in_file_order(r.table(node, "[maps]"))) {
    const std::string where = "[maps." + std::string(k->str()) + "]";
    const auto& t = r.table(*v, where);
    r.only_keys(t, {"map", "nets", "nets_file"}, where);
    MapDef m;
    m.name = std::string(k->str());
    m.pos = r.at(*k);
    if (auto* n = t.get("map")) read_dc_map(r, *n, m);
    if (auto* n = t.get("nets")) read_nets(r, *n, m);
    if (auto* n = t.get("nets_file")) read_nets_file(r, *n, m);
    if (!m.has_map && !m.has_nets) r.fail(*v, where + " needs map.KEY or nets entries");
    out.push_back(std::move(m));
  }
  return out;
}

SteerDef read_steer(const Reader& r, const toml::key& key, const toml::node& node) {
  const std::string where = "[steer." + std::string(key.str()) + "]";
  const auto& t = r.table(node, where);
  r.only_keys(t,
              {"ttl", "degraded_ttl", "policy", "answers", "map", "nets", "nets_file",
               "datacenters", "weights", "on_all_down", "spillover"},
              where);
  SteerDef s;
  s.owner = std::string(key.str());
  s.owner_pos = r.at(key);
  s.pos = r.at(node);
  if (auto* n = t.get("ttl")) s.ttl_s = r.seconds(*n, "ttl");
  if (auto* n = t.get("degraded_ttl")) {
    s.degraded_ttl_s = r.seconds(*n, "degraded_ttl");
    if (*s.degraded_ttl_s > s.ttl_s) r.fail(*n, "degraded_ttl must not exceed ttl");
  }
  const toml::node* policy = t.get("policy");
  if (!policy) {
    r.fail(node,
           where + ": missing policy (geo, nearest, failover, weighted, roundrobin or hashed)");
  }
  s.policy = r.string(*policy, "policy");
  s.policy_pos = r.at(*policy);
  if (auto* n = t.get("answers"))
    s.answers = static_cast<uint32_t>(r.integer(*n, "answers", 1, 64));
  if (auto* n = t.get("spillover")) {
    s.spillover = r.boolean(*n, "spillover");
    s.spillover_pos = r.at(*n);
  }
  if (auto* n = t.get("map"); n != nullptr && n->is_string()) {
    // A named map replaces the inline entries; mixing both would leave it unclear which wins.
    s.map_name = n->as_string()->get();
    s.map_name_pos = r.at(*n);
    if (s.map_name.empty()) r.fail(*n, "map must name a [maps.NAME] or be a table");
    for (const char* k : {"nets", "nets_file"}) {
      if (auto* x = t.get(k)) {
        r.fail(*x, std::string(k) + " cannot be combined with map = \"" + s.map_name +
                       "\" (put it in [maps." + s.map_name + "])");
      }
    }
  } else if (n != nullptr) {
    read_dc_map(r, *n, s);
  }
  if (auto* n = t.get("nets")) read_nets(r, *n, s);
  if (auto* n = t.get("nets_file")) read_nets_file(r, *n, s);
  if (auto* n = t.get("datacenters")) {
    s.has_datacenters = true;
    s.datacenters_pos = r.at(*n);
    s.datacenters = r.names(*n, "datacenters");
  }
  if (auto* n = t.get("weights")) {
    const auto& wt = r.table(*n, "weights");
    s.has_weights = true;
    s.weights_pos = r.at(*n);
    if (wt.empty()) r.fail(*n, "weights: empty table");
    for (auto [k, v] : Reader::in_file_order(wt)) {
      const auto w = r.integer(*v, "weight of \"" + std::string(k->str()) + "\"", 1, 1000);
      s.weights.push_back({NameRef{std::string(k->str()), r.at(*k)}, static_cast<uint32_t>(w)});
    }
  }
  if (auto* n = t.get("on_all_down")) {
    s.on_all_down = r.string(*n, "on_all_down");
    s.on_all_down_pos = r.at(*n);
    if (s.on_all_down.empty())
      r.fail(*n, "on_all_down must be \"all\", \"nodata\" or a datacenter");
  }
  return s;
}

// ---- transfers and TSIG ----

// "192.0.2.1" or "[2001:db8::1]:5301" / "192.0.2.1:5301" (a host: NOTIFY goes there, port 53
// unless given), or "192.0.2.0/24" (transfers allowed from the network, nothing notified).
SecondaryDef read_secondary(const Reader& r, const toml::node& node) {
  const auto& t = r.table(node, "[[zone.secondary]]");
  r.only_keys(t, {"address", "key", "notify"}, "[[zone.secondary]]");
  SecondaryDef s;
  s.pos = r.at(node);
  const toml::node* an = t.get("address");
  if (an == nullptr) r.fail(node, "[[zone.secondary]] needs an address");
  const std::string text = r.string(*an, "address");
  const auto bad = [&]() {
    r.fail(*an, "bad secondary address \"" + text +
                    "\" (expected \"192.0.2.1\", \"192.0.2.1:5301\", \"[2001:db8::1]:53\" or "
                    "a network \"192.0.2.0/24\")");
  };
  bool is_host = true;
  if (text.find('/') != std::string::npos) {
    auto prefix = IpPrefix::parse(text);
    if (!prefix) bad();
    s.allow = *prefix;
    is_host = false;
  } else {
    std::string host = text;
    std::string port;
    if (!text.empty() && text.front() == '[') {
      const auto close = text.find(']');
      if (close == std::string::npos || close + 2 >= text.size() || text[close + 1] != ':') bad();
      host = text.substr(1, close - 1);
      port = text.substr(close + 2);
    } else if (!IpAddress::parse(text)) {
      const auto colon = text.rfind(':');
      if (colon == std::string::npos) bad();
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
    auto ip = IpAddress::parse(host);
    if (!ip) bad();
    if (!port.empty()) {
      unsigned p = 0;
      auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
      if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) bad();
      s.notify_port = static_cast<uint16_t>(p);
    }
    s.notify_address = *ip;
    s.allow = IpPrefix{*ip, ip->bit_length()};
  }
  s.notify = is_host;
  if (auto* x = t.get("notify")) {
    s.notify = r.boolean(*x, "notify");
    if (s.notify && !is_host) r.fail(*x, "notify needs a host address, not a network");
  }
  if (auto* x = t.get("key")) {
    s.key = r.string(*x, "key");
    s.key_pos = r.at(*x);
    std::string wire;
    if (s.key.empty() || !dns::name_from_text(s.key, &wire)) {
      r.fail(*x, "key must name a [tsig.NAME] of the server config");
    }
    s.key_wire.resize(wire.size());
    dns::lower_name(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                    reinterpret_cast<uint8_t*>(s.key_wire.data()));
  }
  return s;
}

std::vector<SecondaryDef> read_secondaries(const Reader& r, const toml::node& node) {
  std::vector<SecondaryDef> out;
  if (!node.is_array_of_tables()) r.fail(node, "secondary must be written [[zone.secondary]]");
  for (const auto& e : *node.as_array()) out.push_back(read_secondary(r, e));
  return out;
}

TsigKeyDef read_tsig_key(const Reader& r, const toml::key& key, const toml::node& node,
                         const std::string& base_dir);

FleetSettings read_fleet(const Reader& r, const toml::node& node, const std::string& base_dir);
std::vector<TsigKeyDef> read_tsig_keys(const Reader& r, const toml::node& node,
                                       const std::string& base_dir) {
  std::vector<TsigKeyDef> out;
  for (auto [k, v] : Reader::in_file_order(r.table(node, "[tsig]"))) {
    out.push_back(read_tsig_key(r, *k, *v, base_dir));
  }
  return out;
}

ZoneSource read_zone(const Reader& r, const toml::table& root) {
  r.only_keys(root, {"zone", "records", "datacenters", "checks", "pools", "maps", "steer"},
              "the zone file");
  ZoneSource z;
  z.display_name = r.file();
  if (auto* n = root.get("zone")) {
    const auto& t = r.table(*n, "[zone]");
    r.only_keys(t, {"name", "ttl", "soa", "secondary", "dnssec"}, "[zone]");
    if (auto* dn = t.get("dnssec")) {
      z.dnssec = r.boolean(*dn, "dnssec");
      z.dnssec_pos = r.at(*dn);
    }
    if (auto* nn = t.get("name")) {
      z.name = r.string(*nn, "name");
      z.name_pos = r.at(*nn);
      if (z.name.empty()) r.fail(*nn, "name must be a domain name");
    }
    if (auto* tn = t.get("ttl")) z.ttl_s = r.seconds(*tn, "ttl");
    if (auto* sn = t.get("soa")) z.soa = read_soa(r, *sn);
    if (auto* sn = t.get("secondary")) z.secondaries = read_secondaries(r, *sn);
  }
  if (auto* n = root.get("records")) z.owners = read_records(r, *n);
  if (auto* n = root.get("checks")) z.checks = read_checks(r, *n);
  if (auto* n = root.get("datacenters")) z.datacenters = read_datacenters(r, *n);
  if (auto* n = root.get("pools")) z.pools = read_pools(r, *n);
  if (auto* n = root.get("maps")) z.maps = read_maps(r, *n);
  if (auto* n = root.get("steer")) {
    for (auto [k, v] : Reader::in_file_order(r.table(*n, "[steer]"))) {
      z.steers.push_back(read_steer(r, *k, *v));
    }
  }
  return z;
}

// ---- server config ----

// "192.0.2.1:53", "[2001:db8::1]:53". Port 0 asks the kernel for a free one (tests).
bool valid_listen(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return false;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    auto ip = IpAddress::parse(host);
    if (!ip || !ip->is_v6()) return false;
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    auto ip = IpAddress::parse(host);
    if (!ip || !ip->is_v4()) return false;
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  return ec == std::errc() && ptr == port.data() + port.size() && p <= 65535 && !port.empty();
}

std::string resolve_path(const std::string& base_dir, const std::string& p) {
  if (p.empty() || base_dir.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

std::string listen_address(const Reader& r, const toml::node& n, const std::string& what) {
  const std::string s = r.string(n, what);
  if (!valid_listen(s)) {
    r.fail(n, "bad " + what + " address \"" + s + "\" (expected \"192.0.2.1:53\" or \"[::1]:53\")");
  }
  return s;
}

// [server] nsid: the RFC 5001 identity as text, or as bytes in hex after "0x" (Knot's form).
// At most 128 bytes, so the option always fits beside the answer.
std::string read_nsid(const Reader& r, const toml::node& n) {
  const std::string text = r.string(n, "nsid");
  if (text.size() < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    if (text.size() > 128) r.fail(n, "nsid must be at most 128 bytes");
    return text;
  }
  std::string out;
  bool ok = text.size() > 2 && text.size() % 2 == 0;
  for (size_t i = 2; ok && i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    ok = hi >= 0 && lo >= 0;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (!ok) r.fail(n, "nsid \"0x...\" must be pairs of hex digits");
  if (out.size() > 128) r.fail(n, "nsid must be at most 128 bytes");
  return out;
}

// [dnssec]: durations in the usual syntax ("14d", "1h"; seconds allowed, for tests).
DnssecSettings read_dnssec(const Reader& r, const toml::node& n) {
  const auto& t = r.table(n, "[dnssec]");
  r.only_keys(t,
              {"key_directory", "signature_validity", "signature_refresh", "inception_offset",
               "retire_wait", "signature_cache"},
              "[dnssec]");
  DnssecSettings d;
  constexpr int64_t kYear = 366 * 86400;
  auto secs = [&r](const toml::node& x, const char* what, int64_t min, int64_t max) {
    return std::chrono::seconds(r.seconds(x, what, min, max));
  };
  if (auto* x = t.get("key_directory")) {
    d.key_directory = r.string(*x, "key_directory");
    if (d.key_directory.empty()) r.fail(*x, "key_directory must name a directory");
  }
  if (auto* x = t.get("signature_validity")) {
    d.signature_validity = secs(*x, "signature_validity", 2, kYear);
  }
  if (auto* x = t.get("signature_refresh")) {
    d.signature_refresh = secs(*x, "signature_refresh", 1, kYear);
  }
  if (auto* x = t.get("inception_offset"))
    d.inception_offset = secs(*x, "inception_offset", 0, 86400);
  if (auto* x = t.get("retire_wait")) d.retire_wait = secs(*x, "retire_wait", 0, kYear);
  if (auto* x = t.get("signature_cache")) {
    d.signature_cache = static_cast<uint32_t>(r.integer(*x, "signature_cache", 16, 1 << 22));
  }
  if (d.signature_refresh >= d.signature_validity) {
    r.fail(t.get("signature_refresh") ? *t.get("signature_refresh") : *t.get("signature_validity"),
           "signature_refresh must be shorter than signature_validity (it is how long before "
           "expiry signatures are renewed)");
  }
  return d;
}

ServerConfig read_server(const Reader& r, const toml::table& root, const std::string& base_dir) {
  r.only_keys(
      root,
      {"server", "control", "datacenters", "checks", "pools", "maps", "tsig", "dnssec", "fleet"},
      "the server config");
  ServerConfig c;
  c.source_file = r.file();
  if (auto* n = root.get("server")) {
    const auto& t = r.table(*n, "[server]");
    r.only_keys(
        t,
        {"listen", "threads", "zones", "geoip", "asn_db", "state_dir", "max_udp_payload",
         "log_level", "query_log", "chaos", "tcp", "rrl", "cookies", "nsid", "xdp", "xdp_mode"},
        "[server]");
    if (auto* ln = t.get("listen")) {
      c.listen.addresses.clear();
      if (ln->is_array()) {
        if (ln->as_array()->empty()) r.fail(*ln, "listen: empty list");
        for (const auto& e : *ln->as_array())
          c.listen.addresses.push_back(listen_address(r, e, "listen"));
      } else {
        c.listen.addresses.push_back(listen_address(r, *ln, "listen"));
      }
    }
    if (auto* x = t.get("xdp")) {
      if (!x->is_array()) r.fail(*x, "xdp must be a list of interface names");
      for (const auto& e : *x->as_array()) {
        std::string name = r.string(e, "xdp");
        if (name.empty() || name.size() >= 16) r.fail(e, "xdp: not an interface name");
        c.listen.xdp.push_back(std::move(name));
      }
    }
    if (auto* x = t.get("xdp_mode")) {
      c.listen.xdp_mode = r.string(*x, "xdp_mode");
      if (c.listen.xdp_mode != "native" && c.listen.xdp_mode != "generic" &&
          c.listen.xdp_mode != "native_or_generic") {
        r.fail(*x, "unknown xdp_mode \"" + c.listen.xdp_mode +
                       "\" (native, generic, native_or_generic)");
      }
    }
    if (auto* x = t.get("threads"))
      c.listen.threads = static_cast<unsigned>(r.integer(*x, "threads", 0, 1024));
    if (auto* x = t.get("zones")) {
      c.zones_dir = r.string(*x, "zones");
      if (c.zones_dir.empty()) r.fail(*x, "zones must name a directory");
    }
    if (auto* x = t.get("geoip")) c.geoip_path = r.string(*x, "geoip");
    if (auto* x = t.get("asn_db")) c.asn_db_path = r.string(*x, "asn_db");
    if (auto* x = t.get("state_dir")) c.prober.state_dir = r.string(*x, "state_dir");
    if (auto* x = t.get("max_udp_payload")) {
      c.pipeline.max_udp_payload =
          static_cast<uint32_t>(r.integer(*x, "max_udp_payload", 512, 4096));
    }
    if (auto* x = t.get("nsid")) c.pipeline.nsid = read_nsid(r, *x);
    if (auto* x = t.get("query_log")) c.logging.query_log = r.boolean(*x, "query_log");
    if (auto* x = t.get("log_level")) {
      c.logging.level = r.string(*x, "log_level");
      log::Level level;
      if (!log::parse_level(c.logging.level, &level)) {
        r.fail(*x, "unknown log_level \"" + c.logging.level + "\" (debug, info, warn, error)");
      }
    }
    if (auto* x = t.get("chaos")) {
      const auto& ct = r.table(*x, "[server.chaos]");
      r.only_keys(ct, {"enabled", "id", "version"}, "[server.chaos]");
      if (auto* y = ct.get("enabled")) c.pipeline.chaos_enabled = r.boolean(*y, "enabled");
      if (auto* y = ct.get("id")) c.pipeline.chaos_id = r.string(*y, "id");
      if (auto* y = ct.get("version")) c.pipeline.chaos_version = r.string(*y, "version");
    }
    if (auto* x = t.get("tcp")) {
      const auto& tt = r.table(*x, "[server.tcp]");
      r.only_keys(tt,
                  {"idle_timeout", "stall_timeout", "max_connections", "max_connections_per_client",
                   "busy_idle_timeout", "threads"},
                  "[server.tcp]");
      if (auto* y = tt.get("threads")) {
        c.listen.tcp_threads = static_cast<unsigned>(r.integer(*y, "threads", 0, 1024));
      }
      if (auto* y = tt.get("idle_timeout")) {
        c.listen.tcp_idle_timeout = r.millis(*y, "idle_timeout", 100, 3600 * 1000);
      }
      if (auto* y = tt.get("stall_timeout")) {
        c.listen.tcp_stall_timeout = r.millis(*y, "stall_timeout", 100, 3600 * 1000);
      }
      if (auto* y = tt.get("max_connections")) {
        c.listen.tcp_max_connections =
            static_cast<unsigned>(r.integer(*y, "max_connections", 1, 1000000));
      }
      if (auto* y = tt.get("max_connections_per_client")) {
        c.listen.tcp_max_per_client =
            static_cast<unsigned>(r.integer(*y, "max_connections_per_client", 1, 1000000));
      }
      if (auto* y = tt.get("busy_idle_timeout")) {
        c.listen.tcp_busy_idle_timeout = r.millis(*y, "busy_idle_timeout", 100, 3600 * 1000);
      }
    }
    if (auto* x = t.get("rrl")) {
      const auto& rt = r.table(*x, "[server.rrl]");
      r.only_keys(rt, {"enabled", "responses_per_second", "window", "slip", "table_size"},
                  "[server.rrl]");
      if (auto* y = rt.get("enabled")) c.pipeline.rrl.enabled = r.boolean(*y, "enabled");
      if (auto* y = rt.get("responses_per_second")) {
        c.pipeline.rrl.responses_per_second =
            static_cast<uint32_t>(r.integer(*y, "responses_per_second", 1, 1000000));
      }
      if (auto* y = rt.get("window")) {
        c.pipeline.rrl.window = std::chrono::duration_cast<std::chrono::seconds>(
            r.millis(*y, "window", 1000, 3600 * 1000));
      }
      if (auto* y = rt.get("slip")) {
        c.pipeline.rrl.slip = static_cast<uint32_t>(r.integer(*y, "slip", 0, 10));
      }
      if (auto* y = rt.get("table_size")) {
        c.pipeline.rrl.table_entries =
            static_cast<uint32_t>(r.integer(*y, "table_size", 4, 1 << 24));
      }
    }
    if (auto* x = t.get("cookies")) {
      const auto& kt = r.table(*x, "[server.cookies]");
      r.only_keys(kt, {"enabled", "secret", "previous_secret"}, "[server.cookies]");
      if (auto* y = kt.get("enabled")) c.pipeline.cookies.enabled = r.boolean(*y, "enabled");
      // 16 bytes as 32 hex digits, the form RFC 9018's examples and other servers use.
      auto secret = [&r](const toml::node& node, const std::string& what) {
        const std::string text = r.string(node, what);
        std::array<uint8_t, 16> out{};
        bool ok = text.size() == 32;
        for (size_t i = 0; ok && i < 16; ++i) {
          const int hi = hex_value(text[2 * i]);
          const int lo = hex_value(text[2 * i + 1]);
          ok = hi >= 0 && lo >= 0;
          out[i] = static_cast<uint8_t>(hi * 16 + lo);
        }
        if (!ok) r.fail(node, what + " must be 32 hex digits (16 bytes)");
        return out;
      };
      if (auto* y = kt.get("secret")) c.pipeline.cookies.secret = secret(*y, "secret");
      if (auto* y = kt.get("previous_secret")) {
        c.pipeline.cookies.previous_secret = secret(*y, "previous_secret");
        if (!c.pipeline.cookies.secret) r.fail(*y, "previous_secret needs secret");
      }
    }
  }
  if (auto* n = root.get("control")) {
    const auto& t = r.table(*n, "[control]");
    r.only_keys(t, {"listen", "token"}, "[control]");
    if (auto* x = t.get("listen")) {
      // "" disables the control endpoint.
      c.control.listen = r.string(*x, "listen");
      if (!c.control.listen.empty()) c.control.listen = listen_address(r, *x, "listen");
    }
    if (auto* x = t.get("token")) c.control.token = r.string(*x, "token");
  }
  if (auto* n = root.get("dnssec")) c.dnssec = read_dnssec(r, *n);
  if (auto* n = root.get("checks")) c.checks = read_checks(r, *n);
  if (auto* n = root.get("datacenters")) c.datacenters = read_datacenters(r, *n);
  for (const auto& dc : c.datacenters) {
    if (!dc.check.empty() && !c.find_check(dc.check)) {
      r.fail(dc.check_pos, "unknown check \"" + dc.check + "\"");
    }
  }
  // Shared pools: their member names are resolved in each zone that uses them.
  if (auto* n = root.get("pools")) c.pools = read_pools(r, *n);
  for (const auto& p : c.pools) {
    if (c.find_datacenter(p.name)) {
      r.fail(p.pos, "\"" + p.name + "\" is both a datacenter and a pool");
    }
  }
  // Shared maps: names resolved in each zone that uses them; nets_file relative to this file.
  if (auto* n = root.get("maps")) c.maps = read_maps(r, *n);
  if (auto* n = root.get("tsig")) c.tsig_keys = read_tsig_keys(r, *n, base_dir);
  if (auto* n = root.get("fleet")) c.fleet = read_fleet(r, *n, base_dir);
  c.zones_dir = resolve_path(base_dir, c.zones_dir);
  c.geoip_path = resolve_path(base_dir, c.geoip_path);
  c.asn_db_path = resolve_path(base_dir, c.asn_db_path);
  c.prober.state_dir = resolve_path(base_dir, c.prober.state_dir);
  c.dnssec.key_directory = resolve_path(base_dir, c.dnssec.key_directory);
  return c;
}

// [fleet]: etcd endpoints and who we are in the fleet (fleet/fleet.h). Names are checked
// here so that a typo stops start-up with its position, not at the first etcd write.
FleetSettings read_fleet(const Reader& r, const toml::node& node, const std::string& base_dir) {
  const auto& t = r.table(node, "[fleet]");
  r.only_keys(t,
              {"endpoints", "name", "server", "tls_ca", "tls_cert", "tls_key", "user",
               "password_file", "lease_ttl", "quorum", "probers_per_target", "probe_source"},
              "[fleet]");
  FleetSettings f;
  f.enabled = true;
  auto valid_name = [](const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    return std::all_of(s.begin(), s.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
    });
  };
  if (auto* x = t.get("endpoints")) {
    const auto* list = x->as_array();
    if (list == nullptr || list->empty()) r.fail(*x, "endpoints must be a non-empty list of URLs");
    for (const auto& e : *list) {
      std::string url = r.string(e, "endpoints");
      if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        r.fail(e, "endpoint \"" + url + "\" must start with http:// or https://");
      }
      while (!url.empty() && url.back() == '/') url.pop_back();
      f.endpoints.push_back(std::move(url));
    }
  } else {
    f.endpoints.push_back("http://127.0.0.1:2379");
  }
  if (auto* x = t.get("name")) {
    f.name = r.string(*x, "name");
    if (!valid_name(f.name)) r.fail(*x, "name must be 1-64 of A-Z a-z 0-9 . _ -");
  }
  if (auto* x = t.get("server")) {
    f.server = r.string(*x, "server");
    if (!valid_name(f.server)) r.fail(*x, "server must be 1-64 of A-Z a-z 0-9 . _ -");
  }
  if (auto* x = t.get("tls_ca")) f.tls_ca = resolve_path(base_dir, r.string(*x, "tls_ca"));
  if (auto* x = t.get("tls_cert")) f.tls_cert = resolve_path(base_dir, r.string(*x, "tls_cert"));
  if (auto* x = t.get("tls_key")) f.tls_key = resolve_path(base_dir, r.string(*x, "tls_key"));
  if (f.tls_cert.empty() != f.tls_key.empty()) {
    r.fail(node, "tls_cert and tls_key go together");
  }
  if (auto* x = t.get("user")) f.user = r.string(*x, "user");
  if (auto* x = t.get("password_file")) {
    f.password_file = resolve_path(base_dir, r.string(*x, "password_file"));
    if (f.user.empty()) r.fail(*x, "password_file needs user");
  }
  if (auto* x = t.get("lease_ttl")) {
    f.lease_ttl = std::chrono::duration_cast<std::chrono::seconds>(
        r.millis(*x, "lease_ttl", 2000, 3600 * 1000));
  }
  if (auto* x = t.get("quorum")) {
    if (x->is_string()) {
      if (r.string(*x, "quorum") != "majority") {
        r.fail(*x, "quorum must be \"majority\" or a number of servers");
      }
      f.quorum_majority = true;
    } else {
      f.quorum_majority = false;
      f.quorum_count = static_cast<uint32_t>(r.integer(*x, "quorum", 1, 1000));
    }
  }
  if (auto* x = t.get("probers_per_target")) {
    f.probers_per_target = static_cast<uint32_t>(r.integer(*x, "probers_per_target", 0, 1000));
  }
  if (auto* x = t.get("probe_source")) {
    f.probe_source = r.string(*x, "probe_source");
    if (!IpAddress::parse(f.probe_source)) r.fail(*x, "probe_source must be an IP address");
  }
  return f;
}

// [tsig.NAME]: algorithm = "hmac-sha256" (default), and the secret in base64, inline
// (`secret`) or alone in a file (`key_file`, so that the config can be shared without it).
TsigKeyDef read_tsig_key(const Reader& r, const toml::key& key, const toml::node& node,
                         const std::string& base_dir) {
  const std::string where = "[tsig." + std::string(key.str()) + "]";
  const auto& t = r.table(node, where);
  r.only_keys(t, {"algorithm", "secret", "key_file"}, where);
  TsigKeyDef d;
  d.name = std::string(key.str());
  d.pos = r.at(key);
  std::string wire;
  if (!dns::name_from_text(d.name, &wire)) r.fail(d.pos, "the key name must be a domain name");
  d.key.name.resize(wire.size());
  dns::lower_name(reinterpret_cast<const uint8_t*>(wire.data()), wire.size(),
                  reinterpret_cast<uint8_t*>(d.key.name.data()));
  if (auto* x = t.get("algorithm")) {
    const std::string a = r.string(*x, "algorithm");
    auto alg = dns::tsig_algorithm_from_text(a);
    if (!alg) {
      r.fail(*x, "unknown algorithm \"" + a +
                     "\" (hmac-sha256, hmac-sha384, hmac-sha512 or hmac-sha1)");
    }
    d.key.algorithm = *alg;
  }
  const toml::node* sn = t.get("secret");
  const toml::node* fn = t.get("key_file");
  if ((sn == nullptr) == (fn == nullptr)) r.fail(d.pos, where + " needs either secret or key_file");
  std::string text;
  const toml::node& where_node = sn != nullptr ? *sn : *fn;
  if (sn != nullptr) {
    text = r.string(*sn, "secret");
  } else {
    const std::string path = resolve_path(base_dir, r.string(*fn, "key_file"));
    std::ifstream in(path, std::ios::binary);
    if (!in) r.fail(*fn, "cannot read key_file \"" + path + "\"");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
      text.erase(0, 1);
  }
  auto secret = dns::base64_decode(text);
  if (!secret) r.fail(where_node, "the secret must be base64 (as tsig-keygen and keymgr print it)");
  // RFC 8945 6: a key shorter than the MAC weakens it; refuse the obviously unsafe ones.
  if (secret->size() < 16) r.fail(where_node, "the secret must be at least 16 bytes");
  d.key.secret = std::move(*secret);
  return d;
}

Error parse_failure(const toml::parse_error& e, const std::string& file) {
  return Error{std::string(e.description()), file, static_cast<uint32_t>(e.source().begin.line),
               static_cast<uint32_t>(e.source().begin.column)};
}

}  // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text, std::string* why) {
  auto bad = [&](std::string reason) -> std::optional<int64_t> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (text.empty()) return bad("empty duration");
  // Ten years is far beyond any TTL or interval; the bound keeps the arithmetic in range.
  constexpr int64_t kMaxMs = int64_t{10} * 366 * 24 * 3600 * 1000;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i - start > 12) {
      return bad("bad duration \"" + std::string(text) +
                 "\" (expected seconds or e.g. \"30s\", \"10m\", \"1h\", \"14d\", \"800ms\")");
    }
    int64_t value = 0;
    std::from_chars(text.data() + start, text.data() + i, value);
    const size_t unit_start = i;
    while (i < text.size() && !(text[i] >= '0' && text[i] <= '9')) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t scale = 0;
    if (unit.empty() || unit == "s") {
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else if (unit == "d") {
      scale = 86400 * 1000;
    } else if (unit == "w") {
      scale = 7 * 86400 * 1000;
    } else {
      return bad("bad duration unit \"" + std::string(unit) + "\" in \"" + std::string(text) +
                 "\" (ms, s, m, h, d, w)");
    }
    if (unit.empty() && i < text.size()) return bad("bad duration \"" + std::string(text) + "\"");
    if (value > kMaxMs / scale) return bad("duration \"" + std::string(text) + "\" is too long");
    total += value * scale;
    if (total > kMaxMs) return bad("duration \"" + std::string(text) + "\" is too long");
  }
  return total;
}

Result<ZoneSource> read_zone_source(std::string_view text, const std::string& display_name) {
  const Reader r(display_name);
  try {
    toml::table root = toml::parse(text, display_name);
    return read_zone(r, root);
  } catch (const toml::parse_error& e) {
    return parse_failure(e, display_name);
  } catch (const Failure& f) {
    return f.error;
  }
}

Result<ServerConfig> load_server_config_text(std::string_view text, const std::string& display_name,
                                             const std::string& base_dir) {
  const Reader r(display_name);
  try {
    toml::table root = toml::parse(text, display_name);
    return read_server(r, root, base_dir);
  } catch (const toml::parse_error& e) {
    return parse_failure(e, display_name);
  } catch (const Failure& f) {
    return f.error;
  }
}

Result<ServerConfig> load_server_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the config file", path, 0, 0};
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error{"cannot read the config file", path, 0, 0};
  const std::string base = std::filesystem::path(path).parent_path().string();
  return load_server_config_text(ss.str(), path, base);
}

const DatacenterDef* ServerConfig::find_datacenter(std::string_view name) const {
  for (const auto& dc : datacenters) {
    if (dc.name == name) return &dc;
  }
  return nullptr;
}

const PoolDef* ServerConfig::find_pool(std::string_view name) const {
  for (const auto& p : pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const MapDef* ServerConfig::find_map(std::string_view name) const {
  for (const auto& m : maps) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const TsigKeyDef* ServerConfig::find_tsig_key(std::string_view name) const {
  for (const auto& k : tsig_keys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const CheckDef* ServerConfig::find_check(std::string_view name) const {
  for (const auto& c : checks) {
    if (c.spec.name == name) return &c;
  }
  return nullptr;
}

}  // namespace geodns::zone
