// The compiled XDP program (geodns_xdp.bpf.c), embedded in the binary at build time so that
// the server never looks for a file beside itself (xdp_object.cpp).
#pragma once

#include <cstdint>
#include <span>

namespace geodns::server::xdp {

std::span<const uint8_t> embedded_object() noexcept;

}  // namespace geodns::server::xdp
