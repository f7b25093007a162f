// The command line a new user meets first: every subcommand's --help, and `geodns check` on a
// config file that is empty, missing, a directory or unreadable says why (issue 16).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "serve_fixture.h"

namespace geodns::test {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout
  std::string all;  // stdout and stderr
};

// Runs the binary with `args` (shell words), once for stdout alone and once with stderr too,
// so a test can tell where the help went.
CliRun run_geodns(const std::string& args) {
  CliRun r;
  auto capture = [](const std::string& cmd, int* code) {
    std::string text;
    FILE* f = popen(cmd.c_str(), "r");
    if (f == nullptr) return text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    const int status = pclose(f);
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return text;
  };
  // A bound on every run, so a regression that starts serving fails instead of hanging.
  const std::string base = "timeout 20 " + std::string(GEODNS_BINARY) + " " + args;
  int ignored = 0;
  r.out = capture(base + " 2>/dev/null", &ignored);
  r.all = capture(base + " 2>&1", &r.exit_code);
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CliHelp, EverySubcommandPrintsItsOwnHelpOnStdout) {
  struct Case {
    std::string args;
    std::string usage_line;  // what only this command's help says
    std::string option;      // an option it documents
  };
  const Case cases[] = {
      {"serve --help", "usage: geodns serve", "--state-dir DIR"},
      {"serve -h", "usage: geodns serve", "--query-log"},
      {"check --help", "usage: geodns check", "Exit status 0"},
      {"explain --help", "usage: geodns explain NAME", "--client ADDR[/LEN]"},
      {"import --help", "usage: geodns import ZONEFILE", "--origin NAME"},
      {"version --help", "usage: geodns version", "Prints the version"},
      {"help serve", "usage: geodns serve", "--user NAME"},
      // --help wins wherever it stands, even after other options.
      {"serve --listen 127.0.0.1:1 --help", "usage: geodns serve", "--listen ADDR:PORT"},
      {"import -h", "geodns import --gdnsd DIR --output OUTDIR", "--gdnsd DIR"},
      {"ctl --help", "geodns ctl", "--token"},
      {"help ctl", "geodns ctl", "--token"},
      {"diff --help", "usage: geodns diff OLD NEW", "--clients FILE"},
      {"help diff", "usage: geodns diff OLD NEW", "--git REV1..REV2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    const CliRun r = run_geodns(c.args);
    EXPECT_EQ(r.exit_code, 0) << r.all;
    EXPECT_TRUE(contains(r.out, c.usage_line)) << r.out;
    EXPECT_TRUE(contains(r.out, c.option)) << r.out;
    EXPECT_FALSE(contains(r.all, "unknown option")) << r.all;
  }
  // The general usage points at the per-command help and is not printed for `serve --help`.
  EXPECT_TRUE(contains(run_geodns("--help").out, "geodns COMMAND --help"));
  EXPECT_FALSE(contains(run_geodns("serve --help").out, "geodns explain NAME"));
}

TEST(CliHelp, UnknownOptionsAndCommandsStillFail) {
  const CliRun opt = run_geodns("serve --no-such-flag");
  EXPECT_EQ(opt.exit_code, 2);
  EXPECT_TRUE(contains(opt.all, "unknown option --no-such-flag")) << opt.all;
  const CliRun cmd = run_geodns("frobnicate --help");
  EXPECT_EQ(cmd.exit_code, 2);
  EXPECT_TRUE(contains(cmd.all, "unknown command")) << cmd.all;
}

TEST(CliCheck, EmptyMissingAndDirectoryConfigsSayWhy) {
  TempDir dir;
  dir.write("empty.toml", "");
  dir.write("blank.toml", "\n  \n\t\n");
  struct Case {
    std::string path;
    std::string why;
  };
  const Case cases[] = {
      {dir.file("empty.toml"), "the config file is empty"},
      {dir.file("blank.toml"), "the config file is empty"},
      {dir.file("missing.toml"), "cannot read the config file: No such file or directory"},
      {dir.file("empty.toml") + "/below.toml", "cannot read the config file: Not a directory"},
      {dir.path(), "is a directory, not a config file"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    const CliRun r = run_geodns("check --config " + c.path);
    EXPECT_EQ(r.exit_code, 1) << r.all;
    // The message names the file, then says why.
    EXPECT_TRUE(contains(r.all, c.path + ": " + c.why)) << r.all;
  }
  // `serve` refuses the same file with the same message instead of serving defaults.
  const CliRun serve =
      run_geodns("serve --listen 127.0.0.1:0 --control '' --config " + dir.file("empty.toml"));
  EXPECT_NE(serve.exit_code, 0);
  EXPECT_TRUE(contains(serve.all, "the config file is empty")) << serve.all;
}

TEST(CliCheck, CommentOnlyConfigIsAcceptedAsDefaults) {
  TempDir dir;
  std::filesystem::copy(source_path("zones"), dir.file("zones"),
                        std::filesystem::copy_options::recursive);
  dir.write("geodns.toml", "# every setting at its default\n");
  const CliRun r = run_geodns("check --config " + dir.file("geodns.toml") + " --geoip " +
                              source_path("geoip/demo.mmdb"));
  EXPECT_EQ(r.exit_code, 0) << r.all;
  EXPECT_TRUE(contains(r.out, "ok")) << r.all;
}

TEST(CliCheck, UnreadableConfigSaysPermissionDenied) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "root reads a mode-000 file; the permission case needs an unprivileged user";
  }
  TempDir dir;
  dir.write("secret.toml", "[server]\n");
  ASSERT_EQ(chmod(dir.file("secret.toml").c_str(), 0), 0);
  const CliRun r = run_geodns("check --config " + dir.file("secret.toml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      contains(r.all, dir.file("secret.toml") + ": cannot read the config file: Permission denied"))
      << r.all;
}

}  // namespace
}  // namespace geodns::test
