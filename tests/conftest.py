"""Shared test helpers: run the real CLI, build real packs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# The real public Attune index and its schema: shared/reference/ beside the checkout
# when it is there (as in CI), else the copies in tests/data/ (kept identical by
# test_reference_copies_are_current), so a lone clone can run the suite too.
_REFERENCE = SHARED / "reference"
if not (_REFERENCE / "attune-standard-index.json").is_file():
    _REFERENCE = Path(__file__).resolve().parent / "data"
REFERENCE_INDEX = _REFERENCE / "attune-standard-index.json"
REFERENCE_SCHEMA = _REFERENCE / "index.schema.json"
EXAMPLES = REPO / "packs-example"
DATA = Path(__file__).resolve().parent / "data"  # copies of shared/reference/ (see above)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def _cli_env(home: Path | None, env: dict[str, str] | None) -> dict[str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    full_env["NO_COLOR"] = "1"
    full_env["PYTHONUTF8"] = "1"
    full_env.pop("_ATTUNE_COMPLETE", None)
    if home is not None:
        full_env["ATTUNE_HOME"] = str(home)
    if env:
        full_env.update(env)
    return full_env


def run_cli(
    *args: str,
    home: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    process: bool = False,
) -> CliResult:
    """Run ``attune ARGS...``: in this process (fast), or with ``process=True`` as a
    real subprocess, where that matters (signals, hangs, crashes, start-up)."""
    full_env = _cli_env(home, env)
    if process:
        proc = subprocess.run(
            [sys.executable, "-m", "attune_packs", *args],
            capture_output=True,
            text=True,
            env=full_env,
            input=input,
            cwd=cwd,
            timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)
    return _run_in_process(list(args), full_env, input, cwd)


def _run_in_process(
    args: list[str], env: dict[str, str], input: str | None, cwd: Path | None
) -> CliResult:
    import contextlib
    import io

    from attune_packs.cli.app import run

    saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    try:
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin = io.StringIO(input or "")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run(args)
            except SystemExit as exc:  # pragma: no cover - run() returns its code
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return CliResult(code, out.getvalue(), err.getvalue())


def write_pack(
    root: Path,
    ref: str = "demo",
    version: str = "1.0.0",
    extra: str = "",
    files: dict[str, str] | None = None,
) -> Path:
    """Create a small valid pack folder at ``root`` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(
        f"ref: {ref}\nlabel: {ref.title()} Pack\ndescription: A test pack\nversion: {version}\n"
        f"author: Tests\nlicense: Apache-2.0\n{extra}",
        encoding="utf-8",
    )
    for rel, text in (files or {}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture(scope="module")
def tls() -> Iterator[Any]:
    """An HTTPS server on 127.0.0.1 with its own CA, for one test module."""
    from tests.servers import TestServer

    with TestServer(tls=True) as server:
        yield server


@pytest.fixture
def trust_tls(tls: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make attune trust ``tls``'s CA for one test (``pytest.mark.usefixtures``)."""
    from tests.servers import trusting_ca

    yield from trusting_ca(tls.ca_bundle, monkeypatch)
