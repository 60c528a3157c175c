"""Console entry point ``attune``: read argv, run one command, return its exit code.

:func:`run` is the whole CLI in-process (the tests call it); :func:`main` is
the console script, which also turns SIGTERM and SIGHUP into the same orderly
stop as Ctrl-C (a ``failed`` audit row, staging removed) with exit 143 / 129.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from attune_packs.cli.parse import Invocation


def _apply_globals(inv: Invocation) -> None:
    from attune_packs.cli.render import STATE, OutputFormat

    g = inv.globals
    if g.get("output"):
        STATE.output = OutputFormat(g["output"])
    STATE.verbose = bool(g.get("verbose"))
    STATE.quiet = bool(g.get("quiet"))
    if g.get("home"):
        STATE.home = g["home"]
    if g.get("config"):
        STATE.config = g["config"]


def _requested_output(argv: Sequence[str]) -> None:
    """For an error found while reading argv: honour a readable ``-o`` anyway."""
    from attune_packs.cli.render import STATE, OutputFormat

    for i, arg in enumerate(argv):
        value = None
        if arg in ("-o", "--output") and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--output="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-o") and len(arg) > 2:
            value = arg[2:]
        if value and value.lower() in OutputFormat.__members__:
            STATE.output = OutputFormat(value.lower())


def run(argv: Sequence[str]) -> int:
    """Run ``attune ARGV...`` in this process and return the exit code."""
    from attune_packs.cli.parse import parse
    from attune_packs.cli.render import STATE, fail, run_guarded
    from attune_packs.errors import UsageError

    STATE.reset()
    try:
        inv = parse(argv)
    except UsageError as exc:
        _requested_output(argv)
        return fail(exc)
    _apply_globals(inv)
    g = inv.globals
    if g.get("version"):
        from attune_packs import __version__

        sys.stdout.write(f"attune-packs {__version__}\n")
        return 0
    if "show_completion" in g or "install_completion" in g:
        from attune_packs.cli.completion import completion_command

        return run_guarded(lambda: completion_command(g))
    if inv.help:
        from attune_packs.cli.help import help_text

        sys.stdout.write(help_text(inv))
        return 0 if g.get("help") else 2  # a group alone: help, as a usage error
    command = inv.command
    assert command is not None
    return run_guarded(lambda: command.func(**inv.values))


def main(argv: Sequence[str] | None = None) -> None:
    """The ``attune`` console script."""
    import os

    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"] or args == ["-V"]:
        from attune_packs import __version__

        sys.stdout.write(f"attune-packs {__version__}\n")
        raise SystemExit(0)
    if os.environ.get("_ATTUNE_COMPLETE"):
        from attune_packs.cli.completion import complete_words

        raise SystemExit(complete_words(args))
    from attune_packs.cli.signals import handle_termination

    handle_termination()
    raise SystemExit(run(args))


if __name__ == "__main__":  # pragma: no cover
    main()
