// The supervisor's wallboard (live, pushed) and reports (REST, CSV).
import { $, api, duration, el, ensureLogin, PushSocket, toast } from "./common.js";
import { barChart, lineChart } from "./charts.js";
import { applyI18n, queueLabel, setQueueLabels, t } from "./i18n.js";

const S = { history: [], alerts: [], updates: 0, agents: new Map(), queues: [], me: "" };
const pct = (v) => (v === null || v === undefined ? "—" : `${Math.round(v * 100)}%`);

function renderWallboard(snap, full) {
  if (!snap) return;
  S.updates += 1;
  $("#wall").dataset.updates = String(S.updates);
  if (full) S.agents = new Map();
  for (const a of snap.agents) S.agents.set(a.agent_id, { ...(S.agents.get(a.agent_id) || {}), ...a });
  $("#queues").replaceChildren(...snap.queues.map((q) => el("tr", { "data-queue": q.queue },
    el("td", { title: q.queue, "data-col": "queue" }, queueLabel(q.queue)), el("td", { class: "num", "data-col": "waiting" }, q.waiting),
    waitCell(q), el("td", { class: "num", "data-col": "ewt" }, q.ewt_s >= 3600 ? "≥60:00" : duration(q.ewt_s)),  // routing's cap: nobody serves the queue
    el("td", { class: `num ${q.service_level < 0.8 ? "sl-low" : ""}` }, pct(q.service_level)),
    el("td", { class: "num" }, pct(q.abandon_rate)), el("td", { class: "num" }, q.answered),
    el("td", {}, Object.entries(q.agents_by_state || {}).map(([k, v]) => `${t(k)} ${v}`).join(" · ")))));
  renderAgents();
  $("#updated").textContent = new Date().toLocaleTimeString(document.documentElement.lang === "en" ? "en-GB" : "zh-CN", { hour12: false });
}

// The longest wait goes on growing between snapshots (a snapshot is pushed on a change, not
// every second): counted on from when this one arrived, while calls are waiting.
function waitCell(q) {
  const attrs = { class: "num", "data-col": "longest-wait" };
  if (q.waiting > 0) Object.assign(attrs, { "data-wait-base": q.longest_wait_s, "data-wait-at": Date.now() });
  return el("td", attrs, duration(q.longest_wait_s));
}

function tickWaits() {
  for (const td of document.querySelectorAll("[data-wait-base]")) {
    td.textContent = duration(Number(td.dataset.waitBase) + (Date.now() - Number(td.dataset.waitAt)) / 1000);
  }
}

function renderAgents() {
  const rows = [...S.agents.values()].sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  $("#agents").replaceChildren(...rows.map((a) => el("tr", { "data-agent": a.agent_id },
    el("td", {}, a.agent_id), el("td", {}, a.name || ""),
    el("td", {}, el("span", { class: `badge ${a.state}`, "data-state": a.state }, t(a.state))),
    el("td", { class: "num", "data-since": a.state_since || "" }, sinceText(a.state_since)),
    el("td", {}, supervisionMarker(a.supervision)),
    el("td", {}, superviseControls(a)))));
}

// who is on this agent's call, in which mode (pushed: CallSupervisionChanged → wallboard)
function supervisionMarker(sv) {
  if (!sv) return "";
  const ringing = sv.state === "ringing" ? ` · ${t("ringing")}` : "";
  return el("span", { class: `badge supervised ${sv.mode}`, "data-testid": "supervision-marker",
    "data-mode": sv.mode, "data-supervisor": sv.supervisor, "data-sv-state": sv.state },
  `${t(sv.mode)} · ${sv.supervisor}${ringing}`);
}

function superviseControls(a) {
  if (!a.call_id) return "";
  const sv = a.supervision;
  if (sv && sv.supervisor !== S.me) return "";  // one supervisor per call
  const modes = ["listen", "whisper", "barge"].filter((m) => !sv || m !== sv.mode)
    .map((m) => el("button", { "data-mode": m, onclick: () => supervise(a.call_id, m) }, t(m)));
  if (sv) modes.push(el("button", { class: "danger", "data-testid": "stop-supervise", onclick: () => stopSupervising(a.call_id) }, t("stop_supervise")));
  return modes;
}

const sinceText = (iso) => (iso ? duration((Date.now() - Date.parse(iso)) / 1000) : "");

async function supervise(callId, mode) {
  // the first request rings the supervisor's own softphone: 202 "ringing" at once, the
  // outcome (answered / not answered) comes over the socket as a "supervision" message
  try {
    const r = await api("POST", `/api/v1/desktop/calls/${callId}/supervise`, { mode });
    toast(r.result.state === "ringing" ? t("ringing_your_phone") : `${t(mode)} ✓`);
  } catch (e) { toast(e.message, "error"); }
}

async function stopSupervising(callId) {
  try { await api("DELETE", `/api/v1/desktop/calls/${callId}/supervise`); toast(t("supervise_stopped")); }
  catch (e) { toast(e.message, "error"); }
}

function onSupervision(d) {
  const row = d.agent_id ? S.agents.get(d.agent_id) : null;
  if (row) {
    row.supervision = d.state === "ended" ? null : { call_id: d.call_id, supervisor: d.supervisor, mode: d.mode, state: d.state };
    renderAgents();
  }
  if (d.supervisor !== S.me) return;
  if (d.state === "active") toast(`${t(d.mode)} ✓`);
  else if (d.state === "ended" && d.reason === "not_answered") toast(t("supervisor_not_answered"), "error");
}

function renderCharts() {
  lineChart($("#chart-waiting"), S.history.map((p) => p.waiting));
  lineChart($("#chart-sl"), S.history.map((p) => p.service_level), { yMax: 1, color: "#1a7f37", label: (v) => `${Math.round(v * 100)}%` });
}

function renderAlerts() {
  $("#alerts").replaceChildren(...S.alerts.slice(-30).reverse().map((a) => el("div", { class: "alert-item", "data-kind": a.kind }, `${a.at.slice(11, 19)} ${a.detail}`)));
}

async function refresh() {
  const wb = await api("GET", "/api/v1/desktop/wallboard");
  S.history = wb.history || [];
  S.alerts = wb.alerts || [];
  renderWallboard(wb, true);
  renderCharts();
  renderAlerts();
}

function onMessage(msg) {
  if (msg.type === "wallboard.delta") renderWallboard(msg.data, false);
  else if (msg.type === "wallboard.point") { S.history.push(msg.data); S.history = S.history.slice(-720); renderCharts(); }
  else if (msg.type === "alert") { S.alerts.push(msg.data); renderAlerts(); }
  else if (msg.type === "supervision") onSupervision(msg.data);
}

function reportQuery() {
  const q = new URLSearchParams({ group: $("#r-group").value });
  if ($("#r-from").value) q.set("from", new Date(`${$("#r-from").value}T00:00:00+08:00`).toISOString());
  if ($("#r-to").value) q.set("to", new Date(`${$("#r-to").value}T23:59:59+08:00`).toISOString());
  return q;
}

async function runReport() {
  const q = reportQuery();
  $("#r-csv").href = `/api/v1/reports/kpis.csv?${q}&lang=${document.documentElement.lang === "en" ? "en" : "zh-CN"}`;
  try {
    const rep = await api("GET", `/api/v1/reports/kpis?${q}`);
    const rows = [...rep.rows, { ...rep.total, key: "合计 / total" }];
    $("#report-rows").replaceChildren(...rows.map((r) => el("tr", {},
      el("td", {}, r.key), el("td", { class: "num" }, r.offered), el("td", { class: "num" }, r.answered), el("td", { class: "num" }, r.abandoned),
      el("td", { class: "num" }, r.asa_s ?? "—"), el("td", { class: "num" }, r.aht_s ?? "—"), el("td", { class: "num" }, pct(r.service_level)),
      el("td", { class: "num" }, pct(r.abandon_rate)), el("td", { class: "num" }, pct(r.fcr)), el("td", { class: "num" }, r.bot_calls), el("td", { class: "num" }, pct(r.containment)))));
    barChart($("#chart-report"), rep.rows.map((r) => r.key), [
      { name: "offered", color: "#9ec5fe", values: rep.rows.map((r) => r.offered) },
      { name: "answered", color: "#1f6feb", values: rep.rows.map((r) => r.answered) },
      { name: "abandoned", color: "#cf222e", values: rep.rows.map((r) => r.abandoned) },
    ]);
  } catch (e) { toast(e.message, "error"); }
}

async function main() {
  const who = await ensureLogin();
  $("#who").textContent = who.username;
  S.me = who.username;
  for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => {
    for (const x of document.querySelectorAll("[data-tab]")) x.classList.toggle("active", x === b);
    $("#wall").hidden = b.dataset.tab !== "wall";
    $("#reports").hidden = b.dataset.tab !== "reports";
    if (b.dataset.tab === "reports") runReport();
  });
  $("#r-run").addEventListener("click", runReport);
  const me = await api("GET", "/api/v1/desktop/me").catch(() => ({ push: { epoch: null, last_id: null } }));
  setQueueLabels(me.queue_labels);
  await refresh();
  applyI18n();
  const sock = new PushSocket(who, {
    onMessage,
    onResync: () => refresh(),
    onStatus: (up) => { $("#conn").textContent = up ? t("connected") : t("reconnecting"); },
  });
  sock.start(me.push.epoch, me.push.last_id);
  setInterval(() => {
    for (const td of document.querySelectorAll("[data-since]")) td.textContent = sinceText(td.dataset.since);
    tickWaits();
  }, 1000);
}

main().catch((e) => toast(e.message, "error"));
