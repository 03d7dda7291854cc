"""Store single feedback items from many concurrent API requests, a batch per transaction.

`POST /api/v1/feedback` hands each request to a `GroupCommit` (touchpoints.api.group_commit)
whose batches land here. A batch gets the answers the one-request path would give each of
its requests, in arrival order: the token is checked, the permission and the links too, a
`(source, source_ref)` already stored or earlier in the batch is refused (409), a retried
Idempotency-Key replays its first answer. Then every accepted item is written with one insert
(executemany on SQLite, COPY on PostgreSQL), their idempotency answers beside them, and one
commit makes them all durable before any answer is sent.

When the batch cannot commit as a whole (a concurrent request in another process took the same
source_ref or key, say), it is rolled back and each request is redone on its own through the
one-request path, so every request still gets exactly the answer it would have had alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.api.group_commit import GroupCommit
from touchpoints.api.problems import CLASH
from touchpoints.api.writes import WriteRequest, perform
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.auth.service import principal_for_token
from touchpoints.db.statistics import TableStatistics
from touchpoints.db.writer import writer_turn
from touchpoints.errors import Conflict, TouchpointsError
from touchpoints.feedback import service
from touchpoints.feedback.bulk import feedback_row, insert_feedback
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import (
    SCORE_COLUMNS,
    FeedbackItemBase,
    FeedbackItemCreate,
    FeedbackItemRead,
)
from touchpoints.idempotency.service import replay, store_answer, stored_answers
from touchpoints.signals.service import LINK_FIELDS, check_links

CREATED = 201
# (status, body, replayed), or the error to answer with. A new item's body comes rendered as
# JSON bytes (pydantic writes them faster than json.dumps); a replayed answer as stored.
Outcome = tuple[int, dict[str, Any] | bytes, bool] | TouchpointsError

logger = logging.getLogger(__name__)
# The duplicate and Idempotency-Key lookups are planned from these tables' statistics.
FEEDBACK_STATISTICS = TableStatistics(("feedback_items", "idempotency_records"), background=True)


class StoreFailed(TouchpointsError):
    """An unexpected failure while storing one request's item (answered 500)."""

    status_code = 500
    title = "Internal Server Error"


@dataclass(frozen=True)
class FeedbackSubmission:
    """One request's feedback item with the bearer token and the write's identity."""

    token: str
    feedback_in: FeedbackItemCreate
    write: WriteRequest


@dataclass(frozen=True)
class _Accepted:
    index: int
    actor: Principal
    row: dict[str, Any]
    draft: _Draft


@dataclass(frozen=True)
class _Draft:
    """A submitted item's row (its workspace still unset) and the answer it gets if stored."""

    row: dict[str, Any]
    read: FeedbackItemRead
    rendered: bytes

    @classmethod
    def of(cls, feedback_in: FeedbackItemCreate) -> _Draft:
        values = feedback_in.model_dump(exclude={"scores", "metadata"})
        values.update(feedback_in.scores.columns() if feedback_in.scores is not None else {})
        values["metadata"] = feedback_in.metadata
        row = feedback_row("", values)
        read = FeedbackItemRead.model_validate(_read_values(row))
        return cls(row, read, read.model_dump_json().encode())


class FeedbackIntake:
    """Store batches of submitted feedback items through one session factory."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def store(self, submissions: Sequence[FeedbackSubmission]) -> list[Outcome]:
        """Store a batch; return one outcome per submission, in order."""
        # What needs no database is done before the transaction: on SQLite it holds the one
        # write lock that every server process waits for.
        drafts = [_Draft.of(submission.feedback_in) for submission in submissions]
        try:
            with self._session() as session:
                outcomes = _store_batch(session, submissions, drafts)
                session.commit()
        except Exception:  # a clash the checks could not see: redo each request alone
            logger.info("feedback batch of %d redone one by one", len(submissions), exc_info=True)
            return [self._store_alone(submission) for submission in submissions]
        # A key repeated within the batch is answered after it, by replaying the first answer.
        return [
            self._store_alone(submission) if outcome is None else outcome
            for submission, outcome in zip(submissions, outcomes, strict=True)
        ]

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """Open a session once this process has its turn to write (SQLite)."""
        with writer_turn(self.session_factory.kw.get("bind")), self.session_factory() as session:
            yield session

    def _store_alone(self, submission: FeedbackSubmission) -> Outcome:
        with self._session() as session:
            try:
                actor = principal_for_token(db_session=session, plaintext=submission.token)
                outcome = perform(
                    submission.write,
                    db_session=session,
                    actor=actor,
                    status_code=CREATED,
                    write=lambda: FeedbackItemRead.model_validate(
                        service.create_feedback(
                            db_session=session, actor=actor, feedback_in=submission.feedback_in
                        )
                    ),
                )
                session.commit()
            except TouchpointsError as exc:
                session.rollback()
                return exc
            except IntegrityError:  # another process stored the same source_ref just now
                session.rollback()
                return Conflict(CLASH)
            except Exception:  # this request fails alone; the others of its batch stand
                session.rollback()
                logger.exception("feedback item could not be stored")
                return StoreFailed("the item could not be stored; retry with the same key")
        return outcome


def intake_of(app: Any) -> GroupCommit[FeedbackSubmission, Outcome]:
    """Return the app's feedback intake, made on first use (one per server process)."""
    intake: GroupCommit[FeedbackSubmission, Outcome] | None = getattr(
        app.state, "feedback_intake", None
    )
    if intake is None:

        def store(submissions: Sequence[FeedbackSubmission]) -> list[Outcome]:
            # The app's session factory is read per batch: tests rebind it on a shared app.
            return FeedbackIntake(app.state.session_factory).store(submissions)

        intake = GroupCommit(store)
        app.state.feedback_intake = intake
    return intake


def _store_batch(
    session: Session, submissions: Sequence[FeedbackSubmission], drafts: Sequence[_Draft]
) -> list[Outcome | None]:
    """Check every submission in order, insert the accepted ones; None: store it alone later."""
    outcomes: list[Outcome | None] = [None] * len(submissions)
    actors = _actors(session, submissions)
    answers = _stored_answers(session, submissions, actors)
    taken = _stored_source_refs(session, submissions, actors)
    keys_seen: set[tuple[str, str]] = set()
    accepted: list[_Accepted] = []
    for index, submission in enumerate(submissions):
        try:
            actor = actors[submission.token]
            if isinstance(actor, TouchpointsError):
                raise actor
            key = submission.write.key
            if key is not None:
                if (actor.workspace_id, key) in keys_seen:
                    continue
                keys_seen.add((actor.workspace_id, key))
                if (stored := answers.get((actor.workspace_id, key))) is not None:
                    outcomes[index] = replay(stored, submission.write.fingerprint)
                    continue
            row = _checked_row(session, actor, submission.feedback_in, drafts[index].row, taken)
            accepted.append(_Accepted(index, actor, row, drafts[index]))
        except TouchpointsError as exc:
            outcomes[index] = exc
    insert_feedback(session, [item.row for item in accepted])
    FEEDBACK_STATISTICS.added(session, len(accepted))
    for item in accepted:
        outcomes[item.index] = _created(session, item, submissions[item.index].write)
    return outcomes


def _actors(
    session: Session, submissions: Sequence[FeedbackSubmission]
) -> dict[str, Principal | TouchpointsError]:
    """Check each distinct token once."""
    actors: dict[str, Principal | TouchpointsError] = {}
    for token in dict.fromkeys(submission.token for submission in submissions):
        try:
            actors[token] = principal_for_token(db_session=session, plaintext=token)
        except TouchpointsError as exc:
            actors[token] = exc
    return actors


def _stored_answers(
    session: Session,
    submissions: Sequence[FeedbackSubmission],
    actors: dict[str, Principal | TouchpointsError],
) -> dict[tuple[str, str], Any]:
    """Return the stored answers of the batch's Idempotency-Keys, one query per workspace."""
    keys: dict[str, set[str]] = {}
    for submission in submissions:
        actor = actors[submission.token]
        if submission.write.key is not None and isinstance(actor, Principal):
            keys.setdefault(actor.workspace_id, set()).add(submission.write.key)
    found: dict[tuple[str, str], Any] = {}
    for workspace_id, wanted in keys.items():
        stored = stored_answers(db_session=session, workspace_id=workspace_id, keys=wanted)
        found |= {(workspace_id, key): record for key, record in stored.items()}
    return found


def _stored_source_refs(
    session: Session,
    submissions: Sequence[FeedbackSubmission],
    actors: dict[str, Principal | TouchpointsError],
) -> dict[tuple[str, str, str], str]:
    """Return the ids of items already stored under the batch's (source, source_ref)s."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for submission in submissions:
        actor, item = actors[submission.token], submission.feedback_in
        if item.source_ref is not None and isinstance(actor, Principal):
            wanted.setdefault((actor.workspace_id, item.source), set()).add(item.source_ref)
    taken: dict[tuple[str, str, str], str] = {}
    for (workspace_id, source), refs in wanted.items():
        values = {"workspace_id": workspace_id, "source": source, "refs": sorted(refs)}
        found = session.execute(_TAKEN, values)
        taken |= {(workspace_id, source, ref or ""): item_id for ref, item_id in found}
    return taken


# Built once (compiling a statement costs more than running it); it reads the unique index
# on (workspace_id, source, source_ref).
_TAKEN = select(FeedbackItem.source_ref, FeedbackItem.id).where(
    FeedbackItem.workspace_id == bindparam("workspace_id"),
    FeedbackItem.source == bindparam("source"),
    FeedbackItem.source_ref.in_(bindparam("refs", expanding=True)),
)


def _checked_row(
    session: Session,
    actor: Principal,
    feedback_in: FeedbackItemCreate,
    row: dict[str, Any],
    taken: dict[tuple[str, str, str], str],
) -> dict[str, Any]:
    """Apply `service.create_feedback`'s rules; return the item's row, or raise its error."""
    require(actor, Permission.FEEDBACK_WRITE)
    links = {name: row[name] for name in LINK_FIELDS}
    if actor.is_scoped or any(value is not None for value in links.values()):
        check_links(session, actor, links)
    if feedback_in.source_ref is not None:
        ref = (actor.workspace_id, feedback_in.source, feedback_in.source_ref)
        if (existing := taken.get(ref)) is not None:
            raise Conflict(
                f"feedback from {feedback_in.source!r} with source_ref "
                f"{feedback_in.source_ref!r} is already stored as {existing}"
            )
        taken[ref] = row["id"]
    return row | {"workspace_id": actor.workspace_id}


def _created(session: Session, item: _Accepted, write: WriteRequest) -> Outcome:
    """Return the 201 answer of a stored item, kept for its Idempotency-Key if it has one."""
    if write.key is not None:
        store_answer(
            db_session=session,
            workspace_id=item.actor.workspace_id,
            key=write.key,
            method=write.method,
            path=write.path,
            fingerprint=write.fingerprint,
            status_code=CREATED,
            body=item.draft.read.model_dump(mode="json"),
            ttl=write.ttl,
        )
    return CREATED, item.draft.rendered, False


def _read_values(row: dict[str, Any]) -> dict[str, Any]:
    fields = set(FeedbackItemBase.model_fields) | {"id", "received_at", "sentiment", "topics"}
    scores = {name: row[name] for name in SCORE_COLUMNS}
    if scores["rating_scale"] is None:
        del scores["rating_scale"]
    return {name: row[name] for name in fields} | {"scores": scores}
