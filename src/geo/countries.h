// Static tables: ISO 3166-1 countries with their continent and centroid, continent codes.
#pragma once

#include <optional>
#include <string_view>

namespace geodns::geo {

struct LatLon {
  double latitude;
  double longitude;
};

bool is_continent_code(std::string_view code);  // AF AN AS EU NA OC SA
bool is_country_code(std::string_view code);    // known ISO 3166-1 alpha-2, upper case
// "CA" from "US-CA": country known and 1..3 upper-case letters or digits after the dash.
bool is_subdivision_code(std::string_view code);
// Continent of a country ("DE" -> "EU"); empty if unknown.
std::string_view continent_of_country(std::string_view country);
std::optional<LatLon> country_centroid(std::string_view country);

// Great-circle (haversine) distance in kilometres.
double great_circle_km(double lat1, double lon1, double lat2, double lon2) noexcept;

}  // namespace geodns::geo
