"""`touchpoints db`: migrations of the operational store."""

from __future__ import annotations

from typing import Annotated

import typer

from touchpoints.cli.common import DataDirOption, JsonOption, console, load_settings, print_json
from touchpoints.db import migrate
from touchpoints.db.engine import engine_from_settings

app = typer.Typer(help="Create and migrate the operational store.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    data_dir: DataDirOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    as_json: JsonOption = False,
) -> None:
    """Apply migrations up to the latest revision (creates the SQLite file if needed)."""
    settings = load_settings(data_dir)
    engine = engine_from_settings(settings)
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    engine.dispose()
    if as_json:
        print_json(
            {"database": _safe_url(settings.resolved_database_url), "from": before, "to": after}
        )
    else:
        console.print(f"store at revision [bold]{after}[/] (was {before or 'empty'})")


@app.command("current")
def current(data_dir: DataDirOption = None, as_json: JsonOption = False) -> None:
    """Show the store's revision and the newest one this version ships."""
    settings = load_settings(data_dir)
    engine = engine_from_settings(settings)
    revision = migrate.current_revision(engine)
    engine.dispose()
    head = migrate.head_revision()
    if as_json:
        print_json({"current": revision, "head": head, "up_to_date": revision == head})
    else:
        state = "up to date" if revision == head else "run `touchpoints db upgrade`"
        console.print(f"current {revision or 'empty'}, head {head}: {state}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
