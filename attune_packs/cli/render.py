"""Run state, rendering and the single error path of every command.

A command body returns a :class:`Rendered` (its data document, its table text
and its exit code); :func:`run_guarded` renders it in the chosen
:class:`OutputFormat` and turns every :class:`~attune_packs.errors.AttuneError`
into one stderr line, the exit code and (with ``-o json``/``yaml``) the error
document on stdout.

Every command runs through it, so it must stay cheap to import: no
``dataclasses`` (it imports ``inspect``, ~10 ms), and ``json``/``traceback``/
``tabulate`` only when they are needed.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, interruption

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from attune_packs.config import Settings
    from attune_packs.events import EventBus


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


class State:
    """The options of this run that every command shares (set by the CLI front ends)."""

    __slots__ = ("config", "home", "output", "quiet", "verbose")

    def __init__(
        self,
        output: OutputFormat = OutputFormat.table,
        verbose: bool = False,
        quiet: bool = False,
        home: str | None = None,
        config: str | None = None,
    ) -> None:
        self.output = output
        self.verbose = verbose
        self.quiet = quiet
        self.home = home
        self.config = config

    def reset(self) -> None:
        """Back to the defaults (one process may run several commands, e.g. the tests)."""
        self.__init__()  # type: ignore[misc]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"State({fields})"


STATE = State()


class Rendered:
    """What a command hands back: the data document, its table text, its exit code."""

    __slots__ = ("data", "exit_code", "messages", "table")

    def __init__(
        self,
        data: Any,
        table: str | Callable[[], str] = "",
        exit_code: int = 0,
        messages: list[str] | None = None,
    ) -> None:
        self.data = data
        self.table = table
        self.exit_code = exit_code
        self.messages = [] if messages is None else messages  # extra stderr lines (table mode)

    def __repr__(self) -> str:
        return (
            f"Rendered(data={self.data!r}, table={self.table!r}, "
            f"exit_code={self.exit_code!r}, messages={self.messages!r})"
        )


def settings() -> Settings:
    """The settings for this run (``--home``/``--config`` and the environment)."""
    from attune_packs.config import load_settings

    return load_settings(home=STATE.home, config=STATE.config)


def no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def err_line(message: str) -> None:
    """One line to stderr (suppressed by ``--quiet`` unless it is an error)."""
    if STATE.quiet and not message.startswith("error"):
        return
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()


def message_bus() -> EventBus:
    """An event bus printing warnings as one stderr line each, info lines only with -v."""
    from attune_packs.events import EventBus

    def listen(event: Any) -> None:
        kind = event.event
        if kind == "warning":
            err_line(f"warning: {event.message}")
        elif kind == "info" and STATE.verbose:
            err_line(event.message)

    return EventBus(listen)


# --------------------------------------------------------------------------- documents


def dump_json(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def dump_yaml(data: Any) -> str:
    from attune_packs.yamlio import dump_yaml as _dump

    return _dump(data)


def emit_document(data: Any, fmt: OutputFormat) -> None:
    text = dump_json(data) if fmt is OutputFormat.json else dump_yaml(data)
    sys.stdout.write(text)
    sys.stdout.flush()


# --------------------------------------------------------------------------- tables


def count(n: int, one: str, many: str | None = None) -> str:
    """``1 pack``, ``3 packs``, ``2 entries`` (``many`` defaults to ``one + "s"``)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def printable(text: Any, width: int | None = None) -> str:
    """One line of ``text`` safe for a terminal: whitespace collapsed, control
    characters (escape sequences from a hostile index) replaced, optionally cut."""
    text = " ".join(str(text).split())
    if not text.isprintable():
        text = "".join(c if c.isprintable() else "\ufffd" for c in text)
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def _layout(rows: list[list[str]], headers: list[str] | None) -> str:
    """``tabulate(rows, headers, tablefmt="plain", disable_numparse=True)`` for cells
    already passed through :func:`printable`, without importing tabulate (~40 ms).

    Only the widths of the columns before the last one matter (every line is
    right-stripped); when one of those holds a non-ASCII character, display
    widths differ from ``len`` and tabulate (with wcwidth) lays the table out.
    """
    ncols = len(headers) if headers is not None else len(rows[0])
    lines = [headers, *rows] if headers is not None else rows
    if (
        ncols == 0
        or any(len(line) != ncols for line in lines)
        or any(not cell.isascii() for line in lines for cell in line[:-1])
    ):
        from tabulate import tabulate

        if headers is None:
            return tabulate(rows, tablefmt="plain", disable_numparse=True)
        return tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True)
    widths = [max(len(line[i]) for line in rows) for i in range(ncols - 1)]
    if headers is not None:  # tabulate pads headers by two
        widths = [max(w, len(h) + 2) for w, h in zip(widths, headers, strict=False)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip()
        for line in lines
    )


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    """Plain left-aligned columns; every cell made terminal-safe by :func:`printable`."""
    cells = [[printable(c) for c in row] for row in rows]
    if not cells:
        return ""
    return _layout(cells, [printable(h) for h in headers])


def kv_table(pairs: Iterable[tuple[str, Any]]) -> str:
    """``key:  value`` lines (None shown empty); values made terminal-safe."""
    cells = [[printable(k + ":"), "" if v is None else printable(v)] for k, v in pairs]
    if not cells:
        return ""
    return _layout(cells, None)


# --------------------------------------------------------------------------- the error path


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


def fail(exc: AttuneError, cause: BaseException | None = None) -> int:
    """One ``error:`` line (after the traceback of ``cause or exc`` with -v), the
    error document with ``-o json``/``yaml``, and the exit code."""
    if STATE.verbose:
        import traceback

        traceback.print_exception(cause or exc, file=sys.stderr)
    err_line(f"error: {exc.message}")
    if STATE.output is not OutputFormat.table:
        emit_document(exc.to_dict(), STATE.output)
    return exc.exit_code


def run_guarded(fn: Callable[[], Rendered]) -> int:
    """Run ``fn`` and render it; map every failure to one line and an exit code."""
    try:
        return render(fn())
    except AttuneError as exc:
        return fail(exc)
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP
        message, code, status = interruption(exc)
        err_line(f"error: {message}")
        if STATE.output is not OutputFormat.table:
            emit_document({"error": {"code": code, "message": message}}, STATE.output)
        return status
    except Exception as exc:  # a bug: still one line, traceback only with -v
        wrapped = AttuneError(
            f"internal error: {type(exc).__name__}: {exc}"
            + ("" if STATE.verbose else " (run with -v for the traceback)"),
            code="internal_error",
        )
        return fail(wrapped, cause=exc)
