// The status page served at GET /: one self-contained document (no external assets, so it
// works on an air-gapped host) whose script polls /status every 2 s and redraws, and whose
// buttons drain, undrain and reload through the same API as `geodns ctl`.
#include <openssl/evp.h>

#include <array>
#include <string>

#include "ops/control_api.h"

namespace geodns::ops {
namespace {

constexpr const char kPage[] = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>geodns status</title>
<style>
  :root { --ok:#1a7f37; --ok-bg:#dafbe1; --bad:#cf222e; --bad-bg:#ffebe9; --warn:#9a6700;
          --warn-bg:#fff8c5; --mute:#57606a; --line:#d0d7de; --bg:#f6f8fa; }
  * { box-sizing: border-box; }
  [hidden] { display:none !important; }
  body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
         color:#1f2328; background:var(--bg); }
  header { display:flex; flex-wrap:wrap; align-items:center; gap:12px 16px; padding:14px 24px;
           background:#24292f; color:#fff; }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  header .meta { color:#c9d1d9; font-size:13px; }
  header .live { margin-left:auto; font-size:13px; color:#c9d1d9; }
  .dot { display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:6px;
         background:#8c959f; vertical-align:middle; }
  .dot.ok { background:#2da44e; } .dot.bad { background:#e5534b; } .dot.warn { background:#d4a72c; }
  main { padding:18px 24px; display:grid; gap:18px; grid-template-columns: 1fr 1fr; }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  section.wide, .full { grid-column: 1 / -1; }
  h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--mute);
       margin:0 0 10px; }
  h2.gap { margin-top:16px; }
  table { width:100%; border-collapse:collapse; }
  th { text-align:left; font-weight:600; color:var(--mute); font-size:12px; padding:4px 8px;
       border-bottom:1px solid var(--line); }
  td { padding:6px 8px; border-bottom:1px solid #eaeef2; vertical-align:top; }
  tr:last-child td { border-bottom:none; }
  .mono { font-family: ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:13px; }
  .nowrap { white-space:nowrap; }
  .pill { display:inline-block; padding:1px 9px; border-radius:999px; font-weight:600;
          font-size:12px; }
  .pill.ok { color:var(--ok); background:var(--ok-bg); }
  .pill.bad { color:var(--bad); background:var(--bad-bg); }
  .pill.warn { color:var(--warn); background:var(--warn-bg); }
  .pill.mute { color:var(--mute); background:#eaeef2; }
  .cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(270px,1fr)); gap:12px; }
  .card { border:1px solid var(--line); border-left:6px solid #8c959f; border-radius:6px;
          padding:10px 12px; display:flex; flex-direction:column; }
  .card.ok { border-left-color:#2da44e; } .card.bad { border-left-color:#e5534b; }
  .card.warn { border-left-color:#d4a72c; }
  .card .head { display:flex; justify-content:space-between; gap:8px; }
  .card .name { font-weight:600; font-size:15px; }
  .card .zone { color:var(--mute); font-size:12px; }
  .card .why { margin-top:6px; color:var(--mute); font-size:13px; flex:1; }
  .card .actions { margin-top:8px; display:flex; gap:8px; }
  .addr { display:flex; align-items:center; gap:8px; margin-top:4px; }
  .addr .ip { flex:1; }
  .btn { font:inherit; font-size:13px; padding:3px 12px; border-radius:6px; cursor:pointer;
         border:1px solid var(--line); background:#f6f8fa; color:#1f2328; }
  .btn:hover { background:#eaeef2; }
  .btn:focus-visible, input:focus-visible, select:focus-visible { outline:3px solid #0969da;
         outline-offset:1px; }
  .btn:disabled { opacity:.55; cursor:default; }
  .btn.small { font-size:12px; padding:1px 8px; }
  .btn.danger { color:var(--bad); border-color:#ff8182; }
  .btn.primary { background:#1f883d; color:#fff; border-color:#1a7f37; }
  header .btn { background:#32383f; color:#fff; border-color:#57606a; }
  header .btn:hover { background:#424a53; }
  .banner { grid-column:1 / -1; border-radius:8px; padding:12px 16px; font-weight:600; }
  .banner.bad { background:var(--bad-bg); color:var(--bad); border:1px solid #ff8182; }
  .banner.ok { background:var(--ok-bg); color:var(--ok); border:1px solid #4ac26b; }
  .banner.warn { background:var(--warn-bg); color:var(--warn); border:1px solid #d4a72c; }
  .banner ul { margin:6px 0 0; padding-left:20px; font-weight:400; color:#1f2328; }
  .banner label { margin-right:8px; }
  .banner input { font:inherit; padding:3px 8px; min-width:260px; }
  .banner p { margin:6px 0 0; font-weight:400; color:#1f2328; font-size:13px; }
  .muted { color:var(--mute); }
  h2 .sum { text-transform:none; letter-spacing:0; font-weight:400; margin-left:8px; }
  h2 .sum b { font-weight:600; }
  .c-ok { color:var(--ok); } .c-bad { color:var(--bad); } .c-warn { color:var(--warn); }
  .err { color:var(--bad); }
  dialog { border:1px solid var(--line); border-radius:8px; padding:18px 20px; min-width:340px; }
  dialog::backdrop { background:rgba(31,35,40,.45); }
  dialog h2 { font-size:16px; text-transform:none; letter-spacing:0; color:#1f2328; }
  dialog label { display:block; font-weight:600; margin:10px 0 4px; }
  dialog input, dialog select { font:inherit; width:100%; padding:4px 8px; }
  dialog .row { display:flex; gap:8px; justify-content:flex-end; margin-top:16px; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>geodns</h1><span class="meta" id="meta">connecting…</span>
  <span class="live" id="live" role="status"><span class="dot"></span>waiting for data</span>
  <button type="button" class="btn" id="reload-button">Reload configuration</button>
  <button type="button" class="btn" id="forget-token" hidden>Forget token</button>
</header>
<main>
  <form class="banner warn" id="token-form" hidden>
    <label for="token">Control token</label>
    <input id="token" name="token" type="password" autocomplete="off" required>
    <button type="submit" class="btn primary" id="token-submit">Use token</button>
    <p id="token-why">This endpoint needs its bearer token.</p>
    <p>Kept in this tab's session storage only and sent as <span class="mono">Authorization: Bearer</span>; never put in a URL.</p>
  </form>
  <div class="banner" id="result" role="status" aria-live="polite" hidden></div>
  <div class="banner ok" id="reload" hidden></div>
  <section class="wide" aria-labelledby="dcs-title"><h2 id="dcs-title">Datacenters <span id="dcsum" class="sum"></span></h2>
    <div class="cards" id="dcs"></div></section>
  <section class="wide"><h2>Health checks</h2>
    <table><thead><tr><th>Address</th><th>Check</th><th>State</th><th>Since</th>
    <th>Last result</th><th>Latency</th><th>Used by</th></tr></thead><tbody id="targets"></tbody></table>
    <p id="unchecked" class="muted"></p>
  </section>
  <section><h2>Recent state changes</h2>
    <table><thead><tr><th>Time</th><th>Target</th><th>Change</th><th>Why</th></tr></thead>
    <tbody id="transitions"></tbody></table></section>
  <section><h2>Zones</h2>
    <table><thead><tr><th>Zone</th><th>Serial</th><th>Records</th><th>Steered names</th></tr></thead>
    <tbody id="zones"></tbody></table>
    <h2 class="gap">Overrides</h2><div id="overrides"></div>
    <h2 class="gap">Traffic</h2><div id="traffic" class="muted"></div></section>
  <section aria-labelledby="xdp-title"><h2 id="xdp-title">AF_XDP</h2><div id="xdp"></div></section>
</main>
<dialog id="drain-dialog" aria-labelledby="drain-title">
  <form id="drain-form">
    <h2 id="drain-title">Drain</h2>
    <p id="drain-what" class="muted"></p>
    <label for="drain-reason">Reason</label>
    <input id="drain-reason" name="reason" maxlength="500" autocomplete="off"
           placeholder="INC-4411 planned maintenance">
    <label for="drain-expires">Expires</label>
    <select id="drain-expires" name="expires">
      <option value="15m">in 15 minutes</option>
      <option value="1h" selected>in 1 hour</option>
      <option value="4h">in 4 hours</option>
      <option value="1d">in 1 day</option>
      <option value="">never (until undrained)</option>
    </select>
    <div class="row">
      <button type="button" class="btn" id="drain-cancel">Cancel</button>
      <button type="submit" class="btn danger" id="drain-confirm">Drain</button>
    </div>
  </form>
</dialog>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "geodns-control-token";
// An old bookmark with ?token=: keep the token for this tab and take it out of the URL.
(() => {
  const u = new URL(location.href);
  const t = u.searchParams.get("token");
  if (t === null) return;
  sessionStorage.setItem(TOKEN_KEY, t);
  u.searchParams.delete("token");
  history.replaceState(null, "", u.pathname + u.search + u.hash);
})();
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

// Every request says it comes from this page (X-Geodns-Request: a cross-site form cannot send
// it) and carries the token when there is one. Paths are relative, so the page also works
// behind a reverse proxy under a prefix.
async function api(method, path, body) {
  const headers = {"X-Geodns-Request": "1"};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const init = {method, headers, cache: "no-store", credentials: "same-origin"};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* plain text (parse errors, 408, 503) */ }
  return {status: r.status, ok: r.ok, json, text,
          error: (json && json.error) || text.trim() || ("HTTP " + r.status)};
}

// Replaces an element's content only when it changed, and keeps the keyboard focus on the
// same control: the page redraws every 2 s and must not steal focus from someone tabbing.
const drawn = new WeakMap();
function setHTML(el, html) {
  if (drawn.get(el) === html) return;
  const f = document.activeElement;
  const key = f && el.contains(f) ? f.dataset.key : null;
  el.innerHTML = html;
  drawn.set(el, html);
  if (key) {
    const again = [...el.querySelectorAll("[data-key]")].find(b => b.dataset.key === key);
    if (again) again.focus();
  }
}

function actionButton(op, kind, target, label, small, forcedUp) {
  const text = op === "drain" ? "Drain" : forcedUp ? "Clear override" : "Undrain";
  return `<button type="button" class="btn ${small ? "small " : ""}${op === "drain" ? "danger" : ""}"
    data-act="${op}" data-kind="${kind}" data-target="${esc(target)}" data-label="${esc(label)}"
    data-key="${op}|${kind}|${esc(target)}" aria-label="${text} ${esc(label)}">${text}</button>`;
}

let lastStatus = null;
function render(s) {
  lastStatus = s;
  $("meta").textContent = `v${s.version} · started ${ago(s.started)} · GeoIP: ${s.geoip || "none"}` +
    (s.health === "warming" ? " · health: warming (first round of checks not complete)" : "");
  const lr = s.last_reload || {};
  const rb = $("reload");
  rb.hidden = false;
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
  const byAddr = {};
  for (const t of s.targets || []) (byAddr[t.address] = byAddr[t.address] || []).push(t);
  const overrides = s.overrides || [];
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
      const ov = overrides.find(o => o.datacenter === dc.slot) ||
        overrides.find(o => o.datacenter === dc.key);
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
      // Drain names the datacenter ("iad" for a shared one: every zone); undrain clears the
      // override in effect, which may be the zone's own or the shared one.
      const dcLabel = `datacenter ${dc.name} (${z.origin})`;
      const act = ov ? actionButton("undrain", "datacenter", ov.datacenter,
                                    `datacenter ${ov.datacenter}`, false, ov.state === "up")
                     : actionButton("drain", "datacenter", dc.key, dcLabel, false);
      cards += `<div class="card ${cls}" data-dc="${esc(dc.slot)}" role="group" aria-label="${esc(dcLabel)}">
        <div class="head"><div><div class="name">${esc(dc.name)}</div><div class="zone">${esc(z.origin)}</div></div>
        <div>${pill(cls, label)}</div></div>` +
        addrs.map(a => {
          const aov = overrides.find(o => o.address === a.address);
          const state = aov ? (aov.state === "down" ? pill("bad", "drained") : pill("warn", "forced up"))
                            : a.up ? pill("ok", "up") : pill("bad", "down");
          return `<div class="addr mono" data-address="${esc(a.address)}"><span class="ip">${esc(a.address)}</span>${state}` +
            actionButton(aov ? "undrain" : "drain", "address", a.address, `address ${a.address}`, true,
                         aov && aov.state === "up") + `</div>`;
        }).join("") +
        `<div class="why">${why}</div><div class="actions">${act}</div></div>`;
    }
  }
  setHTML($("dcs"), cards || '<span class="muted">no datacenters</span>');
  const sumClass = {UP: "c-ok", DEGRADED: "c-warn", DOWN: "c-bad", DRAINED: "c-bad", "FORCED UP": "c-warn"};
  $("dcsum").innerHTML = Object.entries(counts).filter(([k, n]) => n > 0)
      .map(([k, n]) => `<b class="${sumClass[k]}">${n} ${k.toLowerCase()}</b>`).join(" · ");
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
      <td class="mono nowrap">${esc(t.address)} <span class="muted">${esc(t.check)}</span></td>
      <td>${pill(stateClass(t.from), t.from)} → ${pill(stateClass(t.to), t.to)}</td>
      <td class="muted">${esc(t.reason)}</td></tr>`).join("") ||
      '<tr><td colspan="4" class="muted">no state changes yet</td></tr>';
  $("zones").innerHTML = (s.zones || []).map(z => `<tr><td class="mono nowrap" title="${esc(z.file)}">${esc(z.origin)}</td>
      <td class="mono">${z.serial}</td><td>${z.records}</td>
      <td class="mono">${esc((z.steered || []).join(", ")) || '<span class="muted">—</span>'}</td></tr>`).join("");
  $("overrides").innerHTML = overrides.length ? "<table>" + overrides.map(o => `<tr><td class="mono">${esc(o.datacenter || o.address)}</td>
      <td>${pill(o.state === "down" ? "bad" : "warn", o.state)}</td>
      <td>${o.expires ? "until " + clock(o.expires) : "until cleared"}</td><td class="muted">${esc(o.reason)}</td></tr>`).join("") + "</table>"
      : '<span class="muted">none</span>';
  const q = s.queries || {};
  $("traffic").textContent = `${q.udp || 0} UDP + ${q.tcp || 0} TCP queries, ${q.steered || 0} steered answers, ` +
      `${q.failed_open || 0} failed open, ${q.truncated || 0} truncated · ${s.reloads_total} reloads (${s.reload_errors_total} with errors)`;
  // One row per interface and queue; generic mode and drops stand out (both cost answers).
  const x = s.xdp || {};
  setHTML($("xdp"), !x.enabled ? '<span class="muted">off: the kernel\'s sockets answer UDP ([server] xdp not set)</span>' :
    "<table><thead><tr><th>Interface</th><th>Queue</th><th>Mode</th><th>Socket</th><th>Received</th>" +
    "<th>Sent</th><th>Dropped</th><th>Malformed</th></tr></thead><tbody>" +
    (x.queues || []).map(r => `<tr data-xdp="${esc(r.interface)}/${r.queue}"><td class="mono">${esc(r.interface)}</td>
      <td>${r.queue}</td><td>${pill(r.mode === "native" ? "ok" : "warn", r.mode)}</td><td>${esc(r.socket)}</td>
      <td>${r.received}</td><td>${r.sent}</td><td class="${r.dropped ? "err" : ""}">${r.dropped}</td>
      <td>${r.malformed}</td></tr>`).join("") + "</tbody></table>");
}

function askForToken(why) {
  $("token-why").textContent = why;
  const form = $("token-form");
  if (form.hidden) {
    form.hidden = false;
    $("token").focus();
  }
}
function showTokenState() {
  $("forget-token").hidden = !sessionStorage.getItem(TOKEN_KEY);
}

async function refresh() {
  showTokenState();
  try {
    const r = await api("GET", "status");
    if (r.status === 401) {
      askForToken(sessionStorage.getItem(TOKEN_KEY) ?
          `The token was refused (HTTP 401: ${r.error}).` : `This endpoint needs its bearer token (HTTP 401: ${r.error}).`);
      $("live").innerHTML = `<span class="dot warn"></span>token needed`;
      return;
    }
    if (!r.ok || !r.json) throw new Error(`HTTP ${r.status}: ${r.error}`);
    $("token-form").hidden = true;
    render(r.json);
    $("live").innerHTML = `<span class="dot ok"></span>live · updated ${new Date().toLocaleTimeString([], {hour12: false})}`;
  } catch (e) {
    $("live").innerHTML = `<span class="dot bad"></span>cannot read /status (${esc(e.message)})`;
  }
}

// The outcome of an action, kept until the next one: "ok" or the server's own error text.
function showResult(ok, html) {
  const el = $("result");
  el.className = "banner " + (ok ? "ok" : "bad");
  el.innerHTML = html;
  el.dataset.outcome = ok ? "ok" : "error";
  el.hidden = false;
}
function failed(what, r) {
  showResult(false, `${esc(what)} failed: HTTP ${r.status}: <span class="mono">${esc(r.error)}</span>`);
  if (r.status === 401) askForToken(`The server refused the token (HTTP 401: ${r.error}).`);
}

let busy = false;
async function run(what, fn) {
  if (busy) return;
  busy = true;
  try {
    await fn();
  } catch (e) {
    showResult(false, `${esc(what)} failed: ${esc(e.message)}`);
  } finally {
    busy = false;
    await refresh();
  }
}

let pending = null;  // {kind, target, label, opener}
function openDrain(button) {
  pending = {kind: button.dataset.kind, target: button.dataset.target, label: button.dataset.label,
             opener: button.dataset.key};
  $("drain-title").textContent = "Drain " + pending.label;
  $("drain-what").textContent = pending.kind === "datacenter" ?
      "Its addresses leave the answers until it is undrained or the drain expires." :
      "This address leaves the answers until it is undrained or the drain expires.";
  $("drain-confirm").textContent = "Drain " + pending.label;
  $("drain-dialog").showModal();
  $("drain-reason").focus();
}
function closeDrain() {
  $("drain-dialog").close();
  const opener = pending && [...document.querySelectorAll("[data-key]")].find(b => b.dataset.key === pending.opener);
  pending = null;
  if (opener) opener.focus();
}

$("drain-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (!pending) return;
  const p = pending;
  const reason = $("drain-reason").value.trim();
  const expires = $("drain-expires").value;
  closeDrain();
  run("Drain " + p.label, async () => {
    const body = {[p.kind]: p.target, state: "down", reason: reason || "drained from the status page"};
    if (expires) body.expires = expires;
    const r = await api("POST", "override", body);
    if (!r.ok) return failed("Drain " + p.label, r);
    showResult(true, `ok: ${esc(p.label)} drained` + (expires ? ` for ${esc(expires)}` : " until undrained") +
               (reason ? ` (${esc(reason)})` : ""));
    $("drain-reason").value = "";
  });
});
$("drain-cancel").addEventListener("click", closeDrain);
$("drain-dialog").addEventListener("cancel", () => { pending = null; });

$("dcs").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-act]");
  if (!b) return;
  if (b.dataset.act === "drain") return openDrain(b);
  const label = b.dataset.label;
  run("Undrain " + label, async () => {
    const r = await api("POST", "override/clear", {[b.dataset.kind]: b.dataset.target});
    if (!r.ok) return failed("Undrain " + label, r);
    showResult(true, `ok: override on ${esc(label)} cleared`);
  });
});

$("reload-button").addEventListener("click", () => {
  const button = $("reload-button");
  button.disabled = true;
  button.textContent = "Reloading…";
  run("Reload", async () => {
    try {
      const r = await api("POST", "reload");
      const j = r.json || {};
      if (r.status === 200) {
        showResult(true, `ok: reload done, ${j.zones} zone(s) serving (${j.zones_rebuilt || 0} rebuilt, ` +
                   `${j.zones_reused || 0} reused, ${(j.duration_s || 0).toFixed(2)} s)`);
      } else if (r.status === 422) {
        showResult(false, "Reload reported errors; the previous version of each failed file keeps serving" +
                   "<ul>" + (j.errors || []).map(e => `<li class="mono">${esc(e)}</li>`).join("") + "</ul>");
      } else {
        failed("Reload", r);
      }
    } finally {
      button.disabled = false;
      button.textContent = "Reload configuration";
    }
  });
});

$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const t = $("token").value.trim();
  if (!t) return;
  sessionStorage.setItem(TOKEN_KEY, t);
  $("token").value = "";
  refresh();
});
$("forget-token").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  refresh();
});

refresh();
setInterval(() => { if (!busy) refresh(); }, 2000);
</script>
</body>
</html>
)PAGE";

}  // namespace

std::string_view status_page_html() {
  return {kPage, sizeof(kPage) - 1};
}

namespace {

// 'sha256-BASE64' of the text between `open` and `close` in the page (CSP 3 source hashes).
std::string block_hash(std::string_view open, std::string_view close) {
  const std::string_view page = status_page_html();
  const size_t from = page.find(open) + open.size();
  const std::string_view text = page.substr(from, page.find(close, from) - from);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), static_cast<int>(length));
  return "'sha256-" +
         std::string(reinterpret_cast<const char*>(b64.data()), static_cast<size_t>(n)) + "'";
}

}  // namespace

std::string_view status_page_csp() {
  // Hashes rather than 'unsafe-inline': an injected <script> or style attribute would not
  // run even if some status text escaped the page's esc().
  static const std::string csp = "default-src 'none'; script-src " +
                                 block_hash("<script>", "</script>") + "; style-src " +
                                 block_hash("<style>", "</style>") +
                                 "; connect-src 'self'; base-uri 'none'; form-action 'none'; "
                                 "frame-ancestors 'none'";
  return csp;
}

}  // namespace geodns::ops
