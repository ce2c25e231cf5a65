#!/usr/bin/env python3
"""Walks the guest redemption and sign-in pages in Debian's headless Chromium (Selenium).

Driven by RedemptionBrowserTests: argv[1] is a JSON plan written by the test
(base URL, spool directory, cases); the result JSON goes to argv[2]. Each case
opens the redeem link from the spooled invitation email, as a guest would.
With "screenshots" set in the plan, each page is saved there as a PNG.
Exits 1 with the failed checks on stderr.
"""
import email
import email.policy
import glob
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

plan = json.load(open(sys.argv[1]))
failures = []
results = {}


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def mails_to(address):
    """Spooled messages to `address`, oldest first, as (path, parsed message)."""
    found = []
    for path in sorted(glob.glob(os.path.join(plan["spool"], "*.eml"))):
        with open(path, "rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        if address.lower() in str(message.get("To", "")).lower():
            found.append((path, message))
    return found


def text_of(message):
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def wait_for_mail(address, predicate, seen=(), timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path, message in mails_to(address):
            if path not in seen and predicate(text_of(message)):
                return path, message
        time.sleep(0.05)
    raise RuntimeError("no email to %s arrived in time" % address)


def redeem_link(address):
    _, message = wait_for_mail(address, lambda text: "redeem?ticket=" in text)
    return re.search(r"(https?://\S+/redeem\?ticket=[A-Za-z0-9_\-]+)", text_of(message)).group(1)


def passcode(address, seen):
    path, message = wait_for_mail(address, lambda text: "redeem?ticket=" not in text and re.search(r"\b\d{8}\b", text), seen)
    return path, re.search(r"\b(\d{8})\b", text_of(message)).group(1)


def passcode_mails(address):
    return {path for path, message in mails_to(address) if "redeem?ticket=" not in text_of(message)}


options = Options()
options.binary_location = plan["chromium"]
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=430,1000",
                 "--lang=en-US", "--no-first-run", "--disable-extensions",
                 # The test provider's page links a stylesheet on a CDN: fail it at once, offline or not.
                 "--host-resolver-rules=MAP cdn.jsdelivr.net ~NOTFOUND"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service(executable_path=plan["chromedriver"]), options=options)
driver.set_page_load_timeout(20)


def shot(name):
    """Saves the page as NAME.png in the plan's screenshot directory, if both are given."""
    if name and plan.get("screenshots"):
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(430, max(600, min(int(height) + 40, 2000)))
        driver.save_screenshot(os.path.join(plan["screenshots"], name + ".png"))
        driver.set_window_size(430, 1000)


def h1():
    return driver.find_element(By.TAG_NAME, "h1").text


def page_summary():
    """The heading and any alert of the page shown: why a walk stopped where it did."""
    alerts = [element.text for element in driver.find_elements(By.CSS_SELECTOR, "[role=alert]")]
    headings = [element.text for element in driver.find_elements(By.TAG_NAME, "h1")]
    return " / ".join(headings + alerts)


def replaced(element):
    """Whether `element`'s page was replaced. Chromium answers a node of a
    document being replaced either as stale or with an inspector error
    ("Node with given id does not belong to the document"): both mean gone."""
    def check(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check


def click(selector):
    """Clicks a link or button and waits until the next page replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 10).until(replaced(page))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def run_sign_in(case):
    """A passcode guest signs in again: address, passcode from the next email, landing page, sign-out.
    For an address that may not sign in, the same pages answer and no email comes."""
    kind = case["kind"]
    address = case["to"]
    before_codes = passcode_mails(address)
    driver.get(plan["base"] + "/signin?tenant=" + case["tenant"])
    check(case["signin_heading"] in h1(), "%s: sign-in heading is %r" % (kind, h1()))
    driver.find_element(By.ID, "email").send_keys(address)
    shot(case.get("shot_form"))
    click("form[action='/signin'] button")
    check(case["passcode_heading"] in h1(), "%s: passcode heading is %r" % (kind, h1()))
    if kind == "signin_ineligible":
        driver.find_element(By.ID, "passcode").send_keys("12345678")
        click("form[action='/signin/passcode'] button")
        alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
        check(case["wrong_text"] in alert, "%s: a passcode says %r" % (kind, alert))
        time.sleep(0.5)
        check(passcode_mails(address) == before_codes, "%s: an email was sent" % kind)
        return
    _, code = passcode(address, before_codes)
    shot(case.get("shot_passcode"))
    driver.find_element(By.ID, "passcode").send_keys(code)
    click("form[action='/signin/passcode'] button")
    check(driver.current_url.endswith("/signin/done"), "%s: landed on %r" % (kind, driver.current_url))
    for text in case.get("done_texts", []):
        check(text in driver.find_element(By.TAG_NAME, "main").text, "%s: landing page lacks %r" % (kind, text))
    shot(case.get("shot"))
    click("form[action='/signin/signout'] button")
    check(case["signed_out_heading"] in h1(), "%s: after sign-out the heading is %r" % (kind, h1()))
    driver.get(plan["base"] + "/signin/done")
    check(case["expired_heading"] in h1(), "%s: the landing page after sign-out says %r" % (kind, h1()))
    results[case["name"]] = "signed in"


def sign_in_at_provider(case, sub):
    """On the identity provider's authorization form (oidc-provider-mock): sign in as `sub`, or deny when None."""
    check(case["provider_heading"] in h1(), "%s: provider page heading is %r" % (case["kind"], h1()))
    if sub is None:
        click("button[name=action][value=deny]")
        return
    driver.find_element(By.CSS_SELECTOR, "input[name=sub]").send_keys(sub)
    shot(case.get("shot_provider"))
    click("button[type=submit]:not([name])")


def run_federated(case):
    """A partner's guest redeems through its organization's identity provider: the invitation
    page offers "Continue with <provider>", the permissions page sends the browser to the
    provider; a cancelled sign-in comes back to the permissions page with the reason, and a
    second try lands on the redirect URL."""
    kind = case["kind"]
    driver.get(redeem_link(case["to"]))
    main = driver.find_element(By.TAG_NAME, "main").text
    for text in case.get("invitation_texts", []):
        check(text in main, "%s: invitation page lacks %r" % (kind, text))
    button = driver.find_element(By.CSS_SELECTOR, "a.button").text
    check(case["continue_text"] in button, "%s: the invitation's button reads %r" % (kind, button))
    shot(case.get("shot_invitation"))
    click("a.button")
    check(case["consent_heading"] in h1(), "%s: consent heading is %r" % (kind, h1()))
    check(not driver.find_elements(By.ID, "api_key"), "%s: the permissions page asks for an API key" % kind)
    click("button[value=accept]")
    sign_in_at_provider(case, None)
    check(driver.current_url.startswith(plan["base"] + "/redeem/callback"), "%s: back on %r" % (kind, driver.current_url))
    alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
    check(case["refused_text"] in alert, "%s: a cancelled sign-in says %r" % (kind, alert))
    shot(case.get("shot_refused"))
    click("button[value=accept]")
    sign_in_at_provider(case, case["sub"])
    check(driver.current_url == case["redirect"], "%s: landed on %r, not %r; the page says %r" % (
        kind, driver.current_url, case["redirect"], page_summary()))
    results[case["name"]] = driver.current_url


def run_case(case):
    kind = case["kind"]
    if kind.startswith("signin"):
        return run_sign_in(case)
    if kind == "federated":
        return run_federated(case)
    address = case["to"]
    link = redeem_link(address) if kind != "unknown" else plan["base"] + "/redeem?ticket=not-a-real-ticket"
    before_codes = passcode_mails(address) if kind != "unknown" else set()
    driver.get(link)
    heading = h1()
    if kind in ("expired", "revoked", "unknown"):
        check(case["heading"] in heading, "%s: heading %r lacks %r" % (kind, heading, case["heading"]))
        page = driver.page_source
        check("@" not in driver.find_element(By.TAG_NAME, "main").text, "%s: the page shows an address" % kind)
        check("api_key" not in page and "csrf" not in page, "%s: the page offers a form" % kind)
        shot(case.get("shot"))
        return
    for text in case.get("invitation_texts", []):
        check(text in driver.find_element(By.TAG_NAME, "main").text, "%s: invitation page lacks %r" % (kind, text))
    shot(case.get("shot_invitation"))
    click("a.button")
    check(case["consent_heading"] in h1(), "%s: consent heading is %r" % (kind, h1()))
    if kind == "csrf":
        driver.execute_script("document.querySelector('input[name=csrf]').value = 'tampered';")
        click("button[value=accept]")
        check(case["heading"] in h1(), "csrf: heading after a tampered token is %r" % h1())
        shot(case.get("shot"))
        return
    if kind == "decline":
        shot(case.get("shot_consent"))
        click("button[value=decline]")
        check(case["heading"] in h1(), "decline: heading is %r" % h1())
        shot(case.get("shot"))
        return
    if kind == "home":
        driver.find_element(By.ID, "api_key").send_keys(case["api_key"])
        shot(case.get("shot_consent"))
        click("button[value=accept]")
    else:
        shot(case.get("shot_consent"))
        click("button[value=accept]")
        check(case["passcode_heading"] in h1(), "%s: passcode heading is %r" % (kind, h1()))
        _, code = passcode(address, before_codes)
        if kind == "wrong":
            wrong = "%08d" % ((int(code) + 1) % 100000000)
            for attempt in range(5):
                field = driver.find_element(By.ID, "passcode")
                field.clear()
                field.send_keys(wrong)
                click("form[action='/redeem/passcode'] button")
                alert = driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
                check(case["wrong_texts"][attempt] in alert, "wrong: attempt %d says %r" % (attempt + 1, alert))
            check(not driver.find_elements(By.ID, "passcode"), "wrong: the passcode field is still offered after 5 failures")
            shot(case.get("shot"))
            return
        shot(case.get("shot_passcode"))
        driver.find_element(By.ID, "passcode").send_keys(code)
        click("form[action='/redeem/passcode'] button")
    expected = case.get("redirect")
    if expected:
        check(driver.current_url == expected, "%s: landed on %r, not %r" % (kind, driver.current_url, expected))
    else:
        check(driver.current_url.endswith("/redeem/done"), "%s: landed on %r" % (kind, driver.current_url))
        for text in case.get("done_texts", []):
            check(text in driver.find_element(By.TAG_NAME, "main").text, "%s: done page lacks %r" % (kind, text))
        shot(case.get("shot"))
    results[case["name"]] = driver.current_url


try:
    started = time.time()
    for case in plan["cases"]:
        try:
            run_case(case)
        except Exception as error:  # one broken case must not hide the others
            failures.append("%s: %s: %s" % (case["name"], type(error).__name__, error))
    results["seconds"] = time.time() - started
finally:
    driver.quit()

json.dump({"results": results, "failures": failures}, open(sys.argv[2], "w"))
if failures:
    sys.stderr.write("\n".join(failures) + "\n")
    sys.exit(1)
