#!/usr/bin/env python3
"""Run every ``benchmarks/bench_*.py`` in turn (``make bench``); exit 1 if any of them fails.

Extra arguments are not forwarded: each benchmark runs with its own defaults.
Usage: python benchmarks/run_all.py [NAME_FRAGMENT ...]  (only the matching ones)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    wanted = sys.argv[1:] if argv is None else argv
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if any(w in s.name for w in wanted)]
    if not scripts:
        print("no benchmarks found", file=sys.stderr)
        return 1
    failed: list[str] = []
    for script in scripts:
        print(f"\n=== {script.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        print(f"=== {script.name}: exit {code} in {time.perf_counter() - start:.1f} s", flush=True)
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"\n{len(failed)} benchmark(s) missed a target or failed: {', '.join(failed)}")
        return 1
    print(f"\nall {len(scripts)} benchmark(s) met their targets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
