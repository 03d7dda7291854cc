"""Importing files into a workspace: good rows land, bad rows wait in the quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories.orgs import make_member_with_token, make_workspace
from tests.imports.conftest import FIXTURES, fixture_file
from touchpoints.auth.permissions import Principal, Role
from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.errors import PermissionDenied
from touchpoints.feedback.models import FeedbackItem
from touchpoints.imports import service
from touchpoints.imports.flows import ImportRequest, RowSource, import_file
from touchpoints.imports.formats import read_rows
from touchpoints.imports.mapping import load_mapping
from touchpoints.imports.models import ImportFormat, ImportKind, ImportRun, QuarantinedRow
from touchpoints.imports.readers import ImportFile, RawRow
from touchpoints.imports.schemas import ColumnMapping, QuarantinedRowUpdate
from touchpoints.operations.models import OperationalEvent

MALFORMED = ImportRequest(
    source=fixture_file("feedback_malformed.csv"),
    kind=ImportKind.FEEDBACK,
    fmt=ImportFormat.CSV,
    mapping=load_mapping(FIXTURES / "feedback_mapping.json"),
)


def counts(run: ImportRun) -> tuple[int, int, int, int]:
    return run.total, run.imported, run.duplicate, run.quarantined


def feedback_of(db_session: Session, actor: Principal) -> list[FeedbackItem]:
    statement = select(FeedbackItem).where(FeedbackItem.workspace_id == actor.workspace_id)
    return list(db_session.scalars(statement.order_by(FeedbackItem.occurred_at)))


def quarantined(db_session: Session, run: ImportRun) -> dict[int, QuarantinedRow]:
    rows = db_session.scalars(select(QuarantinedRow).where(QuarantinedRow.run_id == run.id))
    return {row.line: row for row in rows}


def test_good_rows_land_and_bad_rows_are_quarantined_with_reasons(
    db_session: Session, importer: Principal
) -> None:
    run = import_file(db_session=db_session, actor=importer, request=MALFORMED)
    assert run.status == "completed"
    assert counts(run) == (9, 4, 0, 5)
    items = feedback_of(db_session, importer)
    assert [item.text for item in items] == [
        "Friendly crew, smooth boarding",
        "Seat 14C was broken",
        "Quick refund,\nthank you",
        "Clean toilets for once",
    ]
    assert items[0].occurred_at == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert items[0].nps == 9 and items[0].source == "import"
    assert items[3].channel == "email"  # the mapping's default for an empty cell
    bad = quarantined(db_session, run)
    assert sorted(bad) == [4, 5, 6, 7, 8]
    assert bad[4].errors[0]["field"] == "occurred_at"
    assert "does not match the date format" in bad[4].errors[0]["reason"]
    assert bad[5].errors[0]["field"] == "scores.nps"
    assert bad[5].errors[0]["column"] == "Score"
    assert "less than or equal to 10" in bad[5].errors[0]["reason"]
    assert bad[6].errors[0]["field"] == "channel"
    assert bad[7].errors[0]["reason"].startswith("give text, at least one score")
    assert "quoting is broken" in bad[8].errors[0]["reason"]
    assert bad[5].raw["Comment"] == "Loved it"


def test_feedback_links_to_customers_by_normalized_email(
    db_session: Session, importer: Principal
) -> None:
    import_file(db_session=db_session, actor=importer, request=MALFORMED)
    items = feedback_of(db_session, importer)
    assert items[0].customer_id is not None
    assert items[0].customer_id == items[2].customer_id  # ann.lee@ twice: one customer
    assert items[3].customer_id is None
    bob = db_session.scalar(
        select(CustomerIdentity).where(
            CustomerIdentity.workspace_id == importer.workspace_id,
            CustomerIdentity.value == "bob.stone@example.com",
        )
    )
    assert bob is not None and bob.customer_id == items[1].customer_id


def test_a_rerun_of_the_same_file_imports_nothing_twice(
    db_session: Session, importer: Principal
) -> None:
    first = import_file(db_session=db_session, actor=importer, request=MALFORMED)
    second = import_file(db_session=db_session, actor=importer, request=MALFORMED)
    assert second.id != first.id
    assert counts(second) == (9, 0, 9, 0)
    assert len(feedback_of(db_session, importer)) == 4
    assert quarantined(db_session, second) == {}
    customers = db_session.scalar(
        select(func.count()).where(Customer.workspace_id == importer.workspace_id)
    )
    assert customers == 2


def crashing_after(rows_before_crash: int) -> RowSource:
    """Return a reader that stops the import like a killed process after some rows."""

    def read(source: ImportFile, fmt: ImportFormat, mapping: ColumnMapping) -> Iterator[RawRow]:
        for index, row in enumerate(read_rows(source, fmt, mapping)):
            if index == rows_before_crash:
                raise RuntimeError("power cut")
            yield row

    return read


@pytest.fixture
def committed_importer(committed_factory: sessionmaker[Session]) -> Principal:
    with committed_factory() as session:
        workspace = make_workspace(session)
        principal, _ = make_member_with_token(session, workspace_id=workspace.id)
        session.commit()
    return principal


def test_a_crash_mid_import_and_a_rerun_store_every_good_row_once(
    committed_factory: sessionmaker[Session], committed_importer: Principal
) -> None:
    with committed_factory() as session, pytest.raises(RuntimeError, match="power cut"):
        import_file(
            db_session=session,
            actor=committed_importer,
            request=MALFORMED,
            commit=session.commit,
            chunk_rows=2,
            read=crashing_after(5),
        )
    with committed_factory() as session:
        [stopped] = session.scalars(select(ImportRun)).all()
        assert stopped.status == "failed" and "power cut" in (stopped.error or "")
        assert stopped.total == 4  # two chunks of two were committed before the crash
        run = import_file(
            db_session=session,
            actor=committed_importer,
            request=MALFORMED,
            commit=session.commit,
            chunk_rows=2,
        )
        assert run.id == stopped.id and run.status == "completed"
        assert counts(run) == (9, 4, 0, 5)
        assert len(feedback_of(session, committed_importer)) == 4
        assert sorted(quarantined(session, run)) == [4, 5, 6, 7, 8]


def test_a_fixed_row_is_replayed_through_the_same_checks(
    db_session: Session, importer: Principal
) -> None:
    run = import_file(db_session=db_session, actor=importer, request=MALFORMED)
    bad = quarantined(db_session, run)
    score_row, channel_row = bad[5], bad[6]
    service.update_quarantined_row(
        db_session=db_session,
        actor=importer,
        row_id=score_row.id,
        row_in=QuarantinedRowUpdate(raw={**score_row.raw, "Score": "10"}),
    )
    service.update_quarantined_row(
        db_session=db_session,
        actor=importer,
        row_id=channel_row.id,
        row_in=QuarantinedRowUpdate(raw={**channel_row.raw, "Channel": "by owl"}),
    )
    result = service.replay(db_session=db_session, actor=importer, run_id=run.id)
    assert (result.replayed, result.still_quarantined) == (1, 1)
    assert (result.run.imported, result.run.quarantined) == (5, 4)
    assert score_row.status == "replayed"
    assert channel_row.status == "open" and channel_row.errors[0]["field"] == "channel"
    loved = [item for item in feedback_of(db_session, importer) if item.text == "Loved it"]
    assert len(loved) == 1 and loved[0].nps == 10
    again = service.replay(
        db_session=db_session, actor=importer, run_id=run.id, row_ids=[channel_row.id]
    )
    assert again.replayed == 0
    rerun = import_file(db_session=db_session, actor=importer, request=MALFORMED)
    assert counts(rerun) == (9, 0, 9, 0)


def test_events_from_json_lines_link_customers_by_email_and_phone(
    db_session: Session, importer: Principal
) -> None:
    request = ImportRequest(
        source=fixture_file("events.jsonl"), kind=ImportKind.EVENTS, fmt=ImportFormat.JSONL
    )
    run = import_file(db_session=db_session, actor=importer, request=request)
    assert counts(run) == (5, 2, 0, 3)
    events = db_session.scalars(
        select(OperationalEvent)
        .where(OperationalEvent.workspace_id == importer.workspace_id)
        .order_by(OperationalEvent.occurred_at)
    ).all()
    assert (events[0].source_ref, events[0].currency) == ("ORD-1", "EUR")
    assert events[1].source_ref == f"{run.file_sha256[:16]}:5"
    assert all(event.customer_id is not None for event in events)
    bad = quarantined(db_session, run)
    assert bad[2].errors[0]["field"] == "currency"
    assert sorted(bad) == [2, 3, 6]


def test_parquet_feedback_import(db_session: Session, importer: Principal, tmp_path: Path) -> None:
    path = tmp_path / "reviews.parquet"
    moments = [datetime(2024, 5, 1, 9, tzinfo=UTC), datetime(2024, 5, 2, 9, tzinfo=UTC)]
    pq.write_table(
        pa.table(
            {
                "review_id": ["rv-1", "rv-2"],
                "body": ["Great app", "Crashes on login"],
                "stars": [5, 11],
                "posted": pa.array(moments, pa.timestamp("ms", tz="UTC")),
            }
        ),
        path,
    )
    mapping = ColumnMapping(
        columns={
            "review_id": "source_ref",
            "body": "text",
            "stars": "scores.rating",
            "posted": "occurred_at",
        },
        defaults={"source": "app_store", "channel": "review_site", "scores.rating_scale": 5},
    )
    request = ImportRequest(
        ImportFile.from_path(path), ImportKind.FEEDBACK, ImportFormat.PARQUET, mapping
    )
    run = import_file(db_session=db_session, actor=importer, request=request)
    assert counts(run) == (2, 1, 0, 1)
    [item] = feedback_of(db_session, importer)
    assert (item.source, item.source_ref, item.rating) == ("app_store", "rv-1", 5)
    assert quarantined(db_session, run)[2].errors[0]["field"] == "scores.rating"


def test_customers_are_upserted_by_identity(db_session: Session, importer: Principal) -> None:
    request = ImportRequest(
        source=fixture_file("customers.csv"), kind=ImportKind.CUSTOMERS, fmt=ImportFormat.CSV
    )
    run = import_file(db_session=db_session, actor=importer, request=request)
    assert counts(run) == (4, 2, 0, 2)
    bad = quarantined(db_session, run)
    assert bad[3].errors[0]["field"] == "email"
    assert "email, phone or external_id" in bad[4].errors[0]["reason"]
    ann = db_session.scalars(
        select(Customer).where(
            Customer.workspace_id == importer.workspace_id, Customer.display_name == "Ann Lee"
        )
    ).one()
    assert ann.attributes == {"tier": "gold"} and ann.consent_email is True
    rerun = import_file(db_session=db_session, actor=importer, request=request)
    assert counts(rerun) == (4, 0, 4, 0)


def test_qualtrics_export_becomes_solicited_feedback(
    db_session: Session, importer: Principal
) -> None:
    request = ImportRequest(
        source=fixture_file("qualtrics_export.csv"),
        kind=ImportKind.FEEDBACK,
        fmt=ImportFormat.QUALTRICS,
        mapping=load_mapping(FIXTURES / "qualtrics_mapping.json"),
    )
    run = import_file(db_session=db_session, actor=importer, request=request)
    assert counts(run) == (3, 3, 0, 0)
    first, second, third = feedback_of(db_session, importer)
    assert (first.source, first.source_ref, first.solicited) == (
        "qualtrics",
        "R_1aBcDeFgHiJkLmN",
        True,
    )
    # RecordedDate in Europe/Berlin summer time (UTC+2).
    assert first.occurred_at == datetime(2024, 5, 2, 6, 3, 56, tzinfo=UTC)
    assert (first.nps, first.csat, first.channel) == (10, 5, "email")
    assert first.customer_id is not None
    assert first.metadata_["external_reference"] == "CRM-1001"
    assert (second.channel, second.language, second.customer_id) == ("web", "DE", None)
    assert (third.nps, third.text) == (7, None)


def test_surveymonkey_export_becomes_feedback_with_answers_in_metadata(
    db_session: Session, importer: Principal
) -> None:
    request = ImportRequest(
        source=fixture_file("surveymonkey_export.csv"),
        kind=ImportKind.FEEDBACK,
        fmt=ImportFormat.SURVEYMONKEY,
        mapping=load_mapping(FIXTURES / "surveymonkey_mapping.json"),
    )
    run = import_file(db_session=db_session, actor=importer, request=request)
    assert counts(run) == (2, 2, 0, 0)
    first, second = feedback_of(db_session, importer)
    assert (first.source_ref, first.nps, first.ces) == ("114400012345", 10, 6)
    assert first.occurred_at == datetime(2024, 5, 6, 13, 15, 44, tzinfo=UTC)
    assert first.metadata_["Which of these did you use this month? - Mobile app"] == "Mobile app"
    assert second.text == "Two visits to fix one card issue."
    assert second.metadata_["collector_id"] == "431234567"


def test_importing_needs_the_write_permission_of_the_kind(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    manager, _ = make_member_with_token(db_session, workspace_id=workspace.id, role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        import_file(db_session=db_session, actor=manager, request=MALFORMED)
