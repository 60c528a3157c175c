"""``--help`` text, written from the declarations in ``grammar.py``.

Descriptions are printed as their authors wrote them (line breaks kept, so an
``Examples:`` block stays one command a line); option and argument help is
wrapped to the terminal width; group listings show each command's whole first
sentence.
"""

from __future__ import annotations

import os
import textwrap
from typing import TYPE_CHECKING

from attune_packs.cli.commands import GROUPS, children, load
from attune_packs.cli.grammar import GLOBAL_OPTIONS, ROOT_OPTIONS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from attune_packs.cli.grammar import Command, Opt
    from attune_packs.cli.parse import Invocation


def _width() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0")) or os.get_terminal_size(2).columns
    except (OSError, ValueError):
        columns = 100
    return max(60, min(columns, 120))


def _rows(title: str, rows: Sequence[tuple[str, str]]) -> list[str]:
    if not rows:
        return []
    width = _width()
    left = min(max(len(name) for name, _ in rows) + 2, 32)
    lines = ["", f"{title}:"]
    for name, text in rows:
        wrapped = textwrap.wrap(text, max(20, width - left - 2)) or [""]
        if len(name) + 2 > left:
            lines.append(f"  {name}")
            lines += [" " * (left + 2) + w for w in wrapped]
        else:
            lines.append(f"  {name.ljust(left)}{wrapped[0]}".rstrip())
            lines += [" " * (left + 2) + w for w in wrapped[1:]]
    return lines


def _option_rows(options: Sequence[Opt]) -> list[tuple[str, str]]:
    rows = []
    for opt in options:
        text = opt.help
        if not opt.flag and opt.default not in (None, "", False):
            text += f" [default: {opt.default}]"
        if opt.required:
            text += " [required]"
        rows.append((opt.spelled(), text))
    return rows


def command_help(prog: str, cmd: Command) -> str:
    usage = " ".join([f"Usage: {prog} [OPTIONS]", *(a.usage() for a in cmd.args)])
    lines = [usage, ""]
    lines += ["  " + line if line else "" for line in cmd.doc.splitlines()]
    lines += _rows("Arguments", [(a.metavar, a.help) for a in cmd.args])
    lines += _rows("Options", _option_rows([*cmd.options, *GLOBAL_OPTIONS]))
    return "\n".join(lines) + "\n"


def group_help(words: str) -> str:
    prog = f"attune {words}".strip()
    lines = [f"Usage: {prog} [OPTIONS] COMMAND [ARGS]...", "", "  " + GROUPS[words]]
    if not words:
        lines += [
            "",
            "  Home: --home, else $ATTUNE_HOME, else the platform data folder",
            "  (e.g. ~/.local/share/attune). $ATTUNE_DATABASE_URL overrides the database.",
        ]
    rows = []
    for child in children(words):
        full = f"{words} {child}".strip()
        rows.append((child, GROUPS[full] if full in GROUPS else load(full).summary))
    options = [*GLOBAL_OPTIONS, *(ROOT_OPTIONS if not words else ())]
    lines += _rows("Options", _option_rows(options))
    lines += _rows("Commands", rows)
    return "\n".join(lines) + "\n"


def help_text(inv: Invocation) -> str:
    if inv.command is not None:
        return command_help(inv.prog, inv.command)
    return group_help(inv.words)
