"""Helpers shared by the ``bench_*.py`` scripts (run as scripts, so imported as ``benchutil``)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
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


def _runner(cmd: list[str] | str, cwd: Path | None, env: dict[str, str] | None = None):
    shell = isinstance(cmd, str)
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}

    def once() -> float:
        start = time.perf_counter()
        proc = subprocess.run(cmd, shell=shell, cwd=cwd, env=full_env, capture_output=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{cmd!r} failed ({proc.returncode}): {proc.stderr.decode()[:300]}")
        return elapsed

    return once


def compare(
    ours: list[str] | str,
    reference: list[str] | str,
    runs: int,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[float, float]:
    """Median wall times of both commands, runs interleaved (so a load spike on the
    machine hits both sides alike), each after one warm-up run."""
    a, b = _runner(ours, cwd, env), _runner(reference, cwd, env)
    a()
    b()
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(runs):
        times_a.append(a())
        times_b.append(b())
    return statistics.median(times_a), statistics.median(times_b)


def report(label: str, ours: float, ref: float, ref_name: str, target: float, strict: bool) -> bool:
    ratio = ours / ref
    ok = ratio < target if strict else ratio <= target
    cmp = "<" if strict else "<="
    print(
        f"{label:<34} attune {ours * 1000:8.1f} ms   {ref_name} {ref * 1000:8.1f} ms   "
        f"ratio {ratio:5.2f}x   target {cmp} {target}x   {'OK' if ok else 'MISSED'}",
        flush=True,
    )
    return ok
