"""Headless Chromium (the system's, never a downloaded one) driven by Playwright against the live server.

``SAVE_SCREENSHOTS=1 pytest tests/browser`` also writes the README's screenshots to docs/screenshots/.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a page of a loaded two-core machine, short enough to fail a broken page quickly.
PAGE_TIMEOUT_MS = 20_000
PASSWORD = "pass-word-123"  # what tests.factories.UserFactory sets


def chromium_path() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def pytest_collection_modifyitems(items):
    executable = chromium_path()
    skip = pytest.mark.skip(reason="Chromium is not installed (/usr/bin/chromium or `chromium` on PATH)")
    if executable is not None:
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on the test thread, which makes Django refuse ORM
    # calls from it; the tests only ever run the ORM synchronously between browser steps.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A fresh browser context (no cookies) on the live server, failing on any page error."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(f"{page.url}: {error}"))
    # A refused page (403) is logged as a failed load too; what must never fail is a script,
    # a stylesheet or a picture.
    page.on(
        "response",
        lambda response: page.errors.append(f"{response.status} {response.url}")
        if response.status >= 400 and response.request.resource_type not in ("document", "fetch")
        else None,
    )
    yield page
    errors = list(page.errors)
    context.close()
    assert not errors, f"Errors in the browser: {errors}"


def log_in(page, *, username: str, password: str = PASSWORD, next_url: str = "/staff/") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path | None:
    """Write docs/screenshots/<name>.png when SAVE_SCREENSHOTS is set; otherwise do nothing."""
    if os.environ.get("SAVE_SCREENSHOTS", "") in ("", "0"):
        return None
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    if not full_page:
        page.screenshot(path=str(path), animations="disabled")
        return path
    # The staff sidebar is one viewport high (it stays in view while the page scrolls), so a
    # whole-page picture is taken with a viewport as tall as the page.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, VIEWPORT["height"])})
    try:
        page.screenshot(path=str(path), animations="disabled")
    finally:
        page.set_viewport_size(VIEWPORT)
    return path


def drawn_marks(page, chart: str) -> int:
    """How many data marks (lines, points, bars) of the chart in ``chart`` the browser laid out with a size."""
    return page.eval_on_selector_all(
        f"{chart} svg polyline.series, {chart} svg circle.point, {chart} svg rect.bar",
        "marks => marks.filter(mark => { const box = mark.getBBox(); return box.width > 0 || box.height > 0; })"
        ".length",
    )
