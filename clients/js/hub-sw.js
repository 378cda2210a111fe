// hub-sw.js: the hub's Web Push service worker, served at /static/hub-sw.js.
// Shows each push as a notification (title, body, dir "auto" so Arabic reads right to left, tag =
// the event's collapse key so a newer one replaces an older one) and on a click focuses a window
// already showing its url, or opens one.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch {
      data = { message: event.data.text() };
    }
  }
  const options = {
    body: data.message || "",
    dir: "auto",
    data: { id: data.id, url: data.url || "/" },
    timestamp: Date.parse(data.timestamp) || Date.now(),
  };
  if (data.collapse_key) {
    options.tag = data.collapse_key;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(data.title || "Notification", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data?.url || "/", self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => client.url === target && "focus" in client);
    if (open) return open.focus();
    return self.clients.openWindow(target);
  })());
});
