#!/usr/bin/env python3
"""Web Push in headless Chromium (selenium): hubd serves /static/hub-sw.js, the demo page's
"Enable notifications" button registers it, and a push delivered through the DevTools protocol
(`ServiceWorker.deliverPushMessage`, the payload JSON the hub sends) makes the worker show a
notification with the right title, body and tag, read back with `registration.getNotifications()`.
(Headless Chromium has no push service to subscribe with, so the message is injected; the
encrypted path from the hub to a push service is test_push.py's.)"""
import json
import os
import sys
import time
import urllib.request
import uuid

import websocket
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, register_user  # noqa: E402
from chromium import browser, sign_in  # noqa: E402

KEY = "svc-" + uuid.uuid4().hex
checks = Checks()


class DevTools:
    """A second DevTools client on the page (Chromium accepts several), for the ServiceWorker domain."""

    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json") as response:
            targets = json.load(response)
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=10, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, predicate, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            self.ws.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        raise AssertionError("DevTools event did not arrive")

    def close(self):
        self.ws.close()


def main():
    vapid = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=100000, HUB_VAPID_PRIVATE_KEY=vapid,
              HUB_VAPID_SUBJECT="mailto:ops@school.ma") as hubd:
        port = hubd.port
        origin = f"http://127.0.0.1:{port}"
        person = register_user(port, "Hafsa", language="ar")
        driver = browser()
        tools = None
        try:
            def worker_is_served():
                with urllib.request.urlopen(f"{origin}/static/hub-sw.js") as response:
                    assert response.status == 200 and response.headers["Content-Type"].startswith("text/javascript")
                    source = response.read().decode()
                for needed in ('"push"', "showNotification", 'dir: "auto"', "tag", "notificationclick", "openWindow"):
                    assert needed in source, needed

            def demo_registers_the_worker_and_a_push_shows_a_notification():
                nonlocal tools
                driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": origin, "permissions": ["notifications"]})
                sign_in(driver, port, person["email"])
                tools = DevTools(driver)
                tools.call("ServiceWorker.enable")
                driver.find_element(By.ID, "enable-push").click()
                # enablePush registers the worker first; headless Chromium has no push service, so its
                # subscribe never completes and the push below is delivered through DevTools instead.
                scope = None
                deadline = time.time() + 10
                while time.time() < deadline and not scope:
                    scope = driver.execute_async_script("""
                        const done = arguments[arguments.length - 1];
                        navigator.serviceWorker.getRegistration('/static/')
                            .then((r) => done(r && r.active && r.active.state === "activated" ? r.scope : null));
                    """)
                    if not scope:
                        time.sleep(0.1)
                assert driver.find_element(By.ID, "push-status").text.startswith(("Enabling", "Notifications")), \
                    driver.find_element(By.ID, "push-status").text
                assert scope == f"{origin}/static/", scope
                registration = tools.wait_event(lambda e: e.get("method") == "ServiceWorker.workerRegistrationUpdated"
                                                and any(r["scopeURL"] == scope and not r.get("isDeleted")
                                                        for r in e["params"]["registrations"]))
                registration_id = next(r["registrationId"] for r in registration["params"]["registrations"]
                                       if r["scopeURL"] == scope)
                payload = {"id": 41, "type": "attendance_alert", "title": "تنبيه الحضور", "message": "أمينة غائبة اليوم",
                           "url": "/demo/", "priority": "HIGH", "timestamp": "2026-12-03T10:00:00Z",
                           "collapse_key": "absence-7"}
                # A push may reach a worker still settling in a loaded browser; deliver again (a few
                # times at most) until one is shown: the check is what a delivered push shows.
                shown = None
                for _ in range(4):
                    tools.call("ServiceWorker.deliverPushMessage", origin=origin, registrationId=registration_id,
                               data=json.dumps(payload, ensure_ascii=False))
                    deadline = time.time() + 3
                    while time.time() < deadline and not shown:
                        shown = driver.execute_async_script("""
                            const done = arguments[arguments.length - 1];
                            navigator.serviceWorker.getRegistration('/static/')
                                .then((r) => r.getNotifications())
                                .then((list) => done(list.map((n) => ({title: n.title, body: n.body, tag: n.tag,
                                                                       dir: n.dir, url: n.data && n.data.url}))))
                                .catch((e) => done(String(e)));
                        """)
                        if not shown:
                            time.sleep(0.1)
                    if shown:
                        break
                assert isinstance(shown, list) and shown, shown
                assert shown[0] == {"title": "تنبيه الحضور", "body": "أمينة غائبة اليوم", "tag": "absence-7",
                                    "dir": "auto", "url": "/demo/"}, shown

            checks.run("hubd serves /static/hub-sw.js (push, notification with dir auto and tag, click opens url)",
                       worker_is_served)
            checks.run("the demo's Enable notifications registers hub-sw.js; a DevTools push shows the notification "
                       "(title, body, tag)", demo_registers_the_worker_and_a_push_shows_a_notification)
        finally:
            if tools:
                tools.close()
            driver.quit()
    checks.exit()


if __name__ == "__main__":
    main()
