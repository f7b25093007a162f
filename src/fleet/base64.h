// Base64 (RFC 4648, standard alphabet, padded): etcd's JSON gateway carries every key and
// value as base64 bytes fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace geodns::fleet {

std::string base64_encode(std::string_view bytes);
// nullopt on any character outside the alphabet, bad padding or a length not a multiple of 4.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace geodns::fleet
