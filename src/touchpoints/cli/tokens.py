"""`touchpoints tokens`: API tokens for scripts and integrations."""

from __future__ import annotations

from typing import Annotated

import typer

from touchpoints.auth.service import first_admin, get_user_by_email, is_member, issue_token
from touchpoints.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    fail,
    load_settings,
    open_store,
    print_json,
)
from touchpoints.cli.workspaces import WorkspaceOption, resolve_workspace
from touchpoints.db.engine import unit_of_work

app = typer.Typer(help="Create API tokens.", no_args_is_help=True)


@app.command("create")
def create_command(
    email: Annotated[
        str | None,
        typer.Option(help="User the token acts as (default: the workspace's first admin)."),
    ] = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    workspace: WorkspaceOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token; with no options, for the first admin of the only workspace."""
    _, factory = open_store(load_settings(data_dir))
    with unit_of_work(factory) as session:
        ws = resolve_workspace(session, workspace)
        if email is None:
            member = first_admin(db_session=session, workspace_id=ws.id)
            if member is None:
                fail(f"workspace {ws.slug} has no admin; add one with `touchpoints users create`")
            user = member.user
        else:
            found = get_user_by_email(db_session=session, email=email)
            if found is None or not is_member(
                db_session=session, workspace_id=ws.id, user_id=found.id
            ):
                fail(f"no user with email {email!r} in workspace {ws.slug}")
            user = found
        token, plaintext = issue_token(
            db_session=session, workspace_id=ws.id, user_id=user.id, name=name
        )
        row = {
            "id": token.id,
            "token": plaintext,
            "user": user.email,
            "workspace": ws.slug,
            "name": name,
        }
    if as_json:
        print_json(row)
    else:
        console.print(f"API token for {row['user']} in {row['workspace']} (shown once):")
        console.print(plaintext, soft_wrap=True, highlight=False)
