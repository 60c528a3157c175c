"""Progress renderers (attune_packs.cli.progress): json, plain, none and rich."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from attune_packs.cli.progress import human_bytes, progress_bus, resolve_mode
from attune_packs.errors import UsageError
from attune_packs.events import Downloading, Extracting, Info, Verifying

URL = "https://example.org/packs/demo-1.2.0.tgz"


def install_like(bus, files: int = 10_000) -> None:
    """The event sequence of an archive install."""
    bus.step_started("resolve", "resolving demo@^1.2")
    bus.step_completed("resolve", "demo 1.2.0")
    bus.step_started("fetch", "fetching demo 1.2.0")
    for done in range(0, 1_200_001, 10_000):
        bus.emit(Downloading(URL, done, 1_200_000))
    bus.step_completed("fetch", "1.2 MB")
    bus.step_started("extract", "extracting demo-1.2.0.tgz")
    for i in range(files):
        bus.emit(Extracting(f"demo/actions/a{i}.yaml"))
    bus.step_completed("extract", f"{files} files")
    bus.warning("pack 'demo' has no license")
    bus.warning("pack 'demo' has no license")
    bus.step_started("verify", "checking sha256")
    for i in range(500):
        bus.emit(Verifying(f"hashed {i} files"))
    bus.step_completed("verify", "checksum matches")
    bus.info("installed demo 1.2.0")


class FrozenClock:
    """A clock that only moves when told to: throttling without timing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- json


def test_json_mode_writes_one_valid_object_per_event() -> None:
    err = io.StringIO()
    with progress_bus("json", stream=err, quiet=False) as bus:
        install_like(bus, files=2_000)
    lines = err.getvalue().splitlines()
    docs = [json.loads(line) for line in lines]  # every line is one JSON document
    kinds = [d["event"] for d in docs]
    assert kinds.count("extracting") == 2_000  # unthrottled
    assert kinds.count("downloading") == 121
    assert kinds.count("warning") == 2
    assert docs[0] == {"event": "step_started", "step": "resolve", "message": "resolving demo@^1.2"}
    assert {
        "event": "downloading",
        "url": URL,
        "downloaded_bytes": 0,
        "total_bytes": 1_200_000,
    } in docs
    assert {"event": "extracting", "file": "demo/actions/a7.yaml"} in docs
    assert docs[-1] == {"event": "info", "message": "installed demo 1.2.0"}


def test_json_mode_keeps_streaming_under_quiet() -> None:
    err = io.StringIO()
    with progress_bus("json", stream=err, quiet=True) as bus:
        bus.step_started("fetch", "x")
    assert json.loads(err.getvalue()) == {"event": "step_started", "step": "fetch", "message": "x"}


def test_json_mode_flushes_each_line() -> None:
    class Counting(io.StringIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    err = Counting()
    with progress_bus("json", stream=err, quiet=False) as bus:
        for i in range(5):
            bus.emit(Info(f"m{i}"))
    assert err.flushes >= 5


# --------------------------------------------------------------------------- plain


def test_plain_mode_lines_and_throttling() -> None:
    err = io.StringIO()
    with progress_bus("plain", stream=err, quiet=False, clock=FrozenClock()) as bus:
        install_like(bus)
    lines = err.getvalue().splitlines()
    assert len(lines) < 25, lines  # 10,000 files and 121 download events, a handful of lines
    assert lines[:2] == ["[resolve] resolving demo@^1.2", "[resolve] done: demo 1.2.0"]
    assert f"[fetch] downloading {URL} (1.2 MB)" in lines
    assert f"[fetch] downloaded {URL} (1.2 MB)" in lines
    assert "[extract] extracting demo/actions/a0.yaml" in lines
    assert "[extract] extracted 10000 files (last: demo/actions/a9999.yaml)" in lines
    assert lines.count("warning: pack 'demo' has no license") == 1
    assert "[verify] hashed 0 files" in lines
    assert "[verify] done: checksum matches" in lines
    assert lines[-1] == "installed demo 1.2.0"


def test_plain_mode_prints_progress_as_time_passes() -> None:
    clock = FrozenClock()
    err = io.StringIO()
    with progress_bus("plain", stream=err, quiet=False, clock=clock, interval=2.0) as bus:
        bus.step_started("extract", "extracting")
        for i in range(100):
            clock.now += 0.5  # a new line every 4 events
            bus.emit(Extracting(f"f{i}"))
        bus.emit(Downloading(URL, 0, None))
        clock.now += 5
        bus.emit(Downloading(URL, 2_500_000, None))
        bus.step_completed("extract")
    lines = err.getvalue().splitlines()
    assert sum("extracting f" in ln for ln in lines) == 25
    assert "[extract] extracting f4 (5 files so far)" in lines
    assert "[extract] extracted 100 files (last: f99)" in lines
    assert f"[extract] downloading {URL}" in lines
    assert "[extract] 2.5 MB" in lines


def test_auto_mode_is_plain_when_stderr_is_not_a_terminal() -> None:
    err = io.StringIO()
    assert resolve_mode("auto", err) == "plain"
    with progress_bus("auto", stream=err, quiet=False) as bus:
        bus.step_started("fetch", "fetching")
    assert err.getvalue() == "[fetch] fetching\n"


def test_plain_mode_is_silent_when_quiet() -> None:
    err = io.StringIO()
    with progress_bus("plain", stream=err, quiet=True) as bus:
        install_like(bus, files=10)
    assert err.getvalue() == ""


def test_quiet_defaults_to_the_cli_state(monkeypatch) -> None:
    from attune_packs.cli.render import STATE

    monkeypatch.setattr(STATE, "quiet", True)
    err = io.StringIO()
    with progress_bus("plain", stream=err) as bus:
        bus.warning("w")
    assert err.getvalue() == ""


# --------------------------------------------------------------------------- none


def test_none_mode_prints_nothing_but_each_warning_once() -> None:
    err = io.StringIO()
    with progress_bus("none", stream=err, quiet=False) as bus:
        install_like(bus, files=50)
    assert err.getvalue() == "warning: pack 'demo' has no license\n"


def test_none_mode_with_quiet_prints_nothing() -> None:
    err = io.StringIO()
    with progress_bus("none", stream=err, quiet=True) as bus:
        install_like(bus, files=50)
    assert err.getvalue() == ""


# --------------------------------------------------------------------------- rich


@pytest.fixture
def terminal_env(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def forced_console(buf: io.StringIO):
    from rich.console import Console

    return Console(file=buf, force_terminal=True, width=120, color_system="standard")


def test_rich_mode_under_a_forced_terminal(terminal_env) -> None:
    buf = io.StringIO()
    console = forced_console(buf)
    assert resolve_mode("auto", io.StringIO(), console) == "rich"
    with progress_bus("auto", console=console, quiet=False) as bus:
        install_like(bus, files=300)
    out = buf.getvalue()
    assert "\x1b[" in out  # drawn with terminal control sequences
    for text in ("resolve", "demo 1.2.0", "fetch", "1.2 MB", "extract", "300 files"):
        assert text in out
    assert out.count("pack 'demo' has no license") == 1
    assert "installed demo 1.2.0" in out
    assert "✓" in out


def test_rich_mode_marks_unfinished_steps_on_failure(terminal_env) -> None:
    buf = io.StringIO()
    with (
        pytest.raises(RuntimeError, match="boom"),
        progress_bus("auto", console=forced_console(buf), quiet=False) as bus,
    ):
        bus.step_started("fetch", "downloading")
        bus.emit(Downloading(URL, 100, 1000))
        raise RuntimeError("boom")
    out = buf.getvalue()
    assert "✗" in out and "fetch" in out and "failed" in out


def test_rich_mode_does_not_interpret_markup_in_messages(terminal_env) -> None:
    buf = io.StringIO()
    with progress_bus("auto", console=forced_console(buf), quiet=False) as bus:
        bus.warning("value [bold]x[/bold] in [red]")
    assert "[bold]x[/bold] in [red]" in buf.getvalue()


@pytest.mark.parametrize(("var", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_auto_falls_back_to_plain_when_the_terminal_forbids_it(
    monkeypatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    buf, err = io.StringIO(), io.StringIO()
    with progress_bus("auto", console=forced_console(buf), stream=err, quiet=False) as bus:
        bus.step_started("fetch", "fetching")
    assert buf.getvalue() == ""
    assert err.getvalue() == "[fetch] fetching\n"


def test_rich_mode_is_silent_when_quiet(terminal_env) -> None:
    buf = io.StringIO()
    with progress_bus("auto", console=forced_console(buf), quiet=True) as bus:
        install_like(bus, files=10)
    assert buf.getvalue() == ""


# --------------------------------------------------------------------------- robustness


def test_unknown_mode_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown progress mode 'fancy'"), progress_bus("fancy"):
        pass


@pytest.mark.parametrize("mode", ["plain", "json", "none"])
def test_a_broken_stderr_never_fails_the_operation(mode: str) -> None:
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    with progress_bus(mode, stream=Broken(), quiet=False) as bus:
        install_like(bus, files=10)  # no exception escapes


def test_rich_is_not_imported_by_importing_the_module() -> None:
    code = (
        "import sys, attune_packs.cli.progress as p; "
        "import io; p.progress_bus('plain', stream=io.StringIO(), quiet=False); "
        "sys.exit(1 if 'rich' in sys.modules else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_human_bytes() -> None:
    assert human_bytes(None) == "?"
    assert human_bytes(0) == "0 bytes"
    assert human_bytes(999) == "999 bytes"
    assert human_bytes(1_200_000) == "1.2 MB"
    assert human_bytes(3_400_000_000) == "3.4 GB"


def test_download_lines_show_the_time_left() -> None:
    from attune_packs.cli.progress import eta_text

    clock = FrozenClock()
    err = io.StringIO()
    with progress_bus("plain", stream=err, quiet=False, clock=clock, interval=2.0) as bus:
        bus.step_started("fetch", "fetching")
        bus.emit(Downloading(URL, 0, 4_000_000))
        clock.now += 3
        bus.emit(Downloading(URL, 1_000_000, 4_000_000))  # 1 MB in 3 s: 9 s left
        clock.now += 3
        bus.emit(Downloading(URL, 2_000_000, 4_000_000))
        bus.emit(Downloading(URL, 4_000_000, 4_000_000))
    lines = err.getvalue().splitlines()
    assert "[fetch] 1.0 MB of 4.0 MB (25%, 9 s left)" in lines
    assert "[fetch] 2.0 MB of 4.0 MB (50%, 6 s left)" in lines
    assert eta_text(10, 100, 0.0) == ""
    assert eta_text(1, 100, 10.0) == ", 16 min 30 s left"


def test_rich_download_bar_has_an_eta_column(terminal_env) -> None:
    buf = io.StringIO()
    with progress_bus("auto", console=forced_console(buf), quiet=False) as bus:
        bus.step_started("fetch", "fetching")
        bus.emit(Downloading(URL, 100_000, 1_200_000))
        bus.emit(Downloading(URL, 200_000, 1_200_000))
    assert "eta" in buf.getvalue()
