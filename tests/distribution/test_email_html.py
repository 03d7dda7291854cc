"""The HTML part of invitation emails: it arrives beside the text and escapes what we insert."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from tests.conftest import Caller
from tests.distribution.conftest import (
    PUBLIC_URL,
    add_customer,
    body_of,
    invite,
    new_survey,
    personal_path,
    unsubscribe_path,
)
from tests.mail.smtp_server import Inbox
from touchpoints.jobs.worker import Worker

HOSTILE = "<script>alert('x')</script> & \"Ana\""


class Links(HTMLParser):
    """Collect each link's address and text, and every element name, of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links.append((self._href, data.strip()))
            self._href = None


def test_the_invitation_has_a_text_and_an_html_part_with_both_links(
    committed_admin: Caller, worker: Worker, inbox: Inbox
) -> None:
    customer_id = add_customer(committed_admin, "ana@shop.example")
    invite(committed_admin, new_survey(committed_admin), [customer_id])

    worker.run_once()

    [message] = inbox.to("ana@shop.example")
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.walk()][1:]
    assert parts == ["text/plain", "text/html"], "text first: clients show the last they can"
    page = Links()
    page.feed(body_of(message, "html"))
    answer_link, unsubscribe = page.links
    assert answer_link == (PUBLIC_URL + personal_path(message), "Answer the survey")
    assert unsubscribe == (PUBLIC_URL + unsubscribe_path(message), "unsubscribe")
    unfolded = "".join(message["List-Unsubscribe"].split())
    assert unfolded == f"<{PUBLIC_URL}{unsubscribe_path(message)}>"
    assert '<html lang="en">' in body_of(message, "html")


def test_customer_and_survey_names_are_escaped_in_the_html(
    committed_admin: Caller, worker: Worker, inbox: Inbox
) -> None:
    customer_id = add_customer(committed_admin, "eve@shop.example", name=HOSTILE)
    invite(committed_admin, new_survey(committed_admin), [customer_id])

    worker.run_once()

    [message] = inbox.to("eve@shop.example")
    document = body_of(message, "html")
    page = Links()
    page.feed(document)
    assert "script" not in page.tags, "the name never becomes markup"
    assert html.escape(HOSTILE, quote=True) in document
    assert f"Hello {HOSTILE}" in body_of(message), "the text part keeps the name as written"
