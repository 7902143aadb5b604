"""Screenshots of the running demo for the README.

Start the demo first (`make run`, and wait until the dashboard shows a served model), then:

    .venv/bin/python docs/take_screenshots.py [--base http://127.0.0.1:8000]

Logs in with the demo credentials in var/demo-credentials.json and writes docs/screenshots/*.png
(1280 pixels wide, whole pages). Needs Chromium at /usr/bin/chromium (Debian's package).
"""

import argparse
import json
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTH = 1280


def shoot(page, url: str, name: str) -> None:
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(url)
    page.wait_for_load_state("networkidle")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": WIDTH, "height": max(800, min(height, 3000))})
    page.screenshot(path=str(OUT / f"{name}.png"))
    print("wrote", OUT / f"{name}.png")


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    credentials = json.loads((ROOT / "var" / "demo-credentials.json").read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    base = args.base.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        staff = browser.new_page()
        log_in(staff, base, credentials["staff_username"], credentials["staff_password"])
        shoot(staff, f"{base}/staff/", "staff-dashboard")
        # The shopper's customer: a long history, so the 360 page has something to show.
        staff.goto(f"{base}/staff/customers/?q={credentials['shopper_customer']}")
        customer_url = staff.locator("table a[href*='/staff/customers/']").first.get_attribute("href")
        shoot(staff, f"{base}{customer_url}", "customer-360")
        shoot(staff, f"{base}/staff/segments/", "segments")
        staff.goto(f"{base}/staff/promotions/")
        promotion = staff.locator("a[href*='/staff/promotions/'][href$='/']").last.get_attribute("href")
        if promotion and promotion.rstrip("/").split("/")[-1].isdigit():
            shoot(staff, f"{base}{promotion}", "promotion-detail")
        shoot(staff, f"{base}/staff/models/", "models")
        shoot(staff, f"{base}/api/docs/", "api-docs")
        shopper = browser.new_context().new_page()
        log_in(shopper, base, credentials["shopper_username"], credentials["shopper_password"])
        shoot(shopper, f"{base}/", "shop-home")
        product = shopper.locator(".recommendation a").first.get_attribute("href")
        shoot(shopper, f"{base}{product}", "product-page")
        browser.close()


if __name__ == "__main__":
    main()
