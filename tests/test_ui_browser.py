"""The chat UI in a real browser: `streamlit run ui/app.py` on a free local port, driven by headless Chromium.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skipped without.
``UI_SCREENSHOT=docs/ui.png`` also writes the screenshot there (how the README's image is made).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import mmqa
from mmqa.cli import UI_APP, ui_command
from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1200")  # fmt: skip
# Scroll the element's scrolling container (Streamlit's main area, not the window) to put it at the top.
SCROLL_TO_TOP_OF = """
let box = arguments[0].parentElement;
while (box && !(box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY !== 'visible')) {
  box = box.parentElement;
}
box = box || document.scrollingElement;
box.scrollTop += arguments[0].getBoundingClientRect().top - box.getBoundingClientRect().top - 16;
"""
QUESTION = "What is multi-head attention and why is it used?"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="headless browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
    "(apt-get install -y chromium chromium-driver)",
)


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 90) -> None:
    """Wait until Streamlit answers its health check (or fail with its output)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}: {server.stdout.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not come up at {url} within {timeout:.0f} s")


@pytest.fixture
def app_url(ui_home, tmp_path):
    """The app serving a copy of the two-paper index (embedded Chroma belongs to one process at a time)."""
    home = tmp_path / "home"
    shutil.copytree(ui_home, home, ignore=shutil.ignore_patterns(".lock", "pages"))
    port = free_port()
    source = str(Path(mmqa.__file__).resolve().parents[1])  # the server imports the mmqa under test
    env = {
        **os.environ,
        "MMQA_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
    }
    server = subprocess.Popen(ui_command(UI_APP, "127.0.0.1", port), env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium through Selenium, with a fresh profile and no background network."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def click_when_settled(browser, locator, timeout: float = 30) -> None:
    """Click the element at ``locator`` once Streamlit has stopped re-running and nothing covers it.

    While the script re-runs, Streamlit lays blocks out again: a click can land on a block still moving
    over the link ('element click intercepted'), or on an element just replaced (stale). Retry then.
    """
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while True:
        running = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget'] [data-testid='stSpinner']")
        try:
            if not running:
                browser.find_element(*locator).click()
                return
        except (ElementClickInterceptedException, StaleElementReferenceException):
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            browser.find_element(*locator).click()
            return
        time.sleep(0.3)


def click_until(browser, locator, done, tries: int = 3, wait: float = 15) -> None:
    """Click ``locator`` once settled (``click_when_settled``) until ``done(browser)`` holds, at most ``tries``
    times. A click can still land on a block Streamlit is moving (after the [1] jump scrolls the page, say)
    and do nothing; then the element is brought into view and clicked again. Whether ``done`` holds in the
    end is for the caller to assert."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    for _ in range(tries):
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", browser.find_element(*locator))
        click_when_settled(browser, locator)
        try:
            WebDriverWait(browser, wait).until(done)
            return
        except TimeoutException:
            continue


def test_ask_in_browser_and_open_a_source_card(app_url, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 120)
    browser.get(app_url)
    box = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInput'] textarea")))
    box.send_keys(QUESTION + Keys.ENTER)

    answer = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".mmqa-answer")))
    assert "attention" in answer.text.lower() and "[1]" in answer.text
    card = wait.until(ec.visibility_of_element_located((By.ID, "mmqa-t0-s1")))
    assert "Attention Is All You Need" in card.text and "1706.03762" in card.text
    assert card.find_elements(By.CSS_SELECTOR, "mark.mmqa-support"), "supporting sentences are highlighted"

    # [1] jumps to its source card
    click_until(browser, (By.CSS_SELECTOR, ".mmqa-answer a.mmqa-ref"), lambda b: b.current_url.endswith("#mmqa-t0-s1"))
    assert browser.current_url.endswith("#mmqa-t0-s1")

    # open the card's page view: the PDF page rendered as an image
    summary_at = (By.XPATH, "//summary[contains(., 'PDF page')]")
    wait.until(ec.element_to_be_clickable(summary_at))
    click_until(browser, summary_at, lambda b: b.find_elements(By.CSS_SELECTOR, "details[open]"))
    image = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "details[open] [data-testid='stImage'] img")))
    wait.until(lambda _: image.get_property("naturalWidth") > 0)
    time.sleep(1.0)  # let the expander finish its animation, then show the question, answer and first card
    question = browser.find_element(By.CSS_SELECTOR, "[data-testid='stChatMessage']")
    browser.execute_script(SCROLL_TO_TOP_OF, question)
    time.sleep(0.5)

    shot = tmp_path / "ui.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("UI_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["UI_SCREENSHOT"])
