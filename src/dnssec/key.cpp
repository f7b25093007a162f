#include "dnssec/key.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dns/name.h"
#include "dns/tsig.h"
#include "dnssec/key_files.h"

namespace geodns::dnssec {

namespace detail {

void PkeyDeleter::operator()(EVP_PKEY* p) const noexcept {
  EVP_PKEY_free(p);
}

namespace {

// x||y of d*G on P-256: the public key a BIND file leaves implicit.
bool p256_public_from_private(const BIGNUM* d, uint8_t point[65]) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  if (group == nullptr) return false;
  EC_POINT* pub = EC_POINT_new(group);
  bool ok = pub != nullptr && EC_POINT_mul(group, pub, d, nullptr, nullptr, nullptr) == 1 &&
            EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, 65, nullptr) == 65;
  EC_POINT_free(pub);
  EC_GROUP_free(group);
  return ok;
}

}  // namespace

PkeyPtr pkey_from_private(Algorithm a, std::string_view raw, std::string* public_key) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  if (a == Algorithm::ed25519) {
    if (raw.size() != 32) return {};
    PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes, raw.size()));
    if (!pkey) return {};
    unsigned char pub[32];
    size_t pub_len = sizeof pub;
    if (EVP_PKEY_get_raw_public_key(pkey.get(), pub, &pub_len) != 1 || pub_len != 32) return {};
    public_key->assign(reinterpret_cast<const char*>(pub), pub_len);
    return pkey;
  }
  if (raw.size() != 32) return {};
  BIGNUM* d = BN_bin2bn(bytes, 32, nullptr);
  if (d == nullptr) return {};
  uint8_t point[65];
  PkeyPtr result;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* ctx = nullptr;
  if (bld != nullptr && p256_public_from_private(d, point) &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) == 1 &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
      (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)) != nullptr &&
      EVP_PKEY_fromdata_init(ctx) == 1) {
    EVP_PKEY* pkey = nullptr;
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) == 1) {
      result.reset(pkey);
      public_key->assign(reinterpret_cast<const char*>(point + 1), 64);
    }
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_clear_free(d);
  return result;
}

std::string private_bytes(Algorithm a, EVP_PKEY* pkey) {
  if (a == Algorithm::ed25519) {
    unsigned char seed[32];
    size_t len = sizeof seed;
    if (EVP_PKEY_get_raw_private_key(pkey, seed, &len) != 1 || len != 32) return {};
    return std::string(reinterpret_cast<const char*>(seed), len);
  }
  BIGNUM* d = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) return {};
  unsigned char out[32];
  const int n = BN_bn2binpad(d, out, sizeof out);
  BN_clear_free(d);
  if (n != 32) return {};
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string bind_time(int64_t unix_s) {
  const auto t = static_cast<time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool parse_bind_time(std::string_view text, int64_t* unix_s) {
  if (text.size() != 14) return false;
  int v[6];
  const int widths[6] = {4, 2, 2, 2, 2, 2};
  size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    v[i] = 0;
    for (int k = 0; k < widths[i]; ++k, ++pos) {
      if (text[pos] < '0' || text[pos] > '9') return false;
      v[i] = v[i] * 10 + (text[pos] - '0');
    }
  }
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  *unix_s = static_cast<int64_t>(timegm(&tm));
  return true;
}

}  // namespace detail

using detail::base64_encode;
using detail::bind_time;

std::string_view role_name(KeyRole r) noexcept {
  switch (r) {
    case KeyRole::ksk:
      return "KSK";
    case KeyRole::zsk:
      return "ZSK";
    case KeyRole::csk:
      break;
  }
  return "CSK";
}

std::string_view state_name(KeyState s) noexcept {
  switch (s) {
    case KeyState::created:
      return "created";
    case KeyState::published:
      return "published";
    case KeyState::active:
      return "active";
    case KeyState::retired:
      return "retired";
    case KeyState::removed:
      break;
  }
  return "removed";
}

KeyState SigningKey::state_at(int64_t now_unix) const noexcept {
  const KeyTiming& t = timing;
  // A key without any timing (ldns-keygen writes none) is in use, as BIND treats it.
  if (t.publish_unix == 0 && t.activate_unix == 0 && t.inactive_unix == 0 && t.delete_unix == 0) {
    return KeyState::active;
  }
  if (t.delete_unix != 0 && now_unix >= t.delete_unix) return KeyState::removed;
  if (t.inactive_unix != 0 && now_unix >= t.inactive_unix) return KeyState::retired;
  if (t.activate_unix != 0 && now_unix >= t.activate_unix) return KeyState::active;
  if (t.publish_unix != 0 && now_unix >= t.publish_unix) return KeyState::published;
  return KeyState::created;
}

bool SigningKey::is_published(int64_t now_unix) const noexcept {
  const KeyState s = state_at(now_unix);
  return s == KeyState::published || s == KeyState::active || s == KeyState::retired;
}

bool SigningKey::is_active(int64_t now_unix) const noexcept {
  return state_at(now_unix) == KeyState::active;
}

std::string SigningKey::file_stem() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+%03u+%05u", static_cast<unsigned>(algorithm),
                static_cast<unsigned>(key_tag));
  return "K" + origin_text + buf;
}

uint16_t key_tag(std::string_view dnskey_rdata) noexcept {
  // RFC 4034 appendix B (algorithm 1's special case does not concern us).
  uint32_t ac = 0;
  for (size_t i = 0; i < dnskey_rdata.size(); ++i) {
    const auto b = static_cast<uint8_t>(dnskey_rdata[i]);
    ac += (i & 1) ? b : static_cast<uint32_t>(b) << 8;
  }
  ac += (ac >> 16) & 0xffff;
  return static_cast<uint16_t>(ac & 0xffff);
}

namespace {

std::string dnskey_rdata_of(uint16_t flags, Algorithm a, std::string_view public_key) {
  std::string rd;
  rd.push_back(static_cast<char>(flags >> 8));
  rd.push_back(static_cast<char>(flags & 0xff));
  rd.push_back(3);  // protocol, RFC 4034 2.1.2
  rd.push_back(static_cast<char>(a));
  rd.append(public_key);
  return rd;
}

std::string lower_text(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(dns::ascii_lower(static_cast<uint8_t>(c)));
  return out;
}

Error file_error(const std::string& path, uint32_t line, std::string message) {
  return Error{std::move(message), path, line, 0};
}

// Writes `content` to `path` with mode 0600 through a temporary file and rename, so a crash
// leaves the old file or the new one, and the key is never readable by others meanwhile.
Status write_private_file(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(tmp + ": cannot create: " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(tmp + ": write failed: " + why);
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(path + ": cannot write: " + why);
  }
  return {};
}

std::string time_comment(const char* field, int64_t unix_s) {
  if (unix_s == 0) return {};
  const auto t = static_cast<time_t>(unix_s);
  char when[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  return std::string("; ") + field + ": " + bind_time(unix_s) + " (" + when + ")\n";
}

std::string key_file_text(const SigningKey& k) {
  std::string out = "; This is a ";
  out += k.role == KeyRole::zsk ? "zone-signing" : "key-signing";
  out += " key, keyid " + std::to_string(k.key_tag) + ", for " + k.origin_text + "\n";
  out += time_comment("Created", k.timing.created_unix);
  out += time_comment("Publish", k.timing.publish_unix);
  out += time_comment("Activate", k.timing.activate_unix);
  out += time_comment("Inactive", k.timing.inactive_unix);
  out += time_comment("Delete", k.timing.delete_unix);
  const std::string_view pub = std::string_view(k.dnskey_rdata).substr(4);
  out += k.origin_text + " IN DNSKEY " + std::to_string(k.flags) + " 3 " +
         std::to_string(static_cast<unsigned>(k.algorithm)) + " " + base64_encode(pub) + "\n";
  return out;
}

std::string private_file_text(const SigningKey& k) {
  std::string out = "Private-key-format: v1.3\n";
  out += "Algorithm: " + std::to_string(static_cast<unsigned>(k.algorithm)) + " (" +
         std::string(algorithm_mnemonic(k.algorithm)) + ")\n";
  out += "PrivateKey: " + base64_encode(detail::private_bytes(k.algorithm, k.private_key.get())) +
         "\n";
  auto field = [&out](const char* name, int64_t v) {
    if (v != 0) out += std::string(name) + ": " + bind_time(v) + "\n";
  };
  field("Created", k.timing.created_unix);
  field("Publish", k.timing.publish_unix);
  field("Activate", k.timing.activate_unix);
  field("Inactive", k.timing.inactive_unix);
  field("Delete", k.timing.delete_unix);
  return out;
}

std::string state_file_text(const SigningKey& k) {
  std::string out =
      "; This is the state of key " + std::to_string(k.key_tag) + ", for " + k.origin_text + "\n";
  out += "Algorithm: " + std::to_string(static_cast<unsigned>(k.algorithm)) + "\n";
  out += "Length: 256\n";
  out += "Lifetime: 0\n";
  out += std::string("KSK: ") + (k.signs_keys() ? "yes" : "no") + "\n";
  out += std::string("ZSK: ") + (k.signs_zone() ? "yes" : "no") + "\n";
  return out;
}

struct FileLines {
  std::vector<std::string> lines;
};

Result<FileLines> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return file_error(path, 0, std::string("cannot read: ") + std::strerror(errno));
  FileLines f;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    f.lines.push_back(line);
  }
  if (in.bad()) return file_error(path, 0, "read error");
  return f;
}

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> words;
  std::string cur;
  for (const char c : s) {
    if (c == ';') break;  // a comment runs to the end of the line
    if (c == ' ' || c == '\t' || c == '(' || c == ')') {
      if (!cur.empty()) words.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

bool parse_unsigned(std::string_view s, unsigned max, unsigned* out) {
  if (s.empty() || s.size() > 6) return false;
  unsigned v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

bool names_equal_text(std::string_view a, std::string_view b) {
  std::string wa, wb;
  return dns::name_from_text(a, &wa) && dns::name_from_text(b, &wb) &&
         lower_text(wa) == lower_text(wb);
}

// The DNSKEY RR of a .key file: owner [ttl] [IN] DNSKEY flags 3 alg base64..., comments and
// parentheses allowed as in a zone file.
Status parse_key_file(const std::string& path, std::string_view origin_text, SigningKey* key) {
  auto lines = read_lines(path);
  if (!lines) return lines.error();
  std::vector<std::string> words;
  uint32_t rr_line = 0;
  for (size_t i = 0; i < lines->lines.size(); ++i) {
    auto w = split_words(lines->lines[i]);
    if (w.empty()) continue;
    if (rr_line == 0) rr_line = static_cast<uint32_t>(i + 1);
    words.insert(words.end(), w.begin(), w.end());
  }
  if (rr_line == 0) return file_error(path, 0, "no DNSKEY record in the file");
  size_t pos = 1;
  while (pos < words.size() && words[pos] != "DNSKEY" && words[pos] != "dnskey") ++pos;
  if (pos >= words.size()) return file_error(path, rr_line, "expected a DNSKEY record");
  if (!names_equal_text(words[0], origin_text)) {
    return file_error(path, rr_line,
                      "the key is for \"" + words[0] + "\", not for " + std::string(origin_text));
  }
  unsigned flags = 0, protocol = 0, alg = 0;
  if (pos + 4 > words.size() || !parse_unsigned(words[pos + 1], 65535, &flags) ||
      !parse_unsigned(words[pos + 2], 255, &protocol) ||
      !parse_unsigned(words[pos + 3], 255, &alg)) {
    return file_error(path, rr_line, "malformed DNSKEY record (flags protocol algorithm key)");
  }
  if (protocol != 3) return file_error(path, rr_line, "DNSKEY protocol must be 3");
  if ((flags & kFlagZone) == 0) {
    return file_error(path, rr_line, "not a zone key (DNSKEY flags " + std::to_string(flags) + ")");
  }
  const auto algorithm = algorithm_from_number(alg);
  if (!algorithm) {
    return file_error(path, rr_line,
                      "unsupported algorithm " + std::to_string(alg) +
                          " (geodns signs with 13 ECDSAP256SHA256 or 15 ED25519)");
  }
  std::string b64;
  for (size_t i = pos + 4; i < words.size(); ++i) b64 += words[i];
  const auto pub = dns::base64_decode(b64);
  if (!pub || pub->size() != public_key_bytes(*algorithm)) {
    return file_error(path, rr_line, "malformed public key");
  }
  key->algorithm = *algorithm;
  key->flags = static_cast<uint16_t>(flags);
  key->dnskey_rdata =
      dnskey_rdata_of(key->flags, *algorithm,
                      std::string_view(reinterpret_cast<const char*>(pub->data()), pub->size()));
  key->key_tag = key_tag(key->dnskey_rdata);
  return {};
}

// The .private file: "Key: value" lines; PrivateKey and the timing fields matter to us.
Status parse_private_file(const std::string& path, SigningKey* key) {
  auto lines = read_lines(path);
  if (!lines) return lines.error();
  bool has_format = false;
  bool has_private = false;
  for (size_t i = 0; i < lines->lines.size(); ++i) {
    const std::string& line = lines->lines[i];
    const auto line_no = static_cast<uint32_t>(i + 1);
    if (line.empty() || line[0] == ';') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return file_error(path, line_no, "expected \"Field: value\"");
    const std::string field = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (field == "Private-key-format") {
      if (value.rfind("v1.", 0) != 0) {
        return file_error(path, line_no, "unsupported Private-key-format \"" + value + "\"");
      }
      has_format = true;
    } else if (field == "Algorithm") {
      unsigned alg = 0;
      const std::string number = value.substr(0, value.find(' '));
      if (!parse_unsigned(number, 255, &alg) || alg != static_cast<unsigned>(key->algorithm)) {
        return file_error(path, line_no, "algorithm \"" + value + "\" differs from the .key file");
      }
    } else if (field == "PrivateKey") {
      const auto raw = dns::base64_decode(value);
      std::string pub;
      detail::PkeyPtr pkey;
      if (raw) {
        pkey = detail::pkey_from_private(
            key->algorithm,
            std::string_view(reinterpret_cast<const char*>(raw->data()), raw->size()), &pub);
      }
      if (!pkey) return file_error(path, line_no, "malformed PrivateKey");
      if (pub != std::string_view(key->dnskey_rdata).substr(4)) {
        return file_error(path, line_no,
                          "the private key does not match the DNSKEY in the .key file");
      }
      key->private_key = std::shared_ptr<EVP_PKEY>(pkey.release(), detail::PkeyDeleter());
      has_private = true;
    } else {
      int64_t* slot = nullptr;
      if (field == "Created") slot = &key->timing.created_unix;
      if (field == "Publish") slot = &key->timing.publish_unix;
      if (field == "Activate") slot = &key->timing.activate_unix;
      if (field == "Inactive") slot = &key->timing.inactive_unix;
      if (field == "Delete") slot = &key->timing.delete_unix;
      if (slot != nullptr && !detail::parse_bind_time(value, slot)) {
        return file_error(path, line_no,
                          field + ": expected YYYYMMDDHHMMSS, got \"" + value + "\"");
      }
      // Other fields (Revoke, SyncPublish, ...) are BIND's; ignored.
    }
  }
  if (!has_format) return file_error(path, 1, "not a key file (no Private-key-format line)");
  if (!has_private) return file_error(path, 0, "no PrivateKey field");
  return {};
}

// The optional .state file's KSK/ZSK lines; false when neither is there.
Result<bool> parse_state_file(const std::string& path, SigningKey* key) {
  auto lines = read_lines(path);
  if (!lines) return lines.error();
  int ksk = -1, zsk = -1;
  for (size_t i = 0; i < lines->lines.size(); ++i) {
    const std::string& line = lines->lines[i];
    auto yes_no = [&](const char* prefix, int* out) -> Status {
      const size_t n = std::strlen(prefix);
      if (line.compare(0, n, prefix) != 0) return {};
      const std::string v = line.substr(n);
      if (v == "yes") {
        *out = 1;
      } else if (v == "no") {
        *out = 0;
      } else {
        return file_error(path, static_cast<uint32_t>(i + 1), "expected yes or no");
      }
      return {};
    };
    if (Status s = yes_no("KSK: ", &ksk); !s) return s.error();
    if (Status s = yes_no("ZSK: ", &zsk); !s) return s.error();
  }
  if (ksk < 0 && zsk < 0) return false;
  if (ksk == 1 && zsk == 1) {
    key->role = KeyRole::csk;
  } else if (ksk == 1) {
    key->role = KeyRole::ksk;
  } else if (zsk == 1) {
    key->role = KeyRole::zsk;
  } else {
    return file_error(path, 0, "the key is neither KSK nor ZSK");
  }
  return true;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<SigningKey> generate_key(std::string_view origin_text, Algorithm algorithm, KeyRole role,
                                int64_t now_unix) {
  std::string origin_wire;
  if (!dns::name_from_text(origin_text, &origin_wire)) {
    return make_error("invalid zone name \"" + std::string(origin_text) + "\"");
  }
  SigningKey k;
  k.origin_text = lower_text(dns::name_to_text(origin_wire));
  k.origin_wire = lower_text(origin_wire);
  k.algorithm = algorithm;
  k.role = role;
  k.flags = role == KeyRole::zsk ? kFlagZone : static_cast<uint16_t>(kFlagZone | kFlagSep);
  EVP_PKEY* raw = algorithm == Algorithm::ed25519
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (raw == nullptr) return make_error("key generation failed (OpenSSL)");
  detail::PkeyPtr generated(raw);
  // Re-derive through the same path a loaded key takes, so a fresh key and its file agree.
  std::string pub;
  detail::PkeyPtr pkey =
      detail::pkey_from_private(algorithm, detail::private_bytes(algorithm, generated.get()), &pub);
  if (!pkey) return make_error("key generation failed (OpenSSL)");
  k.private_key = std::shared_ptr<EVP_PKEY>(pkey.release(), detail::PkeyDeleter());
  k.dnskey_rdata = dnskey_rdata_of(k.flags, algorithm, pub);
  k.key_tag = key_tag(k.dnskey_rdata);
  k.timing.created_unix = now_unix;
  return k;
}

Status write_key_files(SigningKey& key, const std::string& dir) {
  // Parents as usual (the state directory may not exist yet); the key directory itself 0700.
  std::error_code ec;
  const auto parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(dir + ": cannot create the key directory: " + std::strerror(errno));
  }
  const std::string stem = dir + "/" + key.file_stem();
  if (file_exists(stem + ".key") || file_exists(stem + ".private")) {
    // Key tags collide about once in 65536 keys; never overwrite a key.
    return make_error(stem + ".key: exists already (key tag collision): generate again");
  }
  key.key_path = stem + ".key";
  key.private_path = stem + ".private";
  key.state_path = stem + ".state";
  if (Status s = write_private_file(key.private_path, private_file_text(key)); !s) return s;
  if (Status s = write_private_file(key.state_path, state_file_text(key)); !s) return s;
  return write_private_file(key.key_path, key_file_text(key));
}

Status write_key_timing(const SigningKey& key) {
  if (Status s = write_private_file(key.private_path, private_file_text(key)); !s) return s;
  return write_private_file(key.key_path, key_file_text(key));
}

Result<std::vector<SigningKey>> load_zone_keys(const std::string& dir,
                                               std::string_view origin_text) {
  std::string origin_wire;
  if (!dns::name_from_text(origin_text, &origin_wire)) {
    return make_error("invalid zone name \"" + std::string(origin_text) + "\"");
  }
  // File names carry the zone in presentation form; compare them in lower case.
  const std::string prefix = "k" + lower_text(dns::name_to_text(origin_wire)) + "+";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return make_error(dir + ": cannot open the key directory: " + std::strerror(errno));
  }
  std::vector<std::string> stems;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() <= prefix.size() + 4 || name.compare(name.size() - 4, 4, ".key") != 0) {
      continue;
    }
    if (lower_text(name.substr(0, prefix.size())) != prefix) continue;
    stems.push_back(dir + "/" + name.substr(0, name.size() - 4));
  }
  ::closedir(d);
  std::sort(stems.begin(), stems.end());
  std::vector<SigningKey> keys;
  std::vector<bool> has_state;
  for (const auto& stem : stems) {
    SigningKey k;
    k.origin_text = lower_text(dns::name_to_text(origin_wire));
    k.origin_wire = lower_text(origin_wire);
    k.key_path = stem + ".key";
    k.private_path = stem + ".private";
    if (Status s = parse_key_file(k.key_path, origin_text, &k); !s) return s.error();
    if (!file_exists(k.private_path)) {
      return file_error(k.private_path, 0, "missing (the private key of " + k.key_path + ")");
    }
    if (Status s = parse_private_file(k.private_path, &k); !s) return s.error();
    bool state = false;
    if (file_exists(stem + ".state")) {
      auto r = parse_state_file(stem + ".state", &k);
      if (!r) return r.error();
      state = *r;
      k.state_path = stem + ".state";
    }
    keys.push_back(std::move(k));
    has_state.push_back(state);
  }
  const bool has_zsk = std::any_of(keys.begin(), keys.end(),
                                   [](const SigningKey& k) { return (k.flags & kFlagSep) == 0; });
  for (size_t i = 0; i < keys.size(); ++i) {
    if (has_state[i]) continue;
    if ((keys[i].flags & kFlagSep) == 0) {
      keys[i].role = KeyRole::zsk;
    } else {
      keys[i].role = has_zsk ? KeyRole::ksk : KeyRole::csk;
    }
  }
  std::sort(keys.begin(), keys.end(),
            [](const SigningKey& a, const SigningKey& b) { return a.key_tag < b.key_tag; });
  return keys;
}

}  // namespace geodns::dnssec
