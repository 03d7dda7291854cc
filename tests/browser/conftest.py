"""A live Touchpoints server with the demo airline, and a real chromium to drive it.

The server runs the real app under uvicorn on 127.0.0.1 in a background thread, on a fresh
SQLite store in a temporary folder. Without /usr/bin/chromium the browser tests skip (with CI
set they fail instead, so CI never passes without having run them).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.analytics.export import AnalyticsExporter
from touchpoints.api.app import create_app
from touchpoints.config import Settings
from touchpoints.db.engine import engine_from_settings, make_session_factory
from touchpoints.db.registry import load_metadata
from touchpoints.demo import DemoSpec, DemoSummary, build_demo

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "browser tests need Debian chromium: apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DEMO = DemoSpec(customers=600, feedback=3_000, end=date(2026, 10, 1))
DEMO_PASSWORD = DEMO.admin_password
ADMIN = DEMO.admin_email
STATION_MANAGER = "station.manager@brightwing.example"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class LiveSite:
    """The running server: its address, the demo it serves and a way to read its store."""

    url: str
    demo: DemoSummary
    session_factory: sessionmaker[Session]

    def session(self) -> Session:
        """Open a session on the server's store (to check pages against the database)."""
        return self.session_factory()


@pytest.fixture(scope="package")
def chromium_path() -> Path:
    """Return Debian's chromium; skip (or, under CI, fail) when it is not installed."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI; {CHROMIUM_MISSING}")
        pytest.skip(CHROMIUM_MISSING)
    return CHROMIUM


@pytest.fixture(scope="package")
def live_site(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """Serve the app with a small demo airline on a free local port until the tests end."""
    settings = Settings(
        environment="test",  # type: ignore[arg-type]
        data_dir=tmp_path_factory.mktemp("live-site"),
        embedded_worker=False,
        # Every browser test signs in from 127.0.0.1; the limit itself is tested in tests/web.
        login_rate_per_minute=1000,
    )
    engine = engine_from_settings(settings)
    # The models define the schema, as in tests/conftest.py; test_migrations proves they match.
    load_metadata().create_all(engine)
    factory = make_session_factory(engine)
    demo = build_demo(session_factory=factory, spec=DEMO)
    # The overview and the metric explorer read the analytics store, as after `touchpoints demo`.
    AnalyticsExporter(engine, settings.analytics_root).export()
    app = create_app(settings, session_factory=factory)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        _wait_until_healthy(url, thread)
        yield LiveSite(url=url, demo=demo, session_factory=factory)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        engine.dispose()


def _wait_until_healthy(url: str, thread: threading.Thread, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the live server stopped while starting; see its log above")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the live server at {url} did not answer /healthz within {seconds:.0f} s")


@pytest.fixture(scope="package")
def playwright_driver(chromium_path: Path) -> Iterator[Playwright]:
    """Start Playwright's driver (the sync API)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright, chromium_path: Path) -> Iterator[Browser]:
    """Launch Debian's headless chromium once for all browser tests."""
    chromium = playwright_driver.chromium.launch(
        executable_path=str(chromium_path), args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


def open_profile(
    browser: Browser, site: LiveSite, viewport: ViewportSize = DESKTOP, **options: bool
) -> BrowserContext:
    """Open a fresh browser profile (no cookies) pointed at the live site."""
    profile = browser.new_context(base_url=site.url, viewport=viewport, locale="en-GB", **options)
    profile.set_default_timeout(10_000)
    return profile


@pytest.fixture
def context(browser: Browser, live_site: LiveSite) -> Iterator[BrowserContext]:
    """A fresh desktop-sized browser profile for one test."""
    profile = open_profile(browser, live_site)
    yield profile
    profile.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in a fresh browser profile."""
    return context.new_page()


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real /login form and land on the overview."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/overview"))


def screenshot(page: Page, name: str) -> None:
    """Save a full-page screenshot under test-artifacts/screenshots/ (ignored by git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
