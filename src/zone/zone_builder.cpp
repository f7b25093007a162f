// The DNS stage of loading: a validated ZoneSource -> an immutable Zone. Records are parsed by
// ldns from presentation format into wire RDATA here, once, so that the packet path only ever
// copies bytes. Every error points at the file:line:column of what caused it.
// stdbool.h first: without it ldns/common.h #defines bool, true and false in C++.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)
//
#include <ldns/ldns.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <unordered_set>

#include "dns/name.h"
#include "dns/wire.h"
#include "steer/policy.h"
#include "steer/rule.h"
#include "zone/zone_builder.h"
#include "zone/zone_signer.h"

namespace geodns::zone {

namespace {

// Thrown by the helpers below and caught in build_zone(): keeps the long list of checks
// linear. Never escapes this file.
struct Failure {
  Error error;
};

[[noreturn]] void fail(const SourcePos& pos, std::string message) {
  throw Failure{pos.error(std::move(message))};
}

struct LdnsRdfFree {
  void operator()(ldns_rdf* p) const { ldns_rdf_deep_free(p); }
};
struct LdnsRrFree {
  void operator()(ldns_rr* p) const { ldns_rr_free(p); }
};
struct LdnsBufferFree {
  void operator()(ldns_buffer* p) const { ldns_buffer_free(p); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsRdfFree>;
using RrPtr = std::unique_ptr<ldns_rr, LdnsRrFree>;
using BufferPtr = std::unique_ptr<ldns_buffer, LdnsBufferFree>;

std::string ldns_message(ldns_status s) {
  const char* m = ldns_get_errorstr_by_id(s);
  return m ? m : "unknown ldns error";
}

// True if the name ends in an unescaped dot.
bool is_absolute(std::string_view text) {
  if (text.empty() || text.back() != '.') return false;
  size_t backslashes = 0;
  for (size_t i = text.size() - 1; i > 0 && text[i - 1] == '\\'; --i) ++backslashes;
  return backslashes % 2 == 0;
}

std::string lower_wire(std::string_view wire) {
  std::string out(wire);
  size_t pos = 0;
  while (pos < out.size()) {
    const auto len = static_cast<unsigned char>(out[pos]);
    if (len == 0) break;
    for (size_t i = pos + 1; i <= pos + len && i < out.size(); ++i) {
      out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
    }
    pos += 1 + len;
  }
  return out;
}

std::string lower_text(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The parent of a wire name (drops the first label); the root's parent is the root.
std::string_view parent_of(std::string_view wire) {
  if (wire.empty() || wire[0] == 0) return wire;
  return wire.substr(1 + static_cast<unsigned char>(wire[0]));
}

bool is_below_or_at(std::string_view name, std::string_view origin) {
  while (true) {
    if (name == origin) return true;
    if (name.empty() || name[0] == 0) return false;
    name = parent_of(name);
  }
}

void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// Presentation-format name (absolute) -> wire, case preserved.
std::string name_to_wire(const std::string& text, const SourcePos& pos) {
  if (text.find_first_of(" \t\r\n\"();") != std::string::npos) {
    fail(pos, "bad name \"" + text + "\": spaces, quotes, parentheses and ';' are not allowed");
  }
  // The codec's own conversion (escapes included) is much cheaper than an ldns_rdf per name,
  // which a million-name zone notices; ldns takes what it rejects and words the error.
  std::string wire;
  if (!dns::name_from_text(text, &wire)) {
    ldns_rdf* raw = nullptr;
    const ldns_status s = ldns_str2rdf_dname(&raw, text.c_str());
    RdfPtr rdf(raw);
    if (s != LDNS_STATUS_OK || !rdf) fail(pos, "bad name \"" + text + "\": " + ldns_message(s));
    wire.assign(reinterpret_cast<const char*>(ldns_rdf_data(rdf.get())), ldns_rdf_size(rdf.get()));
  }
  if (wire.size() > dns::kMaxNameLength)
    fail(pos, "name \"" + text + "\" is longer than 255 bytes");
  for (size_t at = 0; at < wire.size() && wire[at] != 0; at += 1 + static_cast<uint8_t>(wire[at])) {
    if (static_cast<uint8_t>(wire[at]) > dns::kMaxLabelLength) {
      fail(pos, "label in \"" + text + "\" is longer than 63 bytes");
    }
  }
  return wire;
}

struct OwnerName {
  std::string text;        // absolute, as written
  std::string wire_lower;  // index key
};

class Builder {
 public:
  Builder(const ZoneSource& src, const ServerConfig& config, steer::IdTables* ids)
      : src_(src), config_(config), ids_(ids != nullptr ? ids : &own_ids_) {}

  ZonePtr build(uint64_t content_hash, SerialInputs serial);

 private:
  struct PendingRRset {
    uint16_t type = 0;
    uint32_t ttl_s = 0;
    std::vector<std::string> rdatas;
    std::vector<const SourcePos*> positions;  // parallel to rdatas; point into src_
  };
  struct PendingNode {
    std::string wire;  // lower case: the key
    std::string text;  // absolute, as first written ("" for an empty non-terminal)
    const SourcePos* pos = nullptr;
    std::vector<PendingRRset> rrsets;  // in order of first appearance
    int32_t rule = -1;
    const SourcePos* rule_pos = nullptr;
    bool may_cname = false;  // the rule can pick a datacenter with a target
    PendingRRset* find(uint16_t type) {
      for (auto& r : rrsets) {
        if (r.type == type) return &r;
      }
      return nullptr;
    }
    const PendingRRset* find(uint16_t type) const {
      return const_cast<PendingNode*>(this)->find(type);
    }
  };
  struct ParsedRR {
    uint16_t type = 0;
    uint32_t ttl_s = 0;
    std::string rdata;
  };

  void resolve_origin();
  OwnerName owner_name(const std::string& owner, const SourcePos& pos) const;
  ParsedRR parse_rr(const OwnerName& owner, const RecordDef& rec) const;
  std::string txt_rdata(std::string_view text, const SourcePos& pos) const;
  void add_records();
  void add_soa();
  void set_serial(uint64_t content_hash, const SerialInputs& serial);
  void check_node_data();
  void check_dname_owner(const PendingNode& node, const PendingRRset& dname);
  void check_below_dname();
  void add_datacenters();
  uint32_t dc_index(const NameRef& ref);
  uint32_t member_index(const NameRef& ref, std::vector<std::string>& path);
  uint32_t pool_index(const PoolDef& def, const NameRef& ref, std::vector<std::string>& path);
  void add_pools();
  steer::DcList dc_list(const std::vector<NameRef>& refs);
  void add_steer(const SteerDef& s);
  bool check_steered_owner(const SteerDef& s, const OwnerName& owner, const PendingNode& node,
                           const steer::Rule& rule);
  void build_nodes();
  std::shared_ptr<const dnssec::ZoneSigning> add_key_records();

  const ZoneSource& src_;
  const ServerConfig& config_;
  std::shared_ptr<Zone> zone_ = std::make_shared<Zone>();
  RdfPtr origin_rdf_;
  // Every name of the zone in order of first appearance (a deque: references stay valid while
  // it grows), and an index over their wire names.
  std::deque<PendingNode> pending_;
  NameIndex pending_index_;
  PendingNode& pending(std::string_view wire, bool* inserted = nullptr);
  std::map<std::string, uint32_t> dc_by_name_;
  std::map<std::string, uint32_t> pool_by_name_;
  std::vector<std::string> pool_chain_;  // per pool: its deepest nesting, "a -> b -> c"
  std::vector<SourcePos> rule_pos_;
  std::unordered_set<steer::TargetId> target_seen_;
  // The load's id table (the ZoneSet's); a zone built alone numbers its own from 0.
  steer::IdTables own_ids_;
  steer::IdTables* ids_;
  bool soa_from_records_ = false;
  bool automatic_serial_ = false;
  bool has_dname_ = false;  // some owner has a DNAME: check_below_dname() has work to do
  std::string server_dcs_;  // what this zone uses of the server's datacenters, for the serial
  std::string inputs_;      // nets files and shared maps it uses, for the serial
  const MapDef* find_map(const SteerDef& s);
  void add_input(const InputFile& f);
};

void Builder::resolve_origin() {
  std::string name = src_.name;
  SourcePos pos = src_.name_pos;
  if (name.empty()) {
    // Default: the file name minus ".toml" ("zones/example.com.toml" -> "example.com.").
    std::string base = src_.display_name;
    if (auto slash = base.find_last_of('/'); slash != std::string::npos)
      base = base.substr(slash + 1);
    if (base.size() > 5 && base.compare(base.size() - 5, 5, ".toml") == 0) {
      base.resize(base.size() - 5);
    }
    name = base;
    pos = SourcePos{src_.display_name, 0, 0};
    if (name.empty()) fail(pos, "no zone name: set [zone] name");
  }
  if (name != "." && !is_absolute(name)) name += '.';
  const std::string wire = name_to_wire(name, pos);
  zone_->origin = lower_wire(wire);
  zone_->origin_text = lower_text(name);
  origin_rdf_.reset(ldns_dname_new_frm_str(zone_->origin_text.c_str()));
  if (!origin_rdf_) fail(pos, "bad zone name \"" + name + "\"");
}

OwnerName Builder::owner_name(const std::string& owner, const SourcePos& pos) const {
  OwnerName out;
  if (owner.empty()) fail(pos, "empty owner name (use \"@\" for the apex)");
  if (owner == "@") {
    out.text = zone_->origin_text;
  } else if (is_absolute(owner)) {
    out.text = owner;
  } else {
    out.text = zone_->origin_text == "." ? owner + "." : owner + "." + zone_->origin_text;
  }
  out.wire_lower = lower_wire(name_to_wire(out.text, pos));
  if (!is_below_or_at(out.wire_lower, zone_->origin)) {
    fail(pos, "record outside the zone: \"" + owner + "\" is not in " + zone_->origin_text);
  }
  return out;
}

// TXT (and SPF) are encoded here rather than by ldns so that strings longer than 255 bytes can
// be split into 255-byte character-strings (RFC 7208 section 3.3) instead of rejected.
std::string Builder::txt_rdata(std::string_view text, const SourcePos& pos) const {
  std::string rdata;
  size_t i = 0;
  bool any = false;
  auto emit = [&](const std::string& bytes) {
    size_t off = 0;
    do {
      const size_t n = std::min<size_t>(255, bytes.size() - off);
      rdata.push_back(static_cast<char>(n));
      rdata.append(bytes, off, n);
      off += n;
    } while (off < bytes.size());
    any = true;
  };
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    const bool quoted = text[i] == '"';
    if (quoted) ++i;
    std::string bytes;
    bool closed = !quoted;
    while (i < text.size()) {
      const char c = text[i];
      if (quoted && c == '"') {
        closed = true;
        ++i;
        break;
      }
      if (!quoted && std::isspace(static_cast<unsigned char>(c))) break;
      if (!quoted && c == '"') fail(pos, "bad TXT data: quote inside an unquoted string");
      if (c == '\\') {
        if (i + 1 >= text.size()) fail(pos, "bad TXT data: dangling backslash");
        if (std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
          // \DDD: a byte in decimal (RFC 1035 section 5.1).
          int v = 0;
          for (size_t k = 1; k <= 3; ++k) {
            if (i + k >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i + k]))) {
              fail(pos, "bad TXT data: \\DDD needs three digits");
            }
            v = v * 10 + (text[i + k] - '0');
          }
          if (v > 255) fail(pos, "bad TXT data: \\DDD above 255");
          bytes.push_back(static_cast<char>(v));
          i += 4;
        } else {
          bytes.push_back(text[i + 1]);
          i += 2;
        }
        continue;
      }
      bytes.push_back(c);
      ++i;
    }
    if (!closed) fail(pos, "bad TXT data: missing closing quote");
    emit(bytes);
    if (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && quoted) {
      fail(pos, "bad TXT data: strings must be separated by spaces");
    }
  }
  if (!any) fail(pos, "TXT needs at least one string");
  if (rdata.size() > 65535) fail(pos, "TXT data longer than 65535 bytes");
  return rdata;
}

Builder::ParsedRR Builder::parse_rr(const OwnerName& owner, const RecordDef& rec) const {
  const SourcePos& pos = rec.pos;
  std::string_view text = rec.text;
  auto skip_space = [&] {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
      text.remove_prefix(1);
    }
  };
  auto token = [&] {
    skip_space();
    size_t n = 0;
    while (n < text.size() && !std::isspace(static_cast<unsigned char>(text[n]))) ++n;
    return text.substr(0, n);
  };
  std::string first = lower_text(token());
  if (first.empty()) fail(pos, "empty record (expected \"TYPE RDATA\")");
  if (std::all_of(first.begin(), first.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    fail(pos, "a TTL inside the record text is not allowed; write { ttl = " + first +
                  ", rr = \"...\" }");
  }
  if (first == "in") {
    text.remove_prefix(2);
    first = lower_text(token());
  } else if (first == "ch" || first == "hs" || first == "cs" || first == "none" || first == "any") {
    fail(pos, "only class IN is supported");
  }
  const std::string type_text(token());
  // ldns accepts any number after "TYPE" (RFC 3597) without a range check, and the enum
  // cannot hold it: range-check generic type numbers before ldns sees them (found by fuzz_zone).
  if (type_text.size() > 4 && lower_text(std::string_view(type_text).substr(0, 4)) == "type") {
    unsigned long number = 0;
    const char* begin = type_text.data() + 4;
    const char* end = type_text.data() + type_text.size();
    auto [ptr, ec] = std::from_chars(begin, end, number);
    if (ec != std::errc() || ptr != end || number < 1 || number > 65535) {
      fail(pos, "record type \"" + type_text + "\" must be TYPE1..TYPE65535");
    }
  }
  const ldns_rr_type type = ldns_get_rr_type_by_name(type_text.c_str());
  if (type == 0) fail(pos, "unknown record type \"" + type_text + "\"");
  switch (static_cast<uint16_t>(type)) {
    case dns::rrtype::OPT:
    case dns::rrtype::TSIG:
    case dns::rrtype::TKEY:
    case dns::rrtype::IXFR:
    case dns::rrtype::AXFR:
    case dns::rrtype::MAILA:
    case dns::rrtype::MAILB:
    case dns::rrtype::ANY:
      fail(pos, "type " + type_text + " cannot appear in a zone");
    default:
      break;
  }
  ParsedRR out;
  out.type = static_cast<uint16_t>(type);
  out.ttl_s = rec.ttl_s.value_or(src_.ttl_s);
  if (out.type == dns::rrtype::TXT || out.type == 99 /* SPF */) {
    text.remove_prefix(type_text.size());
    out.rdata = txt_rdata(text, pos);
    return out;
  }
  if (out.type == dns::rrtype::A || out.type == dns::rrtype::AAAA) {
    // Most records of a big zone: one address, parsed as ldns would (inet_pton) but without
    // building an ldns_rr. Anything unusual goes to ldns below, which also words the error.
    std::string_view rest = text.substr(type_text.size());
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) {
      rest.remove_suffix(1);
    }
    const auto ip = IpAddress::parse(rest);
    if (ip && ip->is_v4() == (out.type == dns::rrtype::A)) {
      out.rdata.assign(reinterpret_cast<const char*>(ip->bytes.data()), ip->is_v4() ? 4 : 16);
      return out;
    }
  }
  const std::string line =
      owner.text + " " + std::to_string(out.ttl_s) + " IN " + std::string(text);
  ldns_rr* raw = nullptr;
  const ldns_status s =
      ldns_rr_new_frm_str(&raw, line.c_str(), out.ttl_s, origin_rdf_.get(), nullptr);
  RrPtr rr(raw);
  if (s != LDNS_STATUS_OK || !rr) {
    fail(pos, "bad " + type_text + " record \"" + rec.text + "\": " + ldns_message(s));
  }
  if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) fail(pos, "only class IN is supported");
  if (static_cast<uint16_t>(ldns_rr_get_type(rr.get())) != out.type) {
    fail(pos, "bad record \"" + rec.text + "\"");
  }
  const ldns_rr_descriptor* desc = ldns_rr_descript(out.type);
  if (ldns_rr_rd_count(rr.get()) == 0 ||
      (desc && ldns_rr_rd_count(rr.get()) < ldns_rr_descriptor_minimum(desc))) {
    fail(pos, "bad " + type_text + " record \"" + rec.text + "\": missing RDATA");
  }
  BufferPtr buf(ldns_buffer_new(512));
  if (!buf || ldns_rr_rdata2buffer_wire(buf.get(), rr.get()) != LDNS_STATUS_OK) {
    fail(pos, "bad " + type_text + " record \"" + rec.text + "\": cannot encode");
  }
  const size_t size = ldns_buffer_position(buf.get());
  if (size > 65535) fail(pos, "RDATA longer than 65535 bytes");
  out.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())), size);
  return out;
}

Builder::PendingNode& Builder::pending(std::string_view wire, bool* inserted) {
  const auto next = static_cast<uint32_t>(pending_.size());
  const uint32_t i = pending_index_.insert(
      wire, next, [this](uint32_t k) -> std::string_view { return pending_[k].wire; });
  if (inserted) *inserted = i == next;
  if (i != next) return pending_[i];
  PendingNode& node = pending_.emplace_back();
  node.wire = wire;
  return node;
}

void Builder::add_records() {
  pending_index_.reserve(src_.owners.size() + src_.steers.size() + 1);
  for (const auto& od : src_.owners) {
    const OwnerName owner = owner_name(od.owner, od.pos);
    bool inserted = false;
    PendingNode& node = pending(owner.wire_lower, &inserted);
    if (inserted) {
      node.text = owner.text;
      node.pos = &od.pos;
    }
    for (const auto& rec : od.records) {
      ParsedRR rr = parse_rr(owner, rec);
      if (rr.type == dns::rrtype::SOA) {
        if (owner.wire_lower != zone_->origin) fail(rec.pos, "SOA is only allowed at the apex");
        if (src_.soa.present) {
          fail(rec.pos, "SOA given twice: in [zone.soa] and in [records]; keep one");
        }
        if (node.find(dns::rrtype::SOA)) fail(rec.pos, "more than one SOA record");
        soa_from_records_ = true;
      }
      PendingRRset* set = node.find(rr.type);
      if (!set) {
        node.rrsets.push_back({});
        set = &node.rrsets.back();
        set->type = rr.type;
        set->ttl_s = rr.ttl_s;  // an RRset's TTL is its first record's
      }
      auto& rdatas = set->rdatas;
      if (std::find(rdatas.begin(), rdatas.end(), rr.rdata) != rdatas.end()) continue;
      rdatas.push_back(std::move(rr.rdata));
      set->positions.push_back(&rec.pos);
    }
  }
}

// The SOA goes in with the serial as written, or 0 for "automatic": set_serial() decides once
// everything the answers depend on is known.
void Builder::add_soa() {
  PendingNode& apex = pending(zone_->origin);
  if (apex.text.empty()) apex.text = zone_->origin_text;
  uint32_t soa_ttl = 0;
  uint32_t minimum = 0;
  if (soa_from_records_) {
    // The record's serial is used as written; 0 asks for the automatic serial.
    PendingRRset& set = *apex.find(dns::rrtype::SOA);
    std::string& rdata = set.rdatas.front();
    if (rdata.size() < 20) fail(*set.positions.front(), "bad SOA record");
    const size_t s = rdata.size() - 20;
    const uint32_t serial = dns::read_u32(reinterpret_cast<const uint8_t*>(rdata.data() + s));
    zone_->serial = serial;
    automatic_serial_ = serial == 0;
    minimum = dns::read_u32(reinterpret_cast<const uint8_t*>(rdata.data() + rdata.size() - 4));
    soa_ttl = set.ttl_s;
  } else {
    if (!src_.soa.present) {
      fail(SourcePos{src_.display_name, 0, 0},
           "missing [zone.soa] (or an SOA record at \"@\" in [records])");
    }
    const SoaDef& soa = src_.soa;
    auto absolute = [&](const std::string& n) {
      if (n == "@") return zone_->origin_text;
      return is_absolute(n) ? n : n + "." + zone_->origin_text;
    };
    std::string rdata = name_to_wire(absolute(soa.mname), soa.mname_pos);
    rdata += name_to_wire(absolute(soa.rname), soa.rname_pos);
    zone_->serial = soa.serial.value_or(0);
    automatic_serial_ = !soa.serial.has_value();
    put_u32(rdata, zone_->serial);
    put_u32(rdata, soa.refresh_s);
    put_u32(rdata, soa.retry_s);
    put_u32(rdata, soa.expire_s);
    put_u32(rdata, soa.minimum_s);
    PendingRRset set;
    set.type = dns::rrtype::SOA;
    set.ttl_s = soa.ttl_s.value_or(src_.ttl_s);
    set.rdatas.push_back(std::move(rdata));
    set.positions.push_back(&soa.pos);
    apex.rrsets.push_back(std::move(set));
    soa_ttl = soa.ttl_s.value_or(src_.ttl_s);
    minimum = soa.minimum_s;
  }
  zone_->negative_ttl_s = std::min(soa_ttl, minimum);
}

void Builder::set_serial(uint64_t content_hash, const SerialInputs& serial) {
  // The zone's answers also depend on the server datacenters it uses (geodns.toml): an edit
  // there must move the serial like an edit of the zone file does, and its time counts.
  zone_->text_hash = content_hash;  // the file alone: a reload reuses an unchanged zone by it
  uint32_t newest_input_s = serial.zone_time_s;
  if (!server_dcs_.empty()) {
    content_hash ^= content_hash_of(server_dcs_) * 0x9e3779b97f4a7c15ULL;
    newest_input_s = std::max(newest_input_s, serial.server_config_time_s);
  }
  // An edit of a nets file alone changes the answers: it must move the serial too.
  if (!inputs_.empty()) content_hash ^= content_hash_of(inputs_) * 0xc2b2ae3d27d4eb4fULL;
  zone_->content_hash = content_hash;
  if (!automatic_serial_) return;
  if (config_.fleet.enabled) {
    // [fleet]: servers given the same content must serve the same serial whatever their
    // files' times or histories, so it is the content itself (README "Running several
    // servers": it changes with every edit but does not always grow).
    zone_->serial = fleet_serial(content_hash);
  } else {
    std::optional<SerialHistory> history = serial.stored;
    if (serial.previous)
      history = SerialHistory{serial.previous->content_hash, serial.previous->serial};
    zone_->serial = next_serial(content_hash, history, newest_input_s);
  }
  std::string& rdata = pending(zone_->origin).find(dns::rrtype::SOA)->rdatas.front();
  std::string v;
  put_u32(v, zone_->serial);
  rdata.replace(rdata.size() - 20, 4, v);  // serial refresh retry expire minimum
}

void Builder::check_node_data() {
  PendingNode& apex = pending(zone_->origin);
  if (!apex.find(dns::rrtype::NS)) {
    fail(apex.pos ? *apex.pos : SourcePos{src_.display_name, 0, 0},
         "no NS records at the apex (\"@\" in [records])");
  }
  for (auto& node : pending_) {
    if (const PendingRRset* dname = node.find(dns::rrtype::DNAME)) check_dname_owner(node, *dname);
    const PendingRRset* cname = node.find(dns::rrtype::CNAME);
    if (!cname) continue;
    if (node.wire == zone_->origin) {
      fail(*cname->positions.front(), "CNAME is not allowed at the apex");
    }
    if (cname->rdatas.size() > 1) {
      fail(*cname->positions[1], "more than one CNAME at \"" + node.text + "\"");
    }
    for (const auto& other : node.rrsets) {
      if (other.type == dns::rrtype::CNAME) continue;
      // RFC 1034 section 3.6.2 (RFC 2181 section 10.1): a CNAME owner has no other data.
      fail(*other.positions.front(), "CNAME and other data at \"" + node.text + "\"");
    }
  }
}

// RFC 6672 2.4: a DNAME owner has one DNAME, no CNAME, and no NS unless it is the apex (a
// delegation redirects the whole subtree already; both at once has no defined answer).
void Builder::check_dname_owner(const PendingNode& node, const PendingRRset& dname) {
  has_dname_ = true;
  if (dname.rdatas.size() > 1) {
    fail(*dname.positions[1], "more than one DNAME at \"" + node.text + "\"");
  }
  if (const PendingRRset* cname = node.find(dns::rrtype::CNAME)) {
    fail(*cname->positions.front(),
         "CNAME and DNAME at \"" + node.text +
             "\": a name is an alias or redirects its subtree, not both");
  }
  if (node.wire != zone_->origin) {
    if (node.find(dns::rrtype::NS) != nullptr) {
      fail(*dname.positions.front(),
           "DNAME and NS at \"" + node.text + "\": a DNAME beside NS is only allowed at the apex");
    }
    if (node.wire.size() >= 2 && node.wire[0] == 1 && node.wire[1] == '*') {
      fail(*dname.positions.front(), "a DNAME cannot be owned by a wildcard (RFC 4592 4.4)");
    }
  }
}

// RFC 6672 2.4: no names below a DNAME owner; their queries are answered by synthesis, so a
// record there could never be reached. Runs after the steered names joined pending_.
void Builder::check_below_dname() {
  if (!has_dname_) return;
  for (const auto& node : pending_) {
    if (node.wire == zone_->origin) continue;
    for (std::string_view up = parent_of(node.wire);; up = parent_of(up)) {
      const int64_t i = pending_index_.find(
          up, [this](uint32_t k) -> std::string_view { return pending_[k].wire; });
      if (i >= 0) {
        const PendingNode& owner = pending_[static_cast<size_t>(i)];
        if (owner.find(dns::rrtype::DNAME) != nullptr) {
          const bool steered = node.rule >= 0 && node.rrsets.empty();
          const SourcePos* pos = node.pos != nullptr ? node.pos : node.rule_pos;
          fail(pos != nullptr ? *pos : SourcePos{src_.display_name, 0, 0},
               (steered ? "steered name \"" : "\"") + node.text + "\" is below the DNAME at \"" +
                   owner.text + "\" (RFC 6672 2.4: a DNAME owner has no names below it)");
        }
      }
      if (up == zone_->origin || up.empty() || up[0] == 0) break;
    }
  }
}

void Builder::add_datacenters() {
  // Every datacenter the zone defines joins the zone (and is probed), used or not; server
  // datacenters join only when a steered name uses them (dc_index).
  for (const auto& dc : src_.datacenters) dc_index(NameRef{dc.name, dc.pos});
}

uint32_t Builder::dc_index(const NameRef& ref) {
  if (auto it = dc_by_name_.find(ref.name); it != dc_by_name_.end()) return it->second;
  const DatacenterDef* def = nullptr;
  const CheckDef* check = nullptr;
  bool local = false;
  for (const auto& d : src_.datacenters) {
    if (d.name == ref.name) def = &d;
  }
  if (def) {
    local = true;
  } else {
    def = config_.find_datacenter(ref.name);
  }
  if (!def) fail(ref.pos, "unknown datacenter \"" + ref.name + "\"");
  if (!def->check.empty()) {
    // A zone's datacenter sees the zone's checks first, then the server's; a server's
    // datacenter only the server's (so that a zone cannot change how shared ones are probed).
    if (local) {
      for (const auto& c : src_.checks) {
        if (c.spec.name == def->check) check = &c;
      }
    }
    if (!check) check = config_.find_check(def->check);
    if (!check) fail(def->check_pos, "unknown check \"" + def->check + "\"");
  }
  if (!local) {
    server_dcs_ += def->name + " " + std::to_string(def->latitude) + " " +
                   std::to_string(def->longitude) + " " + std::to_string(def->has_location) + " " +
                   std::to_string(def->min_up) + " " + std::to_string(def->min_up_percent) + "% " +
                   std::to_string(def->capacity) + (def->has_capacity ? "! " : " ") +
                   (check ? check->spec.key() : std::string("-"));
    for (size_t k = 0; k < def->addresses.size(); ++k) {
      server_dcs_ += " " + def->addresses[k].to_string();
      if (k < def->address_weights.size())
        server_dcs_ += "=" + std::to_string(def->address_weights[k]);
    }
    if (!def->target.empty()) server_dcs_ += " target " + def->target;
    server_dcs_ += "\n";
  }
  steer::Datacenter dc;
  dc.name = def->name;
  dc.key = steer::datacenter_key(zone_->origin_text, def->name, !local);
  // The override slot of this zone's use of the datacenter (steer::DcSlot), shared or not.
  dc.id = ids_->datacenters.intern(steer::dc_slot_key(zone_->origin_text, def->name));
  dc.has_location = def->has_location;
  dc.latitude = def->latitude;
  dc.longitude = def->longitude;
  dc.check = def->check;
  dc.min_up = def->min_up;
  dc.min_up_percent = def->min_up_percent;
  dc.capacity = def->capacity;
  dc.has_capacity = def->has_capacity;
  dc.hash_seed = steer::name_hash(def->name);
  auto add_target = [&](const IpAddress& ip, uint32_t weight) {
    steer::TargetSpec t;
    t.address = ip;
    if (check) t.check = check->spec;
    t.key = t.check.key() + "@" + ip.to_string();
    t.id = ids_->targets.intern(t.key);
    const steer::DcAddress a{ip, t.id, weight};
    if (target_seen_.insert(t.id).second) zone_->targets.push_back(std::move(t));
    return a;
  };
  for (size_t k = 0; k < def->addresses.size(); ++k) {
    const IpAddress& ip = def->addresses[k];
    const uint32_t weight = k < def->address_weights.size() ? def->address_weights[k] : 1;
    dc.has_address_weights = dc.has_address_weights || weight != 1;
    (ip.is_v4() ? dc.v4 : dc.v6).push_back(add_target(ip, weight));
  }
  if (!def->target.empty()) {
    // The CDN behind a target has no address of ours to answer; its health is what the probe
    // address says. Holding that one target in both families lets A and AAAA queries reach
    // the same decision, and the policies and the prober need no notion of targets.
    if (check == nullptr || !check->spec.probe_address) {
      fail(def->target_pos, "datacenter \"" + def->name + "\" has a target, so its check \"" +
                                def->check + "\" needs a probe_address (where to probe it)");
    }
    dc.target = name_to_wire(def->target, def->target_pos);
    const steer::DcAddress a = add_target(*check->spec.probe_address, 1);
    dc.v4.push_back(a);
    dc.v6.push_back(a);
  }
  const auto index = static_cast<uint32_t>(zone_->datacenters.size());
  zone_->datacenters.push_back(std::move(dc));
  dc_by_name_.emplace(ref.name, index);
  return index;
}

// A name in a list: the zone's own pools and datacenters first, then the server's shared ones
// (a zone's definition shadows a shared one of the same name).
uint32_t Builder::member_index(const NameRef& ref, std::vector<std::string>& path) {
  if (auto it = pool_by_name_.find(ref.name); it != pool_by_name_.end()) {
    return steer::pool_member(it->second);
  }
  const PoolDef* pool = nullptr;
  bool local_dc = false;
  for (const auto& p : src_.pools) {
    if (p.name == ref.name) pool = &p;
  }
  for (const auto& d : src_.datacenters) {
    if (d.name == ref.name) local_dc = true;
  }
  if (!pool && !local_dc) pool = config_.find_pool(ref.name);
  if (pool) return steer::pool_member(pool_index(*pool, ref, path));
  return dc_index(ref);
}

uint32_t Builder::pool_index(const PoolDef& def, const NameRef& ref,
                             std::vector<std::string>& path) {
  if (auto it = pool_by_name_.find(def.name); it != pool_by_name_.end()) return it->second;
  if (std::find(path.begin(), path.end(), def.name) != path.end()) {
    std::string chain;
    for (auto it = std::find(path.begin(), path.end(), def.name); it != path.end(); ++it) {
      chain += *it + " -> ";
    }
    fail(ref.pos, "pool \"" + def.name + "\" contains itself: " + chain + def.name);
  }
  auto policy = steer::parse_pool_policy(def.policy);
  if (!policy) {
    fail(def.policy_pos, "unknown pool policy \"" + def.policy +
                             "\" (failover, nearest, weighted, roundrobin or hashed)");
  }
  const bool by_weight =
      *policy == steer::PoolPolicy::weighted || *policy == steer::PoolPolicy::hashed;
  if (def.weighted_members && !by_weight) {
    fail(def.members_pos,
         "members with weights are only for pool policies weighted and hashed; "
         "write members = [\"...\", ...]");
  }
  if (def.has_pick && *policy == steer::PoolPolicy::roundrobin) {
    fail(def.pick_pos, "pick is not for policy \"roundrobin\" (it answers with every member)");
  }
  if (def.pick > def.members.size()) {
    fail(def.pick_pos, "pick " + std::to_string(def.pick) + " exceeds the pool's " +
                           std::to_string(def.members.size()) + " members");
  }
  if (def.spillover && *policy != steer::PoolPolicy::failover &&
      *policy != steer::PoolPolicy::nearest) {
    fail(def.spillover_pos, "spillover is only for pool policies failover and nearest");
  }
  if (def.members.size() > steer::kMaxPoolMembers) {
    fail(def.members_pos,
         "a pool has at most " + std::to_string(steer::kMaxPoolMembers) + " members");
  }
  path.push_back(def.name);
  steer::Pool pool;
  pool.name = def.name;
  pool.policy = *policy;
  pool.pick = *policy == steer::PoolPolicy::roundrobin ? static_cast<uint32_t>(def.members.size())
                                                       : def.pick;
  pool.spillover = def.spillover;
  std::string deepest;
  uint32_t height = 1;
  for (const auto& m : def.members) {
    const NameRef mref{m.name, m.pos};
    const uint32_t idx = member_index(mref, path);
    if (std::find(pool.members.begin(), pool.members.end(), idx) != pool.members.end()) {
      fail(m.pos, "\"" + m.name + "\" listed twice in pool \"" + def.name + "\"");
    }
    if (steer::is_pool(idx)) {
      const std::string& chain = pool_chain_[steer::pool_index(idx)];
      const auto inner = static_cast<uint32_t>(std::count(chain.begin(), chain.end(), '>') + 1);
      if (inner + 1 > steer::kMaxPoolDepth) {
        fail(m.pos, "pools nest at most " + std::to_string(steer::kMaxPoolDepth) +
                        " deep: " + def.name + " -> " + chain);
      }
      if (inner + 1 > height) {
        height = inner + 1;
        deepest = chain;
      }
      if (*policy == steer::PoolPolicy::nearest) {
        fail(m.pos, "a nearest pool ranks datacenters by distance; \"" + m.name + "\" is a pool");
      }
    } else if (*policy == steer::PoolPolicy::nearest && !zone_->datacenters[idx].has_location) {
      fail(m.pos, "datacenter \"" + m.name +
                      "\" has no location (pool policy \"nearest\" "
                      "needs one)");
    }
    pool.members.push_back(idx);
    if (by_weight) pool.weights.push_back(m.weight);
  }
  path.pop_back();
  const auto index = static_cast<uint32_t>(zone_->pools.size());
  zone_->pools.push_back(std::move(pool));
  pool_chain_.push_back(deepest.empty() ? def.name : def.name + " -> " + deepest);
  pool_by_name_.emplace(def.name, index);
  if (config_.find_pool(def.name) == &def) {
    // A shared pool changes this zone's answers: fold it into the serial like shared
    // datacenters.
    server_dcs_ += "pool " + def.name + " " + def.policy + " " + std::to_string(def.pick) + " " +
                   std::to_string(def.spillover);
    for (const auto& m : def.members) server_dcs_ += " " + m.name + "=" + std::to_string(m.weight);
    server_dcs_ += "\n";
  }
  return index;
}

void Builder::add_pools() {
  // Like datacenters: every pool the zone defines is checked and joins the zone, used or not.
  for (const auto& d : src_.pools) {
    for (const auto& dc : src_.datacenters) {
      if (dc.name == d.name) fail(d.pos, "\"" + d.name + "\" is both a datacenter and a pool");
    }
    std::vector<std::string> path;
    pool_index(d, NameRef{d.name, d.pos}, path);
  }
}

steer::DcList Builder::dc_list(const std::vector<NameRef>& refs) {
  steer::DcList out;
  for (const auto& ref : refs) {
    std::vector<std::string> path;
    const uint32_t i = member_index(ref, path);
    if (std::find(out.begin(), out.end(), i) != out.end()) {
      fail(ref.pos, "\"" + ref.name + "\" listed twice");
    }
    out.push_back(i);
  }
  if (out.size() > steer::kMaxPoolMembers) {
    fail(refs.front().pos,
         "a list has at most " + std::to_string(steer::kMaxPoolMembers) + " members");
  }
  return out;
}

std::string type_name(uint16_t type) {
  char* text = ldns_rr_type2str(static_cast<ldns_rr_type>(type));
  std::string out = text ? text : "TYPE" + std::to_string(type);
  free(text);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

// A steered name shares its owner with static records of other types (the apex's SOA and NS,
// MX and TXT beside a steered www): the rule answers A and AAAA, the records everything else.
// Refused are the combinations where which answer wins would be ambiguous or the result would
// break RFC 1034 3.6.2 (a CNAME owner has no other data). Returns whether the rule can answer
// with a CNAME.
bool Builder::check_steered_owner(const SteerDef& s, const OwnerName& owner,
                                  const PendingNode& node, const steer::Rule& rule) {
  for (const uint16_t type : {dns::rrtype::A, dns::rrtype::AAAA, dns::rrtype::CNAME}) {
    if (const PendingRRset* set = node.find(type)) {
      fail(s.owner_pos, "steered name \"" + owner.text + "\" also has a static " + type_name(type) +
                            " record (line " + std::to_string(set->positions.front()->line) +
                            "); a steered name answers A and AAAA itself");
    }
  }
  // Every datacenter the rule can answer from, through pools too. A pool that answers with
  // several datacenters at once (roundrobin, pick > 1) cannot reach a target datacenter:
  // several CNAMEs at one owner do not exist in DNS.
  const auto& dcs = zone_->datacenters;
  const steer::Datacenter* target_dc = nullptr;
  const bool rule_unites = rule.policy == steer::Policy::roundrobin;
  auto visit_pools = [&](auto& self, std::span<const uint32_t> list, const std::string& multi,
                         bool top) -> void {
    for (const uint32_t m : list) {
      if (!steer::is_pool(m)) {
        if (m < dcs.size() && !dcs[m].target.empty() && !multi.empty()) {
          fail(s.owner_pos, "pool \"" + multi +
                                "\" answers from several datacenters at once and cannot use \"" +
                                dcs[m].name + "\", which answers with a CNAME (it has a target)");
        }
        continue;
      }
      const steer::Pool& p = zone_->pools[steer::pool_index(m)];
      const bool several =
          p.policy == steer::PoolPolicy::roundrobin || p.pick > 1 || (top && rule_unites);
      self(self, p.members, !multi.empty() ? multi : several ? p.name : std::string(), false);
    }
  };
  auto visit = [&](std::span<const uint32_t> list) {
    visit_pools(visit_pools, list, std::string(), true);
    std::vector<uint32_t> flat;  // the list with its pools expanded
    std::vector<uint32_t> todo(list.begin(), list.end());
    while (!todo.empty()) {
      const uint32_t m = todo.back();
      todo.pop_back();
      if (!steer::is_pool(m)) {
        flat.push_back(m);
        continue;
      }
      const auto& members = zone_->pools[steer::pool_index(m)].members;
      todo.insert(todo.end(), members.begin(), members.end());
    }
    for (const uint32_t i : flat) {
      if (i >= dcs.size() || dcs[i].target.empty()) continue;
      if (target_dc == nullptr) target_dc = &dcs[i];
      if (lower_wire(dcs[i].target) == owner.wire_lower) {
        fail(s.owner_pos, "steered name \"" + owner.text +
                              "\" can answer with a CNAME to itself "
                              "(datacenter \"" +
                              dcs[i].name + "\" has it as its target)");
      }
    }
  };
  for (const auto& [key, list] : rule.map) visit(list);
  for (const auto& [prefix, list] : rule.nets) visit(list);
  visit(rule.datacenters);
  // A span, not a temporary DcList: GCC 12 at -O3 reports a false -Wfree-nonheap-object
  // for the inlined destructor of a vector built from an initializer list here.
  if (rule.on_all_down == steer::AllDown::fallback) visit(std::span(&rule.fallback_dc, 1));
  if (target_dc == nullptr) return false;
  if (rule.policy == steer::Policy::roundrobin) {
    // Several datacenters in one answer: several CNAMEs at one owner do not exist in DNS.
    for (size_t k = 0; k < rule.datacenters.size(); ++k) {
      if (rule.datacenters[k] < dcs.size() && !dcs[rule.datacenters[k]].target.empty()) {
        fail(s.datacenters[k].pos,
             "policy \"roundrobin\" answers from several datacenters at "
             "once and cannot use \"" +
                 dcs[rule.datacenters[k]].name +
                 "\", which answers with a CNAME (it has a target)");
      }
    }
  }
  if (owner.wire_lower == zone_->origin) {
    fail(s.owner_pos, "the apex cannot be steered to datacenter \"" + target_dc->name +
                          "\": it answers with a CNAME, which is not allowed at the apex");
  }
  if (!node.rrsets.empty()) {
    fail(s.owner_pos, "steered name \"" + owner.text + "\" can answer with a CNAME (datacenter \"" +
                          target_dc->name + "\" has a target) and also has a static " +
                          type_name(node.rrsets.front().type) + " record (line " +
                          std::to_string(node.rrsets.front().positions.front()->line) +
                          "); a CNAME owner has no other data");
  }
  return true;
}

// Once per file, however many names read it.
void Builder::add_input(const InputFile& f) {
  if (std::any_of(zone_->input_files.begin(), zone_->input_files.end(),
                  [&](const auto& x) { return x.first == f.path; })) {
    return;
  }
  zone_->input_files.emplace_back(f.path, f.hash);
  // Its content, not where it is: the zone's text already says which file it reads, and
  // servers of a fleet that install the tree in different directories must agree on the
  // serial (issue 14).
  inputs_ += "file " + std::to_string(f.hash) + "\n";
}

// `map = "NAME"`: the zone's own [maps.NAME] first, then the server's. Every file the map was
// read from joins the zone's inputs, so that the reload's reuse check sees an edit of it.
const MapDef* Builder::find_map(const SteerDef& s) {
  if (s.map_name.empty()) return nullptr;
  const MapDef* m = nullptr;
  for (const auto& own : src_.maps) {
    if (own.name == s.map_name) m = &own;
  }
  const bool shared = m == nullptr;
  if (shared) m = config_.find_map(s.map_name);
  if (m == nullptr) fail(s.map_name_pos, "unknown map \"" + s.map_name + "\"");
  if (shared) {
    // Its content, for the serial (the zone file does not hold it).
    inputs_ += "map " + m->name;
    for (const auto& e : m->map) {
      inputs_ += " " + e.key + "=";
      for (const auto& d : e.dcs) inputs_ += d.name + ",";
    }
    for (const auto& e : m->nets) {
      inputs_ += " " + e.prefix.to_string() + "=";
      for (const auto& d : e.dcs) inputs_ += d.name + ",";
    }
    inputs_ += "\n";
  }
  for (const auto& f : m->files) add_input(f);
  return m;
}

void Builder::add_steer(const SteerDef& s) {
  const OwnerName owner = owner_name(s.owner, s.owner_pos);
  bool inserted = false;
  PendingNode& node = pending(owner.wire_lower, &inserted);
  if (node.rule >= 0) fail(s.owner_pos, "\"" + owner.text + "\" is steered twice");
  if (inserted) {
    node.text = owner.text;
    node.pos = &s.owner_pos;
  }

  steer::Rule rule;
  rule.owner = owner.text;
  auto policy = steer::parse_policy(s.policy);
  if (!policy) {
    fail(s.policy_pos, "unknown policy \"" + s.policy +
                           "\" (geo, nearest, failover, weighted, roundrobin or hashed)");
  }
  rule.policy = *policy;
  rule.ttl_s = s.ttl_s;
  rule.degraded_ttl_s = s.degraded_ttl_s.value_or(std::min<uint32_t>(s.ttl_s, 10));
  // roundrobin means "every healthy address" unless told otherwise; the ordered and weighted
  // policies keep two, enough for a resolver to retry without spreading one client's load.
  rule.answers = s.answers.value_or(rule.policy == steer::Policy::roundrobin
                                        ? static_cast<uint32_t>(steer::kMaxAnswerAddresses)
                                        : 2);
  rule.spillover = s.spillover;

  const bool geo = rule.policy == steer::Policy::geo;
  const bool nearest = rule.policy == steer::Policy::nearest;
  const bool weighted =
      rule.policy == steer::Policy::weighted || rule.policy == steer::Policy::hashed;
  for (const auto& f : s.files) add_input(f);
  // A named map stands for the map and nets entries the table would otherwise hold.
  const MapDef* named = find_map(s);
  const auto& map_entries = named ? named->map : s.map;
  const auto& net_entries = named ? named->nets : s.nets;
  const bool has_map = named ? named->has_map : s.has_map;
  const bool has_nets = named ? named->has_nets : s.has_nets;
  const SourcePos& map_pos = named ? s.map_name_pos : s.map_pos;
  const SourcePos& nets_pos = named ? s.map_name_pos : s.nets_pos;
  if (has_map && !geo) {
    fail(map_pos, named ? "map \"" + named->name + "\" has map.KEY entries, only for policy \"geo\""
                        : "map is only for policy \"geo\"");
  }
  if (has_nets && !geo && !nearest) fail(nets_pos, "nets is only for policies geo and nearest");
  if (s.has_weights && !weighted) {
    fail(s.weights_pos, "weights is only for policies \"weighted\" and \"hashed\"");
  }
  if (s.spillover && !geo && !nearest && rule.policy != steer::Policy::failover) {
    fail(s.spillover_pos, "spillover is only for policies geo, nearest and failover");
  }
  if (s.has_datacenters && geo) {
    fail(s.datacenters_pos, "policy \"geo\" takes map.KEY lists, not datacenters");
  }

  if (geo) {
    bool has_default = false;
    for (const auto& e : map_entries) {
      std::string why;
      auto kind = steer::classify_map_key(e.key, &why);
      if (!kind) {
        fail(e.pos, why.empty() ? "bad map key \"" + e.key +
                                      "\" (expected a continent, a country, a subdivision like "
                                      "\"US-CA\", or default)"
                                : why);
      }
      if (*kind == steer::MapKeyKind::fallback_default) has_default = true;
      if (*kind == steer::MapKeyKind::asn && config_.asn_db_path.empty()) {
        fail(e.pos, "map key \"" + e.key + "\" needs an ASN database ([server] asn_db)");
      }
      rule.map.emplace_back(e.key, dc_list(e.dcs));
    }
    if (!has_default) {
      fail(has_map || named ? map_pos : s.pos,
           named ? "map \"" + named->name + "\" needs map.default for policy \"geo\""
                 : "policy \"geo\" needs map.default");
    }
  }
  for (const auto& n : net_entries) rule.nets.emplace_back(n.prefix, dc_list(n.dcs));

  if (weighted && !s.has_weights && s.has_datacenters && rule.policy == steer::Policy::hashed) {
    rule.datacenters = dc_list(s.datacenters);  // equal weights
    rule.weights.assign(rule.datacenters.size(), 1);
  } else if (weighted) {
    if (!s.has_weights) {
      fail(s.pos, "policy \"" + s.policy + "\" needs weights = { dc = N, ... }");
    }
    if (s.has_datacenters) {
      rule.datacenters = dc_list(s.datacenters);
      for (const auto& ref : s.datacenters) {
        auto w = std::find_if(s.weights.begin(), s.weights.end(),
                              [&](const SteerDef::Weight& x) { return x.dc.name == ref.name; });
        if (w == s.weights.end()) fail(ref.pos, "datacenter \"" + ref.name + "\" has no weight");
        rule.weights.push_back(w->weight);
      }
      for (const auto& w : s.weights) {
        auto d = std::find_if(s.datacenters.begin(), s.datacenters.end(),
                              [&](const NameRef& x) { return x.name == w.dc.name; });
        if (d == s.datacenters.end()) {
          fail(w.dc.pos, "weight for \"" + w.dc.name + "\", which is not in datacenters");
        }
      }
    } else {
      rule.datacenters = dc_list([&] {
        std::vector<NameRef> refs;
        for (const auto& w : s.weights) refs.push_back(w.dc);
        return refs;
      }());
      for (const auto& w : s.weights) rule.weights.push_back(w.weight);
    }
  } else if (!geo) {
    if (!s.has_datacenters) {
      fail(s.pos, "policy \"" + s.policy + "\" needs datacenters = [\"...\", ...]");
    }
    rule.datacenters = dc_list(s.datacenters);
  }
  if (nearest) {
    for (size_t i = 0; i < rule.datacenters.size(); ++i) {
      if (steer::is_pool(rule.datacenters[i])) {
        fail(s.datacenters[i].pos,
             "policy \"nearest\" ranks datacenters by distance; \"" + s.datacenters[i].name +
                 "\" is a pool (a pool with policy = \"nearest\" can be a member of any list)");
      }
      if (!zone_->datacenters[rule.datacenters[i]].has_location) {
        fail(s.datacenters[i].pos, "datacenter \"" + s.datacenters[i].name +
                                       "\" has no location (policy \"nearest\" needs one)");
      }
    }
  }

  if (s.on_all_down == "all") {
    rule.on_all_down = steer::AllDown::all;
  } else if (s.on_all_down == "nodata") {
    rule.on_all_down = steer::AllDown::nodata;
  } else {
    rule.on_all_down = steer::AllDown::fallback;
    std::vector<std::string> path;  // a datacenter or a pool, resolved as in a list
    rule.fallback_dc = member_index(NameRef{s.on_all_down, s.on_all_down_pos}, path);
  }

  node.may_cname = check_steered_owner(s, owner, node, rule);
  node.rule = static_cast<int32_t>(zone_->rules.size());
  node.rule_pos = &s.owner_pos;
  zone_->rules.push_back(std::move(rule));
  rule_pos_.push_back(s.pos);
}

void Builder::build_nodes() {
  // Every ancestor up to the apex gets a node, so that empty non-terminals answer NODATA.
  // pending_ grows while we walk it: added ancestors are walked too.
  for (size_t i = 0; i < pending_.size(); ++i) {
    std::string_view name = pending_[i].wire;
    while (name != zone_->origin) {
      name = parent_of(name);
      bool inserted = false;
      pending(name, &inserted);
      if (!inserted) break;  // its ancestors are there already, or will be added from it
    }
  }
  if (pending_.size() >= 0x7fffffffU) fail(SourcePos{src_.display_name, 0, 0}, "too many names");

  // Node order: by depth (the apex alone first), then order of first appearance. Every parent
  // comes before its children, which the cut pass below relies on; a counting sort keeps a
  // million names cheap.
  auto depth = [this](std::string_view wire) {
    size_t labels = 0;
    for (size_t pos = 0; pos < wire.size() && wire[pos] != 0;
         pos += 1 + static_cast<uint8_t>(wire[pos])) {
      ++labels;
    }
    return labels;
  };
  const size_t apex_depth = depth(zone_->origin);
  std::vector<uint32_t> per_depth(dns::kMaxNameLength / 2 + 2, 0);
  std::vector<uint8_t> rel_depth(pending_.size());
  for (size_t i = 0; i < pending_.size(); ++i) {
    rel_depth[i] = static_cast<uint8_t>(depth(pending_[i].wire) - apex_depth);
    ++per_depth[rel_depth[i] + 1];
  }
  for (size_t d = 1; d < per_depth.size(); ++d) per_depth[d] += per_depth[d - 1];
  std::vector<uint32_t> order(pending_.size());
  for (uint32_t i = 0; i < pending_.size(); ++i) order[per_depth[rel_depth[i]]++] = i;
  std::vector<uint8_t>().swap(rel_depth);

  // Every name and RDATA goes into one block; nodes and RRsets are views into it.
  size_t bytes = 0;
  size_t rdata_count = 0;
  size_t rrset_count = 0;
  for (const auto& p : pending_) {
    bytes += p.wire.size();
    for (const auto& r : p.rrsets) {
      ++rrset_count;
      rdata_count += r.rdatas.size();
      for (const auto& rd : r.rdatas) bytes += rd.size();
    }
  }
  ZoneStorage& st = zone_->storage;
  st.bytes = std::make_unique<char[]>(std::max<size_t>(bytes, 1));
  st.byte_count = bytes;
  st.rdatas.reserve(rdata_count);
  st.rrsets.reserve(rrset_count);
  char* out = st.bytes.get();
  auto keep = [&out](std::string_view v) {
    std::memcpy(out, v.data(), v.size());
    const std::string_view view(out, v.size());
    out += v.size();
    return view;
  };

  zone_->nodes.reserve(order.size());
  zone_->index.reserve(order.size());
  for (uint32_t i = 0; i < order.size(); ++i) {
    PendingNode& p = pending_[order[i]];
    Node node;
    node.name = keep(p.wire);
    node.rule = p.rule;
    node.may_cname = p.may_cname;
    std::sort(p.rrsets.begin(), p.rrsets.end(),
              [](const PendingRRset& a, const PendingRRset& b) { return a.type < b.type; });
    const size_t first_rrset = st.rrsets.size();
    for (auto& r : p.rrsets) {
      const size_t first_rdata = st.rdatas.size();
      for (const auto& rd : r.rdatas) st.rdatas.push_back(keep(rd));
      RRset set;
      set.type = r.type;
      set.ttl_s = r.ttl_s;
      set.rdatas =
          std::span<const std::string_view>(st.rdatas.data() + first_rdata, r.rdatas.size());
      st.rrsets.push_back(set);
      std::vector<std::string>().swap(r.rdatas);  // copied: give the memory back as we go
    }
    node.rrsets = std::span<const RRset>(st.rrsets.data() + first_rrset, p.rrsets.size());
    node.is_delegation = i != 0 && node.find(dns::rrtype::NS) != nullptr;
    node.is_wildcard = node.name.size() >= 2 && node.name[0] == 1 && node.name[1] == '*';
    node.has_dname = node.find(dns::rrtype::DNAME) != nullptr;
    zone_->nodes.push_back(node);
    zone_->index.insert(node.name, i, [this](uint32_t k) { return zone_->nodes[k].name; });
  }

  // One pass in node order: a parent's cut is final before its children are visited.
  for (size_t i = 1; i < zone_->nodes.size(); ++i) {
    Node& node = zone_->nodes[i];
    const auto parent = static_cast<size_t>(zone_->node_number(parent_of(node.name)));
    if (node.is_wildcard) zone_->nodes[parent].has_wildcard_child = true;
    if (node.is_delegation) {
      node.cut = static_cast<int32_t>(i);
    } else if (parent != 0) {
      node.cut = zone_->nodes[parent].cut;
    }
    if (node.rule >= 0 && node.cut >= 0) {
      const PendingNode& p = pending_[order[i]];
      const PendingNode& cut = pending_[order[static_cast<size_t>(node.cut)]];
      fail(*p.rule_pos,
           "steered name \"" + p.text + "\" is at or below the delegation \"" + cut.text + "\"");
    }
  }
}

// dnssec = true: the keys (zone/zone_signer.h) and their apex RRsets, before the nodes are
// laid out; the signatures come after.
std::shared_ptr<const dnssec::ZoneSigning> Builder::add_key_records() {
  const auto now = static_cast<int64_t>(std::time(nullptr));
  auto signing = prepare_signing(src_, zone_->origin, config_, now);
  if (!signing) throw Failure{signing.error()};
  PendingNode& apex = pending(zone_->origin);
  // The TTL by value: the push_backs below move the apex's RRsets, SOA included.
  const PendingRRset* soa = apex.find(dns::rrtype::SOA);
  const uint32_t key_ttl_s = soa != nullptr ? soa->ttl_s : src_.ttl_s;  // Knot's: the SOA TTL
  const ApexKeyRecords keys = apex_key_records(**signing, now);
  for (const auto& [type, rdatas] :
       {std::pair{uint16_t{48}, &keys.dnskey}, std::pair{uint16_t{59}, &keys.cds},
        std::pair{uint16_t{60}, &keys.cdnskey}}) {
    if (const PendingRRset* written = apex.find(type)) {
      fail(*written->positions.front(),
           "DNSKEY, CDS and CDNSKEY of a signed zone come from its "
           "keys (geodns dnssec keygen), not from the zone file");
    }
    if (rdatas->empty()) continue;
    PendingRRset set;
    set.type = type;
    set.ttl_s = key_ttl_s;
    set.rdatas = *rdatas;
    set.positions.assign(rdatas->size(), &src_.dnssec_pos);
    apex.rrsets.push_back(std::move(set));
  }
  return std::move(*signing);
}

ZonePtr Builder::build(uint64_t content_hash, SerialInputs serial) {
  resolve_origin();
  zone_->source_file = src_.display_name;
  if (serial.previous && serial.previous->origin != zone_->origin) serial.previous = nullptr;
  add_records();
  add_soa();
  check_node_data();
  std::shared_ptr<const dnssec::ZoneSigning> signing;
  if (src_.dnssec && config_.dnssec.sign) signing = add_key_records();
  add_datacenters();
  add_pools();
  for (const auto& s : src_.steers) add_steer(s);
  check_below_dname();
  for (const auto& sec : src_.secondaries) {
    // A steered answer depends on the client: a secondary would serve one client's view.
    if (!src_.steers.empty()) {
      fail(sec.pos, "zone transfers need a zone without steered names ([steer.*] present)");
    }
    if (!sec.key.empty() && config_.find_tsig_key(sec.key) == nullptr) {
      fail(sec.key_pos, "unknown TSIG key \"" + sec.key + "\" (define [tsig." + sec.key +
                            "] in the server config)");
    }
  }
  zone_->secondaries = src_.secondaries;
  set_serial(content_hash, serial);
  build_nodes();
  // Compile after every datacenter has joined: rules index into the final vector.
  if (Status st = steer::compile_pools(zone_->pools, zone_->datacenters); !st) {
    fail(src_.pools.empty() ? rule_pos_.front() : src_.pools.front().pos, st.error().message);
  }
  for (size_t i = 0; i < zone_->rules.size(); ++i) {
    Status st = zone_->rules[i].compile(zone_->datacenters.size(), zone_->pools);
    if (st) st = steer::check_spillover_capacity(zone_->rules[i], zone_->datacenters, zone_->pools);
    if (!st) fail(rule_pos_[i], st.error().message);
  }
  if (signing) {
    if (Status st = sign_zone(*zone_, std::move(signing)); !st)
      fail(src_.dnssec_pos, st.error().message);
  }
  return zone_;
}

}  // namespace

uint64_t content_hash_of(std::string_view text) {
  // FNV-1a 64: stable across runs and builds (std::hash is not), so serials survive restarts
  // only through `previous`, but equal files always compare equal.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint32_t fleet_serial(uint64_t content_hash) {
  const auto folded = static_cast<uint32_t>(content_hash ^ (content_hash >> 32));
  return folded == 0 ? 1 : folded;  // 0 reads as "no serial" to some tools
}

uint32_t next_serial(uint64_t content_hash, std::optional<SerialHistory> previous,
                     uint32_t newest_input_s) {
  if (!previous) return newest_input_s;
  if (previous->content_hash == content_hash) return previous->serial;
  const uint32_t bumped = previous->serial + 1;  // wraps per RFC 1982
  // RFC 1982 "greater than": the input time wins only if it is ahead of previous + 1 (two
  // edits within one second, or a file put back with an older time, still move it up).
  const auto diff = static_cast<int32_t>(newest_input_s - bumped);
  return diff > 0 ? newest_input_s : bumped;
}

uint32_t next_serial(uint64_t content_hash, const Zone* previous, uint32_t newest_input_s) {
  if (!previous) return next_serial(content_hash, std::nullopt, newest_input_s);
  return next_serial(content_hash, SerialHistory{previous->content_hash, previous->serial},
                     newest_input_s);
}

Result<ZonePtr> build_zone(const ZoneSource& src, const ServerConfig& config, uint64_t content_hash,
                           const SerialInputs& serial, steer::IdTables* ids) {
  try {
    Builder b(src, config, ids);
    return b.build(content_hash, serial);
  } catch (const Failure& f) {
    return f.error;
  }
}

}  // namespace geodns::zone
