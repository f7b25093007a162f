// `geodns dnssec` and signed zones through the real binary (issue 13): keygen writes 0600
// BIND-format files that ldns reads, `ds` prints what ldns-key2ds prints for the same key,
// keys made by ldns-keygen are used, a signed zone whose keys break keeps its previous
// version serving, and a pre-published ZSK roll goes step by step through reloads.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

struct CmdRun {
  int exit_code = -1;
  std::string out;
};

// `cmd` through the shell, stdout and stderr together, bounded in time.
CmdRun shell(const std::string& cmd) {
  CmdRun r;
  FILE* f = popen(("timeout 20 sh -c '" + cmd + "' 2>&1").c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  const int status = pclose(f);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

CmdRun geodns(const std::string& args) {
  return shell(std::string(GEODNS_BINARY) + " " + args);
}

std::vector<std::string> files_with(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string p = e.path().string();
    if (p.size() > suffix.size() &&
        p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(p);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

// The key tags that the "created ... TAG" lines of keygen name.
std::vector<std::string> created_tags(const std::string& out) {
  std::vector<std::string> tags;
  size_t pos = 0;
  while ((pos = out.find("created ", pos)) != std::string::npos) {
    pos += 8;
    const size_t sp = out.find(' ', pos);
    const size_t sp2 = out.find(' ', sp + 1);
    tags.push_back(out.substr(sp + 1, sp2 - sp - 1));
  }
  return tags;
}

// "ROLE ALGORITHM STATE" of key `tag` in `geodns dnssec status` output ("" if not listed).
std::string key_line(const std::string& status, const std::string& tag) {
  size_t pos = 0;
  while (pos < status.size()) {
    const size_t end = status.find('\n', pos);
    const std::string line = status.substr(pos, end - pos);
    pos = end == std::string::npos ? status.size() : end + 1;
    std::istringstream words(line);
    std::string t, role, alg, state;
    words >> t >> role >> alg >> state;
    if (t == tag) return role + " " + alg + " " + state;
  }
  return "";
}

TEST(DnssecKeys, KeygenWritesPrivateFilesThatLdnsReadsAndDsMatchesLdnsKey2ds) {
  for (const std::string alg : {"ecdsap256sha256", "ed25519"}) {
    TempDir tmp;
    const std::string dir = tmp.file("keys");
    CmdRun gen = geodns("dnssec keygen Example.COM --algorithm " + alg + " --key-dir " + dir);
    ASSERT_EQ(gen.exit_code, 0) << gen.out;
    EXPECT_EQ(mode_of(dir), 0700u);
    const auto keys = files_with(dir, ".key");
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_NE(keys[0].find("/Kexample.com.+0" + std::string(alg == "ed25519" ? "15" : "13") + "+"),
              std::string::npos);
    const std::string priv = keys[0].substr(0, keys[0].size() - 4) + ".private";
    EXPECT_EQ(mode_of(keys[0]), 0600u);
    EXPECT_EQ(mode_of(priv), 0600u);
    // ldns parses the DNSKEY file as a zone.
    CmdRun parsed = shell("ldns-read-zone " + keys[0]);
    EXPECT_EQ(parsed.exit_code, 0) << parsed.out;
    EXPECT_NE(parsed.out.find("DNSKEY\t257 3 " + std::string(alg == "ed25519" ? "15" : "13")),
              std::string::npos)
        << parsed.out;
    // The DS for the parent: byte for byte what ldns-key2ds prints.
    CmdRun ours = geodns("dnssec ds example.com --key-dir " + dir);
    ASSERT_EQ(ours.exit_code, 0) << ours.out;
    CmdRun theirs = shell("ldns-key2ds -n -2 " + keys[0]);
    ASSERT_EQ(theirs.exit_code, 0) << theirs.out;
    EXPECT_EQ(ours.out, theirs.out);
    EXPECT_NE(ours.out.find("\tIN\tDS\t" + created_tags(gen.out).at(0) + " "), std::string::npos);
  }
}

// A script's empty variable must not make a key for the root zone.
TEST(DnssecKeys, EmptyOrInvalidZoneNamesAreRefused) {
  TempDir tmp;
  const std::string dir = tmp.file("keys");
  CmdRun empty = geodns("dnssec keygen \"\" --key-dir " + dir);
  EXPECT_NE(empty.exit_code, 0) << empty.out;
  EXPECT_NE(empty.out.find("the zone name is empty"), std::string::npos) << empty.out;
  CmdRun bad = geodns("dnssec keygen bad..name --key-dir " + dir);
  EXPECT_NE(bad.exit_code, 0) << bad.out;
  EXPECT_NE(bad.out.find("invalid zone name"), std::string::npos) << bad.out;
  EXPECT_TRUE(!std::filesystem::exists(dir) || files_with(dir, ".key").empty());
}

TEST(DnssecKeys, SplitKeysStatusAndLdnsKeygenKeys) {
  TempDir tmp;
  const std::string dir = tmp.file("keys");
  CmdRun gen = geodns("dnssec keygen example.com --split --key-dir " + dir);
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  const auto tags = created_tags(gen.out);
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_NE(gen.out.find("created KSK " + tags[0]), std::string::npos);
  EXPECT_NE(gen.out.find("created ZSK " + tags[1]), std::string::npos);
  CmdRun status = geodns("dnssec status example.com --key-dir " + dir);
  ASSERT_EQ(status.exit_code, 0) << status.out;
  EXPECT_EQ(key_line(status.out, tags[0]), "KSK ECDSAP256SHA256 active") << status.out;
  EXPECT_EQ(key_line(status.out, tags[1]), "ZSK ECDSAP256SHA256 active") << status.out;
  EXPECT_NE(status.out.find("next: nothing to do"), std::string::npos) << status.out;
  // Only the KSK has a DS.
  CmdRun ds = geodns("dnssec ds example.com --key-dir " + dir);
  EXPECT_NE(ds.out.find("DS\t" + tags[0] + " "), std::string::npos) << ds.out;
  EXPECT_EQ(ds.out.find("DS\t" + tags[1] + " "), std::string::npos) << ds.out;

  // A key made by ldns-keygen (no timing metadata: in use) is listed and used.
  TempDir other;
  CmdRun lk = shell("cd " + other.path() + " && ldns-keygen -a ED25519 -k shop.example");
  ASSERT_EQ(lk.exit_code, 0) << lk.out;
  CmdRun st2 = geodns("dnssec status shop.example --key-dir " + other.path());
  ASSERT_EQ(st2.exit_code, 0) << st2.out;
  EXPECT_NE(st2.out.find("CSK   ED25519          active"), std::string::npos) << st2.out;
  CmdRun ds2 = geodns("dnssec ds shop.example --key-dir " + other.path());
  CmdRun theirs = shell("ldns-key2ds -n -2 " + files_with(other.path(), ".key").at(0));
  EXPECT_EQ(ds2.out, theirs.out);

  // Usage and key errors.
  EXPECT_EQ(geodns("dnssec keygen").exit_code, 2);
  EXPECT_EQ(geodns("dnssec frob example.com").exit_code, 2);
  EXPECT_EQ(geodns("dnssec keygen example.com --algorithm rsasha1 --key-dir " + dir).exit_code, 2);
  CmdRun none = geodns("dnssec ds example.com --key-dir " + tmp.file("nowhere"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.out.find("cannot open the key directory"), std::string::npos) << none.out;
  CmdRun help = geodns("dnssec --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("geodns dnssec keygen ZONE"), std::string::npos);
}

// ---- signed zones through the server ----

constexpr const char* kZone = R"([zone]
name = "signed.test."
dnssec = true
[zone.soa]
mname = "ns1.signed.test."
rname = "hostmaster.signed.test."
ttl = 300
[records]
"@" = ["NS ns1.signed.test."]
ns1 = ["A 192.0.2.53"]
www = ["A 192.0.2.80"]
)";

struct SignedServer {
  TempDir zones;
  std::string key_dir;
  std::unique_ptr<Server> server;

  explicit SignedServer(const std::string& keygen_args, const std::string& dnssec_config = "") {
    key_dir = zones.file("keys");
    CmdRun gen = geodns("dnssec keygen signed.test " + keygen_args + " --key-dir " + key_dir);
    EXPECT_EQ(gen.exit_code, 0) << gen.out;
    tags = created_tags(gen.out);
    std::filesystem::create_directory(zones.file("z"));
    zones.write("z/signed.test.toml", kZone);
    ServeOptions o;
    o.zones_dir = zones.file("z");
    o.threads = 1;
    o.v6 = false;
    o.extra_config =
        "[dnssec]\nkey_directory = \"" + key_dir + "\"\nretire_wait = \"2s\"\n" + dnssec_config;
    server = std::make_unique<Server>(o);
  }
  // Through the server's config, as an operator would: its [dnssec] retire_wait applies.
  CmdRun cli(const std::string& args) const {
    return geodns("dnssec " + args + " --config " + server->dir.file("geodns.toml"));
  }
  // The key tags of the served DNSKEY RRset, as ldns decodes them.
  std::set<uint16_t> dnskey_tags() {
    std::set<uint16_t> out;
    Packet p = server->udp("signed.test.", LDNS_RR_TYPE_DNSKEY);
    if (!p) return {0};
    ldns_rr_list* answer = ldns_pkt_answer(p.get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY) out.insert(ldns_calc_keytag(rr));
    }
    return out;
  }
  bool reload_until(const std::set<uint16_t>& want, bool sighup = true) {
    if (sighup) kill(server->process->pid(), SIGHUP);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (dnskey_tags() == want) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::vector<std::string> tags;
};

uint16_t tag(const std::string& s) {
  return static_cast<uint16_t>(std::stoul(s));
}

TEST(DnssecServe, ASignedZoneWhoseKeysBreakKeepsServingItsPreviousVersion) {
  SignedServer s("");
  ASSERT_TRUE(s.server->ready) << s.server->process->stderr_text();
  ASSERT_EQ(s.tags.size(), 1u);
  EXPECT_EQ(s.dnskey_tags(), std::set<uint16_t>{tag(s.tags[0])});
  // CDS at the apex (RFC 7344) for the parent's automation.
  Packet cds = s.server->udp("signed.test.", static_cast<ldns_rr_type>(59));
  ASSERT_TRUE(cds);
  EXPECT_EQ(ldns_pkt_ancount(cds.get()), 1);

  // The private key goes missing: the reload fails, naming the zone file and the key
  // directory, and the zone keeps being served as it was.
  const auto priv = files_with(s.key_dir, ".private");
  ASSERT_EQ(priv.size(), 1u);
  const std::string saved = read_text(priv[0]);
  std::filesystem::remove(priv[0]);
  kill(s.server->process->pid(), SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline &&
         s.server->process->stderr_text().find(priv[0] + ": missing") == std::string::npos) {
    std::this_thread::sleep_for(50ms);
  }
  const std::string log = s.server->process->stderr_text();
  EXPECT_NE(log.find("signed.test.toml:3:10: dnssec = true, but the keys of signed.test. in " +
                     s.key_dir + " do not load"),
            std::string::npos)
      << log;
  EXPECT_EQ(s.dnskey_tags(), std::set<uint16_t>{tag(s.tags[0])});
  Packet www = s.server->udp("www.signed.test.", LDNS_RR_TYPE_A);
  ASSERT_TRUE(www);
  EXPECT_TRUE(has_line(section_strings(www.get(), LDNS_SECTION_ANSWER), "192.0.2.80"));
  // Put back, the next reload loads it again.
  std::ofstream(priv[0]) << saved;
  EXPECT_TRUE(s.reload_until({tag(s.tags[0])}));
  EXPECT_EQ(s.server->process->stop(), 0);
}

TEST(DnssecServe, PrePublishedZskRollThroughReloads) {
  SignedServer s("--split");
  ASSERT_TRUE(s.server->ready) << s.server->process->stderr_text();
  ASSERT_EQ(s.tags.size(), 2u);
  const uint16_t ksk = tag(s.tags[0]);
  const uint16_t old_zsk = tag(s.tags[1]);
  EXPECT_EQ(s.dnskey_tags(), (std::set<uint16_t>{ksk, old_zsk}));

  // 1. Pre-publish the new ZSK: in DNSKEY, not signing.
  CmdRun gen = s.cli("keygen signed.test --publish-only");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  ASSERT_EQ(created_tags(gen.out).size(), 1u);
  EXPECT_NE(gen.out.find("created ZSK"), std::string::npos) << gen.out;
  const uint16_t new_zsk = tag(created_tags(gen.out)[0]);
  CmdRun st = s.cli("status signed.test");
  EXPECT_EQ(key_line(st.out, std::to_string(new_zsk)), "ZSK ECDSAP256SHA256 published") << st.out;
  EXPECT_NE(st.out.find("next: key " + std::to_string(new_zsk) + " is pre-published: wait"),
            std::string::npos)
      << st.out;
  EXPECT_TRUE(s.reload_until({ksk, old_zsk, new_zsk})) << s.server->process->stderr_text();

  // Retiring the only active ZSK is refused: the zone would not load.
  CmdRun refused = s.cli("retire signed.test " + std::to_string(old_zsk));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.out.find("activate its successor first"), std::string::npos) << refused.out;

  // 2. Activate the new ZSK, retire the old one: both stay published.
  ASSERT_EQ(s.cli("activate signed.test " + std::to_string(new_zsk)).exit_code, 0);
  CmdRun retire = s.cli("retire signed.test " + std::to_string(old_zsk));
  ASSERT_EQ(retire.exit_code, 0) << retire.out;
  st = s.cli("status signed.test");
  EXPECT_EQ(key_line(st.out, std::to_string(old_zsk)), "ZSK ECDSAP256SHA256 retired") << st.out;
  EXPECT_EQ(key_line(st.out, std::to_string(new_zsk)), "ZSK ECDSAP256SHA256 active") << st.out;
  EXPECT_TRUE(s.reload_until({ksk, old_zsk, new_zsk}));

  // 3. After retire_wait (2 s here) the old ZSK leaves DNSKEY.
  std::this_thread::sleep_for(2500ms);
  st = s.cli("status signed.test");
  EXPECT_EQ(key_line(st.out, std::to_string(old_zsk)), "ZSK ECDSAP256SHA256 removed") << st.out;
  EXPECT_TRUE(s.reload_until({ksk, new_zsk})) << s.server->process->stderr_text();
  EXPECT_EQ(s.server->process->stop(), 0);
}

// The expiration of each zone_signed log line, in order.
std::vector<int64_t> signed_expirations(const std::string& log) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while ((pos = log.find("event=zone_signed", pos)) != std::string::npos) {
    pos = log.find("expiration=", pos) + 11;
    out.push_back(std::stoll(log.substr(pos, log.find(' ', pos) - pos)));
  }
  return out;
}

TEST(DnssecServe, SignaturesAreRenewedByTheReSignTimerWithoutAReload) {
  // Validity 6 s, renewed when 3 s are left: a re-sign about every 3 s.
  SignedServer s("", "signature_validity = 6\nsignature_refresh = 3\ninception_offset = 0\n");
  ASSERT_TRUE(s.server->ready) << s.server->process->stderr_text();
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline &&
         signed_expirations(s.server->process->stderr_text()).size() < 2) {
    std::this_thread::sleep_for(100ms);
  }
  const std::string log = s.server->process->stderr_text();
  const auto exp = signed_expirations(log);
  ASSERT_GE(exp.size(), 2u) << log;
  EXPECT_GT(exp[1], exp[0]) << log;
  // No SIGHUP, no edit: only the timer reloaded.
  EXPECT_EQ(log.find("reason=SIGHUP"), std::string::npos) << log;
  EXPECT_NE(log.find("event=reload_start reason=re-sign"), std::string::npos) << log;
  // The zone still answers, with its keys.
  EXPECT_EQ(s.dnskey_tags(), std::set<uint16_t>{tag(s.tags[0])});
  EXPECT_EQ(s.server->process->stop(), 0);
}

}  // namespace
}  // namespace geodns::test
