// Type declarations of hub-client.js, the browser client of the hub's /ws/notifications/ channel.
// Served beside the module (/static/hub-client.d.ts); checked with `tsc --noEmit` in `make test`
// against Tests/typescript/.
//
//   import { HubClient } from "./hub-client.js";
//   const hub = new HubClient({ url: "wss://hub.example/ws/notifications/", token: () => access });
//   hub.addEventListener("notification", (e) => show(e.detail.title));   // e.detail: HubNotification

export type Priority = "LOW" | "MEDIUM" | "HIGH" | "URGENT";

/** The connection's state; every change is a `status` event. */
export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "closed";

export interface HubClientOptions {
  /** ws:// or wss:// URL of /ws/notifications/ */
  url: string;
  /** Returns the current access token (sent in the first message, never in the URL). */
  token: () => string | Promise<string>;
  /** Returns a fresh access token; called after a close with 4401 (token expired). */
  refresh?: () => Promise<string>;
  /** First reconnect delay, ms (default 500). */
  minDelay?: number;
  /** Longest reconnect delay, ms (default 30000). */
  maxDelay?: number;
}

/** A stored notification as the REST API shows it (GET /api/v1/notifications/{id}/). */
export interface StoredNotification {
  id: number;
  recipient: number | null;
  notification_type: string;
  notification_display: string;
  category: string;
  priority: Priority;
  title: string;
  title_arabic: string;
  title_french: string;
  message: string;
  message_arabic: string;
  message_french: string;
  status: "SENT" | "DELIVERED" | "READ" | "FAILED" | (string & {});
  delivery_method: string[];
  reference_type: string | null;
  reference_id: string | null;
  event_id: number | null;
  is_announcement: boolean;
  /** The event's own payload, as the backend posted it (e.g. `student_name`, `status`). */
  data: Record<string, unknown>;
  related_object_type: string | null;
  related_object_id: string | null;
  read_at: string | null;
  is_read: boolean;
  requires_action: boolean;
  action_taken: boolean;
  created_at: string;
  sent_at: string;
}

/** The `notification` event's detail: the stored notification plus the push envelope's fields. */
export interface HubNotification extends StoredNotification {
  /** The notification type (`attendance_alert`, `grade_published`, `system_alert`, ...). */
  type: string;
  /** When the server sent the push: ISO 8601 UTC with milliseconds. */
  timestamp: string;
}

/** `connected`: the session is authenticated and live. */
export interface ConnectedDetail {
  session_id: string;
  user_id: number;
  /** Seconds between heartbeats (the client sends them itself). */
  heartbeat_interval: number;
  unread_count: number;
  server_time: string;
}

/** `resumed`: the replay after a reconnect is complete. */
export interface ResumedDetail {
  count: number;
  last_id: number;
}

/** `read`: notifications were marked read in some tab of this user. */
export interface ReadDetail {
  ids: number[];
  unread_count: number;
}

/** `updated`: seen, archived, unarchived, snoozed or deleted in some tab of this user, with the counts after. */
export interface UpdatedDetail {
  ids: number[];
  state: "seen" | "archived" | "unarchived" | "snoozed" | "deleted";
  unread_count: number;
  unseen_count: number;
}

/** An online member of a room. */
export interface PresenceMember {
  user_id: number;
  name: string;
  role: string;
}

/** `presence`: a room's online members now; `joins`/`leaves` when it came from a change. */
export interface PresenceDetail {
  room: string;
  members: PresenceMember[];
  joins?: PresenceMember[];
  leaves?: PresenceMember[];
}

/** `error`: a server `error` message (`invalid_json`, `forbidden`, `rate_limited`, ...) or the
 * client's own (`token_unavailable`, `closed`, `refresh_failed`). */
export interface HubErrorDetail {
  code: string;
  message: string;
}

export interface StatusDetail {
  status: ConnectionStatus;
}

/** The events a HubClient dispatches, each a CustomEvent with its detail. */
export interface HubClientEventMap {
  notification: CustomEvent<HubNotification>;
  connected: CustomEvent<ConnectedDetail>;
  resumed: CustomEvent<ResumedDetail>;
  read: CustomEvent<ReadDetail>;
  updated: CustomEvent<UpdatedDetail>;
  presence: CustomEvent<PresenceDetail>;
  error: CustomEvent<HubErrorDetail>;
  status: CustomEvent<StatusDetail>;
}

export interface PushOptions {
  /** The service worker script (default "/static/hub-sw.js"). */
  serviceWorker?: string;
  /** The hub's http(s) origin (default: from the WebSocket url). */
  apiBase?: string;
}

/** A Web Push subscription saved on the hub. */
export interface SavedPushSubscription {
  id: number;
  endpoint: string;
  user_agent?: string;
  created_at: string;
}

export class HubClient extends EventTarget {
  constructor(options: HubClientOptions);

  readonly url: string;
  token: () => string | Promise<string>;
  refresh?: () => Promise<string>;
  minDelay: number;
  maxDelay: number;
  /** The newest notification id seen: the resume cursor. */
  readonly lastId: number;
  readonly unreadCount: number;
  /** The rooms joined with subscribe(), joined again after each reconnect. */
  readonly rooms: Set<string>;
  /** room -> (user_id -> member), kept from presence_state and presence_diff. */
  readonly presence: Map<string, Map<number, PresenceMember>>;
  readonly status: ConnectionStatus;
  /** The id of the subscription enablePush() saved (null after disablePush()). */
  readonly pushSubscriptionId?: number | null;

  /** Opens the connection and keeps it open (reconnecting with back-off) until close(). */
  connect(): void;
  /** Closes for good: no reconnect. */
  close(): void;
  /** Joins a room's presence (`class:5`, `khatma:12`, ...); kept across reconnects. */
  subscribe(room: string): void;
  unsubscribe(room: string): void;
  /** Marks one id or a list of ids read; every tab of the user gets a `read` event. */
  markRead(ids: number | number[]): void;
  markAllRead(): void;
  /** The bell was opened: every notification up to `upToId` (default: the last one received) is seen. */
  markSeen(upToId?: number): void;
  /** Out of the inbox (still listed with `archived=true`), in every tab. */
  archive(ids: number | number[]): void;
  unarchive(ids: number | number[]): void;
  /** Hidden until `until`; it then comes back as a `notification` (with `unsnoozed: true`). */
  snooze(ids: number | number[], until: Date | string): void;
  /** Online members of a room. */
  members(room: string): PresenceMember[];
  /** Web Push: asks permission, registers the worker, subscribes and saves the subscription on
   * the hub. Rejects with the reason (no Web Push, permission denied, push off on this hub). */
  enablePush(options?: PushOptions): Promise<SavedPushSubscription>;
  /** Stops Web Push in this browser; false when there was no subscription. */
  disablePush(options?: PushOptions): Promise<boolean>;

  addEventListener<K extends keyof HubClientEventMap>(
    type: K, listener: (this: HubClient, event: HubClientEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
                   options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof HubClientEventMap>(
    type: K, listener: (this: HubClient, event: HubClientEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null,
                      options?: boolean | EventListenerOptions): void;
}
