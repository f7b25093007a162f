#!/usr/bin/python3
"""Checks dist/geodns-dashboard.json and dist/geodns-alerts.yml against the real binary.

The dashboard must parse, every panel must have a query on the dashboard's data source
variable, and every geodns_* metric named by a dashboard query or an alert expression must be
a metric family of a real /metrics scrape. The scrape is from `geodns serve` on free loopback
ports over a zone whose datacenter is health-checked (TCP to the control endpoint itself),
so the per-target families carry samples too.

usage: check_dashboard.py GEODNS_BINARY SOURCE_DIR
"""
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

METRIC = re.compile(r"\bgeodns_[a-z_]+\b")


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dashboard_metrics(path):
    dash = json.loads(Path(path).read_text())
    problems, names, ids = [], set(), set()
    for panel in dash["panels"]:
        if panel["id"] in ids:
            problems.append(f"panel id {panel['id']} used twice")
        ids.add(panel["id"])
        if panel["type"] == "row":
            continue
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"panel {panel['title']!r}: not on the ${{datasource}} variable")
        exprs = [t.get("expr", "") for t in panel.get("targets", [])]
        if not exprs or not all(exprs):
            problems.append(f"panel {panel['title']!r}: a target without a query")
        for e in exprs:
            if "$instance" not in e:
                problems.append(f"panel {panel['title']!r}: {e!r} ignores $instance")
            names.update(METRIC.findall(e))
    return names, problems


def alert_metrics(path):
    names = set()
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("expr:"):
            names.update(METRIC.findall(line))
    return names


def scrape_once(binary):
    """The /metrics text, or None when the ports were taken before geodns could listen."""
    # geodns takes the DNS port over UDP and TCP and the control port over TCP: the kernel's
    # UDP and TCP port spaces are separate, so the two free ports can come out equal.
    dns_port = free_port(socket.SOCK_DGRAM)
    control_port = free_port(socket.SOCK_STREAM)
    while control_port == dns_port:
        control_port = free_port(socket.SOCK_STREAM)
    with tempfile.TemporaryDirectory(prefix="geodns-dash-") as tmp:
        zones = Path(tmp, "zones")
        zones.mkdir()
        (zones / "dash.example.toml").write_text(f"""
[zone]
name = "dash.example."
[zone.soa]
mname = "ns1.dash.example."
rname = "hostmaster.dash.example."
[records]
"@" = "NS ns1.dash.example."
ns1 = "A 192.0.2.53"
[datacenters.here]
addresses = ["127.0.0.1"]
check = "control"
[checks.control]
type = "tcp"
port = {control_port}
interval = "200ms"
timeout = "100ms"
[steer.www]
policy = "failover"
datacenters = ["here"]
""")
        proc = subprocess.Popen(
            [binary, "serve", "--zones", str(zones), "--geoip", "",
             "--listen", f"127.0.0.1:{dns_port}", "--control", f"127.0.0.1:{control_port}",
             "--state-dir", tmp, "--threads", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    text = urllib.request.urlopen(
                        f"http://127.0.0.1:{control_port}/metrics", timeout=2).read().decode()
                    if 'geodns_health_check_latency_seconds{' in text:
                        return text
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    log = proc.communicate()[0]
                    # A free port can be taken in between, e.g. as the local end of the
                    # prober's own connection: try again on other ports.
                    if "event=listen_error" in log and "Address already in use" in log:
                        return None
                    raise SystemExit("geodns did not serve /metrics with a checked target:\n"
                                     + log)
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)


def scrape(binary):
    for _ in range(5):
        text = scrape_once(binary)
        if text is not None:
            return text
    raise SystemExit("geodns could not listen on a free port in 5 tries")


def families(metrics_text):
    return {line.split()[2] for line in metrics_text.splitlines() if line.startswith("# TYPE ")}


def main():
    binary, src = sys.argv[1], Path(sys.argv[2])
    dash_names, problems = dashboard_metrics(src / "dist/geodns-dashboard.json")
    alert_names = alert_metrics(src / "dist/geodns-alerts.yml")
    exported = families(scrape(binary))
    # The comparison itself must be able to fail: a made-up name is not exported.
    assert "geodns_no_such_metric_total" not in exported
    for name in sorted(dash_names - exported):
        problems.append(f"dashboard names {name}, which /metrics does not export")
    for name in sorted(alert_names - exported):
        problems.append(f"alert rules name {name}, which /metrics does not export")
    if len(dash_names) < 30 or len(alert_names) < 6:
        problems.append(f"too few metrics found ({len(dash_names)} in the dashboard, "
                        f"{len(alert_names)} in the alerts): is the parsing broken?")
    print(f"dashboard: {len(dash_names)} metrics, alerts: {len(alert_names)} metrics, "
          f"/metrics: {len(exported)} families")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
