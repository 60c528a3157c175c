"""The rendering core (``cli/render.py``) and the start-up cost of a command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from attune_packs.cli import render
from attune_packs.cli.render import (
    STATE,
    OutputFormat,
    Rendered,
    kv_table,
    printable,
    run_guarded,
    table,
)
from attune_packs.errors import AttuneError

# Cells as commands produce them: ASCII mostly, some accents, wide (CJK) and
# combining characters, controls and escape sequences, runs of whitespace.
_CHARS = st.sampled_from([*"ab z-_.:/@019", "é", "漢", "\u0301", "\x1b", "\t", "\n", " "])
_CELL = st.one_of(st.text(_CHARS, max_size=12), st.integers(-5, 10**6), st.none(), st.booleans())


def _reference(rows: list[list[object]], headers: list[str] | None) -> str:
    """What tabulate prints for the same, already terminal-safe, cells."""
    clean = [[printable(c) for c in row] for row in rows]
    if headers is None:
        return tabulate(clean, tablefmt="plain", disable_numparse=True)
    return tabulate(
        clean, headers=[printable(h) for h in headers], tablefmt="plain", disable_numparse=True
    )


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(_CELL, min_size=n, max_size=n), min_size=1, max_size=5),
            st.lists(st.text(_CHARS, min_size=1, max_size=9), min_size=n, max_size=n),
        )
    )
)
def test_table_matches_tabulate(case: tuple[list[list[object]], list[str]]) -> None:
    rows, headers = case
    assert table(rows, headers) == _reference(rows, headers)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(_CHARS, max_size=10), _CELL), min_size=1, max_size=6))
def test_kv_table_matches_tabulate(pairs: list[tuple[str, object]]) -> None:
    expected = _reference([[k + ":", "" if v is None else v] for k, v in pairs], None)
    assert kv_table(pairs) == expected


def test_tables_are_terminal_safe() -> None:
    evil = "\x1b]8;;http://x\x07link\x1b[31mred\x1b[0m\r\nnext\u202eline"
    out = table([[evil, "1.0"], ["b", evil]], ["ref", "version"])
    out += "\n" + kv_table([("k", evil), (evil, 1)])
    assert all(c.isprintable() or c == "\n" for c in out)
    assert len(out.splitlines()) == 3 + 2
    assert table([], ["a"]) == "" and kv_table([]) == ""


def test_printable() -> None:
    assert printable("  a\tb\n\nc  ") == "a b c"
    assert printable("\x1b[31mx") == "\ufffd[31mx"
    assert printable("abcdef", 4) == "abc…"
    assert printable(None) == "None"


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("output", OutputFormat.table), ("verbose", False), ("quiet", False)):
        monkeypatch.setattr(STATE, name, value)


def test_run_guarded_renders_and_maps_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_guarded(lambda: Rendered({"a": 1}, lambda: "a  1", 3, ["note"])) == 3
    assert capsys.readouterr() == ("a  1\n", "note\n")

    def boom() -> Rendered:
        raise AttuneError("nope", code="x")

    STATE.output = OutputFormat.json
    assert run_guarded(boom) == 1
    assert capsys.readouterr() == (
        '{\n  "error": {\n    "code": "x",\n    "message": "nope"\n  }\n}\n',
        "error: nope\n",
    )

    def bug() -> Rendered:
        raise ValueError("bad")

    assert run_guarded(bug) == 1
    assert "error: internal error: ValueError: bad" in capsys.readouterr().err


def test_quiet_keeps_errors(capsys: pytest.CaptureFixture[str]) -> None:
    STATE.quiet = True
    render.err_line("warning: w")
    render.err_line("error: e")
    assert capsys.readouterr().err == "error: e\n"


def test_search_options_are_parsed_and_checked() -> None:
    from attune_packs.cli.parse import parse
    from attune_packs.errors import UsageError

    inv = parse(["pack", "search", "q", "--limit=5", "--refresh", "--registry", "r"])
    v = inv.values
    assert (v["query"], v["limit"], v["refresh"], v["registry"]) == ("q", 5, True, "r")
    for bad in (["q", "--limit", "0"], ["q", "--limit", "x"], ["q", "--limit", "-1"], ["-q"]):
        with pytest.raises(UsageError):
            parse(["pack", "search", *bad])


def test_no_heavy_imports_for_a_plain_command(tmp_path: Path) -> None:
    """Parsing, the command and the render core import no CLI framework (nor tabulate
    for ASCII tables)."""
    (tmp_path / "f").write_bytes(b"x")
    code = (
        "import sys\n"
        "from attune_packs.cli.app import main\n"
        "try:\n"
        f"    main(['pack', 'checksum', {str(tmp_path / 'f')!r}])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "bad = [m for m in ('typer', 'click', 'pydantic', 'tabulate', 'dataclasses')"
        " if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": ""}
    )
    assert proc.returncode == 0, proc.stderr
