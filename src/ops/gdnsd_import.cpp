#include "ops/gdnsd_import.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "common/ip.h"
#include "ops/import.h"

namespace geodns::ops {
namespace fs = std::filesystem;

// --- vscf ---------------------------------------------------------------------------------

const Vscf* Vscf::get(std::string_view key) const {
  if (kind != Kind::hash) return nullptr;
  for (const auto& [k, v] : hash) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::vector<std::string> Vscf::scalars() const {
  std::vector<std::string> out;
  if (kind == Kind::scalar) out.push_back(scalar);
  if (kind == Kind::array) {
    for (const auto& v : array) {
      if (v.is_scalar()) out.push_back(v.scalar);
    }
  }
  return out;
}

namespace {

class VscfParser {
 public:
  VscfParser(std::string_view text, std::string file, int depth)
      : text_(text), file_(std::move(file)), depth_(depth) {}

  Result<Vscf> top() {
    skip();
    Vscf v;
    if (peek() == '[') {
      ++pos_;
      auto a = array_body();
      if (!a) return a.error();
      v = std::move(a.value());
      skip();
      if (pos_ < text_.size()) return fail("text after the top-level array");
      return v;
    }
    v.kind = Vscf::Kind::hash;
    v.file = file_;
    v.line = 1;
    if (auto st = hash_body(&v, true); !st) return st.error();
    return v;
  }

 private:
  Error fail(const std::string& why) const { return Error{why, file_, line_, 0}; }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  static bool is_bare(char c) {
    return !(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '{' || c == '}' || c == '[' ||
             c == ']' || c == ',' || c == ';' || c == '=' || c == '#' || c == '"');
  }

  // \DDD (decimal byte) or \c (c itself).
  bool escape(std::string* out) {
    ++pos_;
    if (pos_ >= text_.size()) return false;
    if (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0) {
      if (pos_ + 3 > text_.size()) return false;
      int n = 0;
      for (int i = 0; i < 3; ++i) {
        const char d = text_[pos_ + static_cast<size_t>(i)];
        if (std::isdigit(static_cast<unsigned char>(d)) == 0) return false;
        n = n * 10 + (d - '0');
      }
      if (n > 255) return false;
      *out += static_cast<char>(n);
      pos_ += 3;
      return true;
    }
    if (text_[pos_] == '\n') ++line_;
    *out += text_[pos_++];
    return true;
  }

  Result<std::string> scalar_text() {
    std::string out;
    if (peek() == '"') {
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) return fail("unterminated quoted string");
        const char c = text_[pos_];
        if (c == '"') {
          ++pos_;
          return out;
        }
        if (c == '\\') {
          if (!escape(&out)) return fail("bad escape");
          continue;
        }
        if (c == '\n') ++line_;
        out += c;
        ++pos_;
      }
    }
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\\') {
        if (!escape(&out)) return fail("bad escape");
        continue;
      }
      if (!is_bare(c)) break;
      out += c;
      ++pos_;
    }
    if (out.empty()) return fail(std::string("expected a value, found '") + peek() + "'");
    return out;
  }

  bool at_include() const { return text_.compare(pos_, 9, "$include{") == 0; }

  // $include{path}: the included file's top level (a hash or an array).
  Result<Vscf> include() {
    pos_ += 9;
    skip();
    auto path = scalar_text();
    if (!path) return path.error();
    skip();
    if (peek() != '}') return fail("$include{...} needs a closing '}'");
    ++pos_;
    if (depth_ > 16) return fail("$include nested too deeply");
    fs::path p = path.value();
    if (p.is_relative()) p = fs::path(file_).parent_path() / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) return fail("$include{" + path.value() + "}: cannot open " + p.string());
    std::stringstream s;
    s << in.rdbuf();
    return VscfParser(s.str(), p.string(), depth_ + 1).top();
  }

  Result<Vscf> value() {
    skip();
    Vscf v;
    v.file = file_;
    v.line = line_;
    if (at_include()) return include();
    if (peek() == '{') {
      ++pos_;
      v.kind = Vscf::Kind::hash;
      if (auto st = hash_body(&v, false); !st) return st.error();
      return v;
    }
    if (peek() == '[') {
      ++pos_;
      return array_body();
    }
    auto s = scalar_text();
    if (!s) return s.error();
    v.scalar = std::move(s.value());
    return v;
  }

  Result<Vscf> array_body() {
    Vscf v;
    v.kind = Vscf::Kind::array;
    v.file = file_;
    v.line = line_;
    while (true) {
      skip();
      if (peek() == ']') {
        ++pos_;
        return v;
      }
      if (pos_ >= text_.size()) return fail("unterminated array");
      auto item = value();
      if (!item) return item.error();
      v.array.push_back(std::move(item.value()));
      skip();
      if (peek() == ',' || peek() == ';') ++pos_;
    }
  }

  Status hash_body(Vscf* v, bool top) {
    while (true) {
      skip();
      if (top ? pos_ >= text_.size() : peek() == '}') {
        if (!top) ++pos_;
        return {};
      }
      if (pos_ >= text_.size()) return fail("unterminated hash");
      if (at_include()) {
        // Hash context: the included file's keys join this hash.
        auto inc = include();
        if (!inc) return inc.error();
        if (!inc->is_hash()) return fail("$include in a hash must name a hash file");
        for (auto& kv : inc->hash) v->hash.push_back(std::move(kv));
        continue;
      }
      const uint32_t key_line = line_;
      auto key = scalar_text();
      if (!key) return key.error();
      skip();
      if (peek() != '=') return fail("expected '=>' or '=' after \"" + key.value() + "\"");
      ++pos_;
      if (peek() == '>') ++pos_;
      auto val = value();
      if (!val) return val.error();
      if (val->line == 0) val->line = key_line;
      for (const auto& [k, existing] : v->hash) {
        if (k == key.value()) return fail("duplicate key \"" + k + "\"");
      }
      v->hash.emplace_back(std::move(key.value()), std::move(val.value()));
      skip();
      if (peek() == ',' || peek() == ';') ++pos_;
    }
  }

  std::string_view text_;
  std::string file_;
  int depth_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
};

}  // namespace

Result<Vscf> parse_vscf(std::string_view text, const std::string& file) {
  return VscfParser(text, file, 0).top();
}

Result<Vscf> parse_vscf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open");
  std::stringstream s;
  s << in.rdbuf();
  return parse_vscf(s.str(), path);
}

// --- conversion ---------------------------------------------------------------------------

namespace {

struct Dc {
  std::string name;
  std::vector<std::string> addresses;
  std::string target;  // a CNAME (DYNC)
  std::string check;
  uint32_t min_up_percent = 0;
  bool has_location = false;
  double lat = 0, lon = 0;
  bool operator==(const Dc& o) const {
    return addresses == o.addresses && target == o.target && check == o.check &&
           min_up_percent == o.min_up_percent && has_location == o.has_location && lat == o.lat &&
           lon == o.lon;
  }
};

struct Steer {
  std::string owner;
  uint32_t ttl_s = 30;
  std::string policy;
  std::vector<std::pair<std::string, std::vector<std::string>>> map, nets;
  std::vector<std::string> datacenters;
  std::vector<std::pair<std::string, uint32_t>> weights;
  uint32_t answers = 0;  // 0 = the policy's default
};

struct ZoneOut {
  std::vector<Dc> dcs;
  std::vector<Steer> steers;
};

bool is_ip(const std::string& s) {
  return IpAddress::parse(s).has_value();
}

std::string quoted_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i > 0 ? ", " : "") + toml_string(v[i]);
  return out + "]";
}

class Converter {
 public:
  explicit Converter(const Vscf& config) : config_(config) {
    if (const Vscf* p = config.get("plugins"); p != nullptr && p->is_hash()) plugins_ = p;
    if (const Vscf* s = config.get("service_types"); s != nullptr && s->is_hash()) types_ = s;
  }

  std::vector<std::string> notes;
  std::map<std::string, std::string> checks;  // name -> TOML body
  std::string geoip_db;                       // the first map's geoip2_db, resolved
  std::string config_dir;

  void note(const Vscf& at, const std::string& why) { notes.push_back(at.where() + ": " + why); }
  void note(const std::string& where, const std::string& why) {
    notes.push_back(where + ": " + why);
  }

  // One DYNA/DYNC record: `ref` is "plugin!resource" or "plugin!resource/dc".
  void add_dynamic(ZoneOut* zone, const std::string& owner, uint32_t ttl_s, bool is_cname,
                   const std::string& ref, const std::string& where) {
    const size_t bang = ref.find('!');
    if (bang == std::string::npos) {
      note(where, "DYNA/DYNC \"" + ref + "\": expected plugin!resource");
      return;
    }
    const std::string plugin = ref.substr(0, bang);
    std::string resource = ref.substr(bang + 1);
    std::string only_dc;
    if (const size_t slash = resource.find('/'); slash != std::string::npos) {
      only_dc = resource.substr(slash + 1);
      resource = resource.substr(0, slash);
    }
    const Vscf* pconf = plugins_ != nullptr ? plugins_->get(plugin) : nullptr;
    if (pconf == nullptr || !pconf->is_hash()) {
      note(where, "plugin \"" + plugin + "\" is not configured");
      return;
    }
    Steer s;
    s.owner = owner;
    s.ttl_s = ttl_s;
    zone_ = zone;
    is_cname_ = is_cname;
    bool ok = false;
    if (plugin == "geoip") {
      ok = geoip(*pconf, resource, only_dc, &s, where);
    } else if (plugin == "metafo") {
      ok = metafo(*pconf, resource, only_dc, &s, where);
    } else if (plugin == "multifo") {
      ok = multifo(*pconf, resource, &s, where);
    } else if (plugin == "simplefo") {
      ok = simplefo(*pconf, resource, &s, where);
    } else if (plugin == "weighted") {
      ok = weighted(*pconf, resource, &s, where);
    } else {
      note(where, "plugin \"" + plugin + "\": no geodns equivalent (" + owner + " not converted)");
    }
    if (ok) zone->steers.push_back(std::move(s));
  }

 private:
  // Inherited resource parameters (gdnsd passes them down every level).
  struct Inherit {
    std::vector<std::string> service_types;
    std::optional<double> up_thresh;
    const Vscf* at = nullptr;
  };

  static Inherit inherit(Inherit in, const Vscf& level) {
    if (const Vscf* st = level.get("service_types")) {
      in.service_types = st->scalars();
      in.at = st;
    }
    if (const Vscf* ut = level.get("up_thresh"); ut != nullptr && ut->is_scalar()) {
      in.up_thresh = std::strtod(ut->scalar.c_str(), nullptr);
    }
    return in;
  }

  // The check for a service_types list ("" = always up).
  std::string check_for(const Inherit& in) {
    std::string chosen;
    for (const auto& t : in.service_types) {
      if (t == "up") continue;
      const Vscf& where = in.at != nullptr ? *in.at : config_;
      if (t == "down") {
        note(where,
             "service type \"down\" (forced down): not converted; drain the datacenter "
             "with `geodns ctl drain` instead");
        continue;
      }
      if (!chosen.empty()) {
        note(where, "service_types [" + chosen + ", " + t +
                        "]: a geodns datacenter has one check; only \"" + chosen + "\" is kept");
        continue;
      }
      if (convert_check(t, where)) chosen = t;
    }
    return chosen;
  }

  bool convert_check(const std::string& name, const Vscf& where) {
    if (checks.count(name) != 0) return true;
    const Vscf* t = types_ != nullptr ? types_->get(name) : nullptr;
    if (t == nullptr || !t->is_hash()) {
      note(where, "service type \"" + name + "\" is not defined in service_types");
      return false;
    }
    const Vscf* plugin = t->get("plugin");
    const std::string p = plugin != nullptr ? plugin->scalar : "";
    std::ostringstream body;
    auto num = [&](const char* key) -> std::optional<long> {
      const Vscf* v = t->get(key);
      if (v == nullptr || !v->is_scalar()) return std::nullopt;
      return std::strtol(v->scalar.c_str(), nullptr, 10);
    };
    if (p == "http_status") {
      body << "type = \"http\"\nport = " << num("port").value_or(80) << "\n";
      const Vscf* path = t->get("url_path");
      body << "path = " << toml_string(path != nullptr ? path->scalar : "/") << "\n";
      if (const Vscf* vhost = t->get("vhost"))
        body << "host = " << toml_string(vhost->scalar) << "\n";
      std::vector<long> codes;
      if (const Vscf* ok = t->get("ok_codes")) {
        for (const auto& c : ok->scalars()) codes.push_back(std::strtol(c.c_str(), nullptr, 10));
      } else {
        codes = {200};
      }
      std::sort(codes.begin(), codes.end());
      if (codes.size() == 1) {
        body << "expect = " << codes[0] << "\n";
      } else if (!codes.empty() &&
                 codes.back() - codes.front() == static_cast<long>(codes.size()) - 1) {
        body << "expect = [" << codes.front() << ", " << codes.back() << "]\n";
      } else {
        note(*t->get("ok_codes"), "ok_codes: geodns expects one code or one range; kept " +
                                      std::to_string(codes.front()) + ".." +
                                      std::to_string(codes.back()));
        body << "expect = [" << codes.front() << ", " << codes.back() << "]\n";
      }
    } else if (p == "tcp_connect") {
      const auto port = num("port");
      if (!port) {
        note(*t, "tcp_connect without port: not converted");
        return false;
      }
      body << "type = \"tcp\"\nport = " << *port << "\n";
    } else {
      note(*t, "service type \"" + name + "\" (plugin " + (p.empty() ? "?" : p) +
                   "): no geodns check of that kind");
      return false;
    }
    const long interval = num("interval").value_or(10);
    body << "interval = \"" << interval << "s\"\n";
    body << "timeout = \"" << num("timeout").value_or(std::max(1L, interval / 2)) << "s\"\n";
    // gdnsd: down_thresh failures take an UP target down, up_thresh successes in a row bring
    // it back; geodns counts consecutive failures (fall) and successes (rise).
    body << "fall = " << num("down_thresh").value_or(10) << "\n";
    body << "rise = " << num("up_thresh").value_or(20) << "\n";
    if (t->get("ok_thresh") != nullptr) {
      note(*t->get("ok_thresh"),
           "ok_thresh (failure counter reset): geodns counts consecutive "
           "failures, so isolated failures never add up");
    }
    checks[name] = body.str();
    return true;
  }

  // Adds `dc` to the zone under its name, or under "<resource>_<name>" when another resource
  // of the zone already uses that name for something else. Returns the name used.
  std::string add_dc(Dc dc, const std::string& resource) {
    for (const auto& d : zone_->dcs) {
      if (d.name == dc.name && d == dc) return d.name;
    }
    const bool taken = std::any_of(zone_->dcs.begin(), zone_->dcs.end(),
                                   [&](const Dc& d) { return d.name == dc.name; });
    if (taken) dc.name = resource + "_" + dc.name;
    zone_->dcs.push_back(dc);
    return dc.name;
  }

  // The addresses of a multifo-style resource (labels => addresses, an array, or
  // addrs_v4/addrs_v6 sub-stanzas).
  bool address_set(const Vscf& v, Inherit in, Dc* dc) {
    if (!addresses_of(v, in, dc)) return false;
    // gdnsd: up while non-down >= ceil(up_thresh * total), default 0.5; geodns min_up as a
    // share, rounded up the same way.
    const double thresh = inherit(in, v).up_thresh.value_or(0.5);
    dc->min_up_percent = static_cast<uint32_t>(std::ceil(thresh * 100.0 - 1e-9));
    return true;
  }

  bool addresses_of(const Vscf& v, Inherit in, Dc* dc) {
    if (v.is_array() || v.is_scalar()) {
      for (const auto& a : v.scalars()) {
        if (!is_ip(a)) {
          note(v, "\"" + a + "\" is not an IP address");
          return false;
        }
        dc->addresses.push_back(a);
      }
      if (dc->check.empty()) dc->check = check_for(in);
      return true;
    }
    in = inherit(in, v);
    const Vscf* v4 = v.get("addrs_v4");
    const Vscf* v6 = v.get("addrs_v6");
    if (v4 != nullptr || v6 != nullptr) {
      for (const Vscf* fam : {v4, v6}) {
        if (fam != nullptr && !addresses_of(*fam, in, dc)) return false;
      }
    } else {
      for (const auto& [k, a] : v.hash) {
        if (k == "service_types" || k == "up_thresh" || k == "plugin") continue;
        if (k == "ignore_health") {
          note(a, "ignore_health: not converted (geodns answers healthy addresses only)");
          continue;
        }
        if (!a.is_scalar() || !is_ip(a.scalar)) {
          note(a, "\"" + k + "\": expected an IP address");
          return false;
        }
        dc->addresses.push_back(a.scalar);
      }
      if (dc->check.empty()) dc->check = check_for(in);
    }
    return true;
  }

  // A geoip/metafo dcmap value: one address, an array, a CNAME, a hash (multifo synthesized,
  // or `plugin => X`), or "%plugin!resource" / "!resource".
  std::optional<Dc> dc_value(const std::string& name, const Vscf& v, Inherit in) {
    Dc dc;
    dc.name = name;
    if (v.is_scalar() && (v.scalar[0] == '%' || v.scalar[0] == '!')) {
      const size_t bang = v.scalar.find('!');
      std::string plugin =
          v.scalar.substr(v.scalar[0] == '%' ? 1 : 0, bang - (v.scalar[0] == '%' ? 1 : 0));
      if (plugin.empty()) plugin = "multifo";
      const std::string res = v.scalar.substr(bang + 1);
      const Vscf* p = plugins_ != nullptr ? plugins_->get(plugin) : nullptr;
      const Vscf* r = p != nullptr ? p->get(res) : nullptr;
      if (plugin != "multifo" || r == nullptr) {
        note(v, "datacenter " + name + " => " + v.scalar +
                    ": only references to multifo resources are converted");
        return std::nullopt;
      }
      if (!address_set(*r, inherit(in, *p), &dc)) return std::nullopt;
      return dc;
    }
    if (v.is_scalar() && !is_ip(v.scalar)) {
      if (!is_cname_) {
        note(v, "datacenter " + name + " => " + v.scalar + ": not an address (DYNA)");
        return std::nullopt;
      }
      dc.target = v.scalar;
      if (!dc.target.empty() && dc.target.back() != '.') {
        note(v, "CNAME " + dc.target + " is relative: written as " + dc.target + ".");
        dc.target += '.';
      }
      note(v, "datacenter " + name + " (CNAME " + dc.target +
                  "): geodns needs a check with a probe_address for a target datacenter; "
                  "add one before `geodns check` accepts the zone");
      return dc;
    }
    if (v.is_hash()) {
      if (const Vscf* p = v.get("plugin"); p != nullptr && p->scalar != "multifo") {
        note(v, "datacenter " + name + " uses plugin " + p->scalar +
                    ": only multifo-style address sets are converted");
        return std::nullopt;
      }
    }
    if (!address_set(v, in, &dc)) return std::nullopt;
    return dc;
  }

  // dcmap -> zone datacenters; fills `names` (gdnsd name -> zone name). Also finds `answers`.
  bool dcmap(const Vscf& map, const std::string& resource, Inherit in,
             std::map<std::string, std::string>* names, uint32_t* answers) {
    if (!map.is_hash()) {
      note(map, "dcmap must be a hash");
      return false;
    }
    dropped_.clear();
    for (const auto& [name, v] : map.hash) {
      auto dc = dc_value(name, v, in);
      if (!dc) {
        // Reported by dc_value; the resource converts without it (its lists skip it).
        dropped_.insert(name);
        continue;
      }
      size_t v4 = 0, v6 = 0;
      for (const auto& a : dc->addresses) (IpAddress::parse(a)->is_v4() ? v4 : v6)++;
      *answers = std::max<uint32_t>(*answers, static_cast<uint32_t>(std::max(v4, v6)));
      (*names)[name] = add_dc(std::move(*dc), resource);
    }
    if (names->empty()) {
      note(map, "no datacenter of the dcmap converts");
      return false;
    }
    return true;
  }

  std::vector<std::string> renamed(const std::vector<std::string>& list,
                                   const std::map<std::string, std::string>& names,
                                   const Vscf& at) {
    std::vector<std::string> out;
    for (const auto& n : list) {
      auto it = names.find(n);
      if (it == names.end()) {
        if (dropped_.count(n) == 0) {
          note(at, "datacenter \"" + n + "\" is not in the resource's dcmap");
        }
        continue;
      }
      out.push_back(it->second);
    }
    return out;
  }

  // gdnsd's map: continents at the top, then countries, then subdivisions; "default" at a
  // level is the list of the key above it (the map's own default at the top).
  void map_tree(const Vscf& node, const std::string& parent, int depth,
                const std::map<std::string, std::string>& names, Steer* s) {
    for (const auto& [k, v] : node.hash) {
      if (k == "default" && depth > 0) {
        s->map.emplace_back(parent, renamed(v.scalars(), names, v));
        continue;
      }
      const std::string key = depth == 2 ? parent + "-" + k : k;
      if (v.is_hash()) {
        if (depth >= 2) {
          note(v, "map " + key +
                      ": city-level keys are not converted (geodns maps stop at "
                      "subdivisions)");
          continue;
        }
        map_tree(v, key, depth + 1, names, s);
        continue;
      }
      s->map.emplace_back(key, renamed(v.scalars(), names, v));
    }
  }

  bool geoip(const Vscf& conf, const std::string& resource, const std::string& only_dc, Steer* s,
             const std::string& where) {
    const Vscf* resources = conf.get("resources");
    const Vscf* r = resources != nullptr ? resources->get(resource) : nullptr;
    if (r == nullptr || !r->is_hash()) {
      note(where, "geoip resource \"" + resource + "\" is not defined");
      return false;
    }
    const Vscf* map_name = r->get("map");
    const Vscf* maps = conf.get("maps");
    const Vscf* m = map_name != nullptr && maps != nullptr ? maps->get(map_name->scalar) : nullptr;
    if (m == nullptr || !m->is_hash()) {
      note(*r, "geoip resource \"" + resource + "\": its map is not defined");
      return false;
    }
    if (const Vscf* db = m->get("geoip2_db"); db != nullptr && geoip_db.empty()) {
      fs::path p = db->scalar;
      // gdnsd: relative database paths are under the config directory's geoip/.
      if (p.is_relative()) p = fs::path(config_dir) / "geoip" / p;
      geoip_db = p.string();
    } else if (m->get("geoip2_db") == nullptr && m->get("geoip_db") != nullptr) {
      note(*m->get("geoip_db"), "GeoIP1 databases: gdnsd 3 reads geoip2_db only");
    }
    for (const char* key : {"city_no_region", "city_auto_mode", "geoip2_language_keys"}) {
      if (const Vscf* x = m->get(key)) note(*x, std::string(key) + ": not converted");
    }
    Inherit in = inherit(inherit({}, conf), *r);
    const Vscf* dcm = r->get("dcmap");
    if (dcm == nullptr) {
      note(*r, "geoip resource \"" + resource + "\" without dcmap: not converted");
      return false;
    }
    std::map<std::string, std::string> names;
    uint32_t answers = 1;
    if (!dcmap(*dcm, resource, in, &names, &answers)) return false;
    s->answers = answers;
    if (!only_dc.empty()) return pinned(only_dc, names, s, where);
    const Vscf* dcs = m->get("datacenters");
    const std::vector<std::string> all =
        dcs != nullptr ? renamed(dcs->scalars(), names, *dcs) : std::vector<std::string>{};
    if (const Vscf* skip = r->get("skip_first")) note(*skip, "skip_first: not converted");
    const Vscf* tree = m->get("map");
    const Vscf* coords = m->get("auto_dc_coords");
    if (tree == nullptr && coords != nullptr && coords->is_hash()) {
      // Nearest by great-circle distance, as gdnsd's auto_dc_coords.
      s->policy = "nearest";
      for (const auto& [dc, ll] : coords->hash) {
        const auto v = ll.scalars();
        auto it = names.find(dc);
        if (v.size() != 2 || it == names.end()) {
          note(ll, "auto_dc_coords " + dc + ": expected [lat, lon] of a dcmap datacenter");
          continue;
        }
        for (auto& d : zone_->dcs) {
          if (d.name == it->second) {
            d.has_location = true;
            d.lat = std::strtod(v[0].c_str(), nullptr);
            d.lon = std::strtod(v[1].c_str(), nullptr);
          }
        }
      }
      s->datacenters = all;
    } else {
      if (coords != nullptr) {
        note(*coords,
             "auto_dc_coords beside a map: gdnsd orders unmapped clients by distance; "
             "geodns uses the map's default list");
      }
      s->policy = "geo";
      if (tree != nullptr && tree->is_hash()) map_tree(*tree, "", 0, names, s);
      const bool has_default = std::any_of(s->map.begin(), s->map.end(),
                                           [](const auto& e) { return e.first == "default"; });
      // gdnsd answers an unmapped client with the map's datacenters in their order.
      if (!has_default) s->map.emplace_back("default", all);
    }
    if (const Vscf* nets = m->get("nets")) {
      if (nets->is_hash()) {
        for (const auto& [cidr, list] : nets->hash) {
          s->nets.emplace_back(cidr, renamed(list.scalars(), names, list));
        }
      } else {
        note(*nets, "nets from a file: not converted (copy its lines into a geodns nets_file)");
      }
    }
    return true;
  }

  bool pinned(const std::string& dc, const std::map<std::string, std::string>& names, Steer* s,
              const std::string& where) {
    auto it = names.find(dc);
    if (it == names.end()) {
      note(where, "datacenter \"" + dc + "\" is not in the resource's dcmap");
      return false;
    }
    s->policy = "failover";
    s->datacenters = {it->second};
    return true;
  }

  bool metafo(const Vscf& conf, const std::string& resource, const std::string& only_dc, Steer* s,
              const std::string& where) {
    const Vscf* resources = conf.get("resources");
    const Vscf* r = resources != nullptr ? resources->get(resource) : nullptr;
    if (r == nullptr || !r->is_hash()) {
      note(where, "metafo resource \"" + resource + "\" is not defined");
      return false;
    }
    const Vscf* dcm = r->get("dcmap");
    const Vscf* dcs = r->get("datacenters");
    if (dcm == nullptr || dcs == nullptr) {
      note(*r, "metafo resource \"" + resource + "\" needs datacenters and dcmap");
      return false;
    }
    std::map<std::string, std::string> names;
    uint32_t answers = 1;
    if (!dcmap(*dcm, resource, inherit(inherit({}, conf), *r), &names, &answers)) return false;
    s->answers = answers;
    if (!only_dc.empty()) return pinned(only_dc, names, s, where);
    s->policy = "failover";
    s->datacenters = renamed(dcs->scalars(), names, *dcs);
    return true;
  }

  bool multifo(const Vscf& conf, const std::string& resource, Steer* s, const std::string& where) {
    const Vscf* r = conf.get(resource);
    if (r == nullptr) {
      note(where, "multifo resource \"" + resource + "\" is not defined");
      return false;
    }
    Dc dc;
    dc.name = resource;
    if (!address_set(*r, inherit({}, conf), &dc)) return false;
    // Every healthy address of the set, as multifo answers; all of them when too few are up.
    s->policy = "roundrobin";
    s->datacenters = {add_dc(std::move(dc), resource)};
    return true;
  }

  bool simplefo(const Vscf& conf, const std::string& resource, Steer* s, const std::string& where) {
    const Vscf* r = conf.get(resource);
    if (r == nullptr || !r->is_hash()) {
      note(where, "simplefo resource \"" + resource + "\" is not defined");
      return false;
    }
    const Inherit in = inherit(inherit({}, conf), *r);
    Dc primary, secondary;
    primary.name = resource + "_primary";
    secondary.name = resource + "_secondary";
    auto take = [&](const Vscf& level, Inherit fam_in) {
      const Vscf* p = level.get("primary");
      const Vscf* q = level.get("secondary");
      if (p == nullptr || q == nullptr || !is_ip(p->scalar) || !is_ip(q->scalar)) {
        note(level, "simplefo needs primary and secondary addresses");
        return false;
      }
      fam_in = inherit(fam_in, level);
      primary.addresses.push_back(p->scalar);
      secondary.addresses.push_back(q->scalar);
      const std::string check = check_for(fam_in);
      if (!primary.check.empty() && primary.check != check) {
        note(level, "per-family service_types: geodns keeps one check per datacenter");
      }
      if (primary.check.empty()) primary.check = secondary.check = check;
      return true;
    };
    const Vscf* v4 = r->get("addrs_v4");
    const Vscf* v6 = r->get("addrs_v6");
    if (v4 != nullptr || v6 != nullptr) {
      for (const Vscf* fam : {v4, v6}) {
        if (fam != nullptr && !take(*fam, in)) return false;
      }
    } else if (!take(*r, in)) {
      return false;
    }
    s->policy = "failover";
    s->answers = 1;
    s->datacenters = {add_dc(primary, resource), add_dc(secondary, resource)};
    return true;
  }

  bool weighted(const Vscf& conf, const std::string& resource, Steer* s, const std::string& where) {
    const Vscf* r = conf.get(resource);
    if (r == nullptr || !r->is_hash()) {
      note(where, "weighted resource \"" + resource + "\" is not defined");
      return false;
    }
    const Inherit in = inherit(inherit({}, conf), *r);
    const Vscf* multi = r->get("multi");
    if (multi == nullptr) multi = conf.get("multi");
    if (multi != nullptr && (multi->scalar == "true" || multi->scalar == "TRUE")) {
      note(*multi,
           "multi = true (several weighted addresses per answer): geodns answers one "
           "member; converted as multi = false");
    }
    s->policy = "weighted";
    for (const auto& [label, v] : r->hash) {
      if (label == "service_types" || label == "up_thresh" || label == "multi") continue;
      const auto pair = v.scalars();
      if (!v.is_array() || pair.size() != 2) {
        note(v, "weighted group \"" + label + "\": only [address, weight] members are converted");
        return false;
      }
      Dc dc;
      dc.name = resource + "_" + label;
      if (is_ip(pair[0])) {
        dc.addresses.push_back(pair[0]);
      } else if (is_cname_) {
        dc.target = pair[0].back() == '.' ? pair[0] : pair[0] + ".";
        note(v, "member " + label + " (CNAME " + dc.target +
                    "): geodns needs a check with a probe_address for a target datacenter");
      } else {
        note(v, "member " + label + ": " + pair[0] + " is not an address (DYNA)");
        return false;
      }
      dc.check = check_for(in);
      const long w = std::strtol(pair[1].c_str(), nullptr, 10);
      if (w < 1 || w > 1000) {
        note(v, "weight " + pair[1] + ": geodns weights are 1..1000; clamped");
      }
      s->weights.emplace_back(add_dc(std::move(dc), resource),
                              static_cast<uint32_t>(std::clamp(w, 1L, 1000L)));
    }
    return !s->weights.empty();
  }

  const Vscf& config_;
  const Vscf* plugins_ = nullptr;
  const Vscf* types_ = nullptr;
  ZoneOut* zone_ = nullptr;
  bool is_cname_ = false;
  std::set<std::string> dropped_;  // this resource's dcmap entries that did not convert
};

// The zone text with DYNA/DYNC lines turned into comments (ldns does not know those types),
// and the records they held.
struct DynRecord {
  std::string owner;  // as written, "" = the previous owner
  uint32_t ttl_s = 0;
  bool has_ttl = false;
  bool is_cname = false;
  std::string ref;
  uint32_t line = 0;
};

std::vector<std::string> tokens(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  for (const char c : line) {
    if (c == ';') break;
    if (c == ' ' || c == '\t' || c == '\r') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string split_dynamic(const std::string& text, std::vector<DynRecord>* dyn,
                          std::vector<std::string>* notes, const std::string& file) {
  std::istringstream in(text);
  std::string out, line;
  uint32_t n = 0;
  std::string last_owner;
  while (std::getline(in, line)) {
    ++n;
    const auto t = tokens(line);
    const bool owner_given = !line.empty() && line[0] != ' ' && line[0] != '\t';
    if (!t.empty() && t[0][0] == '$') {
      const std::string d = upper(t[0]);
      if (d != "$TTL" && d != "$ORIGIN") {
        notes->push_back(file + ":" + std::to_string(n) + ": " + t[0] +
                         ": gdnsd directive not converted");
        out += "; " + line + "\n";
        continue;
      }
    }
    if (owner_given && !t.empty() && t[0][0] != '$') last_owner = t[0];
    size_t i = owner_given ? 1 : 0;
    DynRecord r;
    r.owner = owner_given && !t.empty() ? t[0] : last_owner;
    r.line = n;
    if (i < t.size() && is_number(t[i])) {
      r.ttl_s = static_cast<uint32_t>(std::stoul(t[i]));
      r.has_ttl = true;
      ++i;
    }
    if (i < t.size() && upper(t[i]) == "IN") ++i;
    if (i + 1 < t.size() && (upper(t[i]) == "DYNA" || upper(t[i]) == "DYNC")) {
      r.is_cname = upper(t[i]) == "DYNC";
      r.ref = t[i + 1];
      dyn->push_back(r);
      out += "; " + line + "\n";
      continue;
    }
    out += line + "\n";
  }
  return out;
}

std::string steer_toml(const Steer& s) {
  std::ostringstream o;
  o << "\n[steer." << toml_key(s.owner) << "]\n";
  o << "policy = \"" << s.policy << "\"\nttl = " << s.ttl_s << "\n";
  if (s.answers > 0 && s.policy != "roundrobin") o << "answers = " << s.answers << "\n";
  for (const auto& [k, v] : s.map) o << "map." << toml_key(k) << " = " << quoted_list(v) << "\n";
  for (const auto& [k, v] : s.nets) o << "nets." << toml_key(k) << " = " << quoted_list(v) << "\n";
  if (!s.datacenters.empty()) o << "datacenters = " << quoted_list(s.datacenters) << "\n";
  if (!s.weights.empty()) {
    o << "weights = { ";
    for (size_t i = 0; i < s.weights.size(); ++i) {
      o << (i > 0 ? ", " : "") << toml_key(s.weights[i].first) << " = " << s.weights[i].second;
    }
    o << " }\n";
  }
  return o.str();
}

std::string dc_toml(const Dc& d) {
  std::ostringstream o;
  o << "\n[datacenters." << toml_key(d.name) << "]\n";
  if (!d.target.empty()) {
    o << "target = " << toml_string(d.target) << "\n";
  } else {
    o << "addresses = " << quoted_list(d.addresses) << "\n";
  }
  if (d.has_location) o << "location = { lat = " << d.lat << ", lon = " << d.lon << " }\n";
  if (!d.check.empty()) o << "check = " << toml_string(d.check) << "\n";
  if (d.min_up_percent > 0 && d.addresses.size() > 1) {
    o << "min_up = \"" << d.min_up_percent << "%\"\n";
  }
  return o.str();
}

}  // namespace

Result<GdnsdImport> import_gdnsd(const std::string& dir) {
  const std::string config_path = (fs::path(dir) / "config").string();
  Vscf config;
  config.kind = Vscf::Kind::hash;
  config.file = config_path;
  if (fs::exists(config_path)) {
    auto parsed = parse_vscf_file(config_path);
    if (!parsed) return parsed.error();
    config = std::move(parsed.value());
  }
  Converter conv(config);
  conv.config_dir = dir;
  GdnsdImport result;
  uint32_t default_ttl = 86400;
  if (const Vscf* o = config.get("options")) {
    if (const Vscf* t = o->get("zones_default_ttl")) {
      default_ttl = static_cast<uint32_t>(std::strtoul(t->scalar.c_str(), nullptr, 10));
    }
    if (const Vscf* e = o->get("edns_client_subnet"); e != nullptr && e->scalar == "false") {
      conv.note(*e, "edns_client_subnet = false: geodns always honours ECS");
    }
  }
  const fs::path zones = fs::path(dir) / "zones";
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(zones, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name[0] != '.' && !name.ends_with("~")) files.push_back(e.path());
  }
  if (ec) return make_error(zones.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<DynRecord> dyn;
    std::string origin = f.filename().string();
    if (origin.back() != '.') origin += '.';
    const std::string stat = split_dynamic(text.str(), &dyn, &result.not_converted, f.string());
    auto imported = import_zone_text(stat, origin, f.string(), default_ttl);
    if (!imported) return imported.error();
    result.static_records += imported->records;
    ZoneOut zone;
    for (const auto& d : dyn) {
      std::string owner = d.owner;
      const std::string where = f.string() + ":" + std::to_string(d.line);
      if (owner == "@" || owner == origin) {
        owner = "@";
      } else if (owner.ends_with("." + origin)) {
        owner = owner.substr(0, owner.size() - origin.size() - 1);
      } else if (owner.back() == '.') {
        conv.note(where, owner + ": outside " + origin);
        continue;
      }
      conv.add_dynamic(&zone, owner, d.has_ttl ? d.ttl_s : default_ttl, d.is_cname, d.ref, where);
    }
    std::string toml = imported->toml;
    std::set<std::string> used;
    for (const auto& dc : zone.dcs) {
      toml += dc_toml(dc);
      if (!dc.check.empty()) used.insert(dc.check);
    }
    for (const auto& s : zone.steers) toml += steer_toml(s);
    result.steered_names += zone.steers.size();
    for (const auto& name : used) {
      toml += "\n[checks." + toml_key(name) + "]\n" + conv.checks[name];
    }
    result.zones.emplace_back(origin + "toml", std::move(toml));
  }
  // Once each: a resource used by several names (or a service type by several addresses)
  // would repeat the same line.
  std::set<std::string> seen(result.not_converted.begin(), result.not_converted.end());
  for (auto& n : conv.notes) {
    if (seen.insert(n).second) result.not_converted.push_back(std::move(n));
  }
  std::ostringstream server;
  server << "# Converted by `geodns import --gdnsd " << dir << "`.\n[server]\nzones = \"zones\"\n";
  if (!conv.geoip_db.empty()) {
    server << "geoip = " << toml_string(fs::absolute(conv.geoip_db).lexically_normal().string())
           << "\n";
  }
  result.server_toml = server.str();
  return result;
}

int run_gdnsd_import(const std::string& dir, const std::string& output) {
  auto result = import_gdnsd(dir);
  if (!result) {
    std::cerr << "geodns import: " << result.error().to_string() << "\n";
    return 1;
  }
  std::error_code ec;
  fs::create_directories(fs::path(output) / "zones", ec);
  if (ec) {
    std::cerr << "geodns import: " << output << ": " << ec.message() << "\n";
    return 1;
  }
  auto write = [&](const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::trunc | std::ios::binary);
    out << text;
    if (!out.flush()) {
      std::cerr << "geodns import: cannot write " << p.string() << "\n";
      return false;
    }
    return true;
  };
  if (!write(fs::path(output) / "geodns.toml", result->server_toml)) return 1;
  for (const auto& [name, text] : result->zones) {
    if (!write(fs::path(output) / "zones" / name, text)) return 1;
  }
  for (const auto& n : result->not_converted) std::cerr << "not converted: " << n << "\n";
  std::cerr << "geodns import: " << result->zones.size() << " zones, " << result->static_records
            << " static records, " << result->steered_names << " steered names written to "
            << output << "; " << result->not_converted.size() << " constructs not converted\n";
  return 0;
}

}  // namespace geodns::ops
