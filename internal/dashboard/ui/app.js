// graphhook's dashboard: plain JavaScript over the admin API (/_graphhook/...). The
// session cookie authenticates every call; calls that change state add the CSRF token
// the page was rendered with. Everything shown is inserted as text, never as HTML:
// payloads and names come from whoever uses the server.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
const profile = document.body.dataset.profile;

// el builds an element: el("td", {class: "mono"}, "text", child, ...).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function status(msg, isError) {
  const s = document.getElementById("status");
  s.textContent = msg || "";
  s.className = isError ? "error" : "";
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  const opts = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch("/_graphhook/" + path, opts);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (r.status === 401) {
    // The session ended (expired, or the server's admin key changed).
    location.href = "/_graphhook/";
  }
  if (!r.ok) {
    const msg = (data && data.error && data.error.message) || (r.status + " " + r.statusText);
    throw new Error(method + " /_graphhook/" + path + ": " + msg);
  }
  return data;
}

// act runs an action from a button, reporting its outcome in the status line.
async function act(label, fn) {
  try {
    status(label + "…");
    await fn();
    status(label + ": done");
  } catch (e) {
    status(e.message, true);
  }
}

function copyButton(text) {
  return el("button", { type: "button", class: "copy", onclick: () => navigator.clipboard.writeText(text).then(() => status("copied")) }, "copy");
}

function enc(s) { return encodeURIComponent(s); }

// render replaces a table body's rows only when what they show changed: the polled
// tables then keep their nodes (and a button under the pointer) between polls.
const shown = new WeakMap();
function render(tbody, data, build) {
  const key = JSON.stringify(data);
  if (shown.get(tbody) === key) return;
  shown.set(tbody, key);
  tbody.replaceChildren(...build());
}

// ---- tenants, apps and users

let tenants = [];
const usersByTenant = new Map();

function fillTriggerUsers() {
  const users = usersByTenant.get(document.getElementById("trigger-tenant").value) || [];
  document.getElementById("trigger-user").replaceChildren(el("option", { value: "" }, "trigger's choice"),
    ...users.map(u => el("option", { value: u.id }, u.userPrincipalName)));
}

async function loadTenants() {
  const data = await api("GET", "tenants");
  tenants = data.value;
  const list = document.getElementById("tenant-list");
  list.replaceChildren();
  const sel = document.getElementById("trigger-tenant");
  sel.replaceChildren(...tenants.map(t => el("option", { value: t.id }, t.displayName + " (" + t.domain + ")")));
  for (const t of tenants) {
    const [apps, users] = await Promise.all([api("GET", "tenants/" + enc(t.id) + "/apps"), api("GET", "tenants/" + enc(t.id) + "/users")]);
    usersByTenant.set(t.id, users.value);
    fillTriggerUsers();
    list.append(el("h3", {}, t.displayName + " · " + t.domain + " · ", el("code", {}, t.id)));
    list.append(el("table", { class: "apps" },
      el("thead", {}, el("tr", {}, el("th", {}, "app"), el("th", {}, "client id"), el("th", {}, "client secret"), el("th", {}, "permissions"), el("th", {}, "token command"))),
      el("tbody", {}, ...apps.value.map(a => el("tr", { "data-client-id": a.clientId },
        el("td", {}, a.displayName),
        el("td", { class: "mono" }, a.clientId),
        el("td", { class: "mono" + (a.clientSecret ? " secret" : "") }, a.clientSecret || (a.publicClient ? "none (public client)" : a.hasSecret ? "hidden" : "none")),
        el("td", {}, [...a.applicationPermissions.map(p => p + " (app)"), ...a.delegatedPermissions].join(", ")),
        el("td", {}, a.tokenCommand ? el("pre", {}, a.tokenCommand) : "", a.tokenCommand ? copyButton(a.tokenCommand) : ""))))));
    list.append(el("table", { class: "users" },
      el("thead", {}, el("tr", {}, el("th", {}, "user"), el("th", {}, "id"), el("th", {}, "password"), el("th", {}, "token command"))),
      el("tbody", {}, ...users.value.map(u => el("tr", {},
        el("td", {}, u.userPrincipalName, el("br"), u.displayName),
        el("td", { class: "mono" }, u.id),
        el("td", { class: "mono" + (u.password ? " secret" : "") }, u.password || "hidden"),
        el("td", {}, u.tokenCommand ? el("pre", {}, u.tokenCommand) : "", u.tokenCommand ? copyButton(u.tokenCommand) : ""))))));
  }
}

// ---- subscriptions

async function loadSubscriptions() {
  const data = await api("GET", "subscriptions");
  render(document.getElementById("subscription-rows"), data.value, () => data.value.map(s => {
    const path = "subscriptions/" + enc(s.id);
    const lifecycle = ev => el("button", { type: "button", "data-lifecycle": ev, onclick: () => act(ev + " for " + s.id, async () => {
      await api("POST", path + "/lifecycle", { event: ev });
      await loadSubscriptions();
    }) }, ev);
    return el("tr", { "data-subscription-id": s.id },
      el("td", { class: "mono" }, s.id),
      el("td", { class: "mono" }, s.tenantId || ""),
      el("td", { class: "mono" }, s.resource),
      el("td", {}, s.changeType),
      el("td", { class: "mono" }, s.notificationUrl),
      el("td", {}, s.expirationDateTime),
      el("td", {},
        lifecycle("reauthorizationRequired"), lifecycle("subscriptionRemoved"), lifecycle("missed"),
        el("button", { type: "button", "data-action": "expire", onclick: () => act("expire " + s.id, async () => {
          await api("POST", path + "/expire");
          await loadSubscriptions();
        }) }, "expire now"),
        el("button", { type: "button", "data-action": "replay", onclick: () => act("replay " + s.id, async () => {
          const r = await api("POST", path + "/replay", {});
          status("replayed " + r.value.length + " notification(s)");
          await loadDeliveries();
        }) }, "replay all")));
  }));
}

// ---- deliveries

const expanded = new Set();

function lastAttempt(d) {
  return d.attempts && d.attempts.length ? d.attempts[d.attempts.length - 1] : null;
}

function deliveryRows(d) {
  const last = lastAttempt(d);
  const what = d.kind === "lifecycle" ? "lifecycle: " + d.lifecycleEvent : d.kind + ": " + d.changeType;
  const row = el("tr", { "data-delivery-id": d.id, "data-kind": d.kind, "data-state": d.state, "data-replay-of": d.replayOf || "" },
    el("td", { class: "mono" }, d.id, d.replayOf ? el("div", {}, "replay of " + d.replayOf) : ""),
    el("td", {}, d.createdDateTime),
    el("td", {}, what),
    el("td", { class: "state-" + d.state }, d.state, d.nextAttemptDateTime ? el("div", {}, "next " + d.nextAttemptDateTime) : ""),
    el("td", {}, d.attempt),
    el("td", {}, last ? (last.injected ? "injected " : "") + (last.statusCode ?? (last.error || "no answer")) + " · " + last.latencyMs + " ms" : ""),
    el("td", { class: "mono" }, d.url),
    el("td", { class: "mono" }, d.subscriptionId),
    el("td", {},
      el("button", { type: "button", "data-action": "details", onclick: () => {
        if (expanded.has(d.id)) expanded.delete(d.id); else expanded.add(d.id);
        loadDeliveries();
      } }, expanded.has(d.id) ? "hide" : "details"),
      el("button", { type: "button", "data-action": "replay", onclick: () => act("replay " + d.id, async () => {
        await api("POST", "deliveries/" + enc(d.id) + "/replay");
        await loadDeliveries();
      }) }, "replay")));
  if (!expanded.has(d.id)) return [row];
  const attempts = el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "started"), el("th", {}, "status"), el("th", {}, "latency"), el("th", {}, "error"))),
    el("tbody", {}, ...(d.attempts || []).map(a => el("tr", {},
      el("td", {}, a.number), el("td", {}, a.startedDateTime), el("td", {}, (a.injected ? "injected " : "") + (a.statusCode ?? "")),
      el("td", {}, a.latencyMs + " ms"), el("td", {}, a.error || "")))));
  const detail = el("tr", { class: "detail" }, el("td", { colspan: 9 },
    el("div", {}, "resource ", el("code", {}, d.resource || ""), d.error ? el("span", { class: "error" }, " · " + d.error) : ""),
    attempts, el("pre", {}, JSON.stringify(d.payload, null, 2))));
  return [row, detail];
}

async function loadDeliveries() {
  const f = new FormData(document.getElementById("delivery-filter"));
  const q = new URLSearchParams();
  for (const [k, v] of f) if (v) q.set(k, v);
  q.set("$top", "50");
  const data = await api("GET", "deliveries?" + q.toString());
  render(document.getElementById("delivery-rows"), [data.value, [...expanded]], () => data.value.flatMap(deliveryRows));
}

// ---- trigger

async function loadTrigger() {
  const data = await api("GET", "trigger");
  const box = document.getElementById("trigger-buttons");
  box.replaceChildren(...data.value.map(t => el("div", { class: "trigger-type" },
    el("strong", {}, t.type), " ",
    ...t.changeTypes.map(ct => el("button", { type: "button", "data-trigger": t.type + ":" + ct, onclick: () => act("trigger " + t.type + " " + ct, async () => {
      const body = { type: t.type, changeType: ct };
      const tenant = document.getElementById("trigger-tenant").value;
      if (tenant) body.tenantId = tenant;
      const user = document.getElementById("trigger-user").value;
      if (user) body.userId = user;
      const r = await api("POST", "trigger", body);
      document.getElementById("trigger-result").textContent = JSON.stringify(r, null, 2);
      await loadDeliveries();
    }) }, ct)))));
}

// ---- clock

async function loadClock() {
  const c = await api("GET", "clock");
  document.getElementById("clock-now").textContent = c.now;
  document.getElementById("clock-offset").textContent = c.offset;
}

// ---- faults

async function loadFaults() {
  const data = await api("GET", "faults");
  render(document.getElementById("fault-rows"), data.value, () => data.value.map(f => el("tr", { "data-fault-id": f.id },
    el("td", { class: "mono" }, f.id), el("td", { class: "mono" }, f.url),
    el("td", {}, f.mode + (f.statusCode ? " " + f.statusCode : "") + (f.delay ? " " + f.delay : "")),
    el("td", {}, f.remaining ?? ""), el("td", {}, f.expiresDateTime || ""),
    el("td", {}, el("button", { type: "button", onclick: () => act("remove fault " + f.id, async () => {
      await api("DELETE", "faults/" + enc(f.id));
      await loadFaults();
    }) }, "remove")))));
}

function faultBody(form) {
  const f = new FormData(form);
  const body = { url: f.get("url"), mode: f.get("mode") };
  if (body.mode === "status") body.statusCode = Number(f.get("statusCode"));
  if (body.mode === "slow" && f.get("delay")) body.delay = f.get("delay");
  if (f.get("count")) body.count = Number(f.get("count"));
  if (f.get("duration")) body.duration = f.get("duration");
  return body;
}

// ---- start

function every(ms, fn) {
  const run = () => fn().catch(e => status(e.message, true)).finally(() => setTimeout(run, ms));
  run();
}

document.addEventListener("DOMContentLoaded", () => {
  if (profile !== "dev") {
    document.getElementById("clock-advance").hidden = true;
  }
  document.getElementById("clock-advance").addEventListener("submit", ev => {
    ev.preventDefault();
    const duration = new FormData(ev.target).get("duration");
    act("advance the clock by " + duration, async () => {
      await api("POST", "clock/advance", { duration });
      await loadClock();
    });
  });
  document.getElementById("fault-form").addEventListener("submit", ev => {
    ev.preventDefault();
    act("add a fault", async () => {
      await api("POST", "faults", faultBody(ev.target));
      await loadFaults();
    });
  });
  document.getElementById("delivery-filter").addEventListener("input", () => loadDeliveries().catch(e => status(e.message, true)));
  document.getElementById("delivery-filter").addEventListener("submit", ev => ev.preventDefault());
  document.getElementById("trigger-tenant").addEventListener("change", fillTriggerUsers);
  document.getElementById("subscriptions-refresh").addEventListener("click", () => act("refresh", loadSubscriptions));

  for (const load of [loadTenants, loadTrigger, loadFaults]) {
    load().catch(e => status(e.message, true));
  }
  every(5000, loadClock);
  every(5000, loadSubscriptions);
  every(1500, async () => {
    if (document.getElementById("delivery-live").checked) await loadDeliveries();
  });
});
