"""The widget in a real browser: a host page on another site opens a survey in a modal frame."""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from tests.distribution.samples import survey_samples
from tests.factories.customers import make_customer
from tests.factories.orgs import make_workspace
from touchpoints.api.app import create_app
from touchpoints.config import Settings
from touchpoints.db.engine import engine_from_settings, make_session_factory
from touchpoints.db.registry import load_metadata
from touchpoints.distribution.models import Invitation
from touchpoints.distribution.widget import widget_secret
from touchpoints.surveys.models import SurveyLink

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CUSTOMER = "C-77"


@dataclass(frozen=True)
class WidgetSite:
    """Touchpoints on 127.0.0.1 and a customer's shop on localhost (another site)."""

    shop_url: str
    customer_id: str
    session_factory: sessionmaker[Session]


def _listener() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    return listener


def _shop_page(touchpoints_url: str, link: str, secret: str) -> bytes:
    """Return the shop's page as its backend renders it: a signed button and our script."""
    expires = str(int(time.time()) + 3600)
    message = "\n".join([link, "", CUSTOMER, expires]).encode()
    signature = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"""<!doctype html><html lang="en"><head><title>Shop</title>
<script src="{touchpoints_url}/static/widget/touchpoints-widget.js" defer></script></head>
<body><main><h1>Your order</h1><a href="#top">Orders</a>
<button type="button" id="feedback" data-touchpoints-link="{link}"
 data-touchpoints-customer="{CUSTOMER}" data-touchpoints-expires="{expires}"
 data-touchpoints-signature="{signature}">Give feedback</button></main></body></html>""".encode()


def _serve_shop(page: dict[str, bytes]) -> ThreadingHTTPServer:
    """Serve the shop's page (filled in once Touchpoints has its data) on a free port."""

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page["html"])

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def widget_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WidgetSite]:
    """Serve Touchpoints (framable by the shop) and the shop's page until the tests end."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI")
        pytest.skip("browser tests need Debian chromium: apt-get install -y chromium")
    page: dict[str, bytes] = {}
    shop = _serve_shop(page)
    # localhost and 127.0.0.1 are different sites: the frame is truly cross-site.
    shop_origin = f"http://localhost:{shop.server_address[1]}"
    listener = _listener()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings = Settings(
        environment="test",  # type: ignore[arg-type]
        data_dir=tmp_path_factory.mktemp("widget-site"),
        embedded_worker=False,
        public_url=url,
        widget_frame_ancestors=shop_origin,
    )
    engine = engine_from_settings(settings)
    load_metadata().create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        workspace = make_workspace(session)
        link = session.get(SurveyLink, survey_samples(session, workspace.id)["link_id"])
        customer = make_customer(session, workspace_id=workspace.id, external_id=CUSTOMER)
        assert link is not None
        page["html"] = _shop_page(url, link.token, widget_secret(settings, workspace))
        customer_id = customer.id
        session.commit()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, session_factory=factory), log_level="warning")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        _wait_until_healthy(url)
        yield WidgetSite(
            shop_url=f"{shop_origin}/", customer_id=customer_id, session_factory=factory
        )
    finally:
        shop.shutdown()
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
        engine.dispose()


def _wait_until_healthy(url: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"the server at {url} did not start")


@pytest.fixture(scope="module")
def browser(widget_site: WidgetSite) -> Iterator[Browser]:
    """Launch Debian's headless chromium for this module."""
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shop(browser: Browser, widget_site: WidgetSite) -> Iterator[Page]:
    """The shop's page in a fresh browser profile."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(widget_site.shop_url)
    yield page
    context.close()


def test_the_widget_is_a_modal_that_escape_closes_and_gives_focus_back(shop: Page) -> None:
    shop.get_by_role("button", name="Give feedback").click()

    dialog = shop.get_by_role("dialog", name="Survey")
    expect(dialog).to_be_visible()
    close = shop.get_by_role("button", name="Close survey")
    expect(close).to_be_focused()
    survey = shop.frame_locator("iframe[title='Survey']")
    expect(survey.get_by_role("heading", name="How was your checkout?")).to_be_visible()
    expect(shop.get_by_role("link", name="Orders")).to_have_count(0)  # the page behind is inert
    inside = "document.activeElement.closest('[data-touchpoints-widget]') !== null"
    for key in ("Shift+Tab", "Shift+Tab", "Tab", "Tab", "Tab", "Tab"):
        shop.keyboard.press(key)
        # Focus crosses into the (other-site) frame asynchronously; it must settle inside.
        shop.wait_for_function(inside, timeout=3000)
    shop.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(shop.get_by_role("button", name="Give feedback")).to_be_focused()

    shop.get_by_role("button", name="Give feedback").click()
    survey.locator("input[name='q.nps'][value='3']").focus()
    shop.keyboard.press("Escape")  # pressed inside the frame: the frame asks the host to close
    expect(shop.get_by_role("dialog")).to_have_count(0)


def test_answering_in_the_widget_records_feedback_for_the_customer(
    shop: Page, widget_site: WidgetSite
) -> None:
    shop.get_by_role("button", name="Give feedback").click()
    survey = shop.frame_locator("iframe[title='Survey']")
    survey.locator("input[name='q.nps'][value='3']").check()
    survey.locator("textarea[name='q.why']").fill("The card reader failed twice.")
    survey.get_by_role("button", name="Next", exact=True).click()
    survey.locator("input[name='q.csat'][value='4']").check()
    survey.get_by_role("button", name="Next", exact=True).click()

    expect(survey.get_by_text("Thanks a lot!")).to_be_visible()
    with widget_site.session_factory() as session:
        [invitation] = session.query(Invitation).all()
        assert (invitation.channel, invitation.status) == ("web", "completed")
        assert invitation.customer_id == widget_site.customer_id
