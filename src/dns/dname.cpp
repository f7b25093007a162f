#include "dns/dname.h"

#include <cstring>

#include "dns/wire.h"

namespace geodns::dns {

size_t substitute_dname(const uint8_t* name, size_t name_len, size_t owner_len,
                        const uint8_t* target, size_t target_len, uint8_t* out) noexcept {
  if (owner_len >= name_len) return 0;  // not below the owner: nothing to substitute
  const size_t prefix = name_len - owner_len;
  if (prefix + target_len > kMaxNameLength) return 0;
  std::memcpy(out, name, prefix);
  std::memcpy(out + prefix, target, target_len);
  return prefix + target_len;
}

}  // namespace geodns::dns
