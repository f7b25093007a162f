#include "ops/ctl.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "common/ip.h"
#include "common/socket_address.h"
#include "common/unique_fd.h"
#include "ops/http.h"
#include "server/listen_config.h"

namespace geodns::ops {
namespace {

using Json = nlohmann::json;

constexpr const char* kCtlUsage = R"(usage:
  geodns ctl [--control ADDR:PORT] [--token T] COMMAND
commands:
  status                                      zones, datacenters, targets, overrides, reloads
  reload                                      reload config, zones and GeoIP now
  drain TARGET [--for 30m] [--reason TEXT]    take a datacenter or address out of the answers
  force-down TARGET [--for 30m] [--reason TEXT]   the same, said as what it does to health
  force-up TARGET [--for 30m] [--reason TEXT]     answer with it whatever its checks say
  undrain TARGET, clear TARGET                remove the override (drain, force-up or force-down)
  explain NAME --client ADDR[/LEN] [--type A|AAAA]   why this client gets this answer (live)
  metrics                                     the Prometheus metrics, raw
TARGET is a datacenter or an IP address. A datacenter of the server's config (geodns.toml) is
one datacenter in every zone that uses it: "iad" drains it everywhere, "example.com/iad" in
that zone only (the more specific override wins); one a zone file defines is
"example.com/iad" ("iad" alone finds it when no other datacenter has that name).
--control defaults to $GEODNS_CONTROL or 127.0.0.1:8053, --token to $GEODNS_CONTROL_TOKEN.
)";

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

std::string get_string(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// "2026-11-25T14:03:07.120Z" -> "14:03:07" for compact tables (dates matter less than order).
std::string short_time(const Json& j, const char* key) {
  const std::string t = get_string(j, key);
  if (t.size() >= 19) return t.substr(0, 10) + " " + t.substr(11, 8);
  return t.empty() ? "-" : t;
}

void print_status(const Json& s, std::ostream& out) {
  out << "geodns " << get_string(s, "version") << ", started " << short_time(s, "started")
      << " UTC\n";
  out << "geoip: " << (get_string(s, "geoip").empty() ? "none" : get_string(s, "geoip")) << "\n";
  const Json& lr = s.value("last_reload", Json::object());
  out << "last reload: " << short_time(lr, "time") << " (" << get_string(lr, "reason")
      << "): " << (lr.value("ok", false) ? "ok" : "FAILED") << "\n";
  for (const auto& e : lr.value("errors", Json::array())) {
    out << "  error: " << e.get<std::string>() << "\n";
  }
  out << "\nzones:\n";
  for (const auto& z : s.value("zones", Json::array())) {
    out << "  " << std::left << std::setw(28) << get_string(z, "origin") << std::right << " serial "
        << z.value("serial", 0U) << ", " << z.value("records", 0U) << " records, "
        << get_string(z, "file") << "\n";
  }
  out << "\ndatacenters:\n";
  for (const auto& z : s.value("zones", Json::array())) {
    for (const auto& dc : z.value("datacenters", Json::array())) {
      const std::string ov = get_string(dc, "override");
      out << "  " << std::left << std::setw(28) << get_string(dc, "key") << std::right << " "
          << (dc.value("up", false) ? "UP  " : "DOWN");
      if (ov == "down") out << " (drained)";
      if (ov == "up") out << " (forced up)";
      out << "  ";
      bool first = true;
      for (const auto& a : dc.value("addresses", Json::array())) {
        out << (first ? "" : ", ") << get_string(a, "address") << " "
            << (a.value("up", false) ? "up" : "down");
        first = false;
      }
      out << "\n";
    }
  }
  out << "\ntargets:\n";
  for (const auto& t : s.value("targets", Json::array())) {
    out << "  " << std::left << std::setw(18) << get_string(t, "address") << " " << std::setw(12)
        << (get_string(t, "check") + "/" + get_string(t, "type")) << " " << std::setw(7)
        << get_string(t, "state") << std::right << " since " << short_time(t, "since");
    if (!get_string(t, "last_result").empty()) out << "  last: " << get_string(t, "last_result");
    if (!get_string(t, "override").empty())
      out << "  [override " << get_string(t, "override") << "]";
    out << "\n";
  }
  const Json& ovs = s.value("overrides", Json::array());
  out << "\noverrides:" << (ovs.empty() ? " none" : "") << "\n";
  for (const auto& o : ovs) {
    const std::string what =
        o.contains("datacenter") ? get_string(o, "datacenter") : get_string(o, "address");
    out << "  " << what << " " << get_string(o, "state") << " until "
        << (o.value("expires", Json()).is_string() ? short_time(o, "expires") : "cleared");
    if (!get_string(o, "reason").empty()) out << ": " << get_string(o, "reason");
    out << "\n";
  }
  const Json& tr = s.value("transitions", Json::array());
  out << "\nrecent transitions:" << (tr.empty() ? " none" : "") << "\n";
  size_t skip = tr.size() > 10 ? tr.size() - 10 : 0;
  for (const auto& t : tr) {
    if (skip > 0) {
      --skip;
      continue;
    }
    out << "  " << short_time(t, "time") << "  " << get_string(t, "address") << " "
        << get_string(t, "check") << ": " << get_string(t, "from") << " -> " << get_string(t, "to")
        << " (" << get_string(t, "reason") << ")\n";
  }
}

}  // namespace

Result<HttpReply> http_call(const std::string& endpoint, const std::string& method,
                            const std::string& target, const std::string& body,
                            const std::string& token, std::chrono::milliseconds timeout) {
  auto ep = server::parse_endpoint(endpoint);
  if (!ep) return make_error("--control " + endpoint + ": " + ep.error().message);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const SocketAddress sa = to_socket_address(ep->address, ep->port);
  UniqueFd fd(::socket(sa.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.is_open()) return make_error(std::string("socket: ") + std::strerror(errno));
  const std::string unreachable = "cannot reach the control endpoint at " + endpoint;
  if (::connect(fd.get(), sa.get(), sa.length) != 0) {
    if (errno != EINPROGRESS) return make_error(unreachable + ": " + std::strerror(errno));
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
      return make_error(unreachable + ": connect timed out");
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr != 0) {
      return make_error(unreachable + ": " + std::strerror(soerr) +
                        " (is `geodns serve` running with [control] listen?)");
    }
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + endpoint +
                        "\r\nUser-Agent: geodns-ctl/0.1.0\r\nConnection: close\r\n";
  // Marks the request as not from a web page of another site: the endpoint refuses a
  // state-changing request without it (or a token), as a cross-site form could send one.
  request += "X-Geodns-Request: 1\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return make_error("send to " + endpoint + ": " + std::strerror(errno));
    }
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return make_error("send timed out");
  }
  std::string response;
  constexpr size_t kMaxResponse = 16 * 1024 * 1024;
  for (;;) {
    char buf[8192];
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      response.append(buf, static_cast<size_t>(n));
      if (response.size() > kMaxResponse) return make_error("response too large");
      continue;
    }
    if (n == 0) break;
    if (errno != EAGAIN && errno != EINTR) {
      return make_error("read from " + endpoint + ": " + std::strerror(errno));
    }
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
      return make_error("no response from " + endpoint + " within " +
                        std::to_string(timeout.count()) + " ms");
    }
  }
  // "HTTP/1.1 200 OK\r\n...\r\n\r\nbody"
  const size_t head_end = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/1.") || head_end == std::string::npos || response.size() < 12) {
    return make_error("malformed HTTP response from " + endpoint);
  }
  HttpReply reply;
  reply.status = std::atoi(response.c_str() + 9);
  reply.body = response.substr(head_end + 4);
  return reply;
}

int run_ctl(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const char* env_control = std::getenv("GEODNS_CONTROL");
  const char* env_token = std::getenv("GEODNS_CONTROL_TOKEN");
  std::string control =
      env_control != nullptr && *env_control != 0 ? env_control : "127.0.0.1:8053";
  std::string token = env_token != nullptr ? env_token : "";
  std::string expires, reason, client, type = "A";
  std::vector<std::string> pos;
  auto usage = [&](const std::string& msg) {
    err << "geodns ctl: " << msg << "\n\n" << kCtlUsage;
    return 2;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* dst) {
      if (i + 1 >= args.size()) return false;
      *dst = args[++i];
      return true;
    };
    if (a == "--control") {
      if (!value(&control)) return usage("--control needs ADDR:PORT");
    } else if (a == "--token") {
      if (!value(&token)) return usage("--token needs a value");
    } else if (a == "--for") {
      if (!value(&expires)) return usage("--for needs a duration (30m, 2h)");
    } else if (a == "--reason") {
      if (!value(&reason)) return usage("--reason needs a text");
    } else if (a == "--client") {
      if (!value(&client)) return usage("--client needs an address");
    } else if (a == "--type") {
      if (!value(&type)) return usage("--type needs A or AAAA");
    } else if (a == "-h" || a == "--help") {
      out << kCtlUsage;
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option " + a);
    } else {
      pos.push_back(a);
    }
  }
  if (pos.empty()) return usage("a command is required");
  const std::string& cmd = pos[0];
  std::string method = "GET", target, body;
  auto target_json = [&](const std::string& t) {
    Json j;
    if (IpAddress::parse(t)) {
      j["address"] = t;
    } else {
      j["datacenter"] = t;
    }
    return j;
  };
  if (cmd == "status" || cmd == "metrics") {
    if (pos.size() != 1) return usage(cmd + " takes no arguments");
    target = cmd == "status" ? "/status" : "/metrics";
  } else if (cmd == "reload") {
    if (pos.size() != 1) return usage("reload takes no arguments");
    method = "POST";
    target = "/reload";
  } else if (cmd == "drain" || cmd == "force-down" || cmd == "force-up") {
    if (pos.size() != 2) return usage(cmd + " needs exactly one TARGET");
    Json j = target_json(pos[1]);
    j["state"] = cmd == "force-up" ? "up" : "down";
    if (!expires.empty()) j["expires"] = expires;
    j["reason"] = reason.empty() ? cmd + " with geodns ctl" : reason;
    method = "POST";
    target = "/override";
    body = j.dump();
  } else if (cmd == "undrain" || cmd == "clear") {
    if (pos.size() != 2) return usage(cmd + " needs exactly one TARGET");
    method = "POST";
    target = "/override/clear";
    body = target_json(pos[1]).dump();
  } else if (cmd == "explain") {
    if (pos.size() != 2) return usage("explain needs exactly one NAME");
    if (client.empty()) return usage("explain needs --client ADDR[/LEN]");
    target = "/explain?name=" + url_encode(pos[1]) + "&client=" + url_encode(client) +
             "&type=" + url_encode(type);
  } else {
    return usage("unknown command \"" + cmd + "\"");
  }

  auto reply = http_call(control, method, target, body, token, std::chrono::seconds(30));
  if (!reply) {
    err << "geodns ctl: " << reply.error().to_string() << "\n";
    return 1;
  }
  const Json j = Json::parse(reply->body, nullptr, false);
  if (reply->status == 401) {
    err << "geodns ctl: the control endpoint needs a token (--token or $GEODNS_CONTROL_TOKEN)"
        << (token.empty() ? "" : "; the one given was refused") << "\n";
    return 1;
  }
  if (reply->status != 200 && !(cmd == "reload" && reply->status == 422)) {
    const std::string msg =
        j.is_object() && j.contains("error") ? get_string(j, "error") : reply->body;
    err << "geodns ctl: " << cmd << ": " << msg << " (HTTP " << reply->status << ")\n";
    return 1;
  }
  if (cmd == "status") {
    if (!j.is_object()) {
      err << "geodns ctl: malformed /status response\n";
      return 1;
    }
    print_status(j, out);
    return 0;
  }
  if (cmd == "reload") {
    if (!j.is_object()) {
      err << "geodns ctl: malformed /reload response\n";
      return 1;
    }
    const bool ok = j.value("ok", false);
    out << "reload " << (ok ? "ok" : "FAILED") << ": " << j.value("zones", 0U) << " zones served\n";
    for (const auto& e : j.value("errors", Json::array())) {
      (ok ? out : err) << "  error: " << e.get<std::string>() << "\n";
    }
    if (!ok) err << "the previous version of each failed file keeps serving\n";
    return ok ? 0 : 1;
  }
  if (cmd == "drain" || cmd == "force-down" || cmd == "force-up") {
    const char* done = cmd == "drain"      ? "drained "
                       : cmd == "force-up" ? "forced up "
                                           : "forced down ";
    out << done << pos[1] << (expires.empty() ? "" : " for " + expires) << "\n";
    return 0;
  }
  if (cmd == "undrain" || cmd == "clear") {
    out << "override on " << pos[1] << " cleared\n";
    return 0;
  }
  out << reply->body;
  return 0;
}

}  // namespace geodns::ops
