// Shared by /agent and /supervisor: REST calls, login, the resumable push socket.
import { applyI18n, t, toggleLang } from "./i18n.js";

export const $ = (sel, root = document) => root.querySelector(sel);
export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "testid") node.dataset.testid = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error;
  }
}

export async function api(method, path, body) {
  const resp = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  const data = text ? (() => { try { return JSON.parse(text); } catch { return text; } })() : null;
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export function yuan(fen) {
  if (fen === null || fen === undefined) return "";
  const v = Number(fen) / 100;
  return "¥" + v.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function duration(s) {
  s = Math.max(0, Math.floor(s));
  const m = Math.floor(s / 60), r = s % 60;
  return `${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
}

export function toast(msg, kind = "info") {
  const box = $("#toasts");
  if (!box) return;
  const item = el("div", { class: `toast ${kind}` }, msg);
  box.append(item);
  setTimeout(() => item.remove(), 4000);
}

/** Show the login form until /api/v1/session/me answers; resolves with the principal. */
export async function ensureLogin() {
  applyI18n();
  for (const b of document.querySelectorAll("[data-action=lang]")) b.addEventListener("click", toggleLang);
  for (const b of document.querySelectorAll("[data-action=logout]")) {
    b.addEventListener("click", async () => {
      await api("POST", "/api/v1/session/logout").catch(() => {});
      sessionStorage.clear();
      location.reload();
    });
  }
  try {
    return await api("GET", "/api/v1/session/me");
  } catch (e) {
    if (e.status !== 401) throw e;
  }
  const overlay = $("#login");
  overlay.hidden = false;
  return new Promise((resolve) => {
    $("#login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api("POST", "/api/v1/session/login", {
          username: $("#login-username").value.trim(),
          password: $("#login-password").value,
        });
        overlay.hidden = true;
        resolve(await api("GET", "/api/v1/session/me"));
      } catch (e) {
        $("#login-error").textContent = e.status === 401 ? t("login_failed") : e.message;
      }
    });
  });
}

/**
 * The push socket. Every message has an id; the last one seen is kept per user in
 * sessionStorage and sent on reconnect so the server replays what was missed. A
 * "resync" (server restarted, or we fell too far behind) calls onResync to reload state.
 * A socket that turns out to belong to another user (a new login in another tab)
 * reloads the page, so a stale page never shows another agent's customer.
 */
export class PushSocket {
  constructor(me, { onMessage, onResync, onStatus }) {
    this.me = me;
    this.onMessage = onMessage;
    this.onResync = onResync;
    this.onStatus = onStatus || (() => {});
    this.key = `lendline.push.${me.username}`;
    const saved = JSON.parse(sessionStorage.getItem(this.key) || "null");
    this.epoch = saved?.epoch || null;
    this.lastId = saved?.lastId ?? null;
    this.delay = 500;
    this.closed = false;
  }

  start(epoch, lastId) {
    if (this.epoch === null) { this.epoch = epoch; this.lastId = lastId; }
    this.connect();
  }

  save() {
    sessionStorage.setItem(this.key, JSON.stringify({ epoch: this.epoch, lastId: this.lastId }));
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const q = new URLSearchParams();
    if (this.epoch !== null && this.lastId !== null) {
      q.set("epoch", this.epoch);
      q.set("last_id", String(this.lastId));
    }
    const ws = new WebSocket(`${proto}://${location.host}/ws/desktop?${q}`);
    this.ws = ws;
    ws.onmessage = (ev) => this.handle(JSON.parse(ev.data));
    let opened = false;
    ws.onopen = () => { opened = true; this.delay = 500; this.onStatus(true); };
    ws.onclose = async () => {
      this.onStatus(false);
      if (this.closed) return;
      // refused before it opened: a session that is gone (logged out, or the server
      // restarted with a new secret) is refused for ever, so show the login instead
      if (!opened && (await fetch("/api/v1/session/me").then((r) => r.status, () => 0)) === 401) {
        location.reload();
        return;
      }
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
    this.ping = setInterval(() => { if (ws.readyState === 1) ws.send("ping"); }, 20000);
    ws.addEventListener("close", () => clearInterval(this.ping));
  }

  handle(msg) {
    if (msg.type === "hello") {
      if (msg.username !== this.me.username) { location.reload(); return; }
      this.epoch = msg.epoch;
      if (msg.resync) { this.lastId = msg.last_id; this.save(); this.onResync(); }
      else if (this.lastId === null) { this.lastId = msg.last_id; this.save(); }
      return;
    }
    if (msg.type === "resync") { this.epoch = msg.epoch; this.lastId = msg.last_id; this.save(); this.onResync(); return; }
    if (typeof msg.id === "number") {
      if (this.lastId !== null && msg.id <= this.lastId) return; // already seen
      this.lastId = msg.id;
      this.save();
    }
    this.onMessage(msg);
  }

  /** Tests and drills: drop the socket and stay away ``pauseMs`` before reconnecting. */
  simulateDrop(pauseMs = 500) { this.delay = pauseMs; this.ws?.close(); }
}
