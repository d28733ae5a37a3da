"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright.

Used by the browser test (tests/test_dashboard_browser.py), the README's
screenshot and the benchmark (scripts/bench_dashboard.py). Playwright comes
with the ``[dev]`` extra; its own browser download is not used: chromium is
the operating system's (``apt-get install chromium``), launched through
``executable_path``. The page is opened from ``file://`` with every other
request aborted and recorded, so anything the page tried to fetch shows.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from clv.errors import UserError
from clv.extras import require

#: Debian's chromium package; $CLV_CHROMIUM overrides it.
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and none of chromium's own background connections (the network is closed).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> Path:
    """The chromium executable, or a UserError saying how to install it."""
    path = Path(os.environ.get("CLV_CHROMIUM", DEFAULT_CHROMIUM))
    if not path.is_file():
        raise UserError(
            f"chromium not found at {path}: install Debian's package "
            "(sudo apt-get install -y chromium) or set CLV_CHROMIUM to a chromium executable"
        )
    return path


@dataclass
class PageLog:
    """What happened while the page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [
            *(f"console error: {m}" for m in self.console_errors),
            *(f"page error: {m}" for m in self.page_errors),
            *(f"blocked request: {u}" for u in self.blocked_requests),
            *(f"failed request: {u}" for u in self.failed_requests),
        ]


@contextmanager
def browser() -> Iterator[object]:
    """A headless chromium (Playwright's Browser), closed on exit."""
    require("dev", "playwright", what="the dashboard's browser checks")
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(executable), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def open_page(
    instance, html_file: Path, viewport: dict = DESKTOP
) -> Iterator[tuple[object, PageLog]]:
    """Open ``html_file`` from file:// with every other request aborted; yield (page, log)."""
    log = PageLog()
    context = instance.new_context(viewport=viewport, service_workers="block")
    page = context.new_page()

    def route(route) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            log.blocked_requests.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: log.page_errors.append(str(error)))
    page.on("requestfailed", lambda request: log.failed_requests.append(request.url))
    try:
        page.goto(html_file.resolve().as_uri(), wait_until="load")
        page.wait_for_function("window.dashboard && window.dashboard.readyAt !== undefined")
        yield page, log
    finally:
        context.close()


def load_time_ms(instance, html_file: Path, viewport: dict = DESKTOP) -> tuple[float, float]:
    """(navigation start to last chart drawn, in the page's clock; wall time of the same), ms."""
    started = time.perf_counter()
    with open_page(instance, html_file, viewport) as (page, _):
        wall = (time.perf_counter() - started) * 1000
        return float(page.evaluate("window.dashboard.readyAt")), wall


def distinct_colours(instance, png: bytes) -> int:
    """Distinct pixel colours of a PNG, counted by chromium itself (no imaging package needed)."""
    context = instance.new_context()
    try:
        page = context.new_page()
        data_url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return int(
            page.evaluate(
                """async (url) => {
                    const image = new Image();
                    image.src = url;
                    await image.decode();
                    const canvas = document.createElement("canvas");
                    canvas.width = image.width;
                    canvas.height = image.height;
                    const context = canvas.getContext("2d");
                    context.drawImage(image, 0, 0);
                    const pixels = context.getImageData(0, 0, image.width, image.height).data;
                    const seen = new Set();
                    for (let i = 0; i < pixels.length; i += 4) {
                        seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
                    }
                    return seen.size;
                }""",
                data_url,
            )
        )
    finally:
        context.close()


def screenshot(
    html_file: Path, out: Path, viewport: dict = DESKTOP, full_page: bool = False
) -> Path:
    """Write a PNG screenshot of the page at ``viewport`` to ``out``."""
    with browser() as instance, open_page(instance, html_file, viewport) as (page, log):
        if log.problems():
            raise UserError("the dashboard did not load cleanly: " + "; ".join(log.problems()))
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=full_page)
    return out
