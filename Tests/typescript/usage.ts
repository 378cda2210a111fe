// How a web app uses the client: `make test` runs `tsc -p Tests/typescript` on this file and
// misuse.ts against clients/js/hub-client.d.ts.
import { HubClient, type HubNotification, type PresenceMember, type SavedPushSubscription } from "../../clients/js/hub-client.js";

let access = "header.payload.signature";

async function refreshAccessToken(): Promise<string> {
  access = "fresh";
  return access;
}

const hub = new HubClient({
  url: "wss://hub.example/ws/notifications/",
  token: () => access,
  refresh: refreshAccessToken,
  minDelay: 250,
});

const shown: HubNotification[] = [];
hub.addEventListener("notification", (event) => {
  const n = event.detail;
  shown.push(n);
  const title: string = n.title_arabic || n.title;
  const student = n.data["student_name"];
  console.log(n.id, n.type, n.priority, title, n.timestamp, typeof student === "string" ? student : "");
  if (!n.is_read) hub.markRead(n.id);
});
hub.addEventListener("connected", (event) => {
  const unread: number = event.detail.unread_count;
  console.log(event.detail.session_id, unread, event.detail.heartbeat_interval);
});
hub.addEventListener("read", ({ detail }) => console.log(detail.ids.length, detail.unread_count));
hub.addEventListener("resumed", ({ detail }) => console.log(detail.count, detail.last_id));
hub.addEventListener("presence", ({ detail }) => {
  const online: PresenceMember[] = detail.members;
  console.log(detail.room, online.map((m) => `${m.user_id}:${m.name}:${m.role}`), detail.joins?.length ?? 0);
});
hub.addEventListener("error", ({ detail }) => console.warn(detail.code, detail.message));
const onStatus = (event: CustomEvent<{ status: "connecting" | "open" | "reconnecting" | "closed" }>) => {
  if (event.detail.status === "open") hub.subscribe("class:5");
};
hub.addEventListener("status", onStatus);
hub.removeEventListener("status", onStatus);
hub.addEventListener("something-else", (event: Event) => console.log(event.type));

hub.connect();
hub.markRead([1, 2, 3]);
hub.markAllRead();
hub.addEventListener("updated", (event) => console.log(event.detail.state, event.detail.unseen_count));
hub.markSeen();
hub.archive(4);
hub.unarchive([4]);
hub.snooze([5, 6], new Date(Date.now() + 3600e3));
const members: PresenceMember[] = hub.members("class:5");
hub.unsubscribe("class:5");
console.log(members, hub.status, hub.unreadCount, hub.lastId, [...hub.rooms], hub.presence.get("class:5")?.size);

async function push(): Promise<void> {
  const saved: SavedPushSubscription = await hub.enablePush({ serviceWorker: "/static/hub-sw.js" });
  console.log(saved.id, saved.endpoint, hub.pushSubscriptionId);
  const dropped: boolean = await hub.disablePush();
  console.log(dropped);
}
void push();
hub.close();
