"""Rendering progress events (DESIGN.md section 9) on stderr.

``progress_bus(mode)`` is a context manager yielding an :class:`EventBus`
whose listener renders every event:

* ``auto``  — rich spinners and a download bar when stderr is a terminal and
  neither ``NO_COLOR`` nor ``TERM=dumb`` asks for plain output; ``plain``
  otherwise;
* ``plain`` — one line per step, warning and info
  (``[fetch] downloading https://... (1.2 MB)``); downloading, extracting and
  verifying events are throttled to one line every ``interval`` seconds, with
  a summary line, so a 10,000-file pack prints a handful of lines;
* ``json``  — every event as one JSON object per line
  (``{"event": "downloading", ...}``), unthrottled, flushed line by line;
* ``none``  — nothing but each distinct warning, once, as ``warning: ...``.

With ``--quiet`` (``STATE.quiet``) the human renderers print nothing at all;
``json`` was asked for explicitly and keeps streaming.  A renderer that fails
(a closed stderr, a broken pipe) goes silent instead of failing the operation.

rich is imported only inside the functions that draw with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from attune_packs.errors import UsageError
from attune_packs.events import (
    Copying,
    Downloading,
    Event,
    EventBus,
    Extracting,
    Info,
    StepCompleted,
    StepStarted,
    Verifying,
    Warning,
)

MODES = ("auto", "plain", "json", "none")
DEFAULT_INTERVAL = 2.0

Clock = Callable[[], float]


def human_bytes(n: int | float | None) -> str:
    """Decimal units, like pip and rich: ``532 bytes``, ``1.2 MB``."""
    if n is None:
        return "?"
    if n < 1000:
        return f"{int(n)} bytes"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"  # pragma: no cover


def eta_text(done: int, total: int, elapsed: float) -> str:
    """``, 12 s left`` from the average rate so far (empty until there is one)."""
    if done <= 0 or elapsed <= 0 or done >= total:
        return ""
    left = (total - done) * elapsed / done
    if left < 60:
        return f", {left:.0f} s left"
    minutes, seconds = divmod(int(left), 60)
    return f", {minutes} min {seconds:02d} s left"


def fancy_allowed(stream: TextIO, env: dict[str, str] | None = None) -> bool:
    """Whether ``auto`` may draw rich progress on ``stream``."""
    env = os.environ if env is None else env  # type: ignore[assignment]
    if env.get("NO_COLOR") or env.get("TERM", "") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def resolve_mode(mode: str, stream: TextIO, console: Any = None) -> str:
    """``auto`` -> ``rich`` or ``plain``; other modes are checked and returned."""
    mode = (mode or "auto").lower()
    if mode not in (*MODES, "rich"):
        raise UsageError(f"unknown progress mode {mode!r} (use auto, plain, json or none)")
    if mode != "auto":
        return mode
    if console is not None:
        env = os.environ
        if env.get("NO_COLOR") or env.get("TERM", "") == "dumb":
            return "plain"
        return "rich" if console.is_terminal else "plain"
    return "rich" if fancy_allowed(stream) else "plain"


# --------------------------------------------------------------------------- renderers


class _Renderer:
    """Base: a listener that goes silent if writing ever fails."""

    def __init__(self) -> None:
        self.broken = False
        self._warned: set[str] = set()

    def __call__(self, event: Event) -> None:
        if self.broken:
            return
        try:
            self.handle(event)
        except Exception:
            self.broken = True

    def handle(self, event: Event) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def first_time(self, warning: str) -> bool:
        if warning in self._warned:
            return False
        self._warned.add(warning)
        return True

    def close(self, failed: bool) -> None:
        pass


class _Silent(_Renderer):
    def handle(self, event: Event) -> None:
        pass


class _JsonLines(_Renderer):
    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def handle(self, event: Event) -> None:
        self.stream.write(json.dumps(event.to_dict(), ensure_ascii=False, default=str) + "\n")
        self.stream.flush()


class _WarningsOnly(_Renderer):
    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def handle(self, event: Event) -> None:
        if isinstance(event, Warning) and self.first_time(event.message):
            self.stream.write(f"warning: {event.message}\n")
            self.stream.flush()


class _Throttle:
    """At most one line per ``interval`` for a stream of similar events."""

    def __init__(self, clock: Clock, interval: float) -> None:
        self.clock = clock
        self.interval = interval
        self.last: float | None = None
        self.count = 0
        self.suppressed = 0

    def tick(self) -> bool:
        self.count += 1
        now = self.clock()
        if self.last is None or now - self.last >= self.interval:
            self.last = now
            return True
        self.suppressed += 1
        return False


class _Plain(_Renderer):
    def __init__(self, stream: TextIO, clock: Clock, interval: float) -> None:
        super().__init__()
        self.stream = stream
        self.clock = clock
        self.interval = interval
        self.step: str | None = None
        self.downloads: dict[str, _Throttle] = {}
        self.started: dict[str, float] = {}
        self.finished: set[str] = set()
        self.extracting: _Throttle | None = None
        self.last_file = ""
        self.verifying: _Throttle | None = None
        self.copying: _Throttle | None = None

    def line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def label(self, default: str) -> str:
        return f"[{self.step or default}]"

    def summarise(self) -> None:
        """One closing line for a throttled extraction that hid some files."""
        ex = self.extracting
        if ex is not None and ex.suppressed:
            self.line(
                f"{self.label('extract')} extracted {ex.count} files (last: {self.last_file})"
            )
        self.extracting = None
        self.verifying = None
        self.copying = None

    def handle(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self.summarise()
            self.step = event.step
            self.line(f"[{event.step}] {event.message or 'started'}")
        elif isinstance(event, StepCompleted):
            self.summarise()
            self.line(f"[{event.step}] done" + (f": {event.message}" if event.message else ""))
            self.step = None
        elif isinstance(event, Downloading):
            self.download(event)
        elif isinstance(event, Extracting):
            if self.extracting is None:
                self.extracting = _Throttle(self.clock, self.interval)
            self.last_file = event.file
            ex = self.extracting
            if ex.tick():
                more = f" ({ex.count} files so far)" if ex.count > 1 else ""
                self.line(f"{self.label('extract')} extracting {event.file}{more}")
        elif isinstance(event, Copying):
            if self.copying is None:
                self.copying = _Throttle(self.clock, self.interval)
            done = event.files_done == event.files_total
            if self.copying.tick() or done:
                self.line(
                    f"{self.label('fetch')} copied {event.files_done:,} of "
                    f"{event.files_total:,} files ({human_bytes(event.bytes_done)})"
                )
        elif isinstance(event, Verifying):
            if self.verifying is None:
                self.verifying = _Throttle(self.clock, self.interval)
            if self.verifying.tick():
                self.line(f"{self.label('verify')} {event.message}")
        elif isinstance(event, Warning):
            if self.first_time(event.message):
                self.line(f"warning: {event.message}")
        elif isinstance(event, Info):
            self.line(f"[{self.step}] {event.message}" if self.step else event.message)

    def download(self, event: Downloading) -> None:
        label = self.label("fetch")
        url, total, done = event.url, event.total_bytes, event.downloaded_bytes
        if url in self.finished:
            return
        complete = bool(total) and done >= (total or 0)
        throttle = self.downloads.get(url)
        if throttle is None:
            self.started[url] = self.clock()
            throttle = self.downloads[url] = _Throttle(self.clock, self.interval)
            throttle.tick()
            size = f" ({human_bytes(total)})" if total else ""
            self.line(f"{label} downloading {url}{size}")
        elif not complete and throttle.tick():
            if total:
                pct = int(100 * done / total)
                eta = eta_text(done, total, self.clock() - self.started[url])
                self.line(f"{label} {human_bytes(done)} of {human_bytes(total)} ({pct}%{eta})")
            else:
                self.line(f"{label} {human_bytes(done)}")
        if complete:
            self.finished.add(url)
            self.line(f"{label} downloaded {url} ({human_bytes(done)})")

    def close(self, failed: bool) -> None:
        if not self.broken:
            with contextlib.suppress(Exception):
                self.summarise()


class _Rich(_Renderer):
    """Spinners per step, a bar per download, finished steps kept as lines."""

    def __init__(self, console: Any) -> None:
        super().__init__()
        from rich.console import Group
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.console = console
        self.steps = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[step]}"),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
            console=console,
        )
        self.downloads = Progress(
            TextColumn("  "),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        )
        self.live = Live(
            Group(self.steps, self.downloads),
            console=console,
            transient=True,
            refresh_per_second=10,
        )
        self.step_tasks: dict[str, Any] = {}
        self.step_messages: dict[str, str] = {}
        self.download_tasks: dict[str, Any] = {}
        self.counts: dict[str, int] = {}
        self.current: str | None = None
        utf = (getattr(console, "encoding", "") or "").lower().startswith("utf")
        self.ok_mark, self.fail_mark = ("✓", "✗") if utf else ("ok", "x")
        self.live.start()

    def text(self, *parts: tuple[str, str] | str) -> Any:
        from rich.text import Text

        return Text.assemble(*parts)

    def print(self, *parts: tuple[str, str] | str) -> None:
        self.live.console.print(self.text(*parts), highlight=False)

    def describe(self, step: str, extra: str) -> None:
        task = self.step_tasks.get(step)
        if task is not None:
            base = self.step_messages.get(step, "")
            self.steps.update(task, description=f"{base} {extra}".strip())

    def handle(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            old = self.step_tasks.pop(event.step, None)
            if old is not None:
                self.steps.remove_task(old)
            self.step_messages[event.step] = event.message
            self.step_tasks[event.step] = self.steps.add_task(
                event.message, step=f"{event.step:<12}", total=None
            )
            self.current = event.step
        elif isinstance(event, StepCompleted):
            task = self.step_tasks.pop(event.step, None)
            if task is not None:
                self.steps.remove_task(task)
            message = event.message or self.step_messages.get(event.step, "")
            self.print((f"{self.ok_mark} ", "green"), (f"{event.step:<12} ", "bold"), message)
            for url, dl in list(self.download_tasks.items()):
                self.downloads.remove_task(dl)
                del self.download_tasks[url]
            if self.current == event.step:
                self.current = None
        elif isinstance(event, Downloading):
            task = self.download_tasks.get(event.url)
            if task is None:
                name = event.url if len(event.url) <= 60 else "..." + event.url[-57:]
                task = self.download_tasks[event.url] = self.downloads.add_task(
                    name, total=event.total_bytes
                )
            self.downloads.update(task, completed=event.downloaded_bytes, total=event.total_bytes)
        elif isinstance(event, Extracting):
            step = self.current or "extract"
            self.counts[step] = self.counts.get(step, 0) + 1
            name = event.file if len(event.file) <= 50 else "..." + event.file[-47:]
            self.describe(step, f"({self.counts[step]} files) {name}")
        elif isinstance(event, Copying):
            self.describe(
                self.current or "fetch",
                f"({event.files_done:,}/{event.files_total:,} files, "
                f"{human_bytes(event.bytes_done)})",
            )
        elif isinstance(event, Verifying):
            self.describe(self.current or "verify", event.message)
        elif isinstance(event, Warning):
            if self.first_time(event.message):
                self.print(("warning: ", "yellow bold"), event.message)
        elif isinstance(event, Info):
            self.print(("  ", ""), (event.message, "dim"))

    def close(self, failed: bool) -> None:
        with contextlib.suppress(Exception):
            if failed and not self.broken:
                for step in self.step_tasks:
                    self.print((f"{self.fail_mark} ", "red"), (f"{step:<12} ", "bold"), "failed")
            self.live.stop()


# --------------------------------------------------------------------------- entry point


def make_renderer(
    mode: str,
    *,
    stream: TextIO | None = None,
    console: Any = None,
    quiet: bool = False,
    clock: Clock = time.monotonic,
    interval: float = DEFAULT_INTERVAL,
) -> _Renderer:
    stream = stream if stream is not None else sys.stderr
    resolved = resolve_mode(mode, stream, console)
    if resolved == "json":
        return _JsonLines(stream)
    if quiet:
        return _Silent()
    if resolved == "none":
        return _WarningsOnly(stream)
    if resolved == "plain":
        return _Plain(stream, clock, interval)
    if console is None:
        from rich.console import Console

        console = Console(stderr=True) if stream is sys.stderr else Console(file=stream)
    return _Rich(console)


@contextlib.contextmanager
def progress_bus(
    mode: str = "auto",
    *,
    stream: TextIO | None = None,
    console: Any = None,
    quiet: bool | None = None,
    clock: Clock = time.monotonic,
    interval: float = DEFAULT_INTERVAL,
) -> Iterator[EventBus]:
    """An :class:`EventBus` rendering to stderr in ``mode`` (auto|plain|json|none).

    ``stream``, ``console`` (a rich Console, e.g. one with ``force_terminal``),
    ``clock`` and ``interval`` exist for tests; ``quiet`` defaults to ``-q``.
    """
    if quiet is None:
        from attune_packs.cli.render import STATE

        quiet = STATE.quiet
    renderer = make_renderer(
        mode, stream=stream, console=console, quiet=quiet, clock=clock, interval=interval
    )
    bus = EventBus(renderer)
    try:
        yield bus
    except BaseException:
        renderer.close(failed=True)
        raise
    renderer.close(failed=False)
