// Signing a zone when it is built (issue 13): the zone's keys are loaded from the key
// directory, DNSKEY/CDS/CDNSKEY are added at the apex, and every authoritative static RRset
// is signed off the packet path. What cannot be signed ahead (steered answers, wildcard
// expansions, compact denial) is signed online from Zone::signing. Internal to src/zone: the
// builder calls it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "dnssec/zone_signing.h"
#include "zone/config.h"
#include "zone/zone_set.h"
#include "zone/zone_source.h"

namespace geodns::zone {

// The zone's keys and validity as of `now_unix`, checked: a key directory is configured, the
// keys load, some key is active for DNSKEY (KSK/CSK) and for everything else (ZSK/CSK: also
// the online key, since negative answers are always signed online), and no secondary is
// configured (transfers of a signed zone are refused: compact denial exists only online).
// Errors point at the zone file's `dnssec = true` and name the key directory.
Result<std::shared_ptr<dnssec::ZoneSigning>> prepare_signing(const ZoneSource& src,
                                                             const std::string& origin_wire,
                                                             const ServerConfig& config,
                                                             int64_t now_unix);

// The RDATAs of the apex key RRsets: DNSKEY of every published key; CDS (SHA-256) and
// CDNSKEY of the KSK/CSKs that are active or pre-published (RFC 7344 / RFC 8078: the DS set
// the parent should have, both keys' during a double-DS roll).
struct ApexKeyRecords {
  std::vector<std::string> dnskey, cds, cdnskey;
};
ApexKeyRecords apex_key_records(const dnssec::ZoneSigning& signing, int64_t now_unix);

// Signs every authoritative RRset of the built `zone` (not NS at a cut nor anything below a
// cut, but DS at a cut) and stores the RRSIGs in zone.storage.rrsigs; sets zone.signing.
Status sign_zone(Zone& zone, std::shared_ptr<const dnssec::ZoneSigning> signing);

}  // namespace geodns::zone
