// Process habits of a well-behaved daemon: systemd readiness notification and dropping root
// after the privileged ports are bound.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace geodns::ops {

// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") to $NOTIFY_SOCKET, the
// datagram protocol of sd_notify(3). A no-op without $NOTIFY_SOCKET (not run by systemd).
// Written by hand: one sendto() does not justify a libsystemd dependency.
void notify_systemd(std::string_view state);

// setgroups/setgid/setuid to `user` (name or numeric uid). Called after every socket is bound
// and before serving; fails when not permitted or the user does not exist.
Status drop_privileges(const std::string& user);

// Hands the heap's free pages back to the kernel (glibc malloc_trim). Loading a big zone
// allocates far more transiently (TOML tree, record text) than the zone keeps; without this
// the process would stay at its load-time peak. Called after a load, never per query.
void release_free_memory();

}  // namespace geodns::ops
