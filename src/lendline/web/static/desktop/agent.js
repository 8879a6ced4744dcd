// The agent desktop: state, incoming call, screen pop, call controls, wrap-up.
import { $, api, duration, el, ensureLogin, PushSocket, toast, yuan } from "./common.js";
import { applyI18n, lang, queueLabel, setQueueLabels, t } from "./i18n.js";

// stateGen counts the state changes pushed to us: a reply to our own state request that
// arrives after a push is older news and must not overwrite it
const S = { me: null, state: "offline", since: Date.now(), call: null, wrapSince: null, socket: null, stateGen: 0, stateReplies: 0 };

function setState(state, sinceIso) {
  S.state = state;
  S.since = sinceIso ? Date.parse(sinceIso) : Date.now();
  const badge = $("#agent-state");
  badge.textContent = t(state);
  badge.dataset.state = state;
  badge.className = `badge ${state}`;
  $("#btn-available").disabled = state === "available" || state === "on_call" || state === "reserved";
  // routing refuses a break from offline (log in first: 示闲) and during a call
  $("#btn-break").disabled = state === "break" || state === "offline" || state === "on_call" || state === "reserved";
}

function controls(connected) {
  for (const id of ["#hold", "#hangup", "#transfer", "#dtmf", "#otp"]) $(id).disabled = !connected;
}

function clearPop() {
  $("#screen-pop").dataset.callId = "";
  $("#pop-empty").hidden = false;
  for (const id of ["#pop-missing", "#pop-customer", "#risk-flags", "#pop-routing", "#loans", "#repayments", "#contacts", "#bot-meta", "#bot-transcript"]) $(id).replaceChildren();
  $("#call-id-label").textContent = "";
  renderKnowledge("");
}

function showOffer(offer) {
  S.call = { call_id: offer.call_id, offer, pop: null, answered: false, ended: false, deadline: Date.now() + (offer.timeout_s || 15) * 1000 };
  clearPop();
  $("#screen-pop").dataset.callId = offer.call_id;
  $("#call-id-label").textContent = offer.call_id;
  $("#in-caller").textContent = offer.caller || "";
  $("#in-queue").textContent = queueLabel(offer.queue);
  $("#in-reason").textContent = offer.routing_reason || "";
  $("#incoming").hidden = false;
  $("#wrapup").hidden = true;
}

function hideOffer() { $("#incoming").hidden = true; }

function renderPop(pop) {
  if (!S.call || pop.call_id !== S.call.call_id || pop.agent_id !== S.me.agent_id) return; // never a stale customer
  S.call.pop = pop;
  $("#pop-empty").hidden = true;
  $("#pop-missing").replaceChildren(...(pop.missing || []).map((m) => el("div", { class: "missing", "data-part": m.part }, lang() === "en" ? m.label_en : m.label_zh)));
  const c = pop.customer;
  $("#pop-customer").replaceChildren(
    c
      ? el("div", {},
          el("div", { class: "big-name", testid: "customer-name" }, c.name, c.vip ? el("span", { class: "badge" }, ` ${t("vip")}`) : null),
          el("dl", { class: "kv" },
            el("dt", {}, t("phone")), el("dd", {}, c.phone),
            el("dt", {}, t("id_number")), el("dd", {}, c.id_number),
            el("dt", {}, t("credit_score")), el("dd", {}, c.credit_score ?? ""),
            el("dt", {}, t("segment")), el("dd", {}, segmentName(c.segment))))
      : el("div", { class: "big-name", testid: "customer-name" }, t("unknown_customer")),
  );
  renderRisk(pop.risk_flags || []);
  const call = pop.call || {};
  $("#pop-routing").replaceChildren(el("dl", { class: "kv" },
    el("dt", {}, t("queue")), el("dd", { "data-queue": call.queue || "" }, queueLabel(call.queue)),
    el("dt", {}, t("rule")), el("dd", { testid: "routing-rule" }, call.rule || "—"),
    el("dt", {}, t("routing_reason")), el("dd", {}, call.routing_reason || "—"),
    el("dt", {}, t("caller")), el("dd", {}, call.caller || ""),
    call.transfer_note || call.transferred_by ? [el("dt", {}, t("transfer")), el("dd", { testid: "transfer-note" }, `${call.transferred_by || ""}：${call.transfer_note || ""}`)] : null));
  renderLoans(pop.loans || []);
  $("#repayments").replaceChildren(...(pop.repayments || []).map((r) => el("tr", {},
    el("td", {}, r.due_date), el("td", { class: "num" }, yuan(r.amount_fen)), el("td", { class: `status-${r.status === "missed" ? "overdue" : r.status}` }, r.status))));
  $("#contacts").replaceChildren(...(pop.contacts || []).map((x) => el("tr", {},
    el("td", {}, (x.at || "").slice(0, 10)), el("td", {}, lang() === "en" ? x.channel : x.channel_zh || x.channel),
    el("td", {}, x.summary), el("td", {}, lang() === "en" ? x.outcome : x.outcome_zh || x.outcome))));
  renderBot(pop.bot, call.reason || "");
}

function renderRisk(flags) {
  $("#risk-flags").replaceChildren(...(flags.length
    ? flags.map((f) => el("span", { class: `flag ${f.severity}`, "data-flag": f.flag, title: f.detail || "" }, lang() === "en" ? f.flag : f.label_zh))
    : [el("span", { class: "muted" }, t("no_risk"))]));
}

function renderLoans(loans) {
  $("#loans").replaceChildren(...loans.map((ln) => el("tr", { "data-loan": ln.loan_id },
    el("td", {}, lang() === "en" ? ln.product : ln.product_zh || ln.product), el("td", { class: "num" }, yuan(ln.principal_fen)), el("td", { class: "num" }, yuan(ln.outstanding_fen)),
    el("td", { class: `status-${ln.status}`, testid: "loan-status", "data-status": ln.status }, lang() === "en" ? ln.status : ln.status_zh),
    el("td", { class: "num" }, ln.overdue_days || ""), el("td", {}, ln.next_due_date || ""))));
}

// without the bot's intent, the caller's stated reason (IVR choice, API) picks the answers
const REASON_INTENT = { product: "apply_loan", application: "application_status", repayment: "repayment_info", complaint: "complaint", collection: "promise_to_pay" };

function renderBot(bot, reason = "") {
  if (!bot) {
    $("#bot-meta").replaceChildren(el("span", { class: "muted" }, t("none")));
    $("#bot-transcript").replaceChildren();
    renderKnowledge(REASON_INTENT[reason] || "");
    return;
  }
  const slots = Object.entries(bot.slots || {}).map(([k, v]) => `${k}=${v}`).join("，");
  const ver = bot.verification === null || bot.verification === undefined ? "—" : typeof bot.verification === "object" ? JSON.stringify(bot.verification) : String(bot.verification);
  $("#bot-meta").replaceChildren(el("dl", { class: "kv" },
    el("dt", {}, t("intent")), el("dd", { testid: "bot-intent" }, bot.intent_label || bot.intent || "—"),
    el("dt", {}, t("slots")), el("dd", {}, slots || "—"),
    el("dt", {}, t("verification")), el("dd", { testid: "bot-verification" }, ver)));
  $("#bot-transcript").replaceChildren(...(bot.transcript || []).map((l) => el("div", { class: `line ${l.speaker}` }, el("b", {}, l.speaker ? `${l.speaker}: ` : ""), l.text)));
  renderKnowledge(bot.intent || "");
}

async function renderKnowledge(intent) {
  const box = $("#knowledge");
  if (!intent) { box.replaceChildren(el("span", { class: "muted" }, "—")); return; }
  try {
    const kb = await api("GET", `/api/v1/desktop/knowledge?intent=${encodeURIComponent(intent)}`);
    const en = lang() === "en";
    box.replaceChildren(...kb.items.map((it) => el("div", {},
      el("b", {}, en ? it.title.en : it.title.zh),
      el("ul", {}, ...it.answers.map((a) => el("li", {}, en ? a.en : a.zh))))));
  } catch { box.replaceChildren(); }
}

function onEnded() {
  if (!S.call) return;
  S.call.ended = true;
  hideOffer();
  controls(false);
  S.wrapSince = Date.now();
  $("#wrapup").hidden = false;
  toast(t("call_ended"));
}

function onMessage(msg) {
  const d = msg.data || {};
  if (d.agent_id && d.agent_id !== S.me.agent_id) return;
  switch (msg.type) {
    case "call.offered": showOffer(d); break;
    case "screen_pop": renderPop(d); break;
    case "screen_pop.part":
      if (S.call?.pop && d.call_id === S.call.call_id) {
        const pop = { ...S.call.pop, ...d, missing: S.call.pop.missing.filter((m) => m.part !== d.part) };
        renderPop(pop);
      }
      break;
    case "call.answered": if (S.call && d.call_id === S.call.call_id) { S.call.answered = true; hideOffer(); controls(true); } break;
    case "call.ended": if (S.call && d.call_id === S.call.call_id) onEnded(); break;
    case "agent.reservation_timed_out": if (S.call && d.call_id === S.call.call_id) { hideOffer(); S.call = null; clearPop(); } break;
    case "agent.state_changed":
      S.stateGen += 1;
      setState(d.new);
      if (["available", "break", "offline"].includes(d.new) && S.call && (!S.call.answered || S.call.ended)) {
        hideOffer(); S.call = null; clearPop(); $("#wrapup").hidden = true;
      }
      break;
    case "supervision.notice": renderNotice(d.notice); break;
    case "transfer.consult": toast(`${t("consult_from")} ${d.from_agent}: ${d.note || ""}`); break;
  }
}

// a supervisor whispering to this agent or barged into the call (a silent listen-in is
// never announced: the server does not send it)
function renderNotice(n) {
  const box = $("#supervision-notice");
  box.hidden = !n;
  box.dataset.mode = n ? n.mode : "";
  box.textContent = n ? `${t("supervisor_label")} ${n.supervisor} ${t(`notice_${n.mode}`)}` : "";
}

async function refresh() {
  const me = await api("GET", "/api/v1/desktop/me");
  S.me = { ...S.me, ...me };
  renderNotice(me.supervision_notice);
  if (me.agent) setState(me.agent.state, me.agent.state_since);
  setQueueLabels(me.queue_labels);
  $("#tr-queue").replaceChildren(el("option", { value: "" }, t("to_queue")), ...me.queues.map((q) => el("option", { value: q }, queueLabel(q))));
  $("#disposition").replaceChildren(...Object.entries(me.dispositions).map(([code, zh]) => el("option", { value: code }, lang() === "en" ? code : zh)));
  const cur = me.current;
  if (cur && !cur.ended) {
    showOffer(cur.offer);
    if (cur.pop) renderPop(cur.pop);
    if (cur.answered) { S.call.answered = true; hideOffer(); controls(true); }
  } else if (cur && cur.ended) {
    S.call = { call_id: cur.call_id, offer: cur.offer, pop: null, answered: true, ended: false };
    if (cur.pop) renderPop(cur.pop);
    onEnded();
  } else { S.call = null; hideOffer(); clearPop(); controls(false); }
  return me;
}

async function act(fn) {
  try { return await fn(); } catch (e) { toast(e.message, "error"); return null; }
}

async function accept() {
  if (!S.call || $("#incoming").hidden) return;
  const r = await act(() => api("POST", `/api/v1/desktop/calls/${S.call.call_id}/accept`));
  if (r) { S.call.answered = true; hideOffer(); controls(true); }
}

async function hangup() {
  if (!S.call || !S.call.answered || S.call.ended) return;
  const r = await act(() => api("POST", `/api/v1/desktop/calls/${S.call.call_id}/hangup`));
  if (r) onEnded();
}

function wire() {
  for (const b of document.querySelectorAll("header [data-state]")) b.addEventListener("click", async () => {
    const gen = S.stateGen;
    const snap = await act(() => api("POST", "/api/v1/desktop/state", { state: b.dataset.state }));
    if (snap && gen === S.stateGen) { setState(snap.state, snap.state_since); if (snap.state === "available" && S.call?.ended) { S.call = null; clearPop(); $("#wrapup").hidden = true; } }
    document.body.dataset.stateReplies = String(++S.stateReplies);
  });
  $("#accept").addEventListener("click", accept);
  $("#decline").addEventListener("click", async () => {
    if (!S.call) return;
    const r = await act(() => api("POST", `/api/v1/desktop/calls/${S.call.call_id}/decline`));
    if (r) { hideOffer(); S.call = null; clearPop(); }
  });
  $("#hangup").addEventListener("click", hangup);
  $("#hold").addEventListener("click", async () => {
    const on = $("#hold").dataset.on !== "1";
    const r = await act(() => api("POST", `/api/v1/desktop/calls/${S.call.call_id}/hold`, { on }));
    if (r) { $("#hold").dataset.on = on ? "1" : ""; $("#hold").textContent = t(on ? "unhold" : "hold"); }
  });
  const consultButtons = (on) => { $("#consult-complete").hidden = !on; $("#consult-cancel").hidden = !on; };
  $("#transfer").addEventListener("click", async () => {
    const queue = $("#tr-queue").value || null, agent_id = $("#tr-agent").value.trim() || null;
    const warm = $("#tr-warm").checked, note = $("#tr-note").value;
    if (warm && agent_id) {
      // a live SIP call: consult first (caller on music, the two agents talk), then complete
      try {
        await api("POST", `/api/v1/telephony/calls/${S.call.call_id}/consult`, { agent_id });
        consultButtons(true);
        toast(t("consulting"));
        return;
      } catch (e) {
        if (e.status !== 404) { toast(e.message, "error"); return; }
        // an API call without a SIP leg: hand over with the note (the colleague is told first)
      }
    }
    const r = await act(() => api("POST", `/api/v1/desktop/calls/${S.call.call_id}/transfer`, { queue, agent_id, warm, note }));
    if (r) { toast(t("transfer_done")); controls(false); S.call = null; clearPop(); }
  });
  $("#consult-complete").addEventListener("click", async () => {
    const r = await act(() => api("POST", `/api/v1/telephony/calls/${S.call.call_id}/consult/complete`));
    if (r) { consultButtons(false); toast(t("transfer_done")); controls(false); S.call = null; clearPop(); }
  });
  $("#consult-cancel").addEventListener("click", async () => {
    const r = await act(() => api("DELETE", `/api/v1/telephony/calls/${S.call.call_id}/consult`));
    if (r) consultButtons(false);
  });
  $("#dtmf").addEventListener("click", () => act(() => api("POST", `/api/v1/desktop/calls/${S.call.call_id}/dtmf`, { digits: $("#dtmf-digits").value })));
  // second confirmation: compliance sends a code to the customer's registered phone
  $("#otp").addEventListener("click", async () => {
    const customer = S.call?.pop?.customer;
    if (!customer) { toast(t("unknown_customer"), "error"); return; }
    const r = await act(() => api("POST", "/api/v1/compliance/otp", { operation: $("#otp-op").value, customer_id: customer.customer_id }));
    if (!r) return;
    S.otp = r;
    toast(`${t("otp_sent")} ${r.phone}`);
    $("#otp-code").hidden = false; $("#otp-confirm").hidden = false; $("#otp-code").focus();
  });
  $("#otp-confirm").addEventListener("click", async () => {
    if (!S.otp) return;
    const r = await act(() => api("POST", `/api/v1/compliance/otp/${S.otp.challenge_id}/confirm`, { code: $("#otp-code").value.trim(), operation: S.otp.operation }));
    if (r) { toast(t("otp_confirmed")); S.otp = null; $("#otp-code").value = ""; $("#otp-code").hidden = true; $("#otp-confirm").hidden = true; }
  });
  $("#disp-submit").addEventListener("click", async () => {
    if (!S.call) return;
    const r = await act(() => api("POST", `/api/v1/desktop/calls/${S.call.call_id}/disposition`, {
      code: $("#disposition").value, note: $("#disp-note").value, resolved: $("#disp-resolved").checked }));
    if (r) { toast(t("saved")); $("#wrapup").dataset.saved = r.disposition; $("#disp-note").value = ""; }
  });
  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey) return;
    const k = ev.key.toLowerCase();
    if (k === "a") { ev.preventDefault(); accept(); }
    if (k === "h") { ev.preventDefault(); hangup(); }
  });
  setInterval(() => {
    $("#state-timer").textContent = duration((Date.now() - S.since) / 1000);
    if (S.call && !$("#incoming").hidden) $("#in-countdown").textContent = `${Math.max(0, Math.ceil((S.call.deadline - Date.now()) / 1000))}s`;
    if (!$("#wrapup").hidden && S.wrapSince) $("#wrap-timer").textContent = duration((Date.now() - S.wrapSince) / 1000);
  }, 500);
}

async function main() {
  const who = await ensureLogin();
  S.me = who;
  $("#who").textContent = who.username;
  wire();
  const me = await refresh();
  applyI18n();
  S.socket = new PushSocket(who, {
    onMessage,
    onResync: () => refresh(),
    onStatus: (up) => { $("#conn").textContent = up ? t("connected") : t("reconnecting"); $("#conn").dataset.up = up ? "1" : "0"; },
  });
  window.lendlineDesk = S; // for tests and debugging
  S.socket.start(me.push.epoch, me.push.last_id);
}

main().catch((e) => toast(e.message, "error"));

function segmentName(segment) {
  if (!segment) return "";
  const name = t(`seg_${segment}`);
  return name === `seg_${segment}` ? segment : name;
}
