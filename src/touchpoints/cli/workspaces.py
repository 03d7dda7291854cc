"""`touchpoints workspaces`: tenants of this installation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

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
from touchpoints.db.engine import unit_of_work
from touchpoints.errors import TouchpointsError
from touchpoints.orgs.models import Workspace
from touchpoints.orgs.service import create_workspace, get_workspace_by_slug, list_workspaces

app = typer.Typer(help="List and create workspaces (tenants).", no_args_is_help=True)

WorkspaceOption = Annotated[
    str | None,
    typer.Option("--workspace", "-w", help="Workspace slug; optional when there is only one."),
]


def resolve_workspace(session: Session, slug: str | None) -> Workspace:
    """Return the named workspace, or the only one when no slug is given."""
    if slug is not None:
        workspace = get_workspace_by_slug(db_session=session, slug=slug)
        if workspace is None:
            fail(f"no workspace with slug {slug!r}; see `touchpoints workspaces list`")
        return workspace
    workspaces = list_workspaces(db_session=session)
    if not workspaces:
        fail(
            "there is no workspace yet: run `touchpoints demo` or `touchpoints init --admin-email`"
        )
    if len(workspaces) > 1:
        slugs = ", ".join(w.slug for w in workspaces)
        fail(f"several workspaces exist ({slugs}); choose one with --workspace SLUG")
    return workspaces[0]


@app.command("list")
def list_command(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """List the workspaces of this installation."""
    _, factory = open_store(load_settings(data_dir))
    with factory() as session:
        workspaces = list_workspaces(db_session=session)
        rows = [
            {"id": w.id, "slug": w.slug, "name": w.name, "created_at": w.created_at}
            for w in workspaces
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("slug", "name", "id", "created")
    for row in rows:
        table.add_row(
            str(row["slug"]), str(row["name"]), str(row["id"]), f"{row['created_at']:%Y-%m-%d}"
        )
    console.print(table)


@app.command("create")
def create_command(
    slug: Annotated[str, typer.Argument(help="Short URL-safe name, e.g. `acme`.")],
    name: Annotated[str, typer.Option(help="Display name, e.g. `Acme Corp`.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a workspace; add its first admin with `touchpoints users create`."""
    _, factory = open_store(load_settings(data_dir))
    try:
        with unit_of_work(factory) as session:
            workspace = create_workspace(db_session=session, slug=slug, name=name)
            row = {"id": workspace.id, "slug": workspace.slug, "name": workspace.name}
    except TouchpointsError as exc:
        report_error(exc)
    if as_json:
        print_json(row)
    else:
        console.print(f"created workspace [bold]{row['slug']}[/] ({row['id']})")
