#include "ops/control_api.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "steer/target.h"

namespace geodns::ops {
namespace {

using Json = nlohmann::ordered_json;

HttpResponse json_response(int status, const Json& j) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, Json{{"error", message}});
}

HttpResponse method_not_allowed(const char* allow) {
  HttpResponse r = error_response(405, std::string("method not allowed; use ") + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

// Compares without an early exit, so the time taken does not reveal how much matched.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (b.empty() ? 0 : b[i % b.size()]));
  }
  return diff == 0;
}

// The bearer token from the Authorization header only: a token in the URL would end up in
// browser history, proxy logs and Referer headers, so the page keeps it in sessionStorage.
bool authorized(const HttpRequest& request, std::string_view token) {
  if (token.empty()) return true;
  auto h = request.header("authorization");
  if (!h || h->size() < 7) return false;
  std::string scheme = h->substr(0, 7);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return false;
  std::string_view given = std::string_view(*h).substr(7);
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  return same_secret(given, token);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "host:port" as a browser compares origins: lower case, the scheme's default port dropped
// (a browser's Origin never has it; a Host header may).
std::string normalized_authority(std::string_view authority, std::string_view scheme) {
  std::string a = lower(authority);
  const std::string_view default_port = scheme == "https" ? ":443" : ":80";
  if (a.ends_with(default_port)) a.resize(a.size() - default_port.size());
  return a;
}

// True for the methods a cross-site page can send without changing anything here.
bool is_safe_method(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

// Sent with every response: no MIME sniffing (a JSON error echoing a name is never HTML),
// no Referer, and no reading of our responses by other origins' <script>/<img> tags.
void add_common_headers(HttpResponse& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

std::optional<steer::Override> parse_mode(std::string_view s) {
  if (s == "down" || s == "drain" || s == "drained") return steer::Override::force_down;
  if (s == "up") return steer::Override::force_up;
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) return std::nullopt;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      n = n * 10 + (text[i] - '0');
      if (n > 100'000'000) return std::nullopt;
      ++i;
    }
    int64_t unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    } else if (any) {
      return std::nullopt;  // "1h30" is ambiguous
    }
    total += n * unit;
    any = true;
  }
  if (total <= 0 || total > int64_t{366} * 86400) return std::nullopt;
  return std::chrono::seconds(total);
}

std::optional<std::string> cross_site_refusal(const HttpRequest& request) {
  if (auto site = request.header("sec-fetch-site");
      site && *site != "same-origin" && *site != "none") {
    // "same-site" too: another port of the same host is another origin, and may be anyone's.
    return "refused a cross-site request (Sec-Fetch-Site: " + *site +
           "): state changes come from this endpoint's own page or from geodns ctl";
  }
  if (auto origin = request.header("origin")) {
    const size_t sep = origin->find("://");
    const std::string scheme = sep == std::string::npos ? "" : lower(origin->substr(0, sep));
    const std::string host = request.header("host").value_or("");
    if (sep == std::string::npos || (scheme != "http" && scheme != "https") || host.empty() ||
        normalized_authority(std::string_view(*origin).substr(sep + 3), scheme) !=
            normalized_authority(host, scheme)) {
      return "refused a cross-origin request: Origin " + *origin + " is not this endpoint (Host " +
             (host.empty() ? "missing" : host) + ")";
    }
  }
  if (request.header(kRequestHeader).value_or("").empty()) {
    return "refused: a state-changing request needs the header \"X-Geodns-Request: 1\", which "
           "geodns ctl and the status page send and a cross-site form cannot";
  }
  return std::nullopt;
}

std::optional<std::string> host_refusal(const HttpRequest& request, bool has_token) {
  if (has_token) return std::nullopt;
  auto host = request.header("host");
  if (!host) return std::nullopt;  // HTTP/1.0 tools; every browser sends Host
  std::string_view name = *host;
  if (name.starts_with('[')) {
    const size_t close = name.find(']');
    if (close != std::string_view::npos && IpAddress::parse(name.substr(1, close - 1))) {
      return std::nullopt;
    }
  } else {
    name = name.substr(0, name.find(':'));
    if (IpAddress::parse(name) || lower(name) == "localhost") return std::nullopt;
  }
  return "refused Host " + *host +
         ": without [control] token only an IP address or localhost is accepted (a name "
         "could be DNS rebinding a web page onto this endpoint); set a token to use names";
}

Result<OverrideRequest> parse_override_request(const HttpRequest& request, bool need_state) {
  HeaderList fields;
  const auto type = request.header("content-type").value_or("");
  std::string_view body = request.body;
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front())) != 0) {
    body.remove_prefix(1);
  }
  if (!body.empty() && body.front() == '{') {
    const Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return make_error("body is not a JSON object");
    for (const auto& [k, v] : j.items()) {
      if (v.is_string()) {
        fields.emplace_back(k, v.get<std::string>());
      } else if (v.is_number_integer() && k == "expires") {
        fields.emplace_back(k, std::to_string(v.get<int64_t>()));
      } else if (!v.is_null()) {
        return make_error("field \"" + k + "\" must be a string");
      }
    }
  } else if (!body.empty()) {
    auto form = parse_form(body);
    if (!form) return make_error("malformed form body");
    fields = std::move(*form);
  }
  if (auto q = parse_form(request.query); q) {
    for (auto& f : *q) fields.push_back(std::move(f));
  } else {
    return make_error("malformed query string");
  }
  (void)type;
  OverrideRequest out;
  bool have_state = false;
  for (const auto& [k, v] : fields) {
    if (k == "datacenter" || k == "dc") {
      out.datacenter = v;
    } else if (k == "address") {
      out.address = v;
    } else if (k == "state") {
      auto m = parse_mode(v);
      if (!m) return make_error("state must be \"down\" or \"up\", not \"" + v + "\"");
      out.mode = *m;
      have_state = true;
    } else if (k == "expires" || k == "for") {
      if (v.empty()) continue;
      auto d = parse_duration(v);
      if (!d) return make_error("expires must be a duration like 30m, 2h or 1d, not \"" + v + "\"");
      out.expires_in = *d;
    } else if (k == "reason") {
      if (v.size() > 500) return make_error("reason longer than 500 characters");
      out.reason = v;
    } else {
      return make_error("unknown field \"" + k + "\"");
    }
  }
  if (out.datacenter.empty() == out.address.empty()) {
    return make_error("give exactly one of \"datacenter\" or \"address\"");
  }
  if (need_state && !have_state) return make_error("\"state\" is required (down or up)");
  return out;
}

Result<health::OverrideKey> resolve_override_target(const OverrideRequest& request,
                                                    const zone::ZoneSet& zones) {
  if (!request.address.empty()) {
    auto ip = IpAddress::parse(request.address);
    if (!ip) return make_error("\"" + request.address + "\" is not an IP address");
    for (const auto& z : zones.zones) {
      for (const auto& dc : z->datacenters) {
        for (const auto* fam : {&dc.v4, &dc.v6}) {
          for (const auto& a : *fam) {
            if (a.ip == *ip) return health::OverrideKey::for_address(*ip);
          }
        }
      }
    }
    return make_error("address " + ip->to_string() + " belongs to no datacenter");
  }
  // A datacenter's identity (steer::Datacenter::key): "iad" for one of the server's, in every
  // zone that uses it; "example.com/iad" for one zone's use of a datacenter, its own or a
  // server's (then it wins over "iad" for that zone). A bare name also finds a zone's own
  // datacenter when no other has that name.
  const std::string want = steer::canonical_datacenter_key(request.datacenter);
  std::vector<std::string> own;  // slot keys of zone datacenters named `want`
  bool shared = false;
  for (const auto& z : zones.zones) {
    for (const auto& dc : z->datacenters) {
      const std::string slot = steer::dc_slot_key(z->origin_text, dc.name);
      if (slot == want) return health::OverrideKey::for_datacenter(dc.id, want);
      const bool is_shared = dc.key != slot;
      // "iad" names the server's datacenter, even where a zone has its own "iad" too.
      if (is_shared && dc.key == want) shared = true;
      if (!is_shared && dc.name == want && std::find(own.begin(), own.end(), slot) == own.end()) {
        own.push_back(slot);
      }
    }
  }
  if (shared) return health::OverrideKey::for_datacenter(want);
  if (own.empty()) return make_error("unknown datacenter \"" + want + "\"");
  if (own.size() > 1) {
    std::string names;
    for (const auto& m : own) names += (names.empty() ? "" : ", ") + m;
    return make_error("datacenter \"" + want + "\" is ambiguous: " + names);
  }
  return health::OverrideKey::for_datacenter(own[0]);
}

namespace {

// Every route but /reload answers at once; /reload returns nullopt and answers through
// `reply` when the reload is over.
std::optional<HttpResponse> route(const HttpRequest& request, ControlBackend& backend,
                                  std::string_view token, const ControlReply& reply) {
  if (auto why = host_refusal(request, !token.empty())) return error_response(403, *why);
  const std::string& path = request.path;
  const std::string& method = request.method;
  const bool is_get = method == "GET";
  // The page holds no data (its script reads /status with the token), so it is served to
  // anyone who can reach the endpoint: a browser cannot send a bearer header on navigation.
  if (path == "/" || path == "/index.html") {
    if (!is_get) return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(status_page_html());
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Content-Security-Policy", std::string(status_page_csp()));
    r.headers.emplace_back("X-Frame-Options", "DENY");  // browsers without frame-ancestors
    r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    return r;
  }
  if (!authorized(request, token)) {
    HttpResponse r = error_response(401, "missing or wrong bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"geodns\"");
    return r;
  }
  if (!is_safe_method(method)) {
    if (auto why = cross_site_refusal(request)) return error_response(403, *why);
  }
  if (path == "/metrics") {
    if (!is_get) return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = render_metrics(backend.state());
    return r;
  }
  if (path == "/status") {
    if (!is_get) return method_not_allowed("GET");
    HttpResponse r;
    r.content_type = "application/json";
    r.body = render_status_json(backend.state());
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }
  if (path == "/healthz") {
    if (!is_get) return method_not_allowed("GET");
    HttpResponse r;
    r.body = "ok\n";
    return r;
  }
  if (path == "/reload") {
    if (method != "POST") return method_not_allowed("POST");
    backend.reload([reply](const ReloadRecord& rec) {
      HttpResponse r;
      r.status = rec.ok ? 200 : 422;
      r.content_type = "application/json";
      r.body = render_reload_json(rec);
      reply(std::move(r));
    });
    return std::nullopt;
  }
  if (path == "/override" || path == "/override/clear") {
    const bool clear = path == "/override/clear" ? method == "POST" : method == "DELETE";
    const bool set = path == "/override" && method == "POST";
    if (!clear && !set) {
      return method_not_allowed(path == "/override" ? "POST, DELETE" : "POST");
    }
    auto req = parse_override_request(request, set);
    if (!req) return error_response(400, req.error().to_string());
    const Status st = set ? backend.set_override(*req) : backend.clear_override(*req);
    if (!st) return error_response(400, st.error().to_string());
    Json j{{"ok", true}, {"action", set ? "set" : "cleared"}};
    if (!req->datacenter.empty()) j["datacenter"] = req->datacenter;
    if (!req->address.empty()) j["address"] = req->address;
    if (set) j["state"] = req->mode == steer::Override::force_down ? "down" : "up";
    return json_response(200, j);
  }
  if (path == "/explain") {
    if (!is_get) return method_not_allowed("GET");
    ExplainRequest ex;
    ex.name = request.query_param("name").value_or("");
    ex.client = request.query_param("client").value_or("");
    ex.type = request.query_param("type").value_or("A");
    if (ex.name.empty() || ex.client.empty()) {
      return error_response(400, "explain needs ?name=NAME&client=ADDR[/LEN][&type=A|AAAA]");
    }
    auto text = backend.explain(ex);
    if (!text) return error_response(400, text.error().to_string());
    HttpResponse r;
    r.body = std::move(*text);
    return r;
  }
  return error_response(404, "no such endpoint: " + path);
}

}  // namespace

void handle_control(const HttpRequest& request, ControlBackend& backend, std::string_view token,
                    const ControlReply& reply) {
  const ControlReply with_headers = [reply](HttpResponse r) {
    add_common_headers(r);
    reply(std::move(r));
  };
  if (auto r = route(request, backend, token, with_headers)) with_headers(std::move(*r));
}

HttpResponse handle_control(const HttpRequest& request, ControlBackend& backend,
                            std::string_view token) {
  std::optional<HttpResponse> out;
  handle_control(request, backend, token, [&out](HttpResponse r) { out = std::move(r); });
  if (!out) return HttpResponse{500, "text/plain; charset=utf-8", "no answer yet\n", {}};
  return std::move(*out);
}

}  // namespace geodns::ops
