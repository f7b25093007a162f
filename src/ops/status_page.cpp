// The status page served at GET /: one self-contained document (no external assets, so it
// works on an air-gapped host) whose script polls /status every 2 s and redraws.
#include "ops/control_api.h"

namespace geodns::ops {
namespace {

constexpr const char kPage[] = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>geodns status</title>
<style>
  :root { --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; --warn:#9a6700;
          --warn-bg:#fff8c5; --mute:#57606a; --line:#d0d7de; --bg:#f6f8fa; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
         color:#1f2328; background:var(--bg); }
  header { display:flex; align-items:center; gap:16px; padding:14px 24px; background:#24292f;
           color:#fff; }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  header .meta { color:#c9d1d9; font-size:13px; }
  header .live { margin-left:auto; font-size:13px; color:#c9d1d9; }
  .dot { display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:6px;
         background:#8c959f; vertical-align:middle; }
  .dot.ok { background:#2da44e; } .dot.bad { background:#e5534b; } .dot.warn { background:#d4a72c; }
  main { padding:18px 24px; display:grid; gap:18px; grid-template-columns: 1fr 1fr; }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--mute);
       margin:0 0 10px; }
  table { width:100%; border-collapse:collapse; }
  th { text-align:left; font-weight:600; color:var(--mute); font-size:12px; padding:4px 8px;
       border-bottom:1px solid var(--line); }
  td { padding:6px 8px; border-bottom:1px solid #eaeef2; vertical-align:top; }
  tr:last-child td { border-bottom:none; }
  .mono { font-family: ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:13px; }
  .pill { display:inline-block; padding:1px 9px; border-radius:999px; font-weight:600;
          font-size:12px; }
  .pill.ok { color:var(--ok); background:var(--ok-bg); }
  .pill.bad { color:var(--bad); background:var(--bad-bg); }
  .pill.warn { color:var(--warn); background:var(--warn-bg); }
  .pill.mute { color:var(--mute); background:#eaeef2; }
  .cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(250px,1fr)); gap:12px; }
  .card { border:1px solid var(--line); border-left:6px solid #8c959f; border-radius:6px;
          padding:10px 12px; }
  .card.ok { border-left-color:#2da44e; } .card.bad { border-left-color:#e5534b; }
  .card.warn { border-left-color:#d4a72c; }
  .card .name { font-weight:600; font-size:15px; }
  .card .zone { color:var(--mute); font-size:12px; }
  .card .why { margin-top:6px; color:var(--mute); font-size:13px; }
  .addr { display:flex; justify-content:space-between; margin-top:4px; }
  .banner { grid-column:1 / -1; border-radius:8px; padding:12px 16px; font-weight:600; }
  .banner.bad { background:var(--bad-bg); color:var(--bad); border:1px solid #ff8182; }
  .banner.ok { background:var(--ok-bg); color:var(--ok); border:1px solid #4ac26b; }
  .banner.warn { background:var(--warn-bg); color:var(--warn); border:1px solid #d4a72c; }
  .banner ul { margin:6px 0 0; padding-left:20px; font-weight:400; color:#1f2328; }
  .muted { color:var(--mute); }
  h2 .sum { text-transform:none; letter-spacing:0; font-weight:400; margin-left:8px; }
  h2 .sum b { font-weight:600; }
  .err { color:var(--bad); }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>geodns</h1><span class="meta" id="meta">connecting…</span>
  <span class="live" id="live"><span class="dot"></span>waiting for data</span>
</header>
<main>
  <div class="banner ok" id="reload" style="display:none"></div>
  <section class="wide"><h2>Datacenters <span id="dcsum" class="sum"></span></h2>
    <div class="cards" id="dcs"></div></section>
  <section class="wide"><h2>Health checks</h2>
    <table><thead><tr><th>Address</th><th>Check</th><th>State</th><th>Since</th>
    <th>Last result</th><th>Latency</th><th>Used by</th></tr></thead><tbody id="targets"></tbody></table>
    <div id="unchecked" class="muted" style="margin-top:8px"></div>
  </section>
  <section><h2>Recent state changes</h2>
    <table><thead><tr><th>Time</th><th>Target</th><th>Change</th><th>Why</th></tr></thead>
    <tbody id="transitions"></tbody></table></section>
  <section><h2>Zones</h2>
    <table><thead><tr><th>Zone</th><th>Serial</th><th>Records</th><th>Steered names</th></tr></thead>
    <tbody id="zones"></tbody></table>
    <h2 style="margin-top:16px">Overrides</h2><div id="overrides"></div>
    <h2 style="margin-top:16px">Traffic</h2><div id="traffic" class="muted"></div></section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
function esc(s) {
  return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",
    '"':"&quot;","'":"&#39;"}[c]));
}
function ago(iso) {
  if (!iso) return "—";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return Math.round(s) + " s ago";
  if (s < 3600) return Math.round(s / 60) + " min ago";
  if (s < 86400) return (s / 3600).toFixed(1) + " h ago";
  return (s / 86400).toFixed(1) + " days ago";
}
function clock(iso) { return iso ? new Date(iso).toLocaleTimeString([], {hour12: false}) : "—"; }
function pill(cls, text) { return `<span class="pill ${cls}">${esc(text)}</span>`; }
function stateClass(st) { return st === "up" ? "ok" : st === "down" ? "bad" : "warn"; }

function render(s) {
  $("meta").textContent = `v${s.version} · started ${ago(s.started)} · GeoIP: ${s.geoip || "none"}` +
    (s.health === "warming" ? " · health: warming (first round of checks not complete)" : "");
  const lr = s.last_reload || {};
  const rb = $("reload");
  rb.style.display = "";
  if (lr.ok) {
    rb.className = "banner ok";
    rb.innerHTML = `Configuration loaded (${esc(lr.reason)}, ${ago(lr.time)}): ${lr.zones} zone(s) serving` +
      ` (${lr.zones_rebuilt || 0} rebuilt, ${lr.zones_reused || 0} reused, ${(lr.duration_s || 0).toFixed(1)} s)`;
    if ((lr.restart_required || []).length) {
      rb.className = "banner warn";
      rb.innerHTML += ` — a restart is needed to apply: <span class="mono">${lr.restart_required.map(esc).join(", ")}</span>`;
    }
  } else {
    rb.className = "banner bad";
    rb.innerHTML = `Last reload FAILED (${esc(lr.reason)}, ${ago(lr.time)}) — the previous version keeps serving` +
      "<ul>" + (lr.errors || []).map(e => `<li class="mono">${esc(e)}</li>`).join("") + "</ul>";
  }
  const rl = s.reload || {};
  if (rl.in_progress) rb.innerHTML += ` · reloading now (${esc(rl.reason)}, since ${ago(rl.since)})`;
  const targets = new Map((s.targets || []).map(t => [t.address + "|" + t.check, t]));
  const byAddr = {};
  for (const t of s.targets || []) (byAddr[t.address] = byAddr[t.address] || []).push(t);
  let cards = "";
  const counts = {UP: 0, DEGRADED: 0, DOWN: 0, DRAINED: 0, "FORCED UP": 0};
  for (const z of s.zones || []) {
    for (const dc of z.datacenters || []) {
      const addrs = dc.addresses || [];
      const up = addrs.filter(a => a.up).length;
      let cls = dc.up ? (up === addrs.length ? "ok" : "warn") : "bad";
      let label = dc.up ? (up === addrs.length ? "UP" : "DEGRADED") : "DOWN";
      let why = "";
      if (dc.override === "down") { cls = "bad"; label = "DRAINED"; }
      if (dc.override === "up") { cls = "warn"; label = "FORCED UP"; }
      // The zone's own override ("example.com/iad") is the one in effect when there is one.
      const ov = (s.overrides || []).find(o => o.datacenter === dc.slot) ||
        (s.overrides || []).find(o => o.datacenter === dc.key);
      if (ov) why = `override by operator${ov.reason ? ": " + esc(ov.reason) : ""}` +
        (ov.expires ? ` (until ${clock(ov.expires)})` : "");
      else if (!dc.check) why = "no health check (always up)";
      else if (up < addrs.length) {
        const bad = addrs.filter(a => !a.up).map(a => {
          const t = (byAddr[a.address] || [])[0];
          return `${esc(a.address)}: ${esc(t ? t.last_result : "down")}`;
        });
        why = bad.join("<br>");
      } else why = `check “${esc(dc.check)}” passing`;
      counts[label]++;
      cards += `<div class="card ${cls}"><div style="display:flex;justify-content:space-between">
        <div><div class="name">${esc(dc.name)}</div><div class="zone">${esc(z.origin)}</div></div>
        <div>${pill(cls, label)}</div></div>` +
        addrs.map(a => `<div class="addr mono"><span>${esc(a.address)}</span>${a.up ? pill("ok", "up") : pill("bad", "down")}</div>`).join("") +
        `<div class="why">${why}</div></div>`;
    }
  }
  $("dcs").innerHTML = cards || '<span class="muted">no datacenters</span>';
  const sumColor = {UP: "var(--ok)", DEGRADED: "var(--warn)", DOWN: "var(--bad)",
                    DRAINED: "var(--bad)", "FORCED UP": "var(--warn)"};
  $("dcsum").innerHTML = Object.entries(counts).filter(([k, n]) => n > 0)
      .map(([k, n]) => `<b style="color:${sumColor[k]}">${n} ${k.toLowerCase()}</b>`).join(" · ");
  const checked = (s.targets || []).filter(t => t.type !== "none");
  const unchecked = (s.targets || []).length - checked.length;
  $("unchecked").textContent = unchecked ?
      `${unchecked} address(es) without a health check are always considered up.` : "";
  $("targets").innerHTML = checked.map(t => {
    const st = t.override ? (t.override === "down" ? "drained" : "forced up") : t.state;
    return `<tr><td class="mono">${esc(t.address)}</td><td>${esc(t.check || "—")} <span class="muted">${esc(t.type)}</span></td>
      <td>${pill(t.override ? "warn" : stateClass(t.state), st)}</td>
      <td title="${esc(t.since)}">${ago(t.since)}</td>
      <td class="${t.up ? "" : "err"}">${esc(t.last_result || "—")}</td>
      <td>${t.latency_ms == null ? "—" : t.latency_ms + " ms"}</td>
      <td class="muted">${esc((t.datacenters || []).join(", "))}</td></tr>`;
  }).join("") || '<tr><td colspan="7" class="muted">no health checks</td></tr>';
  const tr = (s.transitions || []).slice().reverse().slice(0, 10);
  $("transitions").innerHTML = tr.map(t => `<tr><td title="${esc(t.time)}">${clock(t.time)}</td>
      <td class="mono" style="white-space:nowrap">${esc(t.address)} <span class="muted">${esc(t.check)}</span></td>
      <td>${pill(stateClass(t.from), t.from)} → ${pill(stateClass(t.to), t.to)}</td>
      <td class="muted">${esc(t.reason)}</td></tr>`).join("") ||
      '<tr><td colspan="4" class="muted">no state changes yet</td></tr>';
  $("zones").innerHTML = (s.zones || []).map(z => `<tr><td class="mono" style="white-space:nowrap" title="${esc(z.file)}">${esc(z.origin)}</td>
      <td class="mono">${z.serial}</td><td>${z.records}</td>
      <td class="mono">${esc((z.steered || []).join(", ")) || '<span class="muted">—</span>'}</td></tr>`).join("");
  const ovs = s.overrides || [];
  $("overrides").innerHTML = ovs.length ? "<table>" + ovs.map(o => `<tr><td class="mono">${esc(o.datacenter || o.address)}</td>
      <td>${pill(o.state === "down" ? "bad" : "warn", o.state)}</td>
      <td>${o.expires ? "until " + clock(o.expires) : "until cleared"}</td><td class="muted">${esc(o.reason)}</td></tr>`).join("") + "</table>"
      : '<span class="muted">none</span>';
  const q = s.queries || {};
  $("traffic").textContent = `${q.udp || 0} UDP + ${q.tcp || 0} TCP queries, ${q.steered || 0} steered answers, ` +
      `${q.failed_open || 0} failed open, ${q.truncated || 0} truncated · ${s.reloads_total} reloads (${s.reload_errors_total} with errors)`;
}

async function refresh() {
  try {
    const token = new URLSearchParams(location.search).get("token");
    const r = await fetch("status", {cache: "no-store",
                                     headers: token ? {"Authorization": "Bearer " + token} : {}});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    $("live").innerHTML = `<span class="dot ok"></span>live · updated ${new Date().toLocaleTimeString([], {hour12: false})}`;
  } catch (e) {
    $("live").innerHTML = `<span class="dot bad"></span>cannot reach the server (${esc(e.message)})`;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)PAGE";

}  // namespace

std::string_view status_page_html() {
  return {kPage, sizeof(kPage) - 1};
}

}  // namespace geodns::ops
