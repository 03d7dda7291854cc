"""Fixtures for import tests: the fixture files and an admin acting in a fresh workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.factories.orgs import make_member_with_token, make_workspace
from touchpoints.auth.permissions import Principal, Role
from touchpoints.imports.readers import ImportFile

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_file(name: str) -> ImportFile:
    """Return one of the fixture files as an import source."""
    return ImportFile.from_path(FIXTURES / name)


@pytest.fixture
def importer(db_session: Session) -> Principal:
    """An admin of a fresh workspace."""
    workspace = make_workspace(db_session)
    principal, _ = make_member_with_token(db_session, workspace_id=workspace.id, role=Role.ADMIN)
    db_session.flush()
    return principal
