#include "dnssec/algorithm.h"

#include <cstdlib>

namespace geodns::dnssec {

std::string_view algorithm_mnemonic(Algorithm a) noexcept {
  return a == Algorithm::ecdsap256sha256 ? "ECDSAP256SHA256" : "ED25519";
}

std::optional<Algorithm> algorithm_from_number(unsigned number) noexcept {
  if (number == 13) return Algorithm::ecdsap256sha256;
  if (number == 15) return Algorithm::ed25519;
  return std::nullopt;
}

std::optional<Algorithm> algorithm_from_text(std::string_view text) noexcept {
  auto equal_nocase = [text](std::string_view word) {
    if (text.size() != word.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != word[i]) return false;
    }
    return true;
  };
  if (equal_nocase("ecdsap256sha256") || text == "13") return Algorithm::ecdsap256sha256;
  if (equal_nocase("ed25519") || text == "15") return Algorithm::ed25519;
  return std::nullopt;
}

}  // namespace geodns::dnssec
