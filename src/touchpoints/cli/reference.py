"""Render the CLI reference (docs/cli.md) from the commands themselves, so it never drifts."""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer.main


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    for name in sorted(getattr(command, "commands", {})):
        found += _walk(command.commands[name], [*path, name])
    return found


def _option_row(param: Any) -> str:
    names = " / ".join([*param.opts, *param.secondary_opts])
    help_text = (getattr(param, "help", None) or "").strip()
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        help_text += f" One of: {', '.join(str(member.value) for member in annotation)}."
    default = param.default
    if default not in (None, False, ()) and not callable(default):
        help_text += f" Default: `{getattr(default, 'value', default)}`."
    return f"| `{names}` | {help_text.strip()} |"


def render_cli_reference() -> str:
    """Return the Markdown reference of every `touchpoints` command and option."""
    from touchpoints.cli.main import app

    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands by `python -m touchpoints.cli.reference > docs/cli.md`",
        "(a test fails when it is stale). Every command that prints data accepts `--json`;",
        "every command that opens the store accepts `--data-dir` (or `TOUCHPOINTS_DATA_DIR`).",
        "From a checkout, `./run COMMAND` is the same as `touchpoints COMMAND`.",
    ]
    for path, command in _walk(root, ["touchpoints"])[1:]:
        lines += ["", f"## `{' '.join(path)}`", "", (command.help or "").strip()]
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        if arguments:
            names = ", ".join(f"`{a.name.upper()}`" for a in arguments)
            lines += ["", f"Arguments: {names}"]
        options = [p for p in command.params if p.param_type_name == "option"]
        if options:
            lines += ["", "| option | meaning |", "|---|---|", *map(_option_row, options)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_cli_reference(), end="")
