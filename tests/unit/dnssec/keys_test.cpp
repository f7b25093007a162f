// Key generation and BIND-format key files: ldns reads what we write, we read what we write,
// and every broken file is an error naming the file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "dnssec/key.h"
#include "dnssec/key_files.h"
#include "ldns_check.h"

namespace geodns::dnssec::testing {
namespace {

constexpr int64_t kNow = 1'800'000'000;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

class KeyFiles : public ::testing::TestWithParam<Algorithm> {};

TEST_P(KeyFiles, WrittenPrivateAndReadableByLdnsAndByUs) {
  TempDir tmp;
  const std::string dir = tmp.path + "/keys";
  auto key = generate_key("Example.COM", GetParam(), KeyRole::csk, kNow);
  ASSERT_TRUE(key) << key.error().to_string();
  key->timing.publish_unix = kNow;
  key->timing.activate_unix = kNow;
  ASSERT_TRUE(write_key_files(*key, dir));
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(key->key_path), 0600u);
  EXPECT_EQ(mode_of(key->private_path), 0600u);
  EXPECT_EQ(key->key_path, dir + "/" + key->file_stem() + ".key");
  EXPECT_NE(key->file_stem().find("Kexample.com.+0" + std::to_string(int(GetParam())) + "+"),
            std::string::npos);

  // ldns: the .key file parses as a DNSKEY with our key tag; the .private file as a key
  // whose public half is that DNSKEY.
  ldns_rr* dnskey = read_key_file(key->key_path);
  ASSERT_NE(dnskey, nullptr);
  EXPECT_EQ(ldns_rr_get_type(dnskey), LDNS_RR_TYPE_DNSKEY);
  EXPECT_EQ(ldns_calc_keytag(dnskey), key->key_tag);
  std::FILE* f = std::fopen(key->private_path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  ldns_key* priv = nullptr;
  ASSERT_EQ(ldns_key_new_frm_fp(&priv, f), LDNS_STATUS_OK);
  std::fclose(f);
  ldns_key_set_flags(priv, key->flags);
  ldns_rr* derived = ldns_key2rr(priv);
  ASSERT_NE(derived, nullptr);
  EXPECT_EQ(ldns_rdf_compare(ldns_rr_rdf(derived, 3), ldns_rr_rdf(dnskey, 3)), 0);
  ldns_rr_free(derived);
  ldns_key_deep_free(priv);
  ldns_rr_free(dnskey);

  auto loaded = load_zone_keys(dir, "example.com.");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->size(), 1u);
  const SigningKey& k = loaded->front();
  EXPECT_EQ(k.key_tag, key->key_tag);
  EXPECT_EQ(k.dnskey_rdata, key->dnskey_rdata);
  EXPECT_EQ(k.role, KeyRole::csk);
  EXPECT_EQ(k.origin_wire, wire("example.com."));
  EXPECT_EQ(k.timing.created_unix, kNow);
  EXPECT_EQ(k.timing.activate_unix, kNow);
  EXPECT_EQ(k.timing.inactive_unix, 0);
  EXPECT_TRUE(k.private_key);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, KeyFiles,
                         ::testing::Values(Algorithm::ecdsap256sha256, Algorithm::ed25519));

TEST(KeyTiming, StatesFollowTheTimes) {
  SigningKey k;
  EXPECT_EQ(k.state_at(kNow), KeyState::active);  // no timing at all: ldns-keygen's keys
  k.timing.publish_unix = kNow;
  k.timing.activate_unix = kNow + 100;
  k.timing.inactive_unix = kNow + 200;
  k.timing.delete_unix = kNow + 300;
  EXPECT_EQ(k.state_at(kNow - 1), KeyState::created);
  EXPECT_EQ(k.state_at(kNow), KeyState::published);
  EXPECT_TRUE(k.is_published(kNow));
  EXPECT_FALSE(k.is_active(kNow));
  EXPECT_EQ(k.state_at(kNow + 100), KeyState::active);
  EXPECT_EQ(k.state_at(kNow + 250), KeyState::retired);
  EXPECT_TRUE(k.is_published(kNow + 250));
  EXPECT_FALSE(k.is_active(kNow + 250));
  EXPECT_EQ(k.state_at(kNow + 300), KeyState::removed);
  EXPECT_FALSE(k.is_published(kNow + 300));
}

TEST(KeyTiming, BindTimeRoundTrips) {
  EXPECT_EQ(detail::bind_time(1'700'000'000), "20231114221320");
  int64_t t = 0;
  ASSERT_TRUE(detail::parse_bind_time("20231114221320", &t));
  EXPECT_EQ(t, 1'700'000'000);
  EXPECT_FALSE(detail::parse_bind_time("2023111422132", &t));
  EXPECT_FALSE(detail::parse_bind_time("20231314221320", &t));
}

TEST(KeyTiming, RewrittenTimingIsReadBack) {
  TempDir tmp;
  auto key = generate_key("example.com.", Algorithm::ed25519, KeyRole::zsk, kNow);
  ASSERT_TRUE(key);
  ASSERT_TRUE(write_key_files(*key, tmp.path));
  key->timing.inactive_unix = kNow + 50;
  key->timing.delete_unix = kNow + 90;
  ASSERT_TRUE(write_key_timing(*key));
  EXPECT_EQ(mode_of(key->private_path), 0600u);
  auto loaded = load_zone_keys(tmp.path, "example.com");
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().timing.inactive_unix, kNow + 50);
  EXPECT_EQ(loaded->front().timing.delete_unix, kNow + 90);
  EXPECT_EQ(loaded->front().role, KeyRole::zsk);
}

TEST(KeyRoles, WithoutStateFilesTheFlagsDecide) {
  TempDir tmp;
  auto ksk = generate_key("example.com.", Algorithm::ecdsap256sha256, KeyRole::ksk, kNow);
  auto zsk = generate_key("example.com.", Algorithm::ecdsap256sha256, KeyRole::zsk, kNow);
  ASSERT_TRUE(ksk && zsk);
  ASSERT_TRUE(write_key_files(*ksk, tmp.path));
  ASSERT_TRUE(write_key_files(*zsk, tmp.path));
  std::filesystem::remove(ksk->state_path);
  std::filesystem::remove(zsk->state_path);
  auto loaded = load_zone_keys(tmp.path, "example.com.");
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 2u);
  for (const auto& k : *loaded) {
    EXPECT_EQ(k.role, k.key_tag == ksk->key_tag ? KeyRole::ksk : KeyRole::zsk);
  }
  std::filesystem::remove(zsk->key_path);
  std::filesystem::remove(zsk->private_path);
  loaded = load_zone_keys(tmp.path, "example.com.");
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().role, KeyRole::csk);  // a lone 257 key signs everything
}

TEST(KeyRoles, OtherZonesKeysAreNotLoaded) {
  TempDir tmp;
  auto a = generate_key("example.com.", Algorithm::ed25519, KeyRole::csk, kNow);
  auto b = generate_key("sub.example.com.", Algorithm::ed25519, KeyRole::csk, kNow);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(write_key_files(*a, tmp.path));
  ASSERT_TRUE(write_key_files(*b, tmp.path));
  auto loaded = load_zone_keys(tmp.path, "example.com.");
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().key_tag, a->key_tag);
}

// Every broken key directory is an error that names the file (and line where there is one).
TEST(KeyErrors, NameTheFile) {
  TempDir tmp;
  EXPECT_NE(load_zone_keys(tmp.path + "/none", "example.com.")
                .error()
                .to_string()
                .find(tmp.path + "/none: cannot open the key directory"),
            std::string::npos);

  auto key = generate_key("example.com.", Algorithm::ecdsap256sha256, KeyRole::csk, kNow);
  ASSERT_TRUE(key);
  ASSERT_TRUE(write_key_files(*key, tmp.path));
  const std::string key_text = read_all(key->key_path);
  const std::string private_text = read_all(key->private_path);
  auto error_of = [&] {
    auto r = load_zone_keys(tmp.path, "example.com.");
    return r ? std::string("no error") : r.error().to_string();
  };

  std::filesystem::remove(key->private_path);
  EXPECT_EQ(error_of(), key->private_path + ": missing (the private key of " + key->key_path + ")");
  write_all(key->private_path, private_text);

  std::string other = key_text;
  other.replace(other.find("\nexample.com."), 13, "\nexample.net.");
  write_all(key->key_path, other);
  EXPECT_NE(error_of().find(key->key_path + ":3: the key is for \"example.net.\""),
            std::string::npos)
      << error_of();

  std::string rsa = key_text;
  rsa.replace(rsa.find(" 3 13 "), 6, " 3 8 ");
  write_all(key->key_path, rsa);
  EXPECT_NE(error_of().find("unsupported algorithm 8"), std::string::npos) << error_of();
  write_all(key->key_path, key_text);

  // Someone else's private key with our DNSKEY.
  auto stranger = generate_key("example.com.", Algorithm::ecdsap256sha256, KeyRole::csk, kNow);
  TempDir tmp2;
  ASSERT_TRUE(write_key_files(*stranger, tmp2.path));
  write_all(key->private_path, read_all(stranger->private_path));
  EXPECT_NE(error_of().find(key->private_path + ":3: the private key does not match"),
            std::string::npos)
      << error_of();

  std::string bad_time = private_text + "Inactive: 2024\n";
  write_all(key->private_path, bad_time);
  EXPECT_NE(error_of().find("Inactive: expected YYYYMMDDHHMMSS"), std::string::npos) << error_of();

  write_all(key->private_path, private_text);
  ::chmod(key->private_path.c_str(), 0);
  if (::geteuid() != 0) {  // root reads anything
    EXPECT_NE(error_of().find(key->private_path + ": cannot read"), std::string::npos);
  }
  ::chmod(key->private_path.c_str(), 0600);
  EXPECT_EQ(error_of(), "no error");
}

TEST(KeyTag, MatchesLdnsCalcKeytag) {
  // RFC 4034 appendix B, computed independently by ldns, over a few generated keys.
  for (int i = 0; i < 8; ++i) {
    auto key = generate_key("example.com.", i % 2 ? Algorithm::ed25519 : Algorithm::ecdsap256sha256,
                            KeyRole::zsk, kNow);
    ASSERT_TRUE(key);
    ldns_rr* rr = rr_from_wire(wire("example.com."), 48, 3600, key->dnskey_rdata);
    ASSERT_NE(rr, nullptr);
    EXPECT_EQ(ldns_calc_keytag(rr), key->key_tag);
    ldns_rr_free(rr);
  }
}

}  // namespace
}  // namespace geodns::dnssec::testing
