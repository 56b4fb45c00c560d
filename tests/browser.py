"""Open exported HTML in Debian's headless Chromium with the network blocked.

Used by the browser tests. Skips cleanly when Chromium or playwright is missing.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def require_chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed: .ci/run installs Debian's chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")


@contextlib.contextmanager
def offline_page(path: Path, *, width: int = 1200, height: int = 800, ready: bool = True):
    """Yield ``(page, requests)``: the page opened from file:// with every other request blocked.

    ``requests`` lists every URL the page asked for, apart from the page itself.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    url = Path(path).resolve().as_uri()
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)

        def guard(route):
            if route.request.url != url:
                requests.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", guard)
        page = context.new_page()
        page.on("request", lambda r: r.url != url and r.url not in requests and requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        if ready:
            page.wait_for_function("window.gmReady === true", timeout=10_000)
        else:
            page.wait_for_load_state("load")
        page.errors = errors
        try:
            yield page, requests
        finally:
            context.close()
            browser.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / name
    page.screenshot(path=str(out))
    return out
