"""The import pages: runs with their counts, a run's quarantine, fixing and replaying rows."""

from __future__ import annotations

import re
from typing import cast

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories.orgs import make_workspace
from tests.imports.conftest import FIXTURES
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.auth.permissions import Role
from touchpoints.feedback.models import FeedbackItem
from touchpoints.imports.models import ImportRun, QuarantinedRow

MALFORMED = (FIXTURES / "feedback_malformed.csv").read_bytes()
MAPPING = (FIXTURES / "feedback_mapping.json").read_text()


@pytest.fixture
def workspace_id(db_session: Session) -> str:
    """A fresh workspace."""
    workspace = make_workspace(db_session)
    db_session.commit()
    return workspace.id


@pytest.fixture
def analyst(make_browser: MakeBrowser, workspace_id: str) -> Browser:
    """An analyst (who may import feedback, events and customers), signed in."""
    return make_browser(Role.ANALYST, workspace_id=workspace_id)


def upload(browser: Browser, content: bytes = MALFORMED, **fields: str) -> httpx.Response:
    """Send the import form with a CSV file and the fixture's mapping."""
    data = {"csrf_token": browser.csrf, "kind": "feedback", "mapping": MAPPING} | fields
    files = {"file": ("feedback_malformed.csv", content, "text/csv")}
    return browser.http.post("/imports", data=data, files=files)


def post(browser: Browser, url: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form with the browser's CSRF token, without following the redirect."""
    return cast(httpx.Response, browser.post_form(url, data))


def feedback_texts(db_session: Session, workspace_id: str) -> list[str | None]:
    """Return the texts of the workspace's feedback, as committed."""
    db_session.expire_all()
    statement = select(FeedbackItem.text).where(FeedbackItem.workspace_id == workspace_id)
    return list(db_session.scalars(statement))


def row_at(db_session: Session, run_id: str, line: int) -> QuarantinedRow:
    """Return the quarantined row of a line."""
    db_session.expire_all()
    statement = select(QuarantinedRow).where(
        QuarantinedRow.run_id == run_id, QuarantinedRow.line == line
    )
    return db_session.scalars(statement).one()


def test_an_uploaded_file_lists_its_run_with_counts_and_its_quarantine(
    db_session: Session, analyst: Browser
) -> None:
    answer = upload(analyst)
    assert answer.status_code == 303
    run = db_session.scalars(select(ImportRun)).one()
    assert answer.headers["location"] == f"/imports/{run.id}?done=imported"

    runs = analyst.http.get("/imports")
    assert runs.status_code == 200
    row = runs.text.split(f'href="/imports/{run.id}"')[1].split("</tr>")[0]
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["9", "4", "0", "5"]

    page = analyst.http.get(f"/imports/{run.id}")
    assert page.status_code == 200
    assert "5 quarantined rows, in file order" in page.text
    line_4 = page.text.split('<th scope="row" class="num">4</th>')[1].split("</tr>")[0]
    assert "occurred_at" in line_4 and "31/13/2024 10:00" in line_4, "field, reason and raw row"
    assert "Fix line 4" in line_4


def test_a_fixed_row_is_replayed_into_the_feedback(
    db_session: Session, analyst: Browser, workspace_id: str
) -> None:
    upload(analyst)
    run = db_session.scalars(select(ImportRun)).one()
    bad_date = row_at(db_session, run.id, 4)
    form = analyst.http.get(f"/imports/{run.id}/rows/{bad_date.id}")
    assert form.status_code == 200
    assert 'value="31/13/2024 10:00" aria-invalid="true"' in form.text, "the bad cell is marked"
    assert feedback_texts(db_session, workspace_id).count("Late again") == 0

    cells = {f"cell.{name}": value for name, value in bad_date.raw.items()}
    answer = post(
        analyst,
        f"/imports/{run.id}/rows/{bad_date.id}",
        cells | {"cell.Date": "31/12/2024 10:00", "action": "replay"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/imports/{run.id}?replayed=1&still=0")
    assert feedback_texts(db_session, workspace_id).count("Late again") == 1
    assert row_at(db_session, run.id, 4).status == "replayed"
    result = analyst.http.get(answer.headers["location"])
    assert "Replay done:</strong> 1 row stored, 0 still quarantined" in result.text
    db_session.refresh(run)
    assert (run.imported, run.quarantined) == (5, 4)


def test_fixed_rows_are_replayed_together_and_a_still_bad_row_shows_its_new_reason(
    db_session: Session, analyst: Browser, workspace_id: str
) -> None:
    upload(analyst)
    run = db_session.scalars(select(ImportRun)).one()
    too_high, bad_channel = row_at(db_session, run.id, 5), row_at(db_session, run.id, 6)
    post(analyst, f"/imports/{run.id}/rows/{too_high.id}", {"cell.Score": "10"})
    post(analyst, f"/imports/{run.id}/rows/{bad_channel.id}", {"cell.Channel": "pigeon"})
    assert row_at(db_session, run.id, 5).status == "fixed"
    page = analyst.http.get(f"/imports/{run.id}")
    assert "Replay all fixed rows (2)" in page.text

    answer = post(analyst, f"/imports/{run.id}/replay", {})
    assert answer.status_code == 303
    result = analyst.http.get(answer.headers["location"])
    assert "Replay done:</strong> 1 row stored, 1 still quarantined" in result.text
    assert "Loved it" in feedback_texts(db_session, workspace_id)
    still = row_at(db_session, run.id, 6)
    assert still.status == "open" and still.raw["Channel"] == "pigeon"
    shown = result.text.split('<th scope="row" class="num">6</th>')[1].split("</tr>")[0]
    assert "<strong>channel</strong>" in shown and "Input should be" in shown, "its new reason"

    discarded = post(
        analyst, f"/imports/{run.id}/rows/{still.id}", {"action": "discard", "cell.Channel": ""}
    )
    assert discarded.status_code == 303
    assert row_at(db_session, run.id, 6).status == "discarded"
    # A replayed row cannot be changed again: nothing is stored twice.
    replayed = row_at(db_session, run.id, 5)
    again = post(analyst, f"/imports/{run.id}/rows/{replayed.id}", {"cell.Score": "9"})
    assert again.status_code == 409
    assert feedback_texts(db_session, workspace_id).count("Loved it") == 1


def test_a_bad_upload_shows_the_problem_next_to_its_field_and_stores_nothing(
    db_session: Session, analyst: Browser
) -> None:
    answer = upload(analyst, mapping="{not json")
    assert answer.status_code == 422
    assert 'id="mapping-error" class="field-error">is not valid JSON' in answer.text
    answer = upload(analyst, kind="")
    assert answer.status_code == 422 and 'id="kind-error"' in answer.text
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(ImportRun)) == 0


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.MANAGER])
def test_roles_that_may_not_import_get_403(
    db_session: Session, analyst: Browser, make_browser: MakeBrowser, workspace_id: str, role: Role
) -> None:
    upload(analyst)
    run = db_session.scalars(select(ImportRun)).one()
    row = row_at(db_session, run.id, 5)
    reader = make_browser(role, workspace_id=workspace_id)
    assert "/imports" not in reader.http.get("/overview").text, "no Imports link in the menu"
    for url in ("/imports", f"/imports/{run.id}", f"/imports/{run.id}/rows/{row.id}"):
        assert reader.http.get(url).status_code == 403, url
    assert upload(reader).status_code == 403
    assert post(reader, f"/imports/{run.id}/rows/{row.id}", {"cell.Score": "10"}).status_code == 403
    assert post(reader, f"/imports/{run.id}/replay", {}).status_code == 403
    assert row_at(db_session, run.id, 5).status == "open"
