"""What every typer command shares: the common options and the error path.

A command is a plain function decorated with :func:`command`. The decorator adds
``--output/-o``, ``--verbose/-v`` and ``--quiet/-q`` to its signature, calls it,
renders the :class:`Rendered` it returns, and turns every
:class:`~attune_packs.errors.AttuneError` into the exit code, one stderr line
and (with ``-o json``/``yaml``) the error document on stdout.

Rendering and the error path themselves live in the typer-free
:mod:`attune_packs.cli.render` (the fast dispatcher in ``fast.py`` uses them
too); their names are re-exported here for the command modules.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from attune_packs.cli.render import (
    STATE,
    OutputFormat,
    Rendered,
    State,
    dump_json,
    dump_yaml,
    emit_document,
    err_line,
    fail,
    kv_table,
    message_bus,
    no_color,
    printable,
    render,
    run_guarded,
    settings,
    table,
)

__all__ = [
    "STATE",
    "OutputFormat",
    "OutputOpt",
    "QuietOpt",
    "Rendered",
    "State",
    "VerboseOpt",
    "command",
    "dump_json",
    "dump_yaml",
    "emit_document",
    "err_line",
    "fail",
    "kv_table",
    "message_bus",
    "no_color",
    "printable",
    "render",
    "run_guarded",
    "settings",
    "table",
]

OutputOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--output", "-o", help="Output format: table, json or yaml.", case_sensitive=False
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors.")]

_COMMON = (
    inspect.Parameter(
        "output", inspect.Parameter.KEYWORD_ONLY, default=OutputFormat.table, annotation=OutputOpt
    ),
    inspect.Parameter(
        "verbose", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=VerboseOpt
    ),
    inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuietOpt),
)

# typer's own exit signals pass through the error path untouched.
_TYPER_EXITS = (typer.Exit, typer.Abort)


def command(app: typer.Typer, name: str | None = None, **kwargs: Any) -> Callable[..., Any]:
    """Register ``fn`` on ``app`` with the common options and the error path."""

    def decorator(fn: Callable[..., Rendered]) -> Callable[..., None]:
        sig = inspect.signature(fn, eval_str=True)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> None:
            STATE.output = kw.pop("output", OutputFormat.table) or OutputFormat.table
            STATE.verbose = STATE.verbose or bool(kw.pop("verbose", False))
            STATE.quiet = STATE.quiet or bool(kw.pop("quiet", False))
            code = run_guarded(lambda: fn(*args, **kw), passthrough=_TYPER_EXITS)
            raise typer.Exit(code)

        params = list(sig.parameters.values()) + list(_COMMON)
        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        del wrapper.__wrapped__  # typer must see the new signature, not fn's
        app.command(name=name, **kwargs)(wrapper)
        return wrapper

    return decorator
