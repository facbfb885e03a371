"""The browser app end to end: ``solara run explorer.app`` in a subprocess, driven by
headless Chromium (selenium). Skipped without solara, selenium or /usr/bin/chromium."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
RESULTS = "results/policy_comparison"

_missing = [name for name in ("solara", "selenium")
            if importlib.util.find_spec(name) is None]
if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
    _missing.append(f"{CHROMIUM} and {CHROMEDRIVER}")
if _missing:
    pytest.skip("browser tests need the app extra (pip install -e \".[app]\") and chromium "
                f"(apt-get install chromium chromium-driver); missing: {', '.join(_missing)}",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

SOLARA = str(Path(sys.executable).with_name("solara"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    cmd = [SOLARA if Path(SOLARA).exists() else shutil.which("solara") or "solara",
           "run", "explorer.app", "--port", str(port), "--host", "localhost", "--production"]
    env = {**os.environ, "SME_ABM_RESULTS": RESULTS}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"solara exited with {proc.returncode}")
        try:
            with socket.create_connection(("localhost", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        _wait(answers, 90, f"solara on port {port}")
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                f"--user-data-dir={tmp_path / 'chrome-profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _body(driver) -> str:
    # Solara re-renders parts of the page at any time: an element found a moment ago may
    # be gone. Every reader retries through _wait instead of failing on that.
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except StaleElementReferenceException:
        return ""


def _charts(driver) -> list:
    try:
        return [e for e in driver.find_elements(By.CSS_SELECTOR, "img, svg, canvas")
                if e.size["height"] > 100]
    except StaleElementReferenceException:
        return []


def _sources(driver) -> list[str]:
    try:
        return [c.get_attribute("src") for c in _charts(driver)]
    except StaleElementReferenceException:
        return []


def _click(driver, label: str) -> bool:
    try:
        _button(driver, label).click()
        return True
    except (StaleElementReferenceException, StopIteration):
        return False


def _button(driver, label: str):
    return next(b for b in driver.find_elements(By.TAG_NAME, "button")
                if b.text.strip().upper() == label)


def _seed_input(driver):
    """The text field under the label "Seed"."""
    for field in driver.find_elements(By.CSS_SELECTOR, ".v-text-field"):
        labels = field.find_elements(By.TAG_NAME, "label")
        if labels and labels[0].text.strip() == "Seed":
            return field.find_element(By.TAG_NAME, "input")
    raise AssertionError("no Seed input on the page")


def _slider(driver, label: str):
    """The slider (its focusable thumb) under the label ``label``."""
    for box in driver.find_elements(By.CSS_SELECTOR, ".v-input__slider"):
        labels = box.find_elements(By.TAG_NAME, "label")
        if labels and labels[0].text.strip() == label:
            return box.find_element(By.CSS_SELECTOR, "[role=slider]")
    raise AssertionError(f"no slider {label!r} on the page")


def _press(driver, label: str, key: str) -> bool:
    try:
        thumb = _slider(driver, label)
        driver.execute_script("arguments[0].focus();", thumb)
        thumb.send_keys(key)
        return True
    except StaleElementReferenceException:
        return False


def test_single_run_page_steps_the_model(server, browser, tmp_path):
    browser.get(server + "/")
    _wait(lambda: len(_charts(browser)) >= 2, 60, "the charts of the single-run page")
    _wait(lambda: "Step: 0" in (t := _body(browser)) and "2021 Q1" in t, 30,
          "the first quarter on the page")
    before = _wait(lambda: _sources(browser), 30, "the chart images")

    assert "subsidy '" not in _wait(lambda: _body(browser), 10, "the page text")
    seed = _seed_input(browser)
    seed.send_keys(Keys.CONTROL, "a")
    seed.send_keys("7", Keys.ENTER)
    time.sleep(1)
    for _ in range(8):  # 8 steps of 0.05: a 40% subsidy (the page re-renders: re-find it)
        _wait(lambda: _press(browser, "Subsidy rate", Keys.ARROW_RIGHT), 20,
              "the subsidy-rate slider to take a key")
        time.sleep(0.3)
    time.sleep(1)
    _wait(lambda: _click(browser, "RESET"), 20, "the Reset button")
    _wait(lambda: "subsidy 'subsidy': 40% of the cost" in _body(browser), 60,
          "the status to show the 40% subsidy lever in force")
    _wait(lambda: _click(browser, "STEP"), 20, "the Step button")
    _wait(lambda: "Step: 1" in _body(browser), 60, "the step counter to reach 1")
    _wait(lambda: "2021 Q2" in _body(browser), 30, "the status to show 2021 Q2")
    _wait(lambda: (now := _sources(browser)) and now != before, 30, "the charts to change")

    shot = tmp_path / "app.png"
    browser.save_screenshot(str(shot))
    artifacts = REPO / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(shot, artifacts / "app.png")
    assert shot.stat().st_size > 10_000


def test_results_page_lists_every_scenario(server, browser):
    scenarios = list(dict.fromkeys(pd.read_csv(REPO / RESULTS / "summary.csv")["scenario"]))
    browser.get(server + "/results")
    _wait(lambda: _charts(browser), 60, "the trajectory chart")
    text = _wait(lambda: (t := _body(browser)) and all(s in t for s in scenarios) and t,
                 30, "every scenario name")
    assert "P(hit)" in text and "Paired differences against the baseline" in text
    assert " pp (" in text  # the paired differences table is filled
    assert "Allowing for the model's forecast error" in text  # the committed run names one
