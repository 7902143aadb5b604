"""What the browser tests do on a page: sign in, measure a chart, save a screenshot for the README."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
PASSWORD = "pass-word-123"  # what tests.factories.UserFactory sets


def log_in(page, *, username: str, password: str = PASSWORD, next_url: str = "/staff/") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")


def drawn_marks(page, chart: str) -> int:
    """How many data marks (lines, points, bars) of the chart in ``chart`` were laid out with a size."""
    return page.eval_on_selector_all(
        f"{chart} svg polyline.series, {chart} svg circle.point, {chart} svg rect.bar",
        "marks => marks.filter(mark => {"
        " const box = mark.getBBox(); return box.width > 0 || box.height > 0; }).length",
    )


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
