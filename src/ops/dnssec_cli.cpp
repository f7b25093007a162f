#include "ops/dnssec_cli.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <optional>
#include <ostream>

#include "dns/name.h"
#include "dnssec/ds.h"
#include "dnssec/key.h"
#include "ops/options.h"

namespace geodns::ops {
namespace {

constexpr const char* kUsage = R"(usage:
  geodns dnssec keygen ZONE [--algorithm ecdsap256sha256|ed25519] [--split | --publish-only
                            [--role ksk|zsk|csk]] [--key-dir DIR | --config FILE]
      a new key for ZONE: a combined signing key (CSK) by default, a KSK and a ZSK with
      --split; active now, or with --publish-only in DNSKEY but not signing yet (the new key
      of a rollover: a ZSK when the zone has ZSKs, else a CSK, unless --role says)
  geodns dnssec ds ZONE [--key-dir DIR | --config FILE]
      the DS records (SHA-256) the parent zone should have: one per KSK/CSK that is
      created, published or active
  geodns dnssec status ZONE [--key-dir DIR | --config FILE]
      each key: tag, role, algorithm, state and timings, and what to do next
  geodns dnssec activate ZONE TAG [--key-dir DIR | --config FILE]
      key TAG signs from now on (and is published if it was not)
  geodns dnssec retire ZONE TAG [--key-dir DIR | --config FILE]
      key TAG stops signing now and leaves DNSKEY after [dnssec] retire_wait (default 1d)

The key directory is --key-dir, else [dnssec] key_directory of the config (--config, or
./geodns.toml), else <state_dir>/keys. Files are written 0600 in a 0700 directory. A running
server applies key changes at its next reload (systemctl reload geodns, geodns ctl reload).
)";

struct Args {
  std::string sub;
  std::vector<std::string> positional;
  std::string key_dir;
  std::string config;
  std::string algorithm = "ecdsap256sha256";
  std::string role;
  bool split = false;
  bool publish_only = false;
};

std::string utc(int64_t unix_s) {
  if (unix_s == 0) return "-";
  const auto t = static_cast<time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string duration(int64_t s) {
  if (s % 86400 == 0 && s != 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0 && s != 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0 && s != 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

class Cli {
 public:
  Cli(Args a, std::ostream& out, std::ostream& err, int64_t now)
      : a_(std::move(a)), out_(out), err_(err), now_(now) {}

  int run() {
    if (a_.positional.empty()) return usage("dnssec " + a_.sub + " needs a ZONE");
    std::string wire;
    // An empty argument (a script's unset variable) is not the root zone: "." says that.
    if (a_.positional[0].empty()) return fail("the zone name is empty (the root zone is \".\")");
    if (!dns::name_from_text(a_.positional[0], &wire)) {
      return fail("invalid zone name \"" + a_.positional[0] + "\"");
    }
    zone_ = dns::name_to_text(wire);
    for (char& c : zone_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    zone_wire_ = wire;
    for (char& c : zone_wire_) c = static_cast<char>(dns::ascii_lower(static_cast<uint8_t>(c)));
    const size_t want = a_.sub == "activate" || a_.sub == "retire" ? 2 : 1;
    if (a_.positional.size() != want) {
      return usage("dnssec " + a_.sub + (want == 2 ? " needs ZONE and TAG" : " takes one ZONE"));
    }
    if (int rc = resolve_dir(); rc != 0) return rc;
    if (a_.sub == "keygen") return keygen();
    if (a_.sub == "ds") return ds();
    if (a_.sub == "status") return status();
    if (a_.sub == "activate" || a_.sub == "retire") return set_timing();
    return usage("unknown dnssec command \"" + a_.sub + "\"");
  }

 private:
  int usage(const std::string& msg) {
    err_ << "geodns dnssec: " << msg << "\n\n" << kUsage;
    return 2;
  }
  int fail(const std::string& msg) {
    err_ << "geodns dnssec: " << msg << "\n";
    return 1;
  }

  int resolve_dir() {
    if (!a_.key_dir.empty()) {
      dir_ = a_.key_dir;
      return 0;
    }
    CommonOptions o;
    o.config_path = a_.config;
    o.log_level = "warn";
    auto config = resolve_config(o);
    if (!config) return fail(config.error().to_string());
    settings_ = config->dnssec;
    dir_ = config->dnssec_key_directory();
    if (dir_.empty()) {
      return fail(
          "no key directory: pass --key-dir, or set [dnssec] key_directory or [server] "
          "state_dir in the config");
    }
    return 0;
  }

  Result<std::vector<dnssec::SigningKey>> keys(bool missing_dir_is_empty) {
    auto r = dnssec::load_zone_keys(dir_, zone_);
    std::error_code ec;
    if (!r && missing_dir_is_empty && !std::filesystem::exists(dir_, ec)) {
      return std::vector<dnssec::SigningKey>{};
    }
    return r;
  }

  void print_ds(const dnssec::SigningKey& k) {
    // Laid out as ldns-key2ds and dnssec-dsfromkey print it; the TTL is the parent's choice.
    const std::string ds = dnssec::ds_rdata(zone_wire_, k.dnskey_rdata);
    out_ << zone_ << "\t3600\tIN\tDS\t" << k.key_tag << " " << static_cast<unsigned>(k.algorithm)
         << " 2 " << hex(std::string_view(ds).substr(4)) << "\n";
  }

  int keygen() {
    const auto alg = dnssec::algorithm_from_text(a_.algorithm);
    if (!alg)
      return usage("unknown --algorithm \"" + a_.algorithm + "\" (ecdsap256sha256, ed25519)");
    if (a_.split && a_.publish_only) return usage("--split and --publish-only exclude each other");
    auto existing = keys(true);
    if (!existing) return fail(existing.error().to_string());
    // A fixed array: GCC 12 reports a false overflow for a std::vector of this enum.
    dnssec::KeyRole roles[2] = {dnssec::KeyRole::csk, dnssec::KeyRole::csk};
    size_t role_count = 1;
    if (a_.split) {
      roles[0] = dnssec::KeyRole::ksk;
      roles[1] = dnssec::KeyRole::zsk;
      role_count = 2;
    } else if (!a_.role.empty()) {
      if (a_.role == "ksk") {
        roles[0] = dnssec::KeyRole::ksk;
      } else if (a_.role == "zsk") {
        roles[0] = dnssec::KeyRole::zsk;
      } else if (a_.role != "csk") {
        return usage("--role must be ksk, zsk or csk");
      }
    } else if (a_.publish_only) {
      // The successor of a rollover: of the kind the zone signs its records with.
      const bool has_zsk = std::any_of(existing->begin(), existing->end(), [](const auto& k) {
        return k.role == dnssec::KeyRole::zsk;
      });
      if (has_zsk) roles[0] = dnssec::KeyRole::zsk;
    }
    for (size_t r = 0; r < role_count; ++r) {
      const dnssec::KeyRole role = roles[r];
      auto k = dnssec::generate_key(zone_, *alg, role, now_);
      if (!k) return fail(k.error().to_string());
      k->timing.publish_unix = now_;
      if (!a_.publish_only) k->timing.activate_unix = now_;
      if (Status st = dnssec::write_key_files(*k, dir_); !st) return fail(st.error().to_string());
      out_ << "created " << dnssec::role_name(role) << " " << k->key_tag << " ("
           << dnssec::algorithm_mnemonic(*alg) << ", "
           << (a_.publish_only ? "published, not signing" : "active") << "): " << k->key_path
           << "\n";
    }
    out_ << "reload the server to apply (systemctl reload geodns, or geodns ctl reload); "
            "geodns dnssec ds "
         << zone_ << " prints the DS for the parent\n";
    return 0;
  }

  int ds() {
    auto ks = keys(false);
    if (!ks) return fail(ks.error().to_string());
    int n = 0;
    for (const auto& k : *ks) {
      if (!k.signs_keys()) continue;
      const auto s = k.state_at(now_);
      if (s == dnssec::KeyState::retired || s == dnssec::KeyState::removed) continue;
      print_ds(k);
      ++n;
    }
    if (n == 0) return fail("no KSK or CSK for " + zone_ + " in " + dir_);
    return 0;
  }

  int status() {
    auto ks = keys(true);
    if (!ks) return fail(ks.error().to_string());
    out_ << "zone " << zone_ << "  keys in " << dir_ << "  now " << utc(now_) << " UTC\n";
    if (ks->empty()) {
      out_ << "no keys\nnext: geodns dnssec keygen " << zone_ << "\n";
      return 0;
    }
    out_ << "tag    role  algorithm        state      publish              activate"
            "             inactive             delete\n";
    for (const auto& k : *ks) {
      char line[256];
      std::snprintf(line, sizeof line, "%-6u %-5s %-16s %-10s %-20s %-20s %-20s %s\n",
                    static_cast<unsigned>(k.key_tag),
                    std::string(dnssec::role_name(k.role)).c_str(),
                    std::string(dnssec::algorithm_mnemonic(k.algorithm)).c_str(),
                    std::string(dnssec::state_name(k.state_at(now_))).c_str(),
                    utc(k.timing.publish_unix).c_str(), utc(k.timing.activate_unix).c_str(),
                    utc(k.timing.inactive_unix).c_str(), utc(k.timing.delete_unix).c_str());
      out_ << line;
    }
    for (const auto& line : next_steps(*ks)) out_ << "next: " << line << "\n";
    return 0;
  }

  // What the operator should do now, from the keys' states (README, "Key rollover").
  std::vector<std::string> next_steps(const std::vector<dnssec::SigningKey>& ks) {
    std::vector<std::string> steps;
    bool active_zone = false, active_keys = false;
    std::vector<const dnssec::SigningKey*> active;
    for (const auto& k : ks) {
      if (!k.is_active(now_)) continue;
      active.push_back(&k);
      active_zone = active_zone || k.signs_zone();
      active_keys = active_keys || k.signs_keys();
    }
    auto old_of = [&](const dnssec::SigningKey& k) {
      std::string tags;
      for (const auto* a : active) {
        if (a->role == k.role && a != &k)
          tags += (tags.empty() ? "" : " ") + std::to_string(a->key_tag);
      }
      return tags.empty() ? std::string("OLD") : tags;
    };
    for (const auto& k : ks) {
      const std::string tag = std::to_string(k.key_tag);
      switch (k.state_at(now_)) {
        case dnssec::KeyState::created:
          steps.push_back("key " + tag + " is published at " + utc(k.timing.publish_unix) +
                          " UTC (nothing to do before)");
          break;
        case dnssec::KeyState::published:
          if (k.signs_keys()) {
            steps.push_back(
                "key " + tag + " is pre-published: add its DS at the parent (geodns dnssec ds " +
                zone_ +
                "), wait until the parent serves it and the old DS TTL "
                "has passed, then: geodns dnssec activate " +
                zone_ + " " + tag + " && geodns dnssec retire " + zone_ + " " + old_of(k));
          } else {
            steps.push_back("key " + tag +
                            " is pre-published: wait at least the DNSKEY TTL so resolvers "
                            "cache it, then: geodns dnssec activate " +
                            zone_ + " " + tag + " && geodns dnssec retire " + zone_ + " " +
                            old_of(k));
          }
          break;
        case dnssec::KeyState::retired:
          steps.push_back("key " + tag + " is retired: it leaves DNSKEY at " +
                          utc(k.timing.delete_unix) + " UTC" +
                          (k.signs_keys() ? "; remove its DS from the parent now (geodns dnssec "
                                            "ds shows the DS to keep)"
                                          : ""));
          break;
        case dnssec::KeyState::removed:
          steps.push_back("key " + tag + " is removed: its files may be deleted (" + k.key_path +
                          ", .private, .state)");
          break;
        case dnssec::KeyState::active:
          break;
      }
    }
    if (!active_keys || !active_zone) {
      steps.push_back(std::string("the zone has no active ") +
                      (!active_keys ? "KSK/CSK" : "ZSK/CSK") +
                      ": it does not load while dnssec = true (geodns dnssec activate or keygen)");
    }
    if (steps.empty()) {
      steps.push_back("nothing to do; the parent should have the DS that geodns dnssec ds " +
                      zone_ + " prints");
    }
    return steps;
  }

  int set_timing() {
    unsigned long tag = 0;
    char* end = nullptr;
    tag = std::strtoul(a_.positional[1].c_str(), &end, 10);
    if (end == a_.positional[1].c_str() || *end != '\0' || tag > 65535) {
      return usage("TAG must be a key tag (0..65535)");
    }
    auto ks = keys(false);
    if (!ks) return fail(ks.error().to_string());
    auto it =
        std::find_if(ks->begin(), ks->end(), [tag](const auto& k) { return k.key_tag == tag; });
    if (it == ks->end())
      return fail("no key " + a_.positional[1] + " for " + zone_ + " in " + dir_);
    dnssec::SigningKey& k = *it;
    if (a_.sub == "activate") {
      if (k.timing.publish_unix == 0 || k.timing.publish_unix > now_) k.timing.publish_unix = now_;
      k.timing.activate_unix = now_;
      k.timing.inactive_unix = 0;
      k.timing.delete_unix = 0;
    } else {
      if (!k.is_active(now_)) return fail("key " + a_.positional[1] + " is not active");
      // Never leave the zone unable to load: another key must sign what this one signed.
      const dnssec::SigningKey* other_zone = nullptr;
      const dnssec::SigningKey* other_keys = nullptr;
      for (const auto& o : *ks) {
        if (&o == &k || !o.is_active(now_)) continue;
        if (o.signs_zone()) other_zone = &o;
        if (o.signs_keys()) other_keys = &o;
      }
      if ((k.signs_zone() && other_zone == nullptr) || (k.signs_keys() && other_keys == nullptr)) {
        return fail("retiring " + a_.positional[1] + " would leave " + zone_ +
                    " without an active " + std::string(k.signs_keys() ? "KSK/CSK" : "ZSK") +
                    ": activate its successor first (geodns dnssec activate " + zone_ + " TAG)");
      }
      k.timing.inactive_unix = now_;
      k.timing.delete_unix = now_ + settings_.retire_wait.count();
    }
    if (Status st = dnssec::write_key_timing(k); !st) return fail(st.error().to_string());
    out_ << "key " << k.key_tag << " (" << dnssec::role_name(k.role) << ") is "
         << dnssec::state_name(k.state_at(now_));
    if (a_.sub == "retire") {
      out_ << "; it leaves DNSKEY at " << utc(k.timing.delete_unix) << " UTC ("
           << duration(settings_.retire_wait.count()) << ")";
    }
    out_ << "; reload the server to apply\n";
    return 0;
  }

  Args a_;
  std::ostream& out_;
  std::ostream& err_;
  int64_t now_;
  std::string zone_;       // "example.com."
  std::string zone_wire_;  // lower case wire
  std::string dir_;
  zone::DnssecSettings settings_;
};

}  // namespace

int run_dnssec(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               int64_t now_unix) {
  Args a;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      out << kUsage;
      return 0;
    }
    bool ok = true;
    if (arg == "--key-dir") {
      ok = value(&a.key_dir);
    } else if (arg == "--config") {
      ok = value(&a.config);
    } else if (arg == "--algorithm") {
      ok = value(&a.algorithm);
    } else if (arg == "--role") {
      ok = value(&a.role);
    } else if (arg == "--split") {
      a.split = true;
    } else if (arg == "--publish-only") {
      a.publish_only = true;
    } else if (!arg.empty() && arg[0] == '-') {
      err << "geodns dnssec: unknown option " << arg << "\n\n" << kUsage;
      return 2;
    } else if (a.sub.empty()) {
      a.sub = arg;
    } else {
      a.positional.push_back(arg);
    }
    if (!ok) {
      err << "geodns dnssec: " << arg << " needs a value\n\n" << kUsage;
      return 2;
    }
  }
  if (a.sub.empty()) {
    err << "geodns dnssec: a command is required\n\n" << kUsage;
    return 2;
  }
  if (a.sub != "keygen" && a.sub != "ds" && a.sub != "status" && a.sub != "activate" &&
      a.sub != "retire") {
    err << "geodns dnssec: unknown command \"" << a.sub << "\"\n\n" << kUsage;
    return 2;
  }
  const int64_t now = now_unix != 0 ? now_unix : static_cast<int64_t>(std::time(nullptr));
  return Cli(std::move(a), out, err, now).run();
}

}  // namespace geodns::ops
