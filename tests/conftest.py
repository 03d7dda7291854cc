"""Test fixtures: every database test runs on real SQLite and real PostgreSQL.

PostgreSQL: `TOUCHPOINTS_TEST_POSTGRES_URL` (default: postgresql+psycopg://postgres@127.0.0.1:5432/test).
Each test run migrates its own schema in that database and drops it at the end, so runs never
see each other. With CI=true an unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.api.app import create_app
from touchpoints.auth.permissions import Principal, Role
from touchpoints.config import Settings
from touchpoints.db.engine import make_engine
from touchpoints.db.registry import load_metadata

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STORES = ("sqlite", "postgres")


@dataclass
class Store:
    """A migrated test database: its kind, URL and engine."""

    kind: str
    url: str
    engine: Engine


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run tests marked `postgres` or `sqlite` only on that store (deselected, not skipped)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("store") if callspec else None
        wanted = {m.name for m in item.iter_markers() if m.name in STORES}
        (drop if kind and wanted and kind not in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _postgres_url() -> str:
    return os.environ.get("TOUCHPOINTS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _postgres_store() -> Iterator[Store]:
    base_url = _postgres_url()
    admin = make_engine(base_url, pool_size=1)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        message = (
            f"PostgreSQL is not reachable at {base_url} ({type(exc).__name__}). Start it "
            "(pg_ctlcluster ... main start) or point TOUCHPOINTS_TEST_POSTGRES_URL at a server."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    schema = f"tp_test_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    url = f"{base_url}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url, pool_size=5)
    try:
        _create_schema(engine)
        yield Store("postgres", url, engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _sqlite_store(folder: Path) -> Iterator[Store]:
    url = f"sqlite:///{folder / 'touchpoints.db'}"
    engine = make_engine(url)
    try:
        _create_schema(engine)
        yield Store("sqlite", url, engine)
    finally:
        engine.dispose()


def _create_schema(engine: Engine) -> None:
    # The models define the schema here; tests/db/test_migrations.py proves the Alembic
    # revisions build exactly the same schema on both stores.
    load_metadata().create_all(engine)


@pytest.fixture(scope="session", params=STORES)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A migrated database of each kind, shared by the whole run."""
    if request.param == "postgres":
        yield from _postgres_store()
    else:
        yield from _sqlite_store(tmp_path_factory.mktemp("sqlite-store"))


@pytest.fixture
def session_factory(store: Store) -> Iterator[sessionmaker[Session]]:
    """Sessions inside one outer transaction that is rolled back after the test."""
    connection = store.engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield factory
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose commits are undone after the test."""
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def committed_factory(store: Store) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit (for workers and concurrency); tables emptied afterwards."""
    yield sessionmaker(bind=store.engine, expire_on_commit=False)
    empty_store(store)


def empty_store(store: Store) -> None:
    """Delete every row of every table of a test store."""
    tables = list(reversed(load_metadata().sorted_tables))
    with store.engine.begin() as connection:
        if store.kind == "postgres":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            # Self-references (org-unit parents) are RESTRICT: detach the tree first.
            connection.execute(text("UPDATE org_units SET parent_id = NULL"))
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def settings(tmp_path: Path, store: Store) -> Settings:
    """Settings for a test installation."""
    return Settings(
        environment="test",  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        database_url=store.url,
        embedded_worker=False,
    )


@pytest.fixture(scope="session")
def shared_app() -> FastAPI:
    """One app for the whole run (building one takes about a second); tests rebind its state."""
    return create_app(Settings(environment="test"), session_factory=sessionmaker())  # type: ignore[arg-type]


@pytest.fixture
def app(shared_app: FastAPI, settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    """The API app bound to this test's settings and rolled-back transaction."""
    shared_app.state.settings = settings
    shared_app.state.session_factory = session_factory
    return shared_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process HTTP client for the API (no credentials)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Caller:
    """A member of a workspace with an API token and an HTTP client that sends it."""

    principal: Principal
    token: str
    http: TestClient

    @property
    def workspace_id(self) -> str:
        """Return the caller's workspace id."""
        return self.principal.workspace_id


MakeCaller = Callable[..., Caller]


@pytest.fixture
def make_caller(app: FastAPI, db_session: Session) -> Iterator[MakeCaller]:
    """Build callers: `make_caller(role=Role.ANALYST, workspace=ws, org_unit=unit)`."""
    from tests.factories.orgs import make_member_with_token, make_workspace

    clients: list[TestClient] = []

    def build(
        role: Role = Role.ADMIN, workspace_id: str | None = None, org_unit_id: str | None = None
    ) -> Caller:
        if workspace_id is None:
            workspace_id = make_workspace(db_session).id
        principal, token = make_member_with_token(
            db_session, workspace_id=workspace_id, role=role, org_unit_id=org_unit_id
        )
        db_session.commit()
        http = TestClient(app, raise_server_exceptions=False)
        http.headers["Authorization"] = f"Bearer {token}"
        clients.append(http)
        return Caller(principal=principal, token=token, http=http)

    yield build
    for http in clients:
        http.close()


@pytest.fixture
def committed_admin(
    shared_app: FastAPI, committed_factory: sessionmaker[Session], settings: Settings
) -> Iterator[Caller]:
    """An admin of a committed workspace, calling the app with sessions that really commit."""
    from tests.factories.orgs import make_member_with_token, make_workspace

    with committed_factory() as session:
        workspace_id = make_workspace(session).id
        principal, token = make_member_with_token(
            session, workspace_id=workspace_id, role=Role.ADMIN
        )
        session.commit()
    shared_app.state.settings = settings
    shared_app.state.session_factory = committed_factory
    with TestClient(shared_app, raise_server_exceptions=False) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        yield Caller(principal=principal, token=token, http=http)


@pytest.fixture
def admin(make_caller: MakeCaller) -> Caller:
    """An admin of a fresh workspace with an API client."""
    return make_caller(Role.ADMIN)
