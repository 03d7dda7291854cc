"""Keep PostgreSQL's planner statistics of fast-filling tables fresh, autovacuum or not.

PostgreSQL plans every query from the statistics ANALYZE last took. A table never analyzed
(a new store, or a server whose autovacuum is off or behind) looks nearly empty to the planner,
which then reads every row of a workspace to find a few: an `IN (...)` lookup on a unique index
filters the workspace's rows instead of probing the index, and its cost grows with each row
stored. Writers that add rows fast (the feedback intake, bulk imports) report what they added
to a `TableStatistics`; once the rows added since the statistics were taken reach the number
of rows they counted, it reads `pg_class` to see whether anyone (autovacuum) has refreshed them
meanwhile, and runs ANALYZE only if not. So a table is analyzed each time it doubles, and not at
all where autovacuum keeps up. SQLite plans without such statistics: nothing to do there.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

__all__ = ["TableStatistics"]

logger = logging.getLogger(__name__)
_RELTUPLES = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)")


class TableStatistics:
    """Watch rows added to `tables` (the first one is counted) and ANALYZE them when stale.

    With `background`, ANALYZE runs on a connection of its own in a thread once the caller's
    transaction commits: it takes 0.1-1 s on a big table, which a request should not wait for.
    """

    def __init__(
        self, tables: tuple[str, ...], *, first_rows: int = 1_000, background: bool = False
    ) -> None:
        self.tables = tables
        self.first_rows = first_rows
        self.background = background
        self._added = 0  # rows added since `_counted` was read
        self._counted: float | None = None  # the statistics' row count, as last read
        self._lock = threading.Lock()
        self.analyzed = 0  # ANALYZE runs so far (for tests and logs)
        self.running: threading.Thread | None = None  # the latest background ANALYZE

    def added(self, db_session: Session, rows: int) -> None:
        """Note `rows` new rows in the session's transaction; ANALYZE if they made stats stale.

        In the foreground the ANALYZE runs in the caller's transaction and sees its rows.
        """
        if rows <= 0 or db_session.get_bind().dialect.name != "postgresql":
            return
        with self._lock:
            self._added += rows
            if self._added < max(self.first_rows, self._counted or 0):
                return
            counted = self._reltuples(db_session)
            if self._analyzed_elsewhere(counted):
                self._counted, self._added = counted, 0
                return
            self._added = 0
            if self.background:
                self._counted = counted  # until the thread reads the new count
                bind = db_session.get_bind()
                engine = bind.engine if isinstance(bind, Connection) else bind
                self.running = threading.Thread(
                    target=self._analyze_apart, args=(engine,), daemon=True
                )
                # Once the rows are committed, so the other connection sees them.
                event.listen(db_session, "after_commit", self._start, once=True)
                return
            db_session.execute(text(self._analyze))
            self.analyzed += 1
            self._counted = self._reltuples(db_session)

    def _start(self, _: Session) -> None:
        if self.running is not None:
            self.running.start()

    @property
    def _analyze(self) -> str:
        return f"ANALYZE {', '.join(self.tables)}"

    def _analyze_apart(self, engine: Engine) -> None:
        """Run ANALYZE on a connection of its own (the caller's rows committed meanwhile)."""
        try:
            with Session(engine) as session:
                session.execute(text(self._analyze))
                counted = self._reltuples(session)
                session.commit()
        except Exception:  # statistics are an optimisation: a failure must not surface
            logger.warning("ANALYZE %s failed", ", ".join(self.tables), exc_info=True)
            return
        with self._lock:
            self.analyzed += 1
            self._counted = counted

    def _analyzed_elsewhere(self, counted: float) -> bool:
        """Tell whether statistics someone else took can stand for the rows added."""
        if self._counted is None:  # the first look: are they about a table this big at least?
            return counted >= self._added
        return counted != self._counted  # they changed since the last look: autovacuum ran

    def _reltuples(self, db_session: Session) -> float:
        counted = db_session.scalar(_RELTUPLES, {"table": self.tables[0]})
        return max(float(counted or 0), 0.0)  # -1: never analyzed
