"""`touchpoints users`: people who sign in, their roles and scopes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select

from touchpoints.auth.models import Membership, User
from touchpoints.auth.passwords import MIN_PASSWORD_LENGTH
from touchpoints.auth.permissions import Role
from touchpoints.auth.service import create_member
from touchpoints.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    fail,
    load_settings,
    open_store,
    print_json,
    report_error,
)
from touchpoints.cli.workspaces import WorkspaceOption, resolve_workspace
from touchpoints.db.engine import unit_of_work
from touchpoints.errors import TouchpointsError
from touchpoints.orgs.models import OrgUnit

app = typer.Typer(help="Add and list users of a workspace.", no_args_is_help=True)


@app.command("create")
def create_command(
    email: Annotated[str, typer.Option(help="Email address the user signs in with.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the email).")] = None,
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.VIEWER,
    org_unit: Annotated[
        str | None,
        typer.Option(help="Code of the org unit the user is limited to (default: everything)."),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help=f"Password for the web app (at least {MIN_PASSWORD_LENGTH} characters); "
            "omit for API-token-only users.",
            envvar="TOUCHPOINTS_NEW_USER_PASSWORD",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user to a workspace with a role and an optional org-unit scope."""
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        fail(f"--password must have at least {MIN_PASSWORD_LENGTH} characters")
    _, factory = open_store(load_settings(data_dir))
    try:
        with unit_of_work(factory) as session:
            ws = resolve_workspace(session, workspace)
            unit_id = None
            if org_unit is not None:
                unit_id = session.scalar(
                    select(OrgUnit.id).where(
                        OrgUnit.workspace_id == ws.id, OrgUnit.code == org_unit
                    )
                )
                if unit_id is None:
                    fail(f"no org unit with code {org_unit!r} in workspace {ws.slug}")
            member = create_member(
                db_session=session,
                workspace_id=ws.id,
                email=email,
                display_name=name or email,
                role=role,
                org_unit_id=unit_id,
                password=password,
            )
            row = {
                "id": member.user.id,
                "email": member.user.email,
                "role": member.membership.role,
                "workspace": ws.slug,
                "org_unit_id": unit_id,
            }
    except TouchpointsError as exc:
        report_error(exc)
    if as_json:
        print_json(row)
    else:
        console.print(f"added [bold]{row['email']}[/] as {row['role']} to {row['workspace']}")


@app.command("list")
def list_command(
    workspace: WorkspaceOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """List the users of a workspace with their roles."""
    _, factory = open_store(load_settings(data_dir))
    with factory() as session:
        ws = resolve_workspace(session, workspace)
        result = session.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == ws.id)
            .order_by(User.email)
        )
        rows = [
            {
                "id": user.id,
                "email": user.email,
                "display_name": user.display_name,
                "role": membership.role,
                "org_unit_id": membership.org_unit_id,
                "is_active": user.is_active,
            }
            for user, membership in result
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("email", "name", "role", "scope", "active")
    for row in rows:
        table.add_row(
            str(row["email"]),
            str(row["display_name"]),
            str(row["role"]),
            str(row["org_unit_id"] or "all"),
            "yes" if row["is_active"] else "no",
        )
    console.print(table)
