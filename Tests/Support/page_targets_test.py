"""Drives the upload page's targets in headless Chromium through selenium.

usage: page_targets_test.py BASE_URL API_KEY TARGETS FILE [FILE...]

Pastes the key, ticks each of TARGETS (comma-separated), chooses the FILEs (one at a time in
the upload: no carousel), waits for the preflight the page runs at once, then uploads and waits
for every result. Prints one JSON object:
{"preflight": [{"name", "cells": {target: status}, "text"}],
 "results": [{"name", "cells": {target: status}, "text", "fetch": [href...]}]}.
"""
import json
import sys

import chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, key, targets, files = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4:]


def boxes(driver, selector):
    found = []
    for box in driver.find_elements(By.CSS_SELECTOR, selector):
        cells = {cell.get_attribute("data-target"): cell.get_attribute("data-status")
                 for cell in box.find_elements(By.CSS_SELECTOR, "td[data-target]")}
        found.append({"name": box.find_element(By.TAG_NAME, "p").text, "cells": cells, "text": box.text,
                      "fetch": [a.get_attribute("href") for a in box.find_elements(By.CSS_SELECTOR, "a.fetch")]})
    return found


driver = chromium.headless()
try:
    driver.get(base + "/")
    chromium.paste_key(driver, key)
    chromium.tick_targets(driver, targets)
    driver.find_element(By.ID, "files").send_keys("\n".join(files))
    WebDriverWait(driver, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#preflight .preflight[data-done='true']")) == len(files))
    preflight = boxes(driver, "#preflight .preflight")
    driver.find_element(By.ID, "send").click()
    WebDriverWait(driver, 120).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results .item[data-done='true']")) == len(files))
    print(json.dumps({"preflight": preflight, "results": boxes(driver, "#results .item")}))
finally:
    driver.quit()
