#!/usr/bin/python3
"""The status page in headless Chromium, against the real binary and its DNS answers.

Two `geodns serve` on free loopback ports, each with a zone of two datacenters (fra on
127.0.0.11, iad on 127.0.0.12) health-checked over TCP against listeners this script runs.

Server A has a control token. The page asks for it (a wrong one shows the server's 401), keeps
it out of the URL; Drain on fra with a reason and an expiry shows "drained" on the page AND
takes 127.0.0.11 out of dig's answers; Undrain brings it back; the same for one address;
Reload shows the server's result, a broken zone file its file:line error; an action with a
wrong token shows the 401; an old ?token= bookmark is moved out of the URL.

Server B has no token (the default on loopback), so only the cross-site rules protect it: a
page served by this script on another port tries a fetch() with the request header (blocked
by the browser: no CORS preflight is granted), no-cors fetches of /override and /reload (sent,
refused by the server with 403; Cross-Origin-Resource-Policy keeps even the opaque response
from the page) and a plain form POST (the browser shows the server's 403 and its reason);
afterwards B has no override, no reload was made, and its answers are unchanged.

Only Debian packages: chromium, chromium-driver, bind9-dnsutils (dig) and python3. The W3C
WebDriver protocol is plain HTTP+JSON, spoken here with urllib. Every process this script
starts is stopped by its PID at the end, also on failure.

usage: status_page_test.py GEODNS_BINARY
exit: 0 pass, 1 fail, 77 skipped (chromium or chromedriver not installed)
"""
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FRA, IAD = "127.0.0.11", "127.0.0.12"
TOKEN = "page-test-token-3f9a"
WAIT = 20.0  # seconds any one expected change may take (bounds a wait; never asserted)

# Loopback only, whatever proxy the environment names.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print(f"ok: {what}", flush=True)


def wait_until(fn, what, timeout=WAIT):
    """Polls fn() until it returns a true value; returns it, or fails saying `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                print(f"ok: {what}", flush=True)
                return last
        except (OSError, WebDriverError, ValueError) as e:
            last = e
        time.sleep(0.1)
    raise Failure(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class TcpBackend:
    """A TCP listener on (address, port) that accepts and closes: the datacenter's health."""

    def __init__(self, address, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()


class Geodns:
    ZONE = """[zone]
name = "page.test."
ttl = 300
[zone.soa]
mname = "ns1.page.test."
rname = "hostmaster.page.test."
[records]
"@" = "NS ns1.page.test."
ns1 = "A 127.0.0.1"
[checks.tcp]
type = "tcp"
port = {port}
interval = "200ms"
fall = 2
rise = 1
[datacenters.fra]
addresses = ["{fra}"]
check = "tcp"
[datacenters.iad]
addresses = ["{iad}"]
check = "tcp"
[steer.www]
ttl = 5
policy = "roundrobin"
datacenters = ["fra", "iad"]
answers = 2
"""

    def __init__(self, binary, tmp, name, check_port, token):
        self.dir = Path(tmp) / name
        (self.dir / "zones").mkdir(parents=True)
        self.zone_file = self.dir / "zones" / "page.test.toml"
        self.good_zone = self.ZONE.format(port=check_port, fra=FRA, iad=IAD)
        self.zone_file.write_text(self.good_zone)
        self.dns_port = free_port()
        self.control_port = free_port()
        self.token = token
        args = [binary, "serve", "--zones", str(self.dir / "zones"), "--listen",
                f"127.0.0.1:{self.dns_port}", "--threads", "1", "--control",
                f"127.0.0.1:{self.control_port}", "--state-dir", "", "--geoip", ""]
        if token:
            args += ["--control-token", token]
        self.log = open(self.dir / "geodns.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.answers() == [FRA, IAD] or self.proc.poll() is not None,
                   f"{name}: geodns serves both datacenters")
        if self.proc.poll() is not None:
            raise Failure(f"{name}: geodns exited: {self.log_text()}")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.control_port}/"

    def answers(self):
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(self.dns_port), "www.page.test", "A",
                              "+short", "+tries=1", "+time=1"],
                             capture_output=True, text=True, timeout=10).stdout
        return sorted(line for line in out.split() if line[:1].isdigit())

    def status(self):
        headers = {"Authorization": "Bearer " + self.token} if self.token else {}
        code, body = http_request("GET", self.url + "status", headers=headers)
        if code != 200:
            raise Failure(f"/status: HTTP {code}: {body}")
        return json.loads(body)

    def log_text(self):
        self.log.flush()
        return (self.dir / "geodns.log").read_text(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class WebDriverError(Exception):
    pass


ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C element reference key


class Browser:
    """The few W3C WebDriver commands the test needs, over chromedriver's HTTP port."""

    def __init__(self, tmp):
        self.port = free_port()
        self.log = open(Path(tmp) / "chromedriver.log", "wb")
        # Its own process group: chromium's processes are its children, stopped with it.
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_until(lambda: self._call("GET", "/status").get("ready"), "chromedriver is ready")
        # The flags this machine needs (see the env notes): no sandbox as root, no network
        # but loopback, a new empty profile.
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={Path(tmp) / 'chromium-profile'}", "--window-size=1280,1000"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        code, text = http_request(method, self.base + path, data,
                          {"Content-Type": "application/json"} if data else {})
        value = json.loads(text).get("value") if text else None
        if code != 200:
            raise WebDriverError(f"{method} {path}: HTTP {code}: {value}")
        return value

    def cmd(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def go(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css):
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css, text):
        el = self.find(css)
        self.cmd("POST", f"/element/{el}/clear", {})
        self.cmd("POST", f"/element/{el}/value", {"text": text})

    def text(self, css):
        return self.cmd("GET", f"/element/{self.find(css)}/text")

    def visible(self, css):
        return self.cmd("GET", f"/element/{self.find(css)}/displayed")

    def quit(self):
        try:
            self.cmd("DELETE", "")
        except (OSError, WebDriverError):
            pass
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this script created
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def card(dc):
    return f'.card[data-dc="page.test/{dc}"]'


def drain_button(kind, target):
    return f'button[data-act="drain"][data-kind="{kind}"][data-target="{target}"]'


def undrain_button(kind, target):
    return f'button[data-act="undrain"][data-kind="{kind}"][data-target="{target}"]'


def result(b):
    """(outcome, text) of the page's result banner, or None while it is hidden."""
    return b.js("const r = document.getElementById('result');"
                "return r.hidden ? null : [r.dataset.outcome, r.textContent];")


def drain_from_page(b, kind, target, reason, expires):
    b.js("document.getElementById('result').hidden = true;")
    b.click(drain_button(kind, target))
    wait_until(lambda: b.js("return document.getElementById('drain-dialog').open;"),
               f"the drain dialog opens for {target}")
    b.type("#drain-reason", reason)
    b.click(f'#drain-expires option[value="{expires}"]')
    b.click("#drain-confirm")
    return wait_until(lambda: result(b), f"the page shows the result of draining {target}")


def test_token_and_actions(b, a):
    b.go(a.url)
    wait_until(lambda: b.visible("#token-form"), "with a token set, the page asks for it")
    check("401" in b.text("#token-why"), "the prompt shows the server's 401")
    b.type("#token", "wrong-token")
    b.click("#token-submit")
    wait_until(lambda: "refused" in b.text("#token-why") and "401" in b.text("#token-why"),
               "a wrong token: the page shows the server's refusal (HTTP 401)")
    b.type("#token", TOKEN)
    b.click("#token-submit")
    wait_until(lambda: not b.visible("#token-form"), "the right token: the prompt goes away")
    wait_until(lambda: b.text(card("fra") + " .pill") == "UP" and
               b.text(card("iad") + " .pill") == "UP", "both datacenters shown UP")
    check(TOKEN not in b.js("return location.href;"), "the token is not in the URL")
    check(b.js("return sessionStorage.getItem('geodns-control-token');") == TOKEN,
          "the token is in sessionStorage")
    # No [server] xdp here: the AF_XDP section says the path is off (tests/xdp checks /status
    # of a server with it).
    wait_until(lambda: b.text("#xdp").startswith("off"), "the AF_XDP section says XDP is off")

    # Drain fra with a reason and an expiry.
    outcome = drain_from_page(b, "datacenter", "page.test/fra", "browser test drain", "15m")
    check(outcome[0] == "ok" and "drained" in outcome[1], f"drain result shown: {outcome[1]}")
    wait_until(lambda: b.text(card("fra") + " .pill") == "DRAINED", "fra shown DRAINED")
    check("browser test drain" in b.text(card("fra")), "the card shows the reason")
    wait_until(lambda: a.answers() == [IAD], "dig: fra's address left the answers")
    ov = [o for o in a.status()["overrides"] if o.get("datacenter") == "page.test/fra"]
    check(len(ov) == 1 and ov[0]["state"] == "down" and ov[0]["reason"] == "browser test drain"
          and ov[0]["expires"], f"/status has the drain with reason and expiry: {ov}")

    b.js("document.getElementById('result').hidden = true;")
    b.click(card("fra") + " " + undrain_button("datacenter", "page.test/fra"))
    wait_until(lambda: (result(b) or [""])[0] == "ok", "undrain result shown")
    wait_until(lambda: b.text(card("fra") + " .pill") == "UP", "fra shown UP again")
    wait_until(lambda: a.answers() == [FRA, IAD], "dig: fra's address is back")

    # One address, no expiry.
    outcome = drain_from_page(b, "address", IAD, "address drain", "")
    check(outcome[0] == "ok" and "until undrained" in outcome[1], f"address drain: {outcome[1]}")
    wait_until(lambda: a.answers() == [FRA], "dig: the drained address left the answers")
    wait_until(lambda: "drained" in b.text(f'{card("iad")} .addr[data-address="{IAD}"]'),
               "the address is shown drained")
    ov = [o for o in a.status()["overrides"] if o.get("address") == IAD]
    check(len(ov) == 1 and ov[0]["expires"] is None, "/status: address drain without expiry")
    b.click(f'{card("iad")} {undrain_button("address", IAD)}')
    wait_until(lambda: a.answers() == [FRA, IAD], "dig: the address is back")

    # Reload: ok, then a broken file's error text, then ok again.
    b.js("document.getElementById('result').hidden = true;")
    b.click("#reload-button")
    wait_until(lambda: (result(b) or ["", ""])[1].startswith("ok: reload done"),
               "Reload: the page shows the server's ok")
    a.zone_file.write_text(a.good_zone.replace('datacenters = ["fra", "iad"]',
                                               'datacenters = ["fra", "lhr"]'))
    b.js("document.getElementById('result').hidden = true;")
    b.click("#reload-button")
    r = wait_until(lambda: result(b), "Reload of a broken file: a result")
    check(r[0] == "error" and "page.test.toml:" in r[1] and "lhr" in r[1],
          f"the page shows the server's error text: {r[1]}")
    check(a.answers() == [FRA, IAD], "the old zone keeps serving")
    a.zone_file.write_text(a.good_zone)
    b.js("document.getElementById('result').hidden = true;")
    b.click("#reload-button")
    wait_until(lambda: (result(b) or ["", ""])[1].startswith("ok: reload done"),
               "the fixed file reloads ok")

    # An action with a token the server does not take: its 401, nothing drained.
    b.js("sessionStorage.setItem('geodns-control-token', 'stale-token');")
    outcome = drain_from_page(b, "datacenter", "page.test/fra", "must not happen", "1h")
    check(outcome[0] == "error" and "401" in outcome[1] and "bearer token" in outcome[1],
          f"a refused token shows the server's 401: {outcome[1]}")
    check(a.answers() == [FRA, IAD] and not a.status()["overrides"], "nothing was drained")
    b.click("#forget-token")
    check(b.js("return sessionStorage.getItem('geodns-control-token');") is None,
          "Forget token clears it")

    # An old bookmark with ?token=: the page moves it to sessionStorage and out of the URL.
    b.go(a.url + "?token=" + TOKEN)
    wait_until(lambda: b.text(card("fra") + " .pill") == "UP", "?token= bookmark: data shown")
    check(TOKEN not in b.js("return location.href;"), "?token= is taken out of the URL")
    check(b.js("return sessionStorage.getItem('geodns-control-token');") == TOKEN,
          "... and kept in sessionStorage")


EVIL_PAGE = """<!doctype html><html><head><title>innocent</title></head><body>
<form id="f" method="POST" action="{target}override">
<input name="datacenter" value="fra"><input name="state" value="down">
<input name="reason" value="forged form"></form>
<script>
const target = "{target}";
const body = JSON.stringify({{datacenter: "fra", state: "down", reason: "forged fetch"}});
window.results = {{}};
async function attempt() {{
  try {{
    await fetch(target + "override", {{method: "POST", body,
      headers: {{"X-Geodns-Request": "1", "Content-Type": "application/json"}}}});
    window.results.with_header = "sent";
  }} catch (e) {{ window.results.with_header = "blocked: " + e.name; }}
  try {{
    const r = await fetch(target + "override", {{method: "POST", mode: "no-cors", body,
      headers: {{"Content-Type": "text/plain"}}}});
    window.results.no_cors = "sent (" + r.type + ")";
  }} catch (e) {{ window.results.no_cors = "blocked: " + e.name; }}
  try {{
    const r = await fetch(target + "reload", {{method: "POST", mode: "no-cors"}});
    window.results.reload = "sent (" + r.type + ")";
  }} catch (e) {{ window.results.reload = "blocked: " + e.name; }}
  window.results.done = true;
}}
attempt();
</script></body></html>"""


def test_cross_site(b, srv, tmp):
    # The page without a token: no prompt, the datacenters.
    b.go(srv.url)
    wait_until(lambda: b.text(card("fra") + " .pill") == "UP", "no token: the page shows data")
    check(not b.visible("#token-form"), "no token: the page does not ask for one")

    evil_port = free_port()
    page = EVIL_PAGE.format(target=srv.url).encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", evil_port), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        reloads_before = srv.status()["reloads_total"]
        b.go(f"http://127.0.0.1:{evil_port}/")
        res = wait_until(lambda: b.js("return window.results && window.results.done ? "
                                      "window.results : null;"),
                         "the cross-site page made its attempts")
        check(res["with_header"].startswith("blocked"),
              f"a cross-site fetch with the request header is blocked (no CORS): {res}")
        # The no-cors requests reach the server (without the 403 they drain fra and reload:
        # checked below through the state and the answers).
        b.js("document.getElementById('f').submit();")
        wait_until(lambda: "refused" in b.js("return document.body.innerText;"),
                   "a cross-site form POST: the server answers with its refusal")
        body = b.js("return document.body.innerText;")
        check("cross" in body, f"the refusal says why: {body.strip()[:200]}")
        status = srv.status()
        check(not status["overrides"], f"no override was set: {status['overrides']}")
        check(status["reloads_total"] == reloads_before, "no reload was triggered")
        check(srv.answers() == [FRA, IAD], "the answers are unchanged")
    finally:
        evil.shutdown()
        evil.server_close()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            print(f"SKIP: {tool} not installed (scripts/install-deps.sh installs chromium and "
                  "chromium-driver)", file=sys.stderr)
            return 77
    if not shutil.which("dig"):
        print("FAIL: dig not found (bind9-dnsutils)", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="geodns-page-")
    check_port = free_port()
    backends = [TcpBackend(FRA, check_port), TcpBackend(IAD, check_port)]
    servers, browser = [], None
    try:
        servers.append(Geodns(sys.argv[1], tmp, "a", check_port, TOKEN))
        servers.append(Geodns(sys.argv[1], tmp, "b", check_port, ""))
        browser = Browser(tmp)
        test_token_and_actions(browser, servers[0])
        test_cross_site(browser, servers[1], tmp)
        print("PASS", flush=True)
        return 0
    except (Failure, WebDriverError, OSError, subprocess.SubprocessError) as e:
        traceback.print_exc()
        print(f"FAIL: {e}", file=sys.stderr)
        for s in servers:
            print(f"--- geodns log ({s.dir.name}) ---\n{s.log_text()}", file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.quit()
        for s in servers:
            s.stop()
        for bk in backends:
            bk.sock.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
