"""Headless Chromium for the browser suites (selenium): one way to start it, one way to sign in
to the demo page (`/demo/`) or the operator console (`/admin/`)."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PASSWORD = "pass12345"  # register_user's


def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800",
                     "--lang=en-US"):
        options.add_argument(argument)
    if os.path.exists("/usr/bin/chromium"):
        options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sign_in(driver, port, email, password=PASSWORD, page="/demo/", query=""):
    """Fills the page's login form. On the demo page, waits until its socket is open."""
    driver.get(f"http://127.0.0.1:{port}{page}{query}")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-button").click()
    if page == "/demo/":
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "status").text == "open")
