"""Headless Chromium (the system's, never a downloaded one) driven by Playwright against the live server.

``SAVE_SCREENSHOTS=1 pytest tests/browser`` also writes the README's screenshots to docs/screenshots/.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.helpers import VIEWPORT

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


def chromium_path() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def pytest_collection_modifyitems(items):
    if chromium_path() is not None:
        return
    skip = pytest.mark.skip(reason="Chromium is not installed (/usr/bin/chromium or `chromium` on PATH)")
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
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A fresh browser context (no cookies) on the live server; fails the test on a script error, a
    Content-Security-Policy violation, or a stylesheet, script or picture that does not load."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    # A Content-Security-Policy violation is reported on the console only.
    page.on(
        "console",
        lambda message: (
            errors.append(f"{page.url}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    # Refused pages (403) are part of the tests, so documents and fetches are judged by the tests.
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type not in ("document", "fetch")
            else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"Errors in the browser: {errors}"
