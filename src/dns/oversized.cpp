#include "dns/oversized.h"

#include "dns/query.h"
#include "dns/writer.h"

namespace geodns::dns {

size_t answer_oversized(std::span<const uint8_t> head, std::span<uint8_t> out) noexcept {
  Query q;
  if (parse_query(head, &q) == ParseStatus::drop) return 0;
  // Whatever the cut-off part held (an OPT record, say) is unknown: a plain 512-byte reply.
  ResponseWriter w;
  w.begin(q, out, kMaxUdpPlain, false);
  w.set_rcode(rcode::FORMERR);
  return w.finish();
}

}  // namespace geodns::dns
