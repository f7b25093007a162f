// Arbitrary text as a zone file: load_zone_text must return a zone or an error, never crash,
// hang or throw. A second load with the first result as `previous` covers the serial path.
#include <cstdint>
#include <string>
#include <string_view>

#include "zone/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const geodns::zone::ServerConfig kConfig;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto first = geodns::zone::load_zone_text(text, "fuzz.example.toml", kConfig, nullptr);
  if (first) {
    auto second =
        geodns::zone::load_zone_text(text, "fuzz.example.toml", kConfig, first.value().get());
    (void)second;
  }
  return 0;
}
