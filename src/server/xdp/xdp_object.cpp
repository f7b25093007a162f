#include "server/xdp/xdp_object.h"

// GEODNS_XDP_OBJECT: the object's path, set by src/server/CMakeLists.txt, which also makes
// this file depend on it (rebuilt when the BPF source changes).
#define GEODNS_STRINGIFY2(x) #x
#define GEODNS_STRINGIFY(x) GEODNS_STRINGIFY2(x)

// The assembler copies the object into .rodata: no generated source, no xxd.
asm(".section .rodata\n"
    ".balign 8\n"
    ".global geodns_xdp_object_begin\n"
    "geodns_xdp_object_begin:\n"
    ".incbin \"" GEODNS_STRINGIFY(GEODNS_XDP_OBJECT) "\"\n"
    ".global geodns_xdp_object_end\n"
    "geodns_xdp_object_end:\n"
    ".previous\n");

extern "C" const uint8_t geodns_xdp_object_begin[];
extern "C" const uint8_t geodns_xdp_object_end[];

namespace geodns::server::xdp {

std::span<const uint8_t> embedded_object() noexcept {
  return {geodns_xdp_object_begin,
          static_cast<size_t>(geodns_xdp_object_end - geodns_xdp_object_begin)};
}

}  // namespace geodns::server::xdp
