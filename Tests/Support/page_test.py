"""Drives Kiln's upload page (GET /) in headless Chromium through selenium.

usage: page_test.py [--interrupt] BASE_URL API_KEY PRESET FILE [FILE...]

Pastes the key, waits for the presets to load and picks PRESET, uploads each FILE on its own,
waits until every result box is finished, and prints one JSON object per file on stdout:
{"name", "text", "images": [naturalWidth of each shown image], "progress": [bar values],
"retries"}.

--interrupt: the page sends 16 KiB chunks over a link with 150 ms of latency; once a third
of the bytes are sent the browser goes offline (DevTools network emulation) until the page
says it is retrying, then online again: the upload must resume where the server left it.
"""
import json
import sys
import time

import chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

arguments = sys.argv[1:]
interrupt = arguments[0] == "--interrupt"
if interrupt:
    arguments = arguments[1:]
base, key, preset, files = arguments[0], arguments[1], arguments[2], arguments[3:]


def network(offline, latency):
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": latency, "downloadThroughput": -1, "uploadThroughput": -1})


driver = chromium.headless()
try:
    driver.get(base + "/")
    if interrupt:
        driver.execute_script("localStorage.setItem('kiln-chunk-bytes', '16384')")
    chromium.paste_key(driver, key)
    # Picked in one script, once listed: the page may replace the options as they load (a
    # second load after the key field's blur), which would make held elements stale.
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "const s = document.getElementById('preset');"
        "if (!Array.from(s.options).some(o => o.value === arguments[0])) return false;"
        "s.value = arguments[0]; return s.value === arguments[0];", preset))
    driver.find_element(By.ID, "files").send_keys("\n".join(files))
    if interrupt:
        driver.execute_cdp_cmd("Network.enable", {})
        network(False, 150)
    driver.find_element(By.ID, "send").click()
    if interrupt:
        WebDriverWait(driver, 60, poll_frequency=0.02).until(lambda d: d.execute_script(
            "const b = document.querySelector('#results .item progress'); return b && b.value >= 0.33"))
        network(True, 150)
        WebDriverWait(driver, 60, poll_frequency=0.02).until(lambda d: d.execute_script(
            "const i = document.querySelector('#results .item'); return i && Number(i.dataset.retries || 0) >= 1"))
        network(False, 0)
    WebDriverWait(driver, 90).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .item[data-done='true']")) == len(files))
    # Images are loaded through fetch + object URLs: wait until each has decoded.
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('#results img')).every(i => i.complete)"))
    for box in driver.find_elements(By.CSS_SELECTOR, "#results .item"):
        print(json.dumps({
            "name": box.find_element(By.TAG_NAME, "p").text,
            "text": box.text,
            "images": [driver.execute_script("return arguments[0].naturalWidth", i)
                       for i in box.find_elements(By.TAG_NAME, "img")],
            "progress": [float(b.get_attribute("value") or 0) for b in box.find_elements(By.TAG_NAME, "progress")],
            "retries": int(box.get_attribute("data-retries") or 0),
        }))
finally:
    driver.quit()
