#include "ops/system.h"

#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/unique_fd.h"

namespace geodns::ops {

void notify_systemd(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return;
  const size_t len = std::strlen(path);
  sockaddr_un addr{};
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path)) return;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.is_open()) return;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  (void)::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), addr_len);
}

Status drop_privileges(const std::string& user) {
  long bufsize = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(static_cast<size_t>(bufsize > 0 ? bufsize : 16384));
  passwd pw{};
  passwd* found = nullptr;
  char* end = nullptr;
  const unsigned long uid = std::strtoul(user.c_str(), &end, 10);
  int rc = 0;
  if (!user.empty() && end != nullptr && *end == '\0') {
    rc = ::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found);
  } else {
    rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  }
  if (rc != 0 || found == nullptr) return make_error("--user " + user + ": no such user");
  if (::getuid() == pw.pw_uid && ::geteuid() == pw.pw_uid) return {};  // already that user
  // Supplementary groups first (needs root), then the group, then the user: in the other
  // order the process would no longer be allowed to change its groups.
  if (::initgroups(pw.pw_name, pw.pw_gid) != 0 && ::setgroups(0, nullptr) != 0) {
    return make_error("--user " + user + ": setgroups: " + std::strerror(errno));
  }
  if (::setgid(pw.pw_gid) != 0) {
    return make_error("--user " + user + ": setgid: " + std::strerror(errno));
  }
  if (::setuid(pw.pw_uid) != 0) {
    return make_error("--user " + user + ": setuid: " + std::strerror(errno));
  }
  if (::setuid(0) == 0) return make_error("--user " + user + ": root could be regained");
  return {};
}

void release_free_memory() {
  malloc_trim(0);
}

}  // namespace geodns::ops
