"""Headless Chromium through selenium, as Debian packages it (chromium, chromium-driver)."""
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def headless():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def paste_key(driver, key):
    """Types the API key into Kiln's page and tells it so: the page loads the presets then."""
    from selenium.webdriver.common.by import By
    field = driver.find_element(By.ID, "key")
    field.send_keys(key)
    driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", field)


def tick_targets(driver, targets, wait=20):
    """Ticks exactly TARGETS among the page's target boxes once they are listed (in one script:
    the page may list them again as the presets reload)."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, wait).until(lambda d: d.execute_script(
        "const boxes = Array.from(document.querySelectorAll('input[name=target]'));"
        "if (!arguments[0].every(t => boxes.some(b => b.value === t))) return false;"
        "for (const b of boxes) b.checked = arguments[0].includes(b.value);"
        "return true;", targets))
