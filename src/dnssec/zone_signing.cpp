#include "dnssec/zone_signing.h"

#include <algorithm>

namespace geodns::dnssec {

SignatureWindow window_at(const SigningSettings& s, int64_t now_unix) noexcept {
  SignatureWindow w;
  w.inception_unix = now_unix - s.inception_offset.count();
  w.expiration_unix = now_unix + s.validity.count();
  w.resign_unix = w.expiration_unix - s.refresh.count();
  // RFC 4034 3.1.5: the fields are the low 32 bits, compared in serial-number arithmetic.
  w.inception = static_cast<uint32_t>(w.inception_unix);
  w.expiration = static_cast<uint32_t>(w.expiration_unix);
  return w;
}

std::span<const uint8_t> ZoneSigning::sign_online(Signer& signer, SignatureCache& cache,
                                                  const uint8_t* owner, size_t owner_len,
                                                  uint16_t type, uint32_t ttl,
                                                  std::span<const std::string_view> rdatas,
                                                  uint8_t labels, int64_t now_unix) const noexcept {
  const SigningKey* key = online();
  if (key == nullptr) return {};
  SignatureWindow w = window;
  if (now_unix >= resign_by_unix) {
    // The re-sign is late (or this zone is about to be replaced): sign with a window from
    // now, rounded down so that the cache still hits between rounding steps.
    const int64_t spare = settings.validity.count() - settings.refresh.count();
    const int64_t step = std::clamp<int64_t>(spare / 2, 1, 3600);
    w = window_at(settings, now_unix - now_unix % step);
  }
  SignatureRequest r;
  r.key = key;
  r.owner = owner;
  r.owner_len = owner_len;
  r.type = type;
  r.ttl = ttl;
  r.rdatas = rdatas;
  r.labels = labels;
  r.inception = w.inception;
  r.expiration = w.expiration;
  // Half the refresh interval: in normal operation the zone is rebuilt with a new window
  // before any entry gets that close, so this only catches a stalled re-sign.
  const auto min_remaining = static_cast<uint32_t>(settings.refresh.count() / 2);
  const auto hit = cache.find(r, now_unix, min_remaining);
  if (!hit.empty()) return hit;
  uint8_t buf[kMaxRrsigBytes];
  const size_t n = signer.sign(*key, owner, owner_len, type, ttl, rdatas, labels, w.inception,
                               w.expiration, buf, sizeof buf);
  if (n == 0) return {};
  return cache.insert(r, std::span<const uint8_t>(buf, n));
}

}  // namespace geodns::dnssec
