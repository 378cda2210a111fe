#!/usr/bin/env python3
"""The JavaScript client and the demo page in headless Chromium (selenium): sign in, a posted
event appears within a second and the unread count changes, the server drops the connection and
the client reconnects and receives through resume what was posted while it was away, and two
browsers in one room see each other online. Saves a screenshot to docs/demo.png."""
import os
import sys
import time
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
from chromium import browser, sign_in  # noqa: E402
from hubd import DATABASE_URL, Checks, Hubd, api, register_user  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCREENSHOT = os.path.join(HERE, "..", "..", "docs", "demo.png")
KEY = "svc-" + uuid.uuid4().hex
checks = Checks()


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def main():
    with Hubd(HUB_DATABASE_URL=DATABASE_URL, HUB_SERVICE_KEYS=KEY, HUB_RATE_LIMIT_LOGIN=100000,
              HUB_RATE_LIMIT_ANON=100000, HUB_RATE_LIMIT_USER=100000, HUB_PRESENCE_GRACE_MS=1000) as hubd:
        port = hubd.port
        amina, omar = register_user(port, "Amina", language="ar"), register_user(port, "Omar")
        api(port, "POST", "/api/v1/rooms/class:5/members/", {"user_ids": [amina["id"], omar["id"]]}, api_key=KEY)
        first, second = browser(), None
        try:
            def static_client_is_served():
                import urllib.request
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/hub-client.js") as response:
                    assert response.status == 200 and response.headers["Content-Type"].startswith("text/javascript")
                    assert b"export class HubClient" in response.read()
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/") as response:
                    assert response.headers["Content-Type"].startswith("text/html") and b"HubClient" in response.read()

            def event_appears_within_a_second():
                sign_in(first, port, amina["email"], query="?reconnect_delay=1500")
                before = int(text(first, "unread"))
                started = time.time()
                status, _, answer = api(port, "POST", "/api/v1/events/", {
                    "type": "attendance_alert", "recipients": {"users": [amina["id"]]},
                    "data": {"student_name": "أمينة", "status": "غائبة", "subject": "العلوم", "class": "1A", "session_date": "اليوم", "session_time": "09:00"}}, api_key=KEY)
                assert status == 202
                nid = answer["notification_ids"][0]
                WebDriverWait(first, 1.0, poll_frequency=0.02).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, f'#list li[data-id="{nid}"]'))
                elapsed = time.time() - started
                assert elapsed < 1.0, elapsed
                item = first.find_element(By.CSS_SELECTOR, f'#list li[data-id="{nid}"]')
                assert "تنبيه الحضور" in item.text, item.text
                assert item.find_element(By.CSS_SELECTOR, ".title").get_attribute("dir") == "auto"
                WebDriverWait(first, 2).until(lambda d: int(text(d, "unread")) == before + 1)
                item.click()
                WebDriverWait(first, 2).until(lambda d: int(text(d, "unread")) == before)

            def reconnect_and_resume():
                status, _, _ = api(port, "POST", f"/api/v1/admin/users/{amina['id']}/disconnect/", {}, api_key=KEY)
                assert status == 202
                WebDriverWait(first, 3, poll_frequency=0.01).until(lambda d: text(d, "status") == "reconnecting")
                status, _, answer = api(port, "POST", "/api/v1/events/", {
                    "type": "grade_published", "recipients": {"users": [amina["id"]]},
                    "data": {"homework_title": "Math Quiz 1", "score": 85.0, "score_percentage": 85.0}}, api_key=KEY)
                nid = answer["notification_ids"][0]
                assert text(first, "status") == "reconnecting", "posted while the client was away"
                assert not first.find_elements(By.CSS_SELECTOR, f'#list li[data-id="{nid}"]')
                WebDriverWait(first, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#list li[data-id="{nid}"]'))
                assert text(first, "status") == "open"
                assert first.execute_script("return window.resumedCount") >= 1, "arrived through resume"
                unread = sum(1 for li in first.find_elements(By.CSS_SELECTOR, "#list li.unread"))
                WebDriverWait(first, 2).until(lambda d: int(text(d, "unread")) == unread)

            def two_browsers_in_one_room():
                nonlocal second
                second = browser()
                sign_in(second, port, omar["email"])
                for driver in (first, second):
                    driver.find_element(By.ID, "join").click()
                for driver, other in ((first, omar), (second, amina)):
                    WebDriverWait(driver, 5).until(
                        lambda d: d.find_elements(By.CSS_SELECTOR, f'#members li[data-user-id="{other["id"]}"]'))
                first.save_screenshot(SCREENSHOT)
                second.quit()
                second = None
                WebDriverWait(first, 6).until(
                    lambda d: not d.find_elements(By.CSS_SELECTOR, f'#members li[data-user-id="{omar["id"]}"]'))

            print("[browser]")
            checks.run("hubd serves /static/hub-client.js and /demo/", static_client_is_served)
            checks.run("sign in; an event appears within a second in Arabic; unread count follows", event_appears_within_a_second)
            checks.run("server drops the connection; the client reconnects and resumes the missed event", reconnect_and_resume)
            checks.run("two browsers in one room see each other online (screenshot saved)", two_browsers_in_one_room)
        finally:
            first.quit()
            if second:
                second.quit()
    checks.exit()


if __name__ == "__main__":
    main()
