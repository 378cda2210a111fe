// hub-client.js: the browser client of the hub's /ws/notifications/ channel.
// One ES module, no build step, no dependencies.
//
//   import { HubClient } from "/static/hub-client.js";
//   const hub = new HubClient({ url: "wss://hub.example/ws/notifications/", token: () => accessToken,
//                               refresh: async () => (accessToken = await refreshAccessToken()) });
//   hub.addEventListener("notification", (e) => show(e.detail));   // the stored notification; .data is the payload
//   hub.addEventListener("read", (e) => setUnread(e.detail.unread_count));
//   hub.addEventListener("updated", (e) => apply(e.detail));   // {ids, state, unread_count, unseen_count} from any tab
//   hub.markSeen(lastId); hub.archive(id); hub.snooze(id, new Date(Date.now() + 3600e3));
//   hub.connect();
//
//   await hub.enablePush({ serviceWorker: "/static/hub-sw.js" });   // Web Push while the tab is closed
//
// The token travels in the first message, never in the URL. The client sends heartbeats at the
// interval the server announces, reconnects with exponential back-off and jitter, and resumes from
// the last notification id it saw, so nothing is missed across a reconnect.

const NO_RECONNECT = new Set([1000, 1002, 1003, 1007, 1008, 1009, 4403]);

export class HubClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.url            ws:// or wss:// URL of /ws/notifications/
   * @param {() => string | Promise<string>} options.token   returns the current access token
   * @param {() => Promise<string>} [options.refresh]        returns a fresh access token (after 4401)
   * @param {number} [options.minDelay=500] first reconnect delay, ms
   * @param {number} [options.maxDelay=30000] longest reconnect delay, ms
   */
  constructor({ url, token, refresh, minDelay = 500, maxDelay = 30000 }) {
    super();
    this.url = url;
    this.token = token;
    this.refresh = refresh;
    this.minDelay = minDelay;
    this.maxDelay = maxDelay;
    this.lastId = 0;
    /** ids already delivered, so a replay racing a live push never shows one twice (bounded) */
    this.seen = new Set();
    this.unreadCount = 0;
    this.unseenCount = 0;
    this.rooms = new Set();
    /** room -> Map(user_id -> member) */
    this.presence = new Map();
    this.status = "closed";
    this.attempt = 0;
    this.ws = null;
    this.heartbeat = null;
    this.retryTimer = null;
    this.stopped = true;
    this.refreshing = false;
  }

  /** Opens the connection (and keeps it open until close()). */
  connect() {
    this.stopped = false;
    this.#open();
  }

  /** Closes for good: no reconnect. */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.#stopHeartbeat();
    if (this.ws) this.ws.close(1000, "bye");
    this.#setStatus("closed");
  }

  /** Joins a room's presence; kept across reconnects. */
  subscribe(room) {
    this.rooms.add(room);
    this.#send({ type: "subscribe", room });
  }

  unsubscribe(room) {
    this.rooms.delete(room);
    this.presence.delete(room);
    this.#send({ type: "unsubscribe", room });
  }

  /** Marks one id or a list of ids read; every tab of the user gets a `read` event. */
  markRead(ids) {
    const list = Array.isArray(ids) ? ids : [ids];
    this.#send(list.length === 1 ? { type: "mark_read", id: list[0] } : { type: "mark_read", ids: list });
  }

  /** The bell was opened: every notification up to `upToId` (default: the last one seen) is seen. */
  markSeen(upToId = this.lastId) {
    if (upToId > 0) this.#send({ type: "mark_seen", up_to_id: upToId });
  }

  archive(ids) {
    this.#send({ type: "archive", ids: [].concat(ids) });
  }

  unarchive(ids) {
    this.#send({ type: "unarchive", ids: [].concat(ids) });
  }

  /** Hidden until `until` (a Date or ISO string); then it comes back as a "notification" with unsnoozed: true. */
  snooze(ids, until) {
    const at = until instanceof Date ? until.toISOString() : String(until);
    this.#send({ type: "snooze", ids: [].concat(ids), until: at });
  }

  markAllRead() {
    this.#send({ type: "mark_all_read" });
  }

  /** Online members of a room, as an array. */
  members(room) {
    return [...(this.presence.get(room) || new Map()).values()];
  }

  async #open() {
    if (this.stopped) return;
    this.#setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    let token;
    try {
      token = await this.token();
    } catch (error) {
      this.#emit("error", { code: "token_unavailable", message: String(error) });
      return this.#scheduleReconnect();
    }
    // Asking for the replay in the URL lets the server hold live pushes until the replay is done.
    this.replaying = this.lastId > 0; // `connected` counts the replayed ones as unread already
    const url = this.lastId > 0 ? `${this.url}${this.url.includes("?") ? "&" : "?"}last_id=${this.lastId}` : this.url;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
    ws.onmessage = (event) => this.#receive(event.data);
    ws.onclose = (event) => this.#closed(ws, event.code, event.reason);
    ws.onerror = () => {}; // onclose follows with the code
  }

  #receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    const data = message.data || {};
    switch (message.type) {
      case "connected":
        this.attempt = 0;
        this.unreadCount = data.unread_count;
        this.unseenCount = data.unseen_count ?? 0;
        this.#startHeartbeat(data.heartbeat_interval);
        this.#setStatus("open");
        this.#emit("connected", data);
        for (const room of this.rooms) this.#send({ type: "subscribe", room });
        break;
      case "heartbeat_ack":
      case "authenticated":
        break;
      case "resumed":
        this.replaying = false;
        this.#emit("resumed", data);
        break;
      case "notification_read":
        this.#setCounts(data);
        this.#emit("read", data);
        break;
      case "notification_updated":
        this.#setCounts(data);
        this.#emit("updated", data);
        break;
      case "notification_unsnoozed":
        this.#setCounts(data);
        this.#emit("notification", { ...data.notification, id: message.id, type: data.notification.notification_type,
                                     timestamp: message.timestamp, unsnoozed: true });
        break;
      case "presence_state": {
        const members = new Map(data.members.map((m) => [m.user_id, m]));
        this.presence.set(data.room, members);
        this.#emit("presence", { room: data.room, members: [...members.values()] });
        break;
      }
      case "presence_diff": {
        const members = this.presence.get(data.room) || new Map();
        for (const m of data.leaves) members.delete(m.user_id);
        for (const m of data.joins) members.set(m.user_id, m);
        this.presence.set(data.room, members);
        this.#emit("presence", { room: data.room, members: [...members.values()], joins: data.joins, leaves: data.leaves });
        break;
      }
      case "unsubscribed":
        // reason "removed": the user is no longer a member; do not subscribe again on reconnect.
        if (data.reason === "removed") {
          this.rooms.delete(data.room);
          this.presence.delete(data.room);
        }
        break;
      case "error":
        this.#emit("error", data);
        break;
      default:
        if (typeof message.id === "number") {
          if (this.seen.has(message.id)) return;
          this.seen.add(message.id);
          if (this.seen.size > 2000) this.seen.delete(this.seen.values().next().value);
          this.lastId = Math.max(this.lastId, message.id);
          // data is the event's payload as the backend posted it; the stored notification is data.notification.
          const notification = data.notification || data;
          if (!notification.is_read && !this.replaying) {
            this.unreadCount += 1;
            this.unseenCount += 1;
          }
          this.#emit("notification", { ...notification, id: message.id, type: message.type, timestamp: message.timestamp });
        }
    }
  }

  async #closed(ws, code, reason) {
    if (ws !== this.ws) return;
    this.#stopHeartbeat();
    this.ws = null;
    if (this.stopped) return this.#setStatus("closed");
    if (NO_RECONNECT.has(code)) {
      this.stopped = true;
      this.#emit("error", { code: "closed", message: `closed with ${code} ${reason}` });
      return this.#setStatus("closed");
    }
    if (code === 4401 && this.refresh && !this.refreshing) {
      this.refreshing = true;
      try {
        await this.refresh();
      } catch (error) {
        this.stopped = true;
        this.#emit("error", { code: "refresh_failed", message: String(error) });
        return this.#setStatus("closed");
      } finally {
        this.refreshing = false;
      }
    }
    this.#scheduleReconnect();
  }

  /**
   * Web Push: asks permission, registers the service worker, subscribes with the hub's VAPID key
   * and saves the subscription on the hub (so notifications reach this browser while it is closed).
   * Resolves to the saved subscription `{id, endpoint, created_at}`; rejects with the reason.
   * @param {object} [options]
   * @param {string} [options.serviceWorker="/static/hub-sw.js"] the worker script
   * @param {string} [options.apiBase] the hub's http(s) origin (default: from the WebSocket url)
   */
  async enablePush({ serviceWorker = "/static/hub-sw.js", apiBase } = {}) {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("this browser has no Web Push");
    const registration = await navigator.serviceWorker.register(serviceWorker);
    await activated(registration);
    const permission = await Notification.requestPermission();
    if (permission !== "granted") throw new Error(`notifications are ${permission}`);
    const { public_key: key } = await this.#api(apiBase, "GET", "/api/v1/push/vapid-public-key/");
    if (!key) throw new Error("Web Push is off on this hub");
    let subscription = await registration.pushManager.getSubscription();
    const sameKey = subscription && bytesEqual(subscription.options.applicationServerKey, base64UrlBytes(key));
    if (subscription && !sameKey) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription ??= await withTimeout(registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: base64UrlBytes(key) }), 30000, "the browser's push service did not answer");
    const saved = await this.#api(apiBase, "POST", "/api/v1/push/subscriptions/",
                                  { ...subscription.toJSON(), user_agent: navigator.userAgent });
    this.pushSubscriptionId = saved.id;
    return saved;
  }

  /** Stops Web Push in this browser: the hub forgets the subscription and the browser drops it. */
  async disablePush({ serviceWorker = "/static/hub-sw.js", apiBase } = {}) {
    const registration = await navigator.serviceWorker?.getRegistration(new URL(".", new URL(serviceWorker, location.href)).href);
    const subscription = await registration?.pushManager.getSubscription();
    if (!subscription) return false;
    const { results } = await this.#api(apiBase, "GET", "/api/v1/push/subscriptions/");
    for (const saved of results.filter((s) => s.endpoint === subscription.endpoint)) {
      await this.#api(apiBase, "DELETE", `/api/v1/push/subscriptions/${saved.id}/`);
    }
    this.pushSubscriptionId = null;
    return subscription.unsubscribe();
  }

  async #api(apiBase, method, path, body) {
    const base = apiBase || new URL(this.url.replace(/^ws/, "http")).origin;
    const response = await fetch(base + path, {
      method,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${await this.token()}` },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) throw Object.assign(new Error(data?.error || response.statusText), { status: response.status, data });
    return data;
  }

  #scheduleReconnect() {
    if (this.stopped) return;
    this.#setStatus("reconnecting");
    const ceiling = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter"
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.#open(), delay);
  }

  #startHeartbeat(seconds) {
    this.#stopHeartbeat();
    const every = Math.max(1, seconds || 30) * 1000;
    this.heartbeat = setInterval(() => this.#send({ type: "heartbeat" }), every);
  }

  #stopHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  #send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.status === "open") {
      this.ws.send(JSON.stringify(message));
    }
  }

  #setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.#emit("status", { status });
  }

  #setCounts(data) {
    if (typeof data.unread_count === "number") this.unreadCount = data.unread_count;
    if (typeof data.unseen_count === "number") this.unseenCount = data.unseen_count;
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}

/** Resolves once `registration` has an active worker (its scope need not cover this page). */
function activated(registration) {
  if (registration.active) return Promise.resolve(registration);
  const worker = registration.installing || registration.waiting;
  return new Promise((resolve) => {
    worker.addEventListener("statechange", () => { if (worker.state === "activated") resolve(registration); });
  });
}

function withTimeout(promise, millis, message) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(message)), millis); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function base64UrlBytes(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function bytesEqual(buffer, bytes) {
  if (!buffer) return false;
  const view = new Uint8Array(buffer);
  return view.length === bytes.length && view.every((b, i) => b === bytes[i]);
}
