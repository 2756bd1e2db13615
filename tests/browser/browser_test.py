#!/usr/bin/python3
"""Browser test of the training view, in Debian's headless Chromium.

1. The HTML report of attack-missing-intermediate: the diagram renders
   offline and labels the refusal issuer_missing.
2. The hub's live page during tests/browser/live-class.json, run with
   --pause so that each step starts only when the page has seen the last:
   widget-001 appears under Technician-Z, then the issuer_missing counter
   goes up, and disabling Technician-Z's group shows both disabled, without
   a reload.
3. Markup in a CA's name and in telemetry renders as text, in the live
   page and in that run's report: no script runs, no image is made.

usage: browser_test.py BIN_DIR SCENARIOS_DIR THIS_DIR
CHAINLAB_SCREENSHOTS=DIR saves report.png and dashboard.png there.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30  # seconds for anything the page must show
MARKUP = ["<script>__xss=1</script>", "<script>__xss=3</script>", "<img src=x onerror=__xss=4>"]

bin_dir, scenarios_dir, this_dir = sys.argv[1:4]
shots = os.environ.get("CHAINLAB_SCREENSHOTS")
work = tempfile.mkdtemp(prefix="chainlab-browser-")


def browser():
    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--user-data-dir=" + os.path.join(work, "profile")]:
        options.add_argument(flag)
    options.accept_insecure_certs = True  # the hub's own service CA; the test pins nothing else
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_for(driver, what, condition):
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.1).until(lambda d: condition(d))
    except Exception:
        raise AssertionError("the page did not show " + what + " within %d s" % WAIT)


def no_markup_ran(driver, where):
    assert driver.execute_script("return typeof window.__xss") == "undefined", \
        where + ": an injected script or onerror handler ran"
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0, \
        where + ": recorded text became an <img> element"


def check_report(driver, path, label):
    driver.get("file://" + path)
    wait_for(driver, "a rendered diagram", lambda d: d.execute_script(
        "return document.body.dataset.diagram") in ("rendered", "failed"))
    assert driver.execute_script("return document.body.dataset.diagram") == "rendered", \
        driver.find_element(By.ID, "diagram-error").text
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg text')).map(t => t.textContent)")
    return [text for text in labels if label in text]


def test_report():
    report = os.path.join(work, "attack-missing-intermediate.html")
    run = subprocess.run([os.path.join(bin_dir, "scenario"), "run", "--html", report,
                          os.path.join(scenarios_dir, "attack-missing-intermediate.json")],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    driver = browser()
    try:
        refused = check_report(driver, report, "issuer_missing")
        assert any("\u2717 issuer_missing" in text for text in refused), refused
        assert any("CN=widget-001" in text for text in refused), "no explanation naming the certificate"
        if shots:  # the refusal, in the middle of the picture
            driver.execute_script(
                "Array.from(document.querySelectorAll('svg text')).find(t => t.textContent.includes("
                "'\u2717 issuer_missing:')).scrollIntoView({block: 'center', inline: 'center'})")
            driver.save_screenshot(os.path.join(shots, "report.png"))
    finally:
        driver.quit()
    print("ok   report of attack-missing-intermediate labels the refusal issuer_missing")


class PausedRun:
    """scenario run --pause: each step starts when the test presses Enter."""

    def __init__(self, scenario, report):
        self.process = subprocess.Popen(
            [os.path.join(bin_dir, "scenario"), "run", "--pause", "--html", report, scenario],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.transcript = []

    def read_until(self, marker):
        for line in self.process.stdout:
            self.transcript.append(line)
            if marker in line:
                return line
        raise AssertionError("the run ended before " + repr(marker) + ":\n" + "".join(self.transcript[-40:]))

    def next_step(self, number):
        self.read_until("paused before step %d/" % number)
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def finish(self):
        self.process.stdin.close()
        rest = self.process.stdout.read()
        self.transcript.append(rest)
        code = self.process.wait(timeout=120)
        assert code == 0, "the live-class run failed:\n" + "".join(self.transcript)[-4000:]


def device_under(driver, subject, device):
    return driver.execute_script(
        "var n = Array.from(document.querySelectorAll('#tree li')).find(li => li.dataset.subject === arguments[0]);"
        "return !!n && Array.from(n.querySelectorAll('li.device')).some(li => li.dataset.device === arguments[1]);",
        subject, device)


def status_of(driver, subject):
    return driver.execute_script(
        "var n = Array.from(document.querySelectorAll('#tree li')).find(li => li.dataset.subject === arguments[0]);"
        "return n ? n.querySelector('.status').textContent : '';", subject)


def device_status(driver, device):
    return driver.execute_script(
        "var n = Array.from(document.querySelectorAll('#tree li.device')).find(li => li.dataset.device === arguments[0]);"
        "return n ? n.querySelector('.status').textContent : '';", device)


def refusals(driver, reason):
    return driver.execute_script(
        "var row = Array.from(document.querySelectorAll('#refusals tr')).find(r => r.dataset.reason === arguments[0]);"
        "return row ? Number(row.querySelector('.count').textContent) : 0;", reason)


def test_live_page():
    report = os.path.join(work, "live-class.html")
    run = PausedRun(os.path.join(this_dir, "live-class.json"), report)
    driver = browser()
    try:
        line = run.read_until("live page of hub classroom: ")
        url = line.split("live page of hub classroom: ")[1].split(" ")[0]
        token_file = line.split("(token in ")[1].rstrip().rstrip(")")
        token = open(token_file).read().strip()
        run.read_until("paused before step 1/")
        driver.get(url)
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "#signin button").click()
        wait_for(driver, "the signed-in page", lambda d: d.find_element(By.ID, "live").is_displayed())
        assert token not in driver.current_url, "the token reached the URL"
        driver.execute_script("window.__sameDocument = true")  # gone if the page reloads

        run.process.stdin.write("\n")  # step 1: Company-X registers
        run.process.stdin.flush()
        run.next_step(2)  # widget-001 connects
        wait_for(driver, "widget-001 under CN=Technician-Z",
                 lambda d: device_under(d, "CN=Technician-Z", "widget-001"))
        before = refusals(driver, "issuer_missing")
        run.next_step(3)  # widget-001 without its intermediates
        wait_for(driver, "the issuer_missing counter going up",
                 lambda d: refusals(d, "issuer_missing") > before)
        if shots:
            driver.save_screenshot(os.path.join(shots, "dashboard.png"))
        run.next_step(4)  # the CA with markup in its name
        run.next_step(5)  # markup as telemetry
        wait_for(driver, "the telemetry with markup, as text",
                 lambda d: MARKUP[1] in d.find_element(By.ID, "events").text)
        wait_for(driver, "the CA with markup in its name, as text",
                 lambda d: MARKUP[0] in d.find_element(By.ID, "tree").text)
        run.next_step(6)  # the operator disables Technician-Z's group
        wait_for(driver, "Technician-Z and widget-001 shown disabled",
                 lambda d: status_of(d, "CN=Technician-Z") == "intermediate: disabled"
                 and device_status(d, "widget-001").startswith("disabled"))
        assert driver.execute_script("return window.__sameDocument === true"), "the page reloaded"
        no_markup_ran(driver, "live page")
        run.finish()
        print("ok   live page: widget-001 under Technician-Z, issuer_missing counted, markup shown as text, "
              "the disabled group shown disabled")

        check_report(driver, report, "issuer_missing")
        text = driver.execute_script("return document.body.textContent")  # folded parts too
        for markup in MARKUP:
            assert markup in text, "the report does not show " + markup + " as text"
        no_markup_ran(driver, "report")
        print("ok   report of live-class: markup in a CA name and in telemetry shown as text")
    finally:
        driver.quit()
        if run.process.poll() is None:
            run.process.kill()


try:
    test_report()
    test_live_page()
finally:
    shutil.rmtree(work, ignore_errors=True)
