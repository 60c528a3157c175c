"""Shared test helpers: run the real CLI, build real packs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(
    *args: str,
    home: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> CliResult:
    """Run the real ``attune`` command in a subprocess (the way users and CI do)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    full_env["NO_COLOR"] = "1"
    full_env["PYTHONUTF8"] = "1"
    if home is not None:
        full_env["ATTUNE_HOME"] = str(home)
    if env:
        full_env.update(env)
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
