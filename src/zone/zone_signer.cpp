#include "zone/zone_signer.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "dns/name.h"
#include "dns/wire.h"
#include "dnssec/canonical.h"
#include "dnssec/ds.h"
#include "dnssec/signer.h"

namespace geodns::zone {
namespace {

constexpr uint16_t kTypeDnskey = 48;
constexpr uint16_t kTypeCds = 59;
constexpr uint16_t kTypeCdnskey = 60;

bool is_key_type(uint16_t type) {
  return type == kTypeDnskey || type == kTypeCds || type == kTypeCdnskey;
}

// The first key timing event after `now_unix`: the zone changes then (a key is published,
// starts or stops signing, or goes), so it is rebuilt then.
int64_t next_key_event(const std::vector<dnssec::SigningKey>& keys, int64_t now_unix) {
  int64_t next = std::numeric_limits<int64_t>::max();
  for (const auto& k : keys) {
    for (const int64_t t : {k.timing.publish_unix, k.timing.activate_unix, k.timing.inactive_unix,
                            k.timing.delete_unix}) {
      if (t > now_unix) next = std::min(next, t);
    }
  }
  return next;
}

}  // namespace

Result<std::shared_ptr<dnssec::ZoneSigning>> prepare_signing(const ZoneSource& src,
                                                             const std::string& origin_wire,
                                                             const ServerConfig& config,
                                                             int64_t now_unix) {
  const SourcePos& at = src.dnssec_pos;
  auto s = std::make_shared<dnssec::ZoneSigning>();
  s->origin = origin_wire;
  s->origin_text = dns::name_to_text(origin_wire);
  s->key_directory = config.dnssec_key_directory();
  if (!src.secondaries.empty()) {
    return src.secondaries.front().pos.error(
        "zone transfers of a signed zone are refused: its negative answers are signed online "
        "(compact denial), which a secondary could not do (remove [[zone.secondary]] or "
        "dnssec = true)");
  }
  if (s->key_directory.empty()) {
    return at.error(
        "dnssec = true, but there is no key directory: set [dnssec] key_directory "
        "or [server] state_dir in the server config");
  }
  std::error_code ec;
  if (!std::filesystem::exists(s->key_directory, ec)) {
    return at.error("dnssec = true, but the key directory " + s->key_directory +
                    " does not exist (create the keys: geodns dnssec keygen " + s->origin_text +
                    ")");
  }
  auto keys = dnssec::load_zone_keys(s->key_directory, s->origin_text);
  if (!keys) {
    return at.error("dnssec = true, but the keys of " + s->origin_text + " in " + s->key_directory +
                    " do not load: " + keys.error().to_string());
  }
  s->keys = std::move(*keys);
  if (s->keys.empty()) {
    return at.error("dnssec = true, but " + s->key_directory + " has no key for " + s->origin_text +
                    " (create one: geodns dnssec keygen " + s->origin_text + ")");
  }
  s->settings.validity = config.dnssec.signature_validity;
  s->settings.refresh = config.dnssec.signature_refresh;
  s->settings.inception_offset = config.dnssec.inception_offset;
  int64_t online_activated = std::numeric_limits<int64_t>::min();
  for (uint32_t i = 0; i < s->keys.size(); ++i) {
    const auto& k = s->keys[i];
    if (k.is_published(now_unix)) s->published.push_back(i);
    if (!k.is_active(now_unix)) continue;
    if (k.signs_keys()) s->key_signers.push_back(i);
    if (k.signs_zone()) {
      s->zone_signers.push_back(i);
      if (k.timing.activate_unix >= online_activated) {
        online_activated = k.timing.activate_unix;
        s->online_key = static_cast<int32_t>(i);
      }
    }
  }
  if (s->key_signers.empty() || s->zone_signers.empty()) {
    std::string have;
    for (const auto& k : s->keys) {
      have += (have.empty() ? "" : ", ") + std::to_string(k.key_tag) + " " +
              std::string(dnssec::role_name(k.role)) + " " +
              std::string(dnssec::state_name(k.state_at(now_unix)));
    }
    return at.error(std::string("dnssec = true, but no active ") +
                    (s->key_signers.empty() ? "KSK or CSK (to sign DNSKEY)"
                                            : "ZSK or CSK (to sign the records and, online, "
                                              "steered and negative answers)") +
                    " for " + s->origin_text + " in " + s->key_directory + " (keys: " + have +
                    "; see geodns dnssec status " + s->origin_text + ")");
  }
  s->window = dnssec::window_at(s->settings, now_unix);
  s->resign_by_unix = std::min(s->window.resign_unix, next_key_event(s->keys, now_unix));
  return s;
}

ApexKeyRecords apex_key_records(const dnssec::ZoneSigning& s, int64_t now_unix) {
  ApexKeyRecords r;
  for (const uint32_t i : s.published) {
    const dnssec::SigningKey& k = s.keys[i];
    r.dnskey.push_back(k.dnskey_rdata);
    // CDS/CDNSKEY say which DS the parent should have (RFC 7344 3): the active KSK/CSKs and
    // the pre-published ones, so that in a double-DS roll a parent that follows CDS adds the
    // successor's DS before it signs; a retired key's DS is to go.
    const dnssec::KeyState state = k.state_at(now_unix);
    if (!k.signs_keys() || state == dnssec::KeyState::retired) continue;
    r.cdnskey.push_back(k.dnskey_rdata);
    r.cds.push_back(dnssec::ds_rdata(s.origin, k.dnskey_rdata));
  }
  return r;
}

Status sign_zone(Zone& zone, std::shared_ptr<const dnssec::ZoneSigning> signing) {
  const dnssec::ZoneSigning& s = *signing;
  ZoneStorage& st = zone.storage;
  // Signatures first into one string (offset, length per RRSIG), then into the zone's block.
  std::string bytes;
  struct Span {
    size_t first_sig = 0;
    size_t count = 0;
  };
  std::vector<Span> per_rrset(st.rrsets.size());
  std::vector<std::pair<size_t, size_t>> sigs;  // offset, length in `bytes`
  dnssec::Signer signer;
  uint8_t out[dnssec::kMaxRrsigBytes];
  for (size_t n = 0; n < zone.nodes.size(); ++n) {
    const Node& node = zone.nodes[n];
    const bool at_cut = node.is_delegation;
    const bool below_cut = node.cut >= 0 && !at_cut;
    if (below_cut) continue;  // glue and occluded data: not authoritative (RFC 4035 2.2)
    const auto* owner = reinterpret_cast<const uint8_t*>(node.name.data());
    const uint8_t labels = dnssec::rrsig_labels(owner, node.name.size());
    for (const RRset& set : node.rrsets) {
      // At a cut only the DS is the parent's data; NS and glue belong to the child.
      if (at_cut && set.type != dns::rrtype::DS) continue;
      const auto& signers = is_key_type(set.type) ? s.key_signers : s.zone_signers;
      Span& span = per_rrset[static_cast<size_t>(&set - st.rrsets.data())];
      span.first_sig = sigs.size();
      for (const uint32_t k : signers) {
        const size_t len =
            signer.sign(s.keys[k], owner, node.name.size(), set.type, set.ttl_s, set.rdatas, labels,
                        s.window.inception, s.window.expiration, out, sizeof out);
        if (len == 0) {
          return make_error("cannot sign " + dns::name_to_text(node.name) + " type " +
                            std::to_string(set.type) + " with key " +
                            std::to_string(s.keys[k].key_tag));
        }
        sigs.emplace_back(bytes.size(), len);
        bytes.append(reinterpret_cast<const char*>(out), len);
      }
      span.count = sigs.size() - span.first_sig;
    }
  }
  st.rrsig_bytes = std::make_unique<char[]>(std::max<size_t>(bytes.size(), 1));
  st.rrsig_byte_count = bytes.size();
  if (!bytes.empty()) std::memcpy(st.rrsig_bytes.get(), bytes.data(), bytes.size());
  st.rrsig_rdatas.reserve(sigs.size());
  for (const auto& [offset, len] : sigs) {
    st.rrsig_rdatas.emplace_back(st.rrsig_bytes.get() + offset, len);
  }
  st.rrsigs.resize(st.rrsets.size());
  for (size_t i = 0; i < per_rrset.size(); ++i) {
    st.rrsigs[i] = std::span<const std::string_view>(
        st.rrsig_rdatas.data() + per_rrset[i].first_sig, per_rrset[i].count);
  }
  zone.signing = std::move(signing);
  return {};
}

}  // namespace geodns::zone
