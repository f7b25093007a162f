#include "geo/database.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "geo/countries.h"

namespace geodns::geo {

namespace {

// Paths for MMDB_aget_value. MMDB_get_value (the varargs form) callocs a copy of its path on
// every call, which the packet path must not do; the array form walks the path in place.
using Path = const char* const[];
constexpr Path kCountryIso = {"country", "iso_code", nullptr};
constexpr Path kRegisteredCountryIso = {"registered_country", "iso_code", nullptr};
constexpr Path kContinentCode = {"continent", "code", nullptr};
constexpr Path kSubdivisionIso = {"subdivisions", "0", "iso_code", nullptr};
constexpr Path kLocationLatitude = {"location", "latitude", nullptr};
constexpr Path kLocationLongitude = {"location", "longitude", nullptr};
// Flat schemas (ip-location-db, DB-IP lite, IP2Location-like conversions).
constexpr Path kFlatCountry = {"country_code", nullptr};
constexpr Path kFlatContinentCode = {"continent_code", nullptr};
constexpr Path kFlatContinent = {"continent", nullptr};
constexpr Path kFlatLatitude = {"latitude", nullptr};
constexpr Path kFlatLongitude = {"longitude", nullptr};
constexpr Path kFlatState = {"state1", nullptr};
constexpr Path kFlatSubdivision = {"subdivision", nullptr};

// IPv4 addresses live under ::/96 of an IPv6 tree; MMDB reports netmasks in tree bits.
constexpr uint16_t kIpv4InIpv6Bits = 96;

// The entry is copied because MMDB_aget_value takes a non-const start (it never writes it).
bool get_string(const MMDB_entry_s& entry, const char* const* path, std::string_view* out) {
  MMDB_entry_s start = entry;
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&start, &data, path) != MMDB_SUCCESS) return false;
  if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return false;
  *out = std::string_view(data.utf8_string, data.data_size);
  return true;
}

bool get_number(const MMDB_entry_s& entry, const char* const* path, double* out) {
  MMDB_entry_s start = entry;
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&start, &data, path) != MMDB_SUCCESS || !data.has_data) return false;
  switch (data.type) {
    case MMDB_DATA_TYPE_DOUBLE:
      *out = data.double_value;
      return true;
    case MMDB_DATA_TYPE_FLOAT:
      *out = static_cast<double>(data.float_value);
      return true;
    case MMDB_DATA_TYPE_UTF8_STRING: {
      // Some converted CSV databases store coordinates as text.
      const char* end = data.utf8_string + data.data_size;
      auto [ptr, ec] = std::from_chars(data.utf8_string, end, *out);
      return ec == std::errc() && ptr == end;
    }
    default:
      return false;
  }
}

char to_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

bool is_alnum(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Two letters, upper-cased; anything else (names, "", "-") is treated as absent.
bool copy_code2(std::string_view text, std::array<char, 2>* out) noexcept {
  if (text.size() != 2 || !is_alnum(text[0]) || !is_alnum(text[1])) return false;
  (*out)[0] = to_upper(text[0]);
  (*out)[1] = to_upper(text[1]);
  return true;
}

// "ENG" or "US-CA" -> the part after the country. Subdivision names (flat schemas often carry
// "Texas" in state1) are not codes and are ignored rather than truncated.
bool copy_subdivision(std::string_view text, std::array<char, 3>* out) noexcept {
  if (text.size() >= 4 && text[2] == '-') text.remove_prefix(3);
  if (text.empty() || text.size() > out->size()) return false;
  for (char c : text) {
    if (!is_alnum(c)) return false;
  }
  out->fill(0);
  for (size_t i = 0; i < text.size(); ++i) (*out)[i] = to_upper(text[i]);
  return true;
}

// The first of `paths` that holds a usable code wins: GeoIP2 paths before flat ones.
template <size_t N, typename Copy>
bool first_code(const MMDB_entry_s& entry, const char* const* const (&paths)[N], Copy copy) {
  std::string_view text;
  for (const char* const* path : paths) {
    if (get_string(entry, path, &text) && copy(text)) return true;
  }
  return false;
}

bool read_coordinates(const MMDB_entry_s& entry, double* lat, double* lon) noexcept {
  const bool found =
      (get_number(entry, kLocationLatitude, lat) && get_number(entry, kLocationLongitude, lon)) ||
      (get_number(entry, kFlatLatitude, lat) && get_number(entry, kFlatLongitude, lon));
  return found && *lat >= -90.0 && *lat <= 90.0 && *lon >= -180.0 && *lon <= 180.0;
}

void fill_location(const MMDB_entry_s& entry, Location* out) noexcept {
  static constexpr const char* const* kCountryPaths[] = {kCountryIso, kRegisteredCountryIso,
                                                         kFlatCountry};
  static constexpr const char* const* kContinentPaths[] = {kContinentCode, kFlatContinentCode,
                                                           kFlatContinent};
  static constexpr const char* const* kSubdivisionPaths[] = {kSubdivisionIso, kFlatState,
                                                             kFlatSubdivision};

  first_code(entry, kCountryPaths,
             [&](std::string_view t) { return copy_code2(t, &out->country); });

  std::array<char, 2> continent{};
  const bool has_continent = first_code(entry, kContinentPaths, [&](std::string_view t) {
    return copy_code2(t, &continent) && is_continent_code(std::string_view(continent.data(), 2));
  });
  if (has_continent) {
    out->continent = continent;
  } else if (out->country[0] != 0) {
    // Flat databases usually carry only the country; steering maps by continent too.
    const std::string_view derived = continent_of_country(out->country_code());
    if (derived.size() == 2) {
      out->continent[0] = derived[0];
      out->continent[1] = derived[1];
    }
  }

  first_code(entry, kSubdivisionPaths,
             [&](std::string_view t) { return copy_subdivision(t, &out->subdivision); });

  double lat = 0;
  double lon = 0;
  if (read_coordinates(entry, &lat, &lon)) {
    out->has_coordinates = true;
    out->latitude = lat;
    out->longitude = lon;
  } else if (out->country[0] != 0) {
    // `nearest` still works per country for databases without coordinates.
    if (auto centroid = country_centroid(out->country_code())) {
      out->has_coordinates = true;
      out->coordinates_from_centroid = true;
      out->latitude = centroid->latitude;
      out->longitude = centroid->longitude;
    }
  }
}

}  // namespace

Result<DatabasePtr> Database::open(const std::string& path) {
  auto fail = [&](std::string message) {
    Error e = make_error(std::move(message));
    e.file = path;
    return e;
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail(std::string("cannot open GeoIP database: ") + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return fail("cannot open GeoIP database: not a regular file");

  auto mmdb = std::make_unique<MMDB_s>();
  errno = 0;
  const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, mmdb.get());
  if (status != MMDB_SUCCESS) {
    const int saved_errno = errno;
    std::string message = std::string("cannot open GeoIP database: ") + MMDB_strerror(status);
    if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && saved_errno != 0) {
      message += std::string(" (") + std::strerror(saved_errno) + ")";
    }
    // MMDB_open releases what it allocated when it fails; no MMDB_close here.
    return fail(std::move(message));
  }
  const uint16_t ip_version = mmdb->metadata.ip_version;
  if (ip_version != 4 && ip_version != 6) {
    MMDB_close(mmdb.get());
    return fail("GeoIP database has unsupported ip_version " + std::to_string(ip_version));
  }

  std::shared_ptr<Database> db(new Database());
  db->mmdb_ = std::move(mmdb);
  db->path_ = path;
  db->mtime_ = st.st_mtime;
  db->ipv6_tree_ = ip_version == 6;
  return DatabasePtr(std::move(db));
}

Database::~Database() {
  if (mmdb_) MMDB_close(mmdb_.get());
}

namespace {

// One tree lookup without allocation. Returns false on an error (or an IPv6 address in an
// IPv4 tree); *length is the network's length in the address's own family, hit or miss.
bool find_network(const MMDB_s& mmdb, bool ipv6_tree, const IpAddress& addr,
                  MMDB_lookup_result_s* result, uint8_t* length) noexcept {
  // Built on the stack: MMDB_lookup_string would call getaddrinfo, which allocates.
  sockaddr_in sin{};
  sockaddr_in6 sin6{};
  const sockaddr* sa = nullptr;
  if (addr.is_v4()) {
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, addr.bytes.data(), 4);
    sa = reinterpret_cast<const sockaddr*>(&sin);
  } else if (addr.is_v6()) {
    // An IPv6 address cannot be found in an IPv4-only tree (MMDB would report an error).
    if (!ipv6_tree) return false;
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, addr.bytes.data(), 16);
    sa = reinterpret_cast<const sockaddr*>(&sin6);
  } else {
    return false;
  }
  int mmdb_error = MMDB_SUCCESS;
  *result = MMDB_lookup_sockaddr(&mmdb, sa, &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS) return false;
  uint16_t netmask = result->netmask;
  if (addr.is_v4() && ipv6_tree) {
    netmask = netmask >= kIpv4InIpv6Bits ? static_cast<uint16_t>(netmask - kIpv4InIpv6Bits) : 0;
  }
  const uint16_t max_bits = addr.bit_length();
  *length = static_cast<uint8_t>(netmask < max_bits ? netmask : max_bits);
  return true;
}

constexpr Path kAsnNumber = {"autonomous_system_number", nullptr};

}  // namespace

bool Database::lookup(const IpAddress& query, Location* out) const noexcept {
  *out = Location{};
  const IpAddress addr = query.unmapped();
  if (asn_) {
    uint8_t asn_length = 0;
    uint32_t asn = 0;
    const bool asn_ok = asn_->lookup_asn(addr, &asn, &asn_length);
    const bool found = lookup_geo(addr, out);
    if (asn_ok) {
      out->asn = asn;
      // The empty ASN network around a miss is as much a decision as a hit (see below).
      out->prefix_length = std::max(out->prefix_length, asn_length);
    }
    return found;
  }
  return lookup_geo(addr, out);
}

bool Database::lookup_asn(const IpAddress& query, uint32_t* asn, uint8_t* length) const noexcept {
  *asn = 0;
  MMDB_lookup_result_s result{};
  if (!find_network(*mmdb_, ipv6_tree_, query.unmapped(), &result, length)) return false;
  if (result.found_entry) *asn = decode_asn(result.entry);
  return true;
}

uint32_t Database::decode_asn(const MMDB_entry_s& entry) noexcept {
  MMDB_entry_s start = entry;
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&start, &data, kAsnNumber) != MMDB_SUCCESS || !data.has_data) return 0;
  if (data.type == MMDB_DATA_TYPE_UINT32) return data.uint32;
  if (data.type == MMDB_DATA_TYPE_UINT16) return data.uint16;
  if (data.type == MMDB_DATA_TYPE_UINT64 && data.uint64 <= 0xffffffffULL) {
    return static_cast<uint32_t>(data.uint64);
  }
  return 0;
}

bool Database::lookup_geo(const IpAddress& addr, Location* out) const noexcept {
  MMDB_lookup_result_s result{};
  // Set on a miss too: the empty network around the address is as much a decision as a
  // record is, and the ECS scope of a default answer must not be wider than it.
  if (!find_network(*mmdb_, ipv6_tree_, addr, &result, &out->prefix_length)) return false;
  if (!result.found_entry) return false;
  out->found = true;
  fill_location(result.entry, out);
  return true;
}

Result<DatabasePtr> Database::open(const std::string& path, const std::string& asn_path) {
  auto db = open(path);
  if (!db || asn_path.empty()) return db;
  auto asn = open(asn_path);
  if (!asn) return asn.error();
  // Opened just now and not shared yet: completing it here is its construction.
  std::const_pointer_cast<Database>(db.value())->asn_ = asn.value();
  return db;
}

std::string Database::description() const {
  const MMDB_metadata_s& meta = mmdb_->metadata;
  std::string out = meta.database_type != nullptr ? meta.database_type : "unknown";
  const auto epoch = static_cast<std::time_t>(meta.build_epoch);
  std::tm tm{};
  char built[32];
  if (gmtime_r(&epoch, &tm) != nullptr &&
      std::strftime(built, sizeof(built), "%Y-%m-%dT%H:%M:%SZ", &tm) != 0) {
    out += " built ";
    out += built;
  }
  out += " IPv" + std::to_string(meta.ip_version);
  out += ", " + std::to_string(meta.node_count) + " nodes";
  if (asn_) out += "; ASN " + asn_->path() + ": " + asn_->description();
  return out;
}

void Database::decode(const MMDB_entry_s& entry, Location* out) noexcept {
  fill_location(entry, out);
}

void Database::release_resident_pages() const noexcept {
  // MMDB_MODE_MMAP maps the whole file from its first byte, so the range is page-aligned.
  // MADV_DONTNEED on a shared file mapping discards nothing but our page table entries.
  if (mmdb_->file_content == nullptr || mmdb_->file_size <= 0) return;
  ::madvise(const_cast<uint8_t*>(mmdb_->file_content), static_cast<size_t>(mmdb_->file_size),
            MADV_DONTNEED);
}

uint64_t Database::build_epoch() const noexcept {
  return mmdb_->metadata.build_epoch;
}

}  // namespace geodns::geo
