"""Drives the upload page's crop windows and focus in headless Chromium through selenium.

usage: page_focus_test.py BASE_URL API_KEY TARGETS FILE

Pastes the key, picks fit crop, ticks each of TARGETS (comma-separated), chooses FILE and waits
for the preflight, which draws each target's crop window over the picture. Then clicks the
picture a tenth of the way across, half way down (as a person picks the subject), waits for the
preflight again, and uploads. Prints one JSON object:
{"before": {target: "x,y,w,h"}, "after": {...}, "focus": "0.1,0.5", "caption", "result": text}.
"""
import json
import sys

import chromium
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, key, targets, file = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]


def windows(driver):
    return {box.get_attribute("data-target"): box.get_attribute("data-window")
            for box in driver.find_elements(By.CSS_SELECTOR, "#preflight figure.frame .window")}


def preflighted(driver):
    done = driver.find_elements(By.CSS_SELECTOR, "#preflight .preflight[data-done='true']")
    return done and done[0].find_elements(By.CSS_SELECTOR, "figure.frame")


driver = chromium.headless()
try:
    driver.get(base + "/")
    chromium.paste_key(driver, key)
    chromium.tick_targets(driver, targets)
    driver.execute_script("const fit = document.getElementById('fit'); fit.value = 'crop';")
    driver.find_element(By.ID, "files").send_keys(file)
    WebDriverWait(driver, 60).until(preflighted)
    before = windows(driver)
    caption = driver.find_element(By.CSS_SELECTOR, "#preflight figcaption").text
    picture = driver.find_element(By.CSS_SELECTOR, "#preflight figure.frame img")
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", picture))
    width = picture.size["width"]
    # Offsets are from the element's centre.
    ActionChains(driver).move_to_element_with_offset(picture, int(-width / 2 + width * 0.1), 0).click().perform()
    WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "focus").text != "auto" and preflighted(d)
                                    and windows(d) != before)
    after = windows(driver)
    focus = driver.find_element(By.ID, "focus").text
    driver.find_element(By.ID, "send").click()
    WebDriverWait(driver, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results .item[data-done='true']"))
    result = driver.find_element(By.CSS_SELECTOR, "#results .item").text
    print(json.dumps({"before": before, "after": after, "focus": focus, "caption": caption, "result": result}))
finally:
    driver.quit()
