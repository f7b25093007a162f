// The control endpoint's routes: pure request -> response over a ControlBackend (the daemon,
// or a fake in unit tests). Transport (sockets, timeouts) lives in control_server.h.
//
//   GET    /                 status page (HTML; no data in it, so served without the token)
//   GET    /metrics          Prometheus text format
//   GET    /status           JSON
//   GET    /explain?name=N&client=ADDR[/LEN][&type=A|AAAA]   text, with live health
//   POST   /reload           runs a reload (off the control loop); its JSON result when it is
//                            over (422 when it reported errors)
//   POST   /override         {"datacenter"|"address", "state": "down"|"up", "expires", "reason"}
//   DELETE /override?datacenter=...|address=...    (or POST /override/clear with a body)
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "health/overrides.h"
#include "ops/explain.h"
#include "ops/http.h"
#include "ops/state.h"
#include "zone/zone_set.h"

namespace geodns::ops {

struct OverrideRequest {
  std::string datacenter;  // "example.com./fra" or "fra" (if unambiguous); or
  std::string address;     // "192.0.2.10"
  steer::Override mode = steer::Override::force_down;
  std::optional<std::chrono::seconds> expires_in;
  std::string reason;
};

class ControlBackend {
 public:
  virtual ~ControlBackend() = default;
  virtual DaemonState state() = 0;
  // Starts a reload (or joins the next one) and returns at once; `done` runs on the control
  // loop's thread once the reload is over.
  virtual void reload(std::function<void(const ReloadRecord&)> done) = 0;
  virtual Status set_override(const OverrideRequest& request) = 0;
  virtual Status clear_override(const OverrideRequest& request) = 0;
  virtual Result<std::string> explain(const ExplainRequest& request) = 0;
};

// Gives the response to one request: at once, or later on the control loop's thread (a
// reload). Called exactly once.
using ControlReply = std::function<void(HttpResponse)>;

// Routes one request. `token` empty = no authentication required.
void handle_control(const HttpRequest& request, ControlBackend& backend, std::string_view token,
                    const ControlReply& reply);
// Same, for a backend that answers every request at once (tests): the response itself.
HttpResponse handle_control(const HttpRequest& request, ControlBackend& backend,
                            std::string_view token);

// The override fields from a JSON object body, a form body or the query string.
// `need_state` is false for clearing.
Result<OverrideRequest> parse_override_request(const HttpRequest& request, bool need_state);

// "30s", "15m", "2h", "1d", "1h30m", or plain seconds. nullopt if malformed or zero.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Resolves an override target against the served zones: a datacenter given as
// "origin/name" or as a bare name present in exactly one zone; an address must belong to
// some datacenter (a typo would otherwise silently drain nothing).
Result<health::OverrideKey> resolve_override_target(const OverrideRequest& request,
                                                    const zone::ZoneSet& zones);

// The status page (self-contained HTML; its script polls /status and posts the actions).
std::string_view status_page_html();
// Its Content-Security-Policy: nothing but its own inline script and style (by hash) and
// requests to its own origin; no framing, no form submission, no base URL.
std::string_view status_page_csp();

// Cross-site safety of the endpoint (docs/decisions.md, "The control endpoint and the
// browser"). A state-changing request (any method but GET, HEAD, OPTIONS) must carry this
// header: an HTML form cannot add a header, and a cross-site fetch() that adds one needs a
// CORS preflight, which this endpoint never grants. A bearer token does not stand in for
// it: a reverse proxy may add the token to every request, a forged one included.
inline constexpr std::string_view kRequestHeader = "x-geodns-request";

// Why a state-changing request is refused as cross-site (403), or nullopt. Refused: a
// Sec-Fetch-Site other than same-origin/none, an Origin other than the Host it was sent to,
// and a missing or empty kRequestHeader.
std::optional<std::string> cross_site_refusal(const HttpRequest& request);

// Why the Host header is refused (403), or nullopt. Without a token only an IP literal or
// "localhost" is accepted: a name means a browser reached us through DNS rebinding (an
// attacker's name resolving to 127.0.0.1 makes its page same-origin with the endpoint).
std::optional<std::string> host_refusal(const HttpRequest& request, bool has_token);

}  // namespace geodns::ops
