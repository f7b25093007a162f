#include "ops/import.h"

// <stdbool.h> first: without it ldns/common.h #defines bool/true/false.
#include <stdbool.h>  // NOLINT(modernize-deprecated-headers)

#include <ldns/ldns.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "ops/gdnsd_import.h"

namespace geodns::ops {
namespace {

struct RrDeleter {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
struct RdfDeleter {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

std::string take_string(char* s) {
  std::string out = s != nullptr ? s : "";
  std::free(s);
  return out;
}

// "TYPE rdata..." as the zone loader reads it.
std::string record_text(const ldns_rr* rr) {
  std::string out = take_string(ldns_rr_type2str(ldns_rr_get_type(rr)));
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    out += ' ';
    out += take_string(ldns_rdf2str(ldns_rr_rdf(rr, i)));
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

// A TOML string for `s`: a basic string ("...") when nothing needs escaping, else a literal
// string ('...', so RDATA keeps its backslashes and double quotes untouched), else a basic
// string with escapes.
std::string toml_string(std::string_view s) {
  bool plain = true;
  bool literal_ok = true;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') plain = false;
    if (c == '\'' || u < 0x20 || u == 0x7f) literal_ok = plain = false;
  }
  if (plain) return "\"" + std::string(s) + "\"";
  if (literal_ok) return "'" + std::string(s) + "'";
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A TOML key: bare when it can be (www, _sip), else a quoted one ("@", "_sip._tcp").
std::string toml_key(std::string_view s) {
  bool bare = !s.empty();
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    bare = bare && ok;
  }
  if (bare) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Result<ImportResult> import_zone_text(std::string_view text, const std::string& origin_in,
                                      const std::string& display_name, uint32_t default_ttl_s) {
  std::string origin = origin_in;
  if (origin.empty()) return make_error("--origin is required");
  if (origin.back() != '.') origin += '.';
  std::unique_ptr<ldns_rdf, RdfDeleter> origin_rdf(ldns_dname_new_frm_str(origin.c_str()));
  if (!origin_rdf) return make_error("--origin " + origin_in + ": not a domain name");
  // fmemopen needs a mutable buffer that outlives the FILE.
  std::string buffer(text);
  if (buffer.empty()) buffer = "\n";
  std::unique_ptr<FILE, FileCloser> fp(fmemopen(buffer.data(), buffer.size(), "r"));
  if (!fp) return make_error(display_name + ": cannot read");
  // Record by record rather than ldns_zone_new_frm_fp_l: on a syntax error that one leaks
  // what it parsed so far (ldns 1.8), and a long-running caller should not.
  std::vector<std::unique_ptr<ldns_rr, RrDeleter>> parsed;
  std::unique_ptr<ldns_rr, RrDeleter> soa_rr;
  ldns_rdf* cur_origin = ldns_rdf_clone(origin_rdf.get());
  ldns_rdf* prev = ldns_rdf_clone(origin_rdf.get());
  uint32_t default_ttl_in = default_ttl_s;
  int line = 0;
  std::optional<Error> failure;
  while (!failure && std::feof(fp.get()) == 0) {
    ldns_rr* rr = nullptr;
    const ldns_status st =
        ldns_rr_new_frm_fp_l(&rr, fp.get(), &default_ttl_in, &cur_origin, &prev, &line);
    if (st == LDNS_STATUS_OK) {
      std::unique_ptr<ldns_rr, RrDeleter> owned(rr);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && !soa_rr) {
        soa_rr = std::move(owned);
      } else {
        parsed.push_back(std::move(owned));
      }
    } else if (st == LDNS_STATUS_SYNTAX_INCLUDE) {
      failure = Error{"$INCLUDE is not supported: import each file", display_name,
                      static_cast<uint32_t>(line), 0};
    } else if (st != LDNS_STATUS_SYNTAX_EMPTY && st != LDNS_STATUS_SYNTAX_TTL &&
               st != LDNS_STATUS_SYNTAX_ORIGIN) {
      failure = Error{std::string(ldns_get_errorstr_by_id(st)), display_name,
                      static_cast<uint32_t>(line), 0};
    }
  }
  ldns_rdf_deep_free(cur_origin);
  ldns_rdf_deep_free(prev);
  if (failure) return *failure;
  const ldns_rr* soa = soa_rr.get();
  if (soa == nullptr || ldns_rr_rd_count(soa) < 7) {
    return Error{"no SOA record for " + origin, display_name, 0, 0};
  }
  const std::string origin_lc = lower(origin);
  if (lower(take_string(ldns_rdf2str(ldns_rr_owner(soa)))) != origin_lc) {
    return Error{"the SOA belongs to " + take_string(ldns_rdf2str(ldns_rr_owner(soa))) +
                     ", not to --origin " + origin,
                 display_name, 0, 0};
  }

  ImportResult result;
  struct Entry {
    uint32_t ttl;
    std::string text;
  };
  std::vector<std::string> owner_order;
  std::map<std::string, std::vector<Entry>> by_owner;
  std::map<uint32_t, size_t> ttl_votes;
  for (const auto& owned : parsed) {
    const ldns_rr* rr = owned.get();
    const std::string owner_abs = take_string(ldns_rdf2str(ldns_rr_owner(rr)));
    const std::string owner_lc = lower(owner_abs);
    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
      result.warnings.push_back("skipped " + owner_abs + ": class is not IN");
      continue;
    }
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
      result.warnings.push_back("skipped a second SOA at " + owner_abs);
      continue;
    }
    std::string rel;
    if (owner_lc == origin_lc) {
      rel = "@";
    } else if (owner_lc.size() > origin_lc.size() && owner_lc.ends_with("." + origin_lc)) {
      rel = owner_abs.substr(0, owner_abs.size() - origin_lc.size() - 1);
    } else {
      result.warnings.push_back("skipped " + owner_abs + ": outside " + origin);
      continue;
    }
    if (!by_owner.count(rel)) owner_order.push_back(rel);
    by_owner[rel].push_back({ldns_rr_ttl(rr), record_text(rr)});
    ++ttl_votes[ldns_rr_ttl(rr)];
    ++result.records;
  }
  // The most common TTL becomes the default, so most records are written without one.
  uint32_t default_ttl = ldns_rr_ttl(soa);
  size_t best = 0;
  for (const auto& [ttl, votes] : ttl_votes) {
    if (votes > best) {
      best = votes;
      default_ttl = ttl;
    }
  }
  auto num = [&](size_t i) { return ldns_rdf2native_int32(ldns_rr_rdf(soa, i)); };
  std::ostringstream out;
  out << "# Imported by `geodns import` from " << display_name << ".\n";
  out << "[zone]\nname = " << toml_string(origin) << "\nttl = " << default_ttl << "\n\n";
  out << "[zone.soa]\n";
  out << "mname = " << toml_string(take_string(ldns_rdf2str(ldns_rr_rdf(soa, 0)))) << "\n";
  out << "rname = " << toml_string(take_string(ldns_rdf2str(ldns_rr_rdf(soa, 1)))) << "\n";
  out << "serial = " << num(2) << "\n";
  out << "refresh = " << num(3) << "\n";
  out << "retry = " << num(4) << "\n";
  out << "expire = " << num(5) << "\n";
  out << "minimum = " << num(6) << "\n";
  if (ldns_rr_ttl(soa) != default_ttl) out << "ttl = " << ldns_rr_ttl(soa) << "\n";
  out << "\n[records]\n";
  for (const auto& owner : owner_order) {
    const auto& entries = by_owner[owner];
    out << toml_key(owner) << " = ";
    auto entry_text = [&](const Entry& e) {
      if (e.ttl == default_ttl) return toml_string(e.text);
      return "{ ttl = " + std::to_string(e.ttl) + ", rr = " + toml_string(e.text) + " }";
    };
    if (entries.size() == 1) {
      out << entry_text(entries[0]) << "\n";
      continue;
    }
    out << "[\n";
    for (const auto& e : entries) out << "  " << entry_text(e) << ",\n";
    out << "]\n";
  }
  result.toml = out.str();
  return result;
}

Result<ImportResult> import_zone_file(const std::string& path, const std::string& origin) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return import_zone_text(text.str(), origin, path);
}

int run_import(const std::vector<std::string>& args) {
  std::string file, origin, output, gdnsd_dir;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--gdnsd" && i + 1 < args.size()) {
      gdnsd_dir = args[++i];
    } else if (args[i] == "--origin" && i + 1 < args.size()) {
      origin = args[++i];
    } else if (args[i] == "--output" && i + 1 < args.size()) {
      output = args[++i];
    } else if (!args[i].empty() && args[i][0] == '-' && args[i] != "-") {
      std::cerr << "geodns import: unknown option " << args[i]
                << "\nusage: geodns import ZONEFILE --origin NAME [--output FILE]\n"
                   "       geodns import --gdnsd DIR --output OUTDIR\n";
      return 2;
    } else if (file.empty()) {
      file = args[i];
    } else {
      std::cerr << "geodns import: one ZONEFILE only\n";
      return 2;
    }
  }
  if (!gdnsd_dir.empty()) {
    if (!file.empty() || !origin.empty() || output.empty() || output == "-") {
      std::cerr << "usage: geodns import --gdnsd DIR --output OUTDIR\n";
      return 2;
    }
    return run_gdnsd_import(gdnsd_dir, output);
  }
  if (file.empty() || origin.empty()) {
    std::cerr << "usage: geodns import ZONEFILE --origin NAME [--output FILE]\n";
    return 2;
  }
  auto result = import_zone_file(file, origin);
  if (!result) {
    std::cerr << "geodns import: " << result.error().to_string() << "\n";
    return 1;
  }
  for (const auto& w : result->warnings) std::cerr << "geodns import: warning: " << w << "\n";
  if (output.empty() || output == "-") {
    std::cout << result->toml;
  } else {
    std::ofstream out(output, std::ios::trunc);
    out << result->toml;
    if (!out.flush()) {
      std::cerr << "geodns import: cannot write " << output << "\n";
      return 1;
    }
    std::cerr << "geodns import: " << result->records << " records written to " << output << "\n";
  }
  return 0;
}

}  // namespace geodns::ops
