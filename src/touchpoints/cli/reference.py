"""Render the CLI reference (docs/cli.md) from the commands themselves, so it never drifts."""

from __future__ import annotations

import click
import typer.main


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def _option_row(param: click.Parameter) -> str:
    names = " / ".join(param.opts + param.secondary_opts)
    help_text = getattr(param, "help", None) or ""
    default = param.default
    shown = "" if default in (None, False, ()) or callable(default) else f" (default: `{default}`)"
    if isinstance(param.type, click.Choice):
        help_text += f" One of: {', '.join(str(c) for c in param.type.choices)}."
    return f"| `{names}` | {help_text.strip()}{shown} |"


def render_cli_reference() -> str:
    """Return the Markdown reference of every `touchpoints` command and option."""
    from touchpoints.cli.main import app

    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands by `touchpoints.cli.reference` (a test keeps it current).",
        "Every command that prints data accepts `--json`; every command that opens the store",
        "accepts `--data-dir` (or `TOUCHPOINTS_DATA_DIR`).",
    ]
    for path, command in _walk(root, ["touchpoints"]):
        if path == ["touchpoints"]:
            continue
        lines += ["", f"## `{' '.join(path)}`", "", (command.help or "").strip()]
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if arguments:
            lines += [
                "",
                "Arguments: " + ", ".join(f"`{a.name.upper()}`" for a in arguments if a.name),
            ]
        options = [p for p in command.params if isinstance(p, click.Option) and p.opts]
        if options:
            lines += ["", "| option | meaning |", "|---|---|", *map(_option_row, options)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_cli_reference(), end="")
