"""`touchpoints demo` and `touchpoints init`: a ready-to-explore installation."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.auth.passwords import MIN_PASSWORD_LENGTH
from touchpoints.auth.permissions import Role
from touchpoints.auth.service import create_member, first_admin, issue_token
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
from touchpoints.cli.serve import HostOption, PortOption, prepare_store, run_server
from touchpoints.config import Settings
from touchpoints.db.engine import unit_of_work
from touchpoints.demo import DemoSpec, DemoSummary, build_demo, demo_exists
from touchpoints.errors import TouchpointsError
from touchpoints.orgs.service import create_workspace, get_workspace_by_slug

DEMO_PASSWORD = DemoSpec().admin_password


def demo_command(
    data_dir: DataDirOption = None,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API once the demo is built.")
    ] = True,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
    customers: Annotated[int, typer.Option(min=10, help="How many customers.")] = 20_000,
    feedback: Annotated[int, typer.Option(min=10, help="How many feedback items.")] = 100_000,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    as_json: JsonOption = False,
) -> None:
    """Build the demo workspace (a fictional airline) once, then serve it."""
    settings = load_settings(data_dir)
    prepare_store(settings)
    engine, factory = open_store(settings)
    spec = DemoSpec(seed=seed, customers=customers, feedback=feedback)
    built = None
    if demo_exists(session_factory=factory, slug=spec.slug):
        if not as_json:
            console.print("demo workspace already built; reusing it")
    else:
        built = _build_with_progress(factory, spec, quiet=as_json)
    _export_analytics(engine, settings, quiet=as_json)
    with unit_of_work(factory) as session:
        workspace = get_workspace_by_slug(db_session=session, slug=spec.slug)
        assert workspace is not None
        admin = first_admin(db_session=session, workspace_id=workspace.id)
        assert admin is not None
        _, token = issue_token(
            db_session=session, workspace_id=workspace.id, user_id=admin.user.id, name="demo"
        )
        login = {"email": admin.user.email, "password": spec.admin_password}
    url = f"http://{host}:{port}"
    if as_json:
        print_json(
            {
                "url": url,
                "workspace": spec.slug,
                "login": login,
                "api_token": token,
                "built": dataclasses.asdict(built) if built else None,
            }
        )
    else:
        _print_welcome(url, login, token, built_seconds=built.seconds if built else None)
    if serve:
        run_server(settings, host=host, port=port, worker=settings.embedded_worker)


def _export_analytics(engine: Engine, settings: Settings, *, quiet: bool) -> None:
    """Bring the analytics store up to date, so the first page already shows every number."""
    from touchpoints.analytics.export import AnalyticsExporter

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=quiet, transient=True) as progress:
        task = progress.add_task("analytics store", total=None)

        def show(dataset: str, rows: int) -> None:
            progress.update(task, description=f"analytics store: {dataset} {rows:,} rows")

        summary = AnalyticsExporter(engine, settings.analytics_root, progress=show).export()
    if not quiet:
        console.print(
            f"analytics store up to date ({summary.rows:,} rows in {summary.seconds:.1f} s)"
        )


def _build_with_progress(
    factory: sessionmaker[Session], spec: DemoSpec, *, quiet: bool
) -> DemoSummary:
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=quiet) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        return build_demo(session_factory=factory, spec=spec, progress=advance)


def _print_welcome(
    url: str, login: dict[str, str], token: str, *, built_seconds: float | None
) -> None:
    if built_seconds is not None:
        console.print(f"demo built in {built_seconds:.1f} s")
    console.print(f"\n[bold green]Touchpoints is ready:[/] {url}")
    console.print(f"  sign in:   {login['email']} / {login['password']}")
    console.print(f"  API docs:  {url}/docs")
    console.print("  API token (Authorize in /docs, or `Authorization: Bearer ...`):")
    console.print(f"  {token}", soft_wrap=True, highlight=False)


def init_command(
    data_dir: DataDirOption = None,
    workspace: Annotated[
        str | None, typer.Option(help="Slug of a workspace to create, e.g. `acme`.")
    ] = None,
    workspace_name: Annotated[str | None, typer.Option(help="Its display name.")] = None,
    admin_email: Annotated[
        str | None, typer.Option(help="Email of the workspace's first admin.")
    ] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(
            help=f"Password of that admin (at least {MIN_PASSWORD_LENGTH} characters).",
            envvar="TOUCHPOINTS_ADMIN_PASSWORD",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the data directory and store; optionally a workspace with its first admin."""
    settings = load_settings(data_dir)
    prepare_store(settings)
    result: dict[str, object] = {"data_dir": str(settings.data_dir.resolve()), "workspace": None}
    if workspace is not None or admin_email is not None:
        if workspace is None or admin_email is None:
            fail("--workspace and --admin-email go together")
        if admin_password is not None and len(admin_password) < MIN_PASSWORD_LENGTH:
            fail(f"--admin-password must have at least {MIN_PASSWORD_LENGTH} characters")
        result["workspace"] = _create_workspace_with_admin(
            settings, workspace, workspace_name or workspace, admin_email, admin_password
        )
    if as_json:
        print_json(result)
    else:
        console.print(f"store ready in {result['data_dir']}")
        if result["workspace"]:
            console.print(f"workspace {workspace} created with admin {admin_email}")


def _create_workspace_with_admin(
    settings: Settings, slug: str, name: str, email: str, password: str | None
) -> dict[str, str]:
    _, factory = open_store(settings)
    try:
        with unit_of_work(factory) as session:
            ws = create_workspace(db_session=session, slug=slug, name=name)
            member = create_member(
                db_session=session,
                workspace_id=ws.id,
                email=email,
                display_name=email,
                role=Role.ADMIN,
                password=password,
            )
            return {"id": ws.id, "slug": ws.slug, "admin": member.user.email}
    except TouchpointsError as exc:
        report_error(exc)
