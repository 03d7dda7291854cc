"""The `touchpoints` command: entry point and command groups."""

from __future__ import annotations

import logging

import typer

from touchpoints import __version__
from touchpoints.cli import analytics, db, demo, imports, serve, tokens, users, workspaces
from touchpoints.cli.report import report_command

app = typer.Typer(
    name="touchpoints",
    help=(
        "Touchpoints: open-source customer experience management.\n\n"
        "Start with `touchpoints demo` for a ready-made airline workspace on http://127.0.0.1:8000."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("init")(demo.init_command)
app.command("demo")(demo.demo_command)
app.command("serve")(serve.serve_command)
app.command("worker")(serve.worker_command)
app.command("report")(report_command)
app.add_typer(db.app, name="db")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(imports.app, name="import")
app.add_typer(analytics.app, name="analytics")


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log more detail."),
) -> None:
    """Touchpoints command line."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def main() -> None:
    """Run the command line."""
    app()
