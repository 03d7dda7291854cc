"""Engine and session factories; nothing is built at import time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.config import Settings


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions, so SAVEPOINTs work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a deferred transaction that later writes can fail with
    # SQLITE_BUSY instead of waiting when another thread committed in between.
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return  # no transaction asked for (see `store_answers`)
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """Create an engine for SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def store_answers(bind: Engine | Connection) -> None:
    """Run a trivial query on the store outside any transaction; raise if it cannot.

    On SQLite it takes no lock, so it answers at once even while a writer holds the write lock
    (an import's chunk, a batch of feedback): a health check must not queue behind them. A
    session factory bound to a connection (tests) is asked on that connection.
    """
    if isinstance(bind, Connection):
        bind.exec_driver_sql("SELECT 1")
        return
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("SELECT 1")


def engine_from_settings(settings: Settings) -> Engine:
    """Create the operational-store engine that the settings describe."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(
        settings.resolved_database_url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Create the session factory; callers commit at the request or job boundary."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit when the block succeeds and roll back when it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
