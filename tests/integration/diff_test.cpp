// `geodns diff` through the real binary: two config trees, the exit codes CI relies on, the
// git modes on a repository made by the test, and a reported move checked against the answers
// `geodns serve` gives for the same client (ECS, decoded with ldns).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness.h"
#include "serve_fixture.h"

namespace geodns::test {
namespace {

namespace fs = std::filesystem;

struct DiffRun {
  int exit_code = -1;
  std::string out, err;
};

DiffRun run_geodns(const std::vector<std::string>& args) {
  ServerProcess p(GEODNS_BINARY, args);
  DiffRun r;
  if (!p.wait_exit(60s)) {
    ADD_FAILURE() << "geodns diff did not finish";
    p.stop();
    return r;
  }
  r.exit_code = p.exit_code().value_or(-1);
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  return r;
}

void replace_in(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = read_text(path);
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in " << path;
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::trunc) << text;
}

// A tree as an operator keeps it: geodns.toml next to zones/ (the demo zones).
void make_tree(const std::string& dir) {
  fs::create_directories(dir + "/zones");
  fs::copy(source_path("zones"), dir + "/zones", fs::copy_options::recursive);
  std::ofstream(dir + "/geodns.toml")
      << "[server]\nzones = \"zones\"\ngeoip = \"" << source_path("geoip/demo.mmdb") << "\"\n";
}

// The edit the tests review: Europe's www to iad only, and one static address.
void edit_tree(const std::string& dir) {
  replace_in(dir + "/zones/example.com.toml", "map.EU = [\"fra\", \"iad\"]", "map.EU = [\"iad\"]");
  replace_in(dir + "/zones/example.com.toml", "sip = \"A 198.51.100.60\"",
             "sip = \"A 198.51.100.61\"");
}

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

int sh(const std::string& command) {
  return std::system(command.c_str());
}

std::vector<std::string> www_addresses(Server& server, const std::string& client) {
  QueryOptions q;
  q.edns_payload = 1232;
  q.edns_options = ecs_option(client);
  auto p = server.udp("www.example.com.", LDNS_RR_TYPE_A, q);
  if (!p) return {"no answer"};
  std::vector<std::string> out;
  for (const auto& rr : section_strings(p.get(), LDNS_SECTION_ANSWER)) {
    out.push_back(rr.substr(rr.find_last_of(' ') + 1));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DiffIntegration, TwoTreesRecordsMovesAndTheServerAgrees) {
  TempDir root;
  make_tree(root.file("old"));
  make_tree(root.file("new"));
  edit_tree(root.file("new"));
  const DiffRun r = run_geodns({"diff", root.file("old"), root.file("new")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(has(r.out,
                  "zone example.com.\n  changed sip.example.com. A (ttl 3600)\n"
                  "      - 198.51.100.60\n      + 198.51.100.61\n"))
      << r.out;
  EXPECT_TRUE(has(r.out, "steering: 5 steered names, 29 clients (all 29 networks of ")) << r.out;
  // The demo database's European networks: 4 German, 1 British, 1 French, 1 Russian.
  EXPECT_TRUE(has(r.out,
                  "  www.example.com. A: 7 of 29 clients move\n"
                  "    fra -> iad: 7 clients (DE 4, FR 1, GB 1, RU 1), e.g. "))
      << r.out;
  EXPECT_TRUE(has(r.out, "summary: 1 zones changed")) << r.out;
  EXPECT_TRUE(has(r.out, "; 1 of 5 steered names move clients (14 answers")) << r.out;
  EXPECT_FALSE(has(r.out, "cdn.example.com.")) << r.out;

  // What the diff says 46.4.0.0/16 (DE) gets, the servers give: fra before, iad after.
  ServeOptions o;
  o.zones_dir = root.file("old") + "/zones";
  Server before(o);
  ASSERT_TRUE(before.ready) << before.process->stderr_text();
  EXPECT_EQ(www_addresses(before, "46.4.0.0/16"),
            (std::vector<std::string>{"192.0.2.10", "192.0.2.11"}));
  o.zones_dir = root.file("new") + "/zones";
  Server after(o);
  ASSERT_TRUE(after.ready) << after.process->stderr_text();
  EXPECT_EQ(www_addresses(after, "46.4.0.0/16"),
            (std::vector<std::string>{"198.51.100.10", "198.51.100.11"}));
  // A client the diff does not move keeps its answer (US: iad, fra in both).
  EXPECT_EQ(www_addresses(before, "8.8.8.0/24"), www_addresses(after, "8.8.8.0/24"));
}

// A signed zone is diffed without its private keys (a pull request's checkout has none):
// the keys sign nothing that steers, so the tool builds the zone unsigned instead of failing
// on the missing key directory.
TEST(DiffIntegration, SignedZoneNeedsNoKeys) {
  TempDir root;
  make_tree(root.file("old"));
  make_tree(root.file("new"));
  for (const char* side : {"old", "new"}) {
    replace_in(root.file(side) + "/zones/example.com.toml", "name = \"example.com.\"",
               "name = \"example.com.\"\ndnssec = true");
  }
  edit_tree(root.file("new"));
  const DiffRun r = run_geodns({"diff", root.file("old"), root.file("new")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(has(r.out, "fra -> iad: 7 clients")) << r.out;
  EXPECT_FALSE(has(r.out, "DNSKEY")) << r.out;
  // The server itself still refuses to serve the zone unsigned.
  const DiffRun check = run_geodns({"check", "--config", root.file("new") + "/geodns.toml"});
  EXPECT_NE(check.exit_code, 0) << check.out;
  EXPECT_TRUE(has(check.err + check.out, "key directory")) << check.err;
}

TEST(DiffIntegration, ExitCodesClientsFileAndDown) {
  TempDir root;
  make_tree(root.file("old"));
  make_tree(root.file("new"));
  DiffRun same = run_geodns({"diff", root.file("old"), root.file("new")});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_TRUE(has(same.out, "summary: no change; 0 of 5 steered names")) << same.out;

  edit_tree(root.file("new"));
  root.write("clients.txt",
             "# two German networks and a US one\n46.4.0.0/16\n192.0.2.7\n"
             "8.8.8.0/24\n");
  DiffRun picked = run_geodns({"diff", root.file("old/geodns.toml"), root.file("new"), "--clients",
                               root.file("clients.txt")});
  EXPECT_EQ(picked.exit_code, 1) << picked.err;
  EXPECT_TRUE(has(picked.out, "3 clients (3 clients from ")) << picked.out;
  EXPECT_TRUE(has(picked.out, "    fra -> iad: 2 clients (DE 2), e.g. 46.4.0.0/16, 192.0.2.7/32\n"))
      << picked.out;

  // iad down in both: the EU clients fail open to iad (the new list has nothing else).
  DiffRun down = run_geodns({"diff", root.file("old"), root.file("new"), "--down", "iad"});
  EXPECT_EQ(down.exit_code, 1) << down.err;
  EXPECT_TRUE(has(down.out, "down: iad")) << down.out;
  EXPECT_TRUE(has(down.out, "    fra -> iad (all down): 7 clients")) << down.out;

  replace_in(root.file("new/zones/example.com.toml"), "sip = \"A 198.51.100.61\"",
             "sip = \"A 198.51.100.999\"");
  DiffRun broken = run_geodns({"diff", root.file("old"), root.file("new")});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_TRUE(has(broken.err, "does not load")) << broken.err;
  EXPECT_TRUE(has(broken.err, "example.com.toml:")) << broken.err;

  DiffRun usage = run_geodns({"diff", root.file("old")});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_TRUE(has(usage.err, "needs OLD and NEW")) << usage.err;
}

TEST(DiffIntegration, GitRevisionsOfARepositoryTheTestMakes) {
  TempDir root;
  const std::string repo = root.file("repo");
  make_tree(repo);
  const std::string git = "git -C " + repo + " -c user.name=test -c user.email=test@example.com ";
  ASSERT_EQ(sh("git init -q " + repo), 0);
  ASSERT_EQ(sh(git + "add -A && " + git + "commit -qm one"), 0);
  replace_in(repo + "/zones/example.com.toml", "map.EU = [\"fra\", \"iad\"]", "map.EU = [\"iad\"]");
  ASSERT_EQ(sh(git + "commit -qam two"), 0);
  const std::string config = repo + "/geodns.toml";
  // The revisions are extracted under $TMPDIR: a private one, to see it cleaned up.
  const std::string tmp = root.file("tmp");
  fs::create_directories(tmp);
  ASSERT_EQ(setenv("TMPDIR", tmp.c_str(), 1), 0);

  DiffRun range = run_geodns({"diff", "--git", "HEAD~1..HEAD", "--config", config});
  EXPECT_EQ(range.exit_code, 1) << range.err;
  EXPECT_TRUE(fs::is_empty(tmp));
  EXPECT_TRUE(has(range.out, "geodns diff git:HEAD~1 -> git:HEAD\n")) << range.out;
  EXPECT_TRUE(has(range.out, "    fra -> iad: 7 clients (DE 4, FR 1, GB 1, RU 1)")) << range.out;
  // The revisions differ in steering only.
  EXPECT_FALSE(has(range.out, "zone example.com.")) << range.out;

  // A pull request's view: the merge base of the target branch, then the branch head.
  ASSERT_EQ(sh(git + "branch -q main HEAD~1"), 0);
  DiffRun pr = run_geodns({"diff", "--git", "main...HEAD", "--config", config});
  EXPECT_EQ(pr.exit_code, 1) << pr.err;
  EXPECT_TRUE(has(pr.out, "fra -> iad: 7 clients")) << pr.out;

  // The working tree against the last commit: an edit not yet committed.
  replace_in(repo + "/zones/example.com.toml", "sip = \"A 198.51.100.60\"",
             "sip = \"A 198.51.100.61\"");
  DiffRun work = run_geodns({"diff", "git:HEAD", repo, "--config", config});
  EXPECT_EQ(work.exit_code, 1) << work.err;
  EXPECT_TRUE(has(work.out, "      + 198.51.100.61\n")) << work.out;
  EXPECT_TRUE(has(work.out, "0 of 5 steered names move")) << work.out;

  DiffRun same = run_geodns({"diff", "--git", "HEAD..HEAD", "--config", config});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;

  DiffRun bad = run_geodns({"diff", "--git", "nosuchrev..HEAD", "--config", config});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(has(bad.err, "git:nosuchrev: not a commit")) << bad.err;
  // Nothing extracted is left behind.
  EXPECT_TRUE(fs::is_empty(tmp)) << fs::directory_iterator(tmp)->path();
}

}  // namespace
}  // namespace geodns::test
