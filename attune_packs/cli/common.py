"""What every command shares: the common options, rendering and the error path.

A command is a plain function decorated with :func:`command`. The decorator adds
``--output/-o``, ``--verbose/-v`` and ``--quiet/-q`` to its signature, calls it,
renders the :class:`Rendered` it returns, and turns every
:class:`~attune_packs.errors.AttuneError` into the exit code, one stderr line
and (with ``-o json``/``yaml``) the error document on stdout.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from attune_packs.errors import EXIT_INTERRUPTED, AttuneError

if TYPE_CHECKING:
    from attune_packs.config import Settings


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


@dataclass
class State:
    output: OutputFormat = OutputFormat.table
    verbose: bool = False
    quiet: bool = False
    home: str | None = None
    config: str | None = None
    progress: str = "auto"


STATE = State()


@dataclass
class Rendered:
    """What a command hands back: the data document, its table text, its exit code."""

    data: Any
    table: str | Callable[[], str] = ""
    exit_code: int = 0
    messages: list[str] = field(default_factory=list)  # extra stderr lines (table mode)


def settings() -> Settings:
    """The settings for this run (``--home``/``--config`` and the environment)."""
    from attune_packs.config import load_settings

    return load_settings(home=STATE.home, config=STATE.config)


def no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def err_line(message: str) -> None:
    """One line to stderr (styled only on a colour terminal)."""
    if STATE.quiet and not message.startswith("error"):
        return
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def dump_yaml(data: Any) -> str:
    from attune_packs.yamlio import dump_yaml as _dump

    return _dump(data)


def emit_document(data: Any, fmt: OutputFormat) -> None:
    text = dump_json(data) if fmt is OutputFormat.json else dump_yaml(data)
    sys.stdout.write(text)
    sys.stdout.flush()


def render(result: Rendered) -> int:
    fmt = STATE.output
    if fmt is OutputFormat.table:
        text = result.table() if callable(result.table) else result.table
        if text:
            sys.stdout.write(text.rstrip("\n") + "\n")
            sys.stdout.flush()
        for line in result.messages:
            err_line(line)
    else:
        emit_document(result.data, fmt)
    return result.exit_code


def fail(exc: AttuneError) -> int:
    err_line(f"error: {exc.message}")
    if STATE.verbose:
        traceback.print_exception(exc, file=sys.stderr)
    if STATE.output is not OutputFormat.table:
        emit_document(exc.to_dict(), STATE.output)
    return exc.exit_code


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    from tabulate import tabulate

    rows = list(rows)
    if not rows:
        return ""
    return tabulate(rows, headers=list(headers), tablefmt="plain", disable_numparse=True)


def kv_table(pairs: Iterable[tuple[str, Any]]) -> str:
    from tabulate import tabulate

    return tabulate(
        [(k + ":", "" if v is None else v) for k, v in pairs],
        tablefmt="plain",
        disable_numparse=True,
    )


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


def run_guarded(fn: Callable[[], Rendered]) -> int:
    """Run ``fn`` and render it; map every failure to one line and an exit code."""
    try:
        return render(fn())
    except AttuneError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        err_line("error: interrupted")
        if STATE.output is not OutputFormat.table:
            emit_document(
                {"error": {"code": "interrupted", "message": "interrupted"}}, STATE.output
            )
        return EXIT_INTERRUPTED
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as exc:  # a bug: still one line, traceback only with -v
        wrapped = AttuneError(
            f"internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)",
            code="internal_error",
        )
        if STATE.verbose:
            traceback.print_exc()
        return fail(wrapped)


def command(app: typer.Typer, name: str | None = None, **kwargs: Any) -> Callable[..., Any]:
    """Register ``fn`` on ``app`` with the common options and the error path."""

    def decorator(fn: Callable[..., Rendered]) -> Callable[..., None]:
        sig = inspect.signature(fn, eval_str=True)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> None:
            STATE.output = kw.pop("output", OutputFormat.table) or OutputFormat.table
            STATE.verbose = STATE.verbose or bool(kw.pop("verbose", False))
            STATE.quiet = STATE.quiet or bool(kw.pop("quiet", False))
            code = run_guarded(lambda: fn(*args, **kw))
            raise typer.Exit(code)

        params = list(sig.parameters.values()) + list(_COMMON)
        wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        del wrapper.__wrapped__  # typer must see the new signature, not fn's
        app.command(name=name, **kwargs)(wrapper)
        return wrapper

    return decorator
