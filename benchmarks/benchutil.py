"""Helpers shared by the ``bench_*.py`` scripts (run as scripts, so imported as ``benchutil``)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Prefer the tool next to this interpreter (the project's venv), then PATH."""
    local = BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found (run from the project's venv: make bench)")
    return found
