#!/usr/bin/env python3
"""The first run as the README tells it, in headless Chromium: the files `make run` makes
(`.data/service-key`, `.data/admin-password`), hubd started as `make run` starts it, the banner's
curl line run as printed, then /demo/ signed in as admin@localhost: the notification is in the
bell; "Send me a test notification" (shown to staff only) brings a second one live."""
import json
import os
import subprocess
import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd, register_user  # noqa: E402
from chromium import browser, sign_in  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
checks = Checks()


def titles(driver):
    from selenium.common.exceptions import StaleElementReferenceException
    try:
        return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#list li:not(.empty)")]
    except StaleElementReferenceException:  # the list was drawn again meanwhile: the wait looks again
        return []


def main():
    subprocess.run(["make", "-s", ".data/service-key", ".data/admin-password"], cwd=ROOT, check=True)
    with open(os.path.join(ROOT, ".data", "service-key")) as f:
        key = f.read().strip()
    with open(os.path.join(ROOT, ".data", "admin-password")) as f:
        password = f.read().strip()
    env = {"HUB_DATABASE_URL": DATABASE_URL, "HUB_SERVICE_KEYS": key, "HUB_ADMIN_EMAIL": "admin@localhost",
           "HUB_ADMIN_PASSWORD_FILE": os.path.join(ROOT, ".data", "admin-password")}
    with Hubd(**env) as hubd:
        port = hubd.port
        driver = browser()
        try:
            def banner_curl_then_demo_shows_it():
                banner = subprocess.run([os.path.join(ROOT, "scripts", "banner.sh"), str(port)], cwd=ROOT,
                                        capture_output=True, text=True, check=True).stdout
                assert f"http://localhost:{port}/demo/" in banner and ".data/admin-password" in banner, banner
                curl = next(line for line in banner.splitlines() if line.startswith("curl "))
                answer = json.loads(subprocess.run(["sh", "-c", curl], cwd=ROOT, capture_output=True, text=True,
                                                   check=True).stdout)
                assert answer["count"] >= 1 and answer["duplicate"] is False, answer  # every ADMIN of the shared database
                sign_in(driver, port, "admin@localhost", password)
                WebDriverWait(driver, 10).until(lambda d: any("Hello from the hub" in t for t in titles(d)))
                # Announcements other suites left in the shared database count too.
                assert int(driver.find_element(By.ID, "unread").text) >= 1

            def staff_button_sends_one_live():
                button = driver.find_element(By.ID, "send-test")
                assert button.is_displayed()
                before = int(driver.find_element(By.ID, "unread").text)
                button.click()
                WebDriverWait(driver, 10).until(lambda d: any("A test notification" in t for t in titles(d)))
                WebDriverWait(driver, 5).until(lambda d: int(d.find_element(By.ID, "unread").text) == before + 1)

            def button_hidden_from_non_staff():
                student = register_user(port, "Student")
                other = browser()
                try:
                    sign_in(other, port, student["email"], "pass12345")
                    assert not other.find_element(By.ID, "send-test").is_displayed()
                finally:
                    other.quit()

            checks.run("the banner's curl line, then /demo/: the notification is in the bell",
                       banner_curl_then_demo_shows_it)
            checks.run("staff: 'Send me a test notification' arrives live", staff_button_sends_one_live)
            checks.run("the button is hidden from non-staff", button_hidden_from_non_staff)
        finally:
            driver.quit()
    checks.exit()


if __name__ == "__main__":
    main()
