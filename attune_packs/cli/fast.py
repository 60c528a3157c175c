"""The typer-free fast dispatcher: hot commands answered without importing typer.

Importing typer costs ~100 ms (it builds a pydantic TypeAdapter for every
parameter): more than hashing a 10,000-file pack or searching a 10,000-pack
index.  :func:`dispatch` parses the plain invocations of the commands in
:data:`COMMANDS` with the stdlib :mod:`argparse` and calls the very function
the typer command wraps (``cli/fastcmds.py``), through the same error path and
rendering (``cli/render.py``): same bytes out, same exit code.

Anything it does not fully understand returns ``None`` and the caller runs
typer, which stays the owner of help and usage errors: ``--help``, global
options before the command, unknown, abbreviated or malformed options
(``-o=json``, ``--verbose=1``), option values that look like options, ``--``,
positionals that start with ``-`` or are empty, values a typer parameter would
reject (``--limit 0``).  Within that subset argparse reads argv as click does
(clusters such as ``-vqojson``, ``--opt=value``, the last repeated value wins).
``ATTUNE_NO_FASTPATH=1`` disables the dispatcher (the tests compare both ways).

To serve another command: move its body into a typer-free ``run_*`` function
(the typer command becomes a thin wrapper calling it) and add a row here.
"""

from __future__ import annotations

import argparse
import os
import re
from typing import TYPE_CHECKING

from attune_packs.cli.render import STATE, OutputFormat, run_guarded

if TYPE_CHECKING:
    from collections.abc import Callable

    from attune_packs.cli.render import Rendered

    Spec = Callable[[argparse.ArgumentParser], None]
    Runner = Callable[[argparse.Namespace], Rendered]

FORMATS = tuple(f.value for f in OutputFormat)

# Option tokens argparse and click read the same way; anything else goes to typer.
_LONG = re.compile(r"--[A-Za-z][A-Za-z0-9-]*(=.*)?", re.DOTALL)
_SHORT = re.compile(r"-[A-Za-z][^=\s]*")


class _Fallback(Exception):
    """These arguments are typer's to handle."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Fallback(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise _Fallback(message)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


# --------------------------------------------------------------------------- the table


def _checksum_spec(p: argparse.ArgumentParser) -> None:
    p.add_argument("path")
    p.add_argument("--expect")


def _checksum(ns: argparse.Namespace) -> Rendered:
    from pathlib import Path

    from attune_packs.cli.fastcmds import run_checksum

    return run_checksum(Path(ns.path), ns.expect)


def _search_spec(p: argparse.ArgumentParser) -> None:
    from attune_packs.cli.fastcmds import SEARCH_LIMIT

    p.add_argument("query")
    p.add_argument("--registry")
    p.add_argument("--refresh", action="store_true")
    p.add_argument("--limit", type=_positive_int, default=SEARCH_LIMIT)


def _search(ns: argparse.Namespace) -> Rendered:
    from attune_packs.cli.fastcmds import run_search

    return run_search(ns.query, ns.registry, ns.refresh, ns.limit)


# command path -> (its own arguments and options, the runner the typer command wraps)
COMMANDS: dict[tuple[str, ...], tuple[Spec, Runner]] = {
    ("pack", "checksum"): (_checksum_spec, _checksum),
    ("pack", "search"): (_search_spec, _search),
}


# --------------------------------------------------------------------------- dispatch


def _plain(args: list[str]) -> bool:
    """No token that argparse and click would read differently."""
    for arg in args:
        if not arg or arg == "-" or arg == "--":
            return False
        if arg.startswith("-") and not (_LONG.fullmatch(arg) or _SHORT.fullmatch(arg)):
            return False  # "-5", "-o=json", "--no such", ...
    return True


def parse_args(path: tuple[str, ...], args: list[str]) -> argparse.Namespace | None:
    """``args`` (after the command path) parsed, or None when typer must handle them."""
    entry = COMMANDS.get(path)
    if entry is None or not _plain(args):
        return None
    parser = _Parser(
        prog="attune " + " ".join(path), add_help=False, exit_on_error=False, allow_abbrev=False
    )
    parser.add_argument("-o", "--output", type=str.lower, choices=FORMATS, default="table")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    entry[0](parser)
    try:
        ns = parser.parse_args(args)
    except (_Fallback, argparse.ArgumentError):
        return None
    for value in vars(ns).values():  # a positional or value typer would read as an option
        if isinstance(value, str) and value.startswith("-"):
            return None
    return ns


def dispatch(argv: list[str]) -> int | None:
    """Run ``argv`` (without the program name) without typer: the exit code, or None
    when typer must handle it."""
    if os.environ.get("ATTUNE_NO_FASTPATH"):
        return None
    path = next((p for p in COMMANDS if tuple(argv[: len(p)]) == p), None)
    if path is None:
        return None
    ns = parse_args(path, argv[len(path) :])
    if ns is None:
        return None
    STATE.output = OutputFormat(ns.output)
    STATE.verbose = ns.verbose
    STATE.quiet = ns.quiet
    # STATE.home/config stay None: load_settings reads ATTUNE_HOME/ATTUNE_CONFIG
    # itself, as typer's --home/--config would.
    runner = COMMANDS[path][1]
    return run_guarded(lambda: runner(ns))
