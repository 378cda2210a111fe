// Wrong uses the declarations must refuse: each line below is an error, and tsc fails if one is
// not (an unused @ts-expect-error is itself an error), so the types are proven not to be `any`.
import { HubClient } from "../../clients/js/hub-client.js";

// @ts-expect-error: the url is required
new HubClient({ token: () => "t" });
// @ts-expect-error: token is a function, not a string
new HubClient({ url: "wss://h/ws/notifications/", token: "t" });

const hub = new HubClient({ url: "wss://h/ws/notifications/", token: async () => "t" });
hub.addEventListener("notification", (event) => {
  // @ts-expect-error: a notification's id is a number
  const id: string = event.detail.id;
  // @ts-expect-error: no such field
  console.log(id, event.detail.titel);
});
hub.addEventListener("read", (event) => {
  // @ts-expect-error: unread_count is a number
  event.detail.unread_count.toUpperCase();
});
// @ts-expect-error: ids are numbers
hub.markRead("12");
// @ts-expect-error: a room is a string
hub.subscribe(5);
// @ts-expect-error: no such method
hub.send({ type: "heartbeat" });
// @ts-expect-error: enablePush resolves to the saved subscription, not a string
hub.enablePush().then((saved: string) => saved);
// @ts-expect-error: snooze needs until
hub.snooze(5);
