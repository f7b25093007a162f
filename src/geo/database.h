// A MaxMind-format (.mmdb) database opened with libmaxminddb (mmap'd, read-only). Both the
// GeoIP2/GeoLite2 schema (country.iso_code, continent.code, subdivisions[0].iso_code,
// location.latitude/longitude) and flat schemas (country_code, continent_code, latitude,
// longitude, as in the ip-location-db packages) are understood.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>

#include "common/ip.h"
#include "common/result.h"
#include "geo/location.h"

struct MMDB_s;
struct MMDB_entry_s;

namespace geodns::geo {

class Database {
 public:
  static Result<std::shared_ptr<const Database>> open(const std::string& path);
  // With `asn_path` ([server] asn_db), lookup() also fills Location::asn from that database's
  // autonomous_system_number (GeoLite2-ASN layout); both files are read when this is called.
  static Result<std::shared_ptr<const Database>> open(const std::string& path,
                                                      const std::string& asn_path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Per-query lookup: no allocation, no lock, no exception. Returns out->found.
  // A v4-mapped IPv6 address is looked up as IPv4. On a miss, *out is reset to "not found"
  // except prefix_length: the length of the empty database network around the address.
  bool lookup(const IpAddress& addr, Location* out) const noexcept;
  // This database as an ASN one: *asn = its autonomous_system_number (0 = none), *length as
  // Location::prefix_length. False on a lookup error. No allocation.
  bool lookup_asn(const IpAddress& addr, uint32_t* asn, uint8_t* length) const noexcept;
  const Database* asn_database() const noexcept { return asn_.get(); }

  const std::string& path() const noexcept { return path_; }
  std::string description() const;  // database_type and build time, for status output
  uint64_t build_epoch() const noexcept;

  // For NetworkIndex (mmdb_walk.h), which walks the tree itself: the open database and the
  // decoding lookup() applies to a data record, so both read the same fields alike.
  const MMDB_s& mmdb() const noexcept { return *mmdb_; }
  bool is_ipv6_tree() const noexcept { return ipv6_tree_; }
  static void decode(const MMDB_entry_s& entry, Location* out) noexcept;
  // The autonomous_system_number of an ASN database record (0 when it has none), as
  // lookup_asn() reads it.
  static uint32_t decode_asn(const MMDB_entry_s& entry) noexcept;
  std::time_t file_mtime() const noexcept { return mtime_; }
  // Drops this file's pages from the process's resident memory (not the ASN database's: it
  // is walked on its own). Lookups stay correct: the mapping is shared and read-only, so a
  // page read again is faulted back in from the page cache. NetworkIndex calls it after its
  // walk has read every page; the packet path reads only a few (rules without a table).
  void release_resident_pages() const noexcept;

 private:
  Database() = default;
  bool lookup_geo(const IpAddress& addr, Location* out) const noexcept;
  std::unique_ptr<MMDB_s> mmdb_;
  std::shared_ptr<const Database> asn_;  // [server] asn_db, or null
  std::string path_;
  std::time_t mtime_ = 0;
  bool ipv6_tree_ = false;
};

using DatabasePtr = std::shared_ptr<const Database>;

}  // namespace geodns::geo
