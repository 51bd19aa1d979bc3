// telewire control page: renders the state pushed over /ws and sends faults to /api/faults.
"use strict";

// Every fault of the admin API. `apis` limits one to some APIs; `server` marks faults that
// act on the whole simulator (no per-client button).
const FAULTS = [
  { name: "latency", title: "delay outbound frames by latency ms (± jitter ms)",
    spec: (p) => `latency=${p.latency}ms` + (Number(p.jitter) > 0 ? `,jitter=${p.jitter}ms` : "") },
  { name: "drop", title: "drop this fraction of data frames", spec: (p) => `drop=${p.fraction}` },
  { name: "duplicate", title: "send this fraction of data frames twice", spec: (p) => `duplicate=${p.fraction}` },
  { name: "stall", title: "keep the connection open, send no data (stall ms; 0: until cleared)",
    spec: (p) => (Number(p.stall) > 0 ? `stall=${p.stall}ms` : "stall") },
  { name: "disconnect", title: "drop the TCP connection without a close frame", spec: () => "disconnect" },
  { name: "close", title: "close with the code and reason below",
    spec: (p) => `close=${p.code}` + (p.reason ? `:${p.reason}` : "") },
  { name: "malformed", title: "send one malformed frame of the kind below", spec: (p) => `malformed=${p.malformed}` },
  { name: "token-expiry", title: "expire the token now", spec: () => "token-expiry" },
  { name: "session-timeout", apis: ["mosaic"], title: "Mosaic session timeout (all-zero key)", spec: () => "session-timeout" },
  { name: "controller-restart", apis: ["mosaic"], title: "Mosaic controller restart (new key)", spec: () => "controller-restart" },
  { name: "revoke-token", apis: ["webmacs"], title: "revoke the WebMACS token", spec: () => "revoke-token" },
  { name: "restart", server: true, title: "drop every client; the port is back after restart ms",
    spec: (p) => (Number(p.restart) > 0 ? `restart=${p.restart}ms` : "restart") },
];

// The parameter form of each API: [name, label, default, kind].
const PARAMS = [
  ["latency", "latency ms", "250", "number"],
  ["jitter", "jitter ms", "0", "number"],
  ["fraction", "fraction", "0.5", "text"],
  ["stall", "stall ms", "0", "number"],
  ["code", "close code", "4000", "number"],
  ["reason", "reason", "closed from the control page", "text"],
  ["malformed", "malformed", "truncated", ["truncated", "bad-utf8", "wrong-type", "invalid-json"]],
  ["restart", "restart ms", "2000", "number"],
];

const sims = new Map();
const main = document.getElementById("simulators");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The faults the simulator's catalog lists (the built-in list when it sends none).
const catalogs = new Map();

function faultsFor(api, perClient) {
  const catalog = catalogs.get(api);
  return FAULTS.filter((f) => (catalog ? catalog.has(f.name) : !f.apis || f.apis.includes(api)) &&
    !(perClient && f.server));
}

function describe(api, fault) {
  const catalog = catalogs.get(api);
  const entry = catalog && catalog.get(fault.name);
  return entry ? `${entry.usage}: ${entry.description}` : fault.title;
}

function params(api) {
  const values = {};
  for (const [name] of PARAMS) {
    const input = document.getElementById(`p-${api}-${name}`);
    values[name] = input ? input.value.trim() : "";
  }
  return values;
}

async function sendFault(api, fault, client) {
  const spec = fault.spec(params(api));
  const body = { api, fault: spec };
  if (client !== null) body.client = client;
  await report(api, `${spec} → ${client === null ? `every ${api} client` : `client ${client}`}`,
    fetch("/api/faults", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
}

async function clearFaults(api) {
  await report(api, "clear lasting faults",
    fetch("/api/faults", { method: "DELETE", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ api }) }));
}

async function report(api, what, request) {
  const sim = sims.get(api);
  if (!sim) return;
  let text;
  let failed = true;
  try {
    const response = await request;
    const answer = await response.text();
    failed = !response.ok;
    text = `${what}: ${response.status} ${answer}`;
  } catch (err) {
    text = `${what}: ${err}`;
  }
  sim.result.textContent = text;
  sim.result.className = failed ? "result error" : "result";
}

function faultButtons(api, client) {
  const box = el("div", { class: "faults" });
  for (const fault of faultsFor(api, client !== null)) {
    const button = el("button", {
      type: "button", title: describe(api, fault),
      "data-fault": fault.name, "data-api": api, "data-client": client === null ? "all" : String(client),
    }, fault.name);
    button.addEventListener("click", () => sendFault(api, fault, client));
    box.append(button);
  }
  return box;
}

function paramForm(api) {
  const form = el("form", { class: "params" });
  form.addEventListener("submit", (e) => e.preventDefault());
  for (const [name, label, value, kind] of PARAMS) {
    let input;
    if (Array.isArray(kind)) {
      input = el("select", { id: `p-${api}-${name}`, name });
      for (const option of kind) input.append(el("option", { value: option }, option));
      input.value = value;
    } else {
      input = el("input", { id: `p-${api}-${name}`, name, type: kind, value });
      if (name === "reason") input.className = "wide";
    }
    form.append(el("label", {}, label, input));
  }
  return form;
}

function createSim(data) {
  const api = data.api;
  if (Array.isArray(data.faults) && data.faults.length) {
    catalogs.set(api, new Map(data.faults.map((entry) => [entry.name, entry])));
  }
  const sim = {
    api,
    addr: el("span", { class: "addr" }),
    info: el("dl"),
    clients: el("tbody"),
    noClients: el("p", { class: "empty" }, "no client connected"),
    preview: el("ol", { class: "preview" }),
    result: el("div", { class: "result", "data-result": api }),
    active: el("p", { class: "active", "data-active": api }),
    rows: new Map(),
  };
  const clear = el("button", { type: "button", class: "clear", "data-clear": api, title: "clear every lasting fault of this simulator" }, "clear faults");
  clear.addEventListener("click", () => clearFaults(api));
  const table = el("table", {},
    el("thead", {}, el("tr", {}, ...["id", "path", "peer", "auth", "subscriptions", "in/s", "out/s", "frames in/out", "dropped", "faults"].map((h) => el("th", {}, h)))),
    sim.clients);
  sim.root = el("section", { class: "sim", "data-api": api },
    el("div", { class: "sim-head" }, el("h2", {}, api), sim.addr),
    sim.info,
    el("h3", {}, "clients"), el("div", { class: "table-wrap" }, table), sim.noClients,
    el("h3", {}, "faults for every client of " + api),
    paramForm(api), faultButtons(api, null), clear, sim.result, sim.active,
    el("h3", {}, "latest data (sampled)"), sim.preview);
  main.append(sim.root);
  sims.set(api, sim);
  return sim;
}

function renderInfo(sim, data) {
  const lines = [];
  for (const url of data.ws_urls) lines.push(["ws", url]);
  for (const http of data.http) lines.push(["http", http]);
  lines.push(["login", data.credentials], ["token", data.token]);
  for (const note of data.notes) lines.push(["note", note]);
  for (const b of data.breaks) lines.push(["BROKEN", b]);
  const key = JSON.stringify(lines);
  if (sim.infoKey === key) return;
  sim.infoKey = key;
  sim.info.replaceChildren(...lines.flatMap(([k, v]) => [el("dt", {}, k), el("dd", k === "BROKEN" ? { class: "broken" } : {}, v)]));
}

function createRow(sim, client) {
  const cells = {};
  const row = el("tr", { "data-client": String(client.id), "data-api": sim.api, "data-peer": client.peer });
  for (const name of ["id", "path", "peer", "auth", "subscriptions", "in_per_s", "out_per_s", "frames", "dropped"]) {
    cells[name] = el("td", ["in_per_s", "out_per_s", "frames", "dropped"].includes(name) ? { class: "num" } : {});
    row.append(cells[name]);
  }
  row.append(el("td", {}, faultButtons(sim.api, client.id)));
  return { row, cells };
}

function renderClients(sim, clients) {
  const seen = new Set();
  let previous = null;
  for (const client of clients) {
    seen.add(client.id);
    let entry = sim.rows.get(client.id);
    if (!entry) {
      entry = createRow(sim, client);
      sim.rows.set(client.id, entry);
    }
    const c = entry.cells;
    c.id.textContent = client.id;
    c.path.textContent = client.path;
    c.peer.textContent = client.peer;
    c.auth.textContent = client.auth;
    c.subscriptions.textContent = client.subscriptions.length ? client.subscriptions.join(", ") : "—";
    c.in_per_s.textContent = client.in_per_s.toFixed(1);
    c.out_per_s.textContent = client.out_per_s.toFixed(1);
    c.frames.textContent = `${client.frames_in} / ${client.frames_out}`;
    c.dropped.textContent = client.dropped;
    c.dropped.className = client.dropped > 0 ? "num dropped-some" : "num";
    // Keep rows in id order without re-creating them (buttons stay clickable).
    const expected = previous ? previous.nextSibling : sim.clients.firstChild;
    if (expected !== entry.row) sim.clients.insertBefore(entry.row, expected);
    previous = entry.row;
  }
  for (const [id, entry] of sim.rows) {
    if (!seen.has(id)) {
      entry.row.remove();
      sim.rows.delete(id);
    }
  }
  sim.noClients.hidden = clients.length > 0;
}

function renderPreview(sim, frames) {
  if (!frames.length) {
    sim.preview.replaceChildren(el("li", { class: "empty" }, "no data frame sampled yet"));
    return;
  }
  sim.preview.replaceChildren(...frames.slice().reverse().map((f) => {
    const time = new Date(f.at_unix_ms).toISOString().slice(11, 23);
    const meta = `${time} → ${f.client} ${f.kind} ${f.len} B${f.truncated ? " (cut)" : ""}`;
    return el("li", {}, el("span", { class: "meta" }, meta), f.text !== undefined ? f.text : f.hex);
  }));
}

function render(state) {
  for (const data of state.simulators) {
    const sim = sims.get(data.api) || createSim(data);
    sim.addr.textContent = data.addr;
    renderInfo(sim, data);
    renderClients(sim, data.clients);
    renderPreview(sim, data.preview);
    const active = (data.active || []).map((a) => `${a.fault} on ${a.client === null ? "every client" : `client ${a.client}`}`);
    sim.active.textContent = active.length ? `in effect: ${active.join("; ")}` : "no lasting fault in effect";
  }
  const clients = state.simulators.reduce((n, s) => n + s.clients.length, 0);
  document.getElementById("summary").textContent =
    `${state.simulators.length} simulator(s), ${clients} client(s), seed ${state.seed}`;
  const policy = document.getElementById("policy");
  policy.hidden = !state.policy;
  policy.textContent = state.policy ? `slow consumers: ${state.policy}` : "";
}

function connect() {
  const status = document.getElementById("link-status");
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.onopen = () => { status.textContent = "live"; status.className = "status up"; };
  ws.onmessage = (event) => {
    try { render(JSON.parse(event.data)); } catch (err) { console.error("bad state", err); }
  };
  ws.onclose = () => {
    status.textContent = "disconnected: retrying";
    status.className = "status down";
    setTimeout(connect, 1000);
  };
}

// The first paint does not wait for the socket.
fetch("/api/state").then((r) => r.json()).then((state) => { if (!sims.size) render(state); }).catch(() => {});
connect();
