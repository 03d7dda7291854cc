"""The chunked bulk path stores exactly what the row-by-row path stores, and reports the same.

Each file is imported twice into two fresh workspaces: once as users do (bulk where it can),
once with the bulk checks switched off so every row goes through the services one by one.
Counts, stored items, linked customers and quarantined rows (line, field, reason) must match.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories.journeys import make_touchpoint
from tests.factories.orgs import make_member_with_token, make_org_unit, make_workspace
from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Principal, Role
from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.service import list_feedback
from touchpoints.imports import flows
from touchpoints.imports.flows import ImportRequest, import_file
from touchpoints.imports.models import ImportFormat, ImportKind, ImportRun, QuarantinedRow
from touchpoints.imports.plan import CheckedRow, FeedbackPlan
from touchpoints.imports.readers import ImportFile, RawRow
from touchpoints.imports.schemas import ColumnMapping

FILE_REF = re.compile(r"[0-9a-f]{16}:\d+")
FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()
HEADER = "Ref,When,Channel,Comment,Score,Sat,Stars,Lang,Email,Phone,CRM,Name,Touchpoint,Unit,Gate"
ROWS = [
    "r1,2024-05-01T09:30:00+02:00,E-mail,Friendly crew,9 - Extremely likely,4,,en,"
    "ann@example.com,,,Ann,{tp},{unit},A1",
    "r2,2024-05-01T10:00:00Z,web,Seat broken,3,,,en,Ann@Example.com,,,,,{unit},",
    "r3,2024-05-02 08:00:00+00:00,app,,7,,,,,+44 20 7946 0958,,,,{unit},B2",
    "r1,2024-05-03T08:00:00Z,web,Same ref again,8,,,,,,,,,{unit},",
    "r4,2024-05-03T09:00:00Z,web,Bad email,5,,,,not-an-email,,,,,{unit},",
    "r5,2024-05-03T09:00:00Z,web,Unknown touchpoint,5,,,,,,,,missing-touchpoint,{unit},",
    "r6,2024-05-03T09:00:00Z,web,Unknown unit,5,,,,,,,,,missing-unit,",
    "r7,2024-05-04T09:00:00Z,web,Out of scale,11,,,,,,,,,{unit},",
    "r8,2024-05-04T09:00:00Z,web,Bad language,5,,,english!,,,,,,{unit},",
    "r9,{future},web,From the future,5,,,,,,,,,{unit},",
    "r10,2024-05-05T09:00:00Z,web,,,,,,,,,,,{unit},",
    "r11,2024-05-05T09:00:00Z,web,Stars only,,,4.5,,,,crm-7,,,{unit},C3",
    "r12,2024-05-05T09:00:00Z,web,Stars too high,,,6,,,,,,,{unit},",
    "r13,2024-05-06T09:00:00Z,pigeon,Odd channel,5,,,,,,,,,{unit},",
    "r14,2024-05-06T09:00:00Z,sms,Phone again,6,,,,,020 7946 0958,,,,,",
    "r15,no date,web,Bad date,5,,,,,,,,,{unit},",
    ",2024-05-07T09:00:00Z,web,No ref of its own,10,5,,,bob@example.com,,crm-7,Bob,,{unit},",
    'r16,2024-05-07T09:00:00Z,web,"Quoted, with comma",10,,,,bob@example.com,,,,,{unit},',
    "r17,2024-05-08T09:00:00Z,web,No org unit,8,,,,cara@example.com,,,,,,",
]
MAPPING = ColumnMapping(
    columns={
        "Ref": "source_ref",
        "When": "occurred_at",
        "Channel": "channel",
        "Comment": "text",
        "Score": "scores.nps",
        "Sat": "scores.csat",
        "Stars": "scores.rating",
        "Lang": "language",
        "Email": "customer.email",
        "Phone": "customer.phone",
        "CRM": "customer.external_id",
        "Name": "customer.display_name",
        "Touchpoint": "touchpoint_id",
        "Unit": "org_unit_id",
    },
    values={"Channel": {"E-mail": "email"}},
    defaults={"source": "airline", "customer.external_id_source": "crm", "scores.rating_scale": 5},
    unmapped="metadata",
    timezone="Europe/London",
)


def _setup(db_session: Session, role: Role) -> tuple[Principal, dict[str, str]]:
    workspace = make_workspace(db_session)
    unit = make_org_unit(db_session, workspace_id=workspace.id)
    touchpoint = make_touchpoint(db_session, workspace_id=workspace.id)
    scope = unit.id if role is Role.ANALYST else None
    actor, _ = make_member_with_token(
        db_session, workspace_id=workspace.id, role=role, org_unit_id=scope
    )
    db_session.flush()
    return actor, {"tp": touchpoint.id, "unit": unit.id, "future": FUTURE}


def _import(db_session: Session, actor: Principal, path: Path, ids: dict[str, str]) -> ImportRun:
    text = "\n".join([HEADER, *ROWS]).format(**ids) + "\n"
    path.write_text(text, encoding="utf-8")
    request = ImportRequest(
        ImportFile.from_path(path), ImportKind.FEEDBACK, ImportFormat.CSV, MAPPING
    )
    return import_file(db_session=db_session, actor=actor, request=request, chunk_rows=7)


def _stored(db_session: Session, actor: Principal, ids: dict[str, str]) -> dict[str, Any]:
    owners: dict[str, list[str]] = {}
    for identity in db_session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.workspace_id == actor.workspace_id)
    ):
        owners.setdefault(identity.customer_id, []).append(f"{identity.kind}:{identity.value}")
    names = {
        c.id: (c.display_name, c.org_unit_id == ids["unit"])
        for c in db_session.scalars(
            select(Customer).where(Customer.workspace_id == actor.workspace_id)
        )
    }
    items = db_session.scalars(
        select(FeedbackItem).where(FeedbackItem.workspace_id == actor.workspace_id)
    )
    stored = {}
    for item in items:
        ref = item.source_ref or ""
        # A row without a ref of its own gets one from the file's hash: compare by its line.
        key = f"line{ref.split(':')[1]}" if FILE_REF.fullmatch(ref) else ref
        stored[key] = (
            item.source,
            item.solicited,
            item.channel,
            item.occurred_at,
            item.text,
            item.language,
            (item.nps, item.csat, item.ces, item.rating, item.rating_scale),
            item.metadata_,
            item.touchpoint_id == ids["tp"],
            item.org_unit_id == ids["unit"],
            sorted(owners.get(item.customer_id or "", [])),
            names.get(item.customer_id or ""),
        )
    return stored


def _quarantined(db_session: Session, run: ImportRun) -> dict[int, list[dict[str, str]]]:
    rows = db_session.scalars(select(QuarantinedRow).where(QuarantinedRow.run_id == run.id))
    return {row.line: row.errors for row in rows}


def _scrubbed(problems: dict[int, list[dict[str, str]]], ids: dict[str, str]) -> dict[int, str]:
    text = {line: repr(errors) for line, errors in problems.items()}
    return {
        line: t.replace(ids["tp"], "TP").replace(ids["unit"], "UNIT") for line, t in text.items()
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.ANALYST])
def test_bulk_and_row_paths_store_and_report_the_same(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: Role
) -> None:
    vouched: list[int] = []
    check = FeedbackPlan.check

    def counting(plan: FeedbackPlan, raw: RawRow) -> CheckedRow | None:
        checked = check(plan, raw)
        vouched.extend([raw.line] if checked else [])
        return checked

    monkeypatch.setattr(FeedbackPlan, "check", counting)
    monkeypatch.setattr(flows, "can_fork", lambda: False)  # count the checks in this process
    bulk_actor, bulk_ids = _setup(db_session, role)
    bulk_run = _import(db_session, bulk_actor, tmp_path / "bulk.csv", bulk_ids)
    monkeypatch.setattr(FeedbackPlan, "check", lambda plan, raw: None)
    row_actor, row_ids = _setup(db_session, role)
    row_run = _import(db_session, row_actor, tmp_path / "rows.csv", row_ids)

    def counts(run: ImportRun) -> tuple[int, int, int, int]:
        return run.total, run.imported, run.duplicate, run.quarantined

    assert counts(bulk_run) == counts(row_run)
    assert counts(bulk_run) == ((19, 7, 1, 11) if role is Role.ADMIN else (19, 6, 1, 12))
    assert len(vouched) >= 5  # the good rows (and the repeated ref) took the bulk path
    assert _stored(db_session, bulk_actor, bulk_ids) == _stored(db_session, row_actor, row_ids)
    assert _scrubbed(_quarantined(db_session, bulk_run), bulk_ids) == _scrubbed(
        _quarantined(db_session, row_run), row_ids
    )


def test_bulk_imported_feedback_is_found_by_search(db_session: Session, tmp_path: Path) -> None:
    actor, ids = _setup(db_session, Role.ADMIN)
    run = _import(db_session, actor, tmp_path / "search.csv", ids)
    assert run.imported > 0
    found, total = list_feedback(
        db_session=db_session, actor=actor, params=ListParams(limit=10), q="quoted comm"
    )
    assert total == 1 and found[0].text == "Quoted, with comma"


def test_a_forked_reader_stores_and_reports_what_the_thread_reader_does(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows, "can_fork", lambda: False)
    thread_actor, thread_ids = _setup(db_session, Role.ADMIN)
    thread_run = _import(db_session, thread_actor, tmp_path / "thread.csv", thread_ids)
    monkeypatch.setattr(flows, "can_fork", lambda: True)
    forked_actor, forked_ids = _setup(db_session, Role.ADMIN)
    forked_run = _import(db_session, forked_actor, tmp_path / "forked.csv", forked_ids)

    assert (forked_run.total, forked_run.imported, forked_run.quarantined) == (19, 7, 11)
    assert _stored(db_session, forked_actor, forked_ids) == _stored(
        db_session, thread_actor, thread_ids
    )
    assert _scrubbed(_quarantined(db_session, forked_run), forked_ids) == _scrubbed(
        _quarantined(db_session, thread_run), thread_ids
    )
