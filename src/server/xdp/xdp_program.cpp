#include "server/xdp/xdp_program.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "common/atomic_file.h"
#include "common/log.h"
#include "server/xdp/xdp_object.h"

namespace geodns::server::xdp {

namespace {

// The key of geodns_dests, laid out as `struct geodns_dest` in geodns_xdp.bpf.c.
struct DestKey {
  uint8_t family;
  uint8_t pad;
  uint16_t port;  // network order
  uint8_t addr[16];
};
static_assert(sizeof(DestKey) == 20);

// libbpf and libxdp print to stderr by default; their warnings (why a load or an attach
// failed) go to our log instead, their chatter nowhere.
int library_print(const char* format, va_list args, bool is_warning) {
  if (!is_warning) return 0;
  char line[512];
  const int n = std::vsnprintf(line, sizeof line, format, args);
  std::string text(line, static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof line) - 1)));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty()) log::debug("xdp_library", {{"message", text}});
  return 0;
}

int libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
  return library_print(format, args, level == LIBBPF_WARN);
}

int libxdp_print(enum libxdp_print_level level, const char* format, va_list args) {
  return library_print(format, args, level == LIBXDP_WARN);
}

void route_library_logs() {
  static std::once_flag once;
  std::call_once(once, [] {
    libbpf_set_print(libbpf_print);
    libxdp_set_print(libxdp_print);
  });
}

std::string xdp_error(int err) {
  char text[256] = {};
  libxdp_strerror(err, text, sizeof text);
  return text;
}

bool is_privilege_error(int err) {
  return err == -EPERM || err == -EACCES;
}

// What state_dir/xdp-IFACE says of the program a geodns attached: "BOOT_ID IFINDEX ID FLAGS".
// Program ids are not reused before they wrap (2^31), and every program is gone when the boot
// id changes, so a record matching the attached program names one that geodns attached.
struct AttachRecord {
  std::string boot_id;
  int ifindex = 0;
  uint32_t id = 0;
  uint32_t flags = 0;  // XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE
};

std::string current_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::optional<AttachRecord> read_record(const std::string& path) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  AttachRecord r;
  if (!(in >> r.boot_id >> r.ifindex >> r.id >> r.flags) || r.boot_id.empty()) {
    return std::nullopt;
  }
  return r;
}

// Detaches every program named XdpProgram::kName from `ifindex`: left by a geodns that was
// killed (SIGKILL, a crash) and so never detached, it would still steer queries into an
// AF_XDP socket nobody reads. Programs of others stay.
Status detach_stale(const std::string& interface, int ifindex, const std::string& record_path) {
  for (int round = 0; round < 8; ++round) {
    xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
    if (libxdp_get_error(mp) != 0 || mp == nullptr) {
      // Nothing attached, or something libxdp may not look at: it reads the programs' names
      // by id, which the kernel allows only with CAP_SYS_ADMIN (not in the systemd drop-in,
      // README "XDP"). The id itself is public: say which program is in the way and what
      // removes it, instead of the bare "busy" the attach would meet.
      __u32 id = 0;
      if (bpf_xdp_query_id(ifindex, 0, &id) != 0 || id == 0) return {};
      // The id our predecessor recorded when it attached (this boot, this interface): ours,
      // taken off with the netlink request that needs only CAP_NET_ADMIN.
      const std::optional<AttachRecord> r = read_record(record_path);
      if (r && r->id == id && r->ifindex == ifindex && r->boot_id == current_boot_id()) {
        if (const int e = bpf_xdp_detach(ifindex, r->flags, nullptr); e != 0) {
          return make_error("xdp " + interface + ": cannot detach the stale geodns XDP program " +
                            std::to_string(id) + ": " + std::strerror(-e));
        }
        std::remove(record_path.c_str());
        log::warn("xdp_stale_program_replaced",
                  {{"interface", interface}, {"id", std::to_string(id)}});
        continue;
      }
      return make_error("xdp " + interface + ": XDP program id " + std::to_string(id) +
                        " is attached, not recorded as ours in the state directory, and only "
                        "CAP_SYS_ADMIN may read its name to tell a " +
                        XdpProgram::kName +
                        " left by a killed geodns (replaced at start) from another's: `" +
                        "ip link set dev " + interface + " xdp off` removes it");
    }
    int err = 0;
    bool found = false;
    if (xdp_multiprog__is_legacy(mp)) {
      xdp_program* main = xdp_multiprog__main_prog(mp);
      if (main != nullptr && std::strcmp(xdp_program__name(main), XdpProgram::kName) == 0) {
        found = true;
        err = xdp_multiprog__detach(mp);
      }
    } else {
      for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr;
           p = xdp_multiprog__next_prog(p, mp)) {
        if (std::strcmp(xdp_program__name(p), XdpProgram::kName) != 0) continue;
        found = true;
        err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
        break;
      }
    }
    xdp_multiprog__close(mp);
    if (!found) return {};
    if (err != 0) {
      return make_error(
          "xdp " + interface + ": cannot detach the stale geodns XDP program: " + xdp_error(err) +
          (geteuid() != 0 ? " (needs root, or CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON)" : ""));
    }
    log::warn("xdp_stale_program_replaced", {{"interface", interface}});
  }
  return make_error("xdp " + interface + ": stale geodns XDP programs keep reappearing");
}

// One ioctl on a throwaway socket (they need one, of any family).
bool interface_ioctl(const std::string& interface, unsigned long request, ifreq* ifr) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  std::memset(ifr->ifr_name, 0, IFNAMSIZ);
  std::strncpy(ifr->ifr_name, interface.c_str(), IFNAMSIZ - 1);
  const bool ok = ::ioctl(fd, request, ifr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

uint32_t queue_count(const std::string& interface) {
  ethtool_channels channels{};
  channels.cmd = ETHTOOL_GCHANNELS;
  ifreq ifr{};
  ifr.ifr_data = reinterpret_cast<char*>(&channels);
  // A driver without channel reporting has one queue as far as we can tell.
  if (!interface_ioctl(interface, SIOCETHTOOL, &ifr)) return 1;
  return std::max<uint32_t>({1U, channels.rx_count, channels.combined_count});
}

Result<uint32_t> interface_mtu(const std::string& interface) {
  ifreq ifr{};
  if (!interface_ioctl(interface, SIOCGIFMTU, &ifr) || ifr.ifr_mtu <= 0) {
    return make_error("xdp " + interface + ": cannot read the MTU: " + std::strerror(errno));
  }
  return static_cast<uint32_t>(ifr.ifr_mtu);
}

Result<std::unique_ptr<XdpProgram>> XdpProgram::attach(const std::string& interface,
                                                       AttachMode mode,
                                                       const std::vector<Endpoint>& endpoints,
                                                       const std::string& state_dir) {
  route_library_logs();
  const unsigned ifindex = if_nametoindex(interface.c_str());
  if (ifindex == 0) return make_error("xdp " + interface + ": no such interface");
  std::unique_ptr<XdpProgram> self(new XdpProgram());
  self->interface_ = interface;
  self->ifindex_ = static_cast<int>(ifindex);
  const std::string record_path = state_dir.empty() ? "" : state_dir + "/xdp-" + interface;
  if (Status st = detach_stale(interface, self->ifindex_, record_path); !st) return st.error();

  const std::span<const uint8_t> object = embedded_object();
  // The opts structs by hand: libbpf's DECLARE_*_OPTS macros use a GNU statement expression.
  bpf_object_open_opts open_opts{};
  open_opts.sz = sizeof open_opts;
  open_opts.object_name = kName;
  bpf_object* obj = bpf_object__open_mem(object.data(), object.size(), &open_opts);
  if (libbpf_get_error(obj) != 0) {
    return make_error("xdp: the embedded XDP object does not open");
  }
  xdp_program_opts program_opts{};
  program_opts.sz = sizeof program_opts;
  program_opts.obj = obj;
  program_opts.prog_name = kName;
  xdp_program* program = xdp_program__create(&program_opts);
  if (libxdp_get_error(program) != 0) {
    bpf_object__close(obj);
    return make_error("xdp: the embedded XDP object has no program " + std::string(kName));
  }
  self->program_ = program;

  // Native first when allowed; generic only when configured (it is several times slower,
  // and an operator who asked for native wants to hear that the driver refused).
  const auto try_mode = [&](xdp_attach_mode m) {
    return xdp_program__attach(program, self->ifindex_, m, 0);
  };
  int err = 0;
  std::string refused;
  if (mode != AttachMode::generic) {
    err = try_mode(XDP_MODE_NATIVE);
    if (err != 0) refused = "native mode refused: " + xdp_error(err);
    self->native_ = true;
  }
  if (mode == AttachMode::generic || (err != 0 && mode == AttachMode::native_or_generic)) {
    if (err != 0) {
      log::warn("xdp_native_refused", {{"interface", interface}, {"error", xdp_error(err)}});
    }
    err = try_mode(XDP_MODE_SKB);
    if (err != 0) {
      refused +=
          std::string(refused.empty() ? "" : "; ") + "generic mode refused: " + xdp_error(err);
    }
    self->native_ = false;
  }
  if (err != 0) {
    xdp_program__close(program);
    bpf_object__close(obj);
    self->program_ = nullptr;
    std::string message = "xdp " + interface + ": attach failed: " + refused;
    if (is_privilege_error(err)) {
      message += " (needs root, or CAP_NET_ADMIN, CAP_BPF and CAP_PERFMON)";
    } else if (mode == AttachMode::native) {
      // The driver said no: generic mode may still work, if the operator accepts its cost.
      message += " (xdp_mode = \"native_or_generic\" allows generic)";
    }
    return make_error(message);
  }

  // Attached the plain way (the interface's program is ours, not libxdp's dispatcher), its id
  // is recorded for the next start: what a dispatcher holds is not ours alone to detach.
  __u32 attached = 0;
  const uint32_t flags = self->native_ ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  if (!record_path.empty() &&
      bpf_xdp_query_id(self->ifindex_, static_cast<int>(flags), &attached) == 0 && attached != 0 &&
      attached == xdp_program__id(program)) {
    std::ostringstream text;
    text << current_boot_id() << ' ' << self->ifindex_ << ' ' << attached << ' ' << flags << '\n';
    if (Status st = write_file_atomic(record_path, text.str()); !st) {
      log::warn("xdp_record_failed", {{"interface", interface}, {"error", st.error().message}});
    } else {
      self->record_path_ = record_path;
    }
  }

  bpf_object* loaded = xdp_program__bpf_obj(program);
  const int dests = bpf_object__find_map_fd_by_name(loaded, "geodns_dests");
  self->sockets_map_fd_ = bpf_object__find_map_fd_by_name(loaded, "geodns_xsks");
  if (dests < 0 || self->sockets_map_fd_ < 0) {
    return make_error("xdp " + interface + ": the XDP program's maps are missing");
  }
  for (const Endpoint& e : endpoints) {
    DestKey key{};
    key.family = e.address.family;
    key.port = htons(e.port);
    std::memcpy(key.addr, e.address.bytes.data(), e.address.is_v4() ? 4 : 16);
    const uint8_t one = 1;
    if (bpf_map_update_elem(dests, &key, &one, BPF_ANY) != 0) {
      return make_error("xdp " + interface + ": cannot add " + e.text +
                        " to the XDP program: " + std::strerror(errno));
    }
  }
  return self;
}

Status XdpProgram::add_socket(uint32_t queue, int xsk_fd) {
  if (bpf_map_update_elem(sockets_map_fd_, &queue, &xsk_fd, BPF_ANY) != 0) {
    return make_error("xdp " + interface_ + ": cannot add the socket of queue " +
                      std::to_string(queue) + ": " + std::strerror(errno));
  }
  return {};
}

XdpProgram::~XdpProgram() {
  if (program_ == nullptr) return;
  bpf_object* obj = xdp_program__bpf_obj(program_);
  const int err =
      xdp_program__detach(program_, ifindex_, native_ ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
  bool detached = err == 0;
  if (!detached) {
    // libxdp finds what it detaches by program id, which takes CAP_SYS_ADMIN. Attached the
    // plain way (no dispatcher), the program comes off with the netlink request that attached
    // it, which needs only CAP_NET_ADMIN; naming our program's fd as the one expected there,
    // it removes nothing else.
    bpf_xdp_attach_opts opts{};
    opts.sz = sizeof opts;
    opts.old_prog_fd = xdp_program__fd(program_);
    const int plain =
        bpf_xdp_detach(ifindex_, native_ ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE, &opts);
    detached = plain == 0;
    if (!detached) {
      log::warn("xdp_detach_failed", {{"interface", interface_},
                                      {"error", xdp_error(err) + "; " + std::strerror(-plain)}});
    }
  }
  // Still attached, the record stays: the next start replaces the program by it.
  if (detached && !record_path_.empty()) std::remove(record_path_.c_str());
  xdp_program__close(program_);
  // The object was ours (xdp_program__create does not take it over).
  bpf_object__close(obj);
}

}  // namespace geodns::server::xdp
