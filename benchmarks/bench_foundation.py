#!/usr/bin/env python3
"""Foundation benchmarks: start-up and checksum speed against reference tools, same run.

Prints one line per measurement with the median times, the ratio
(attune / reference) and the target:

* ``attune --version`` vs ``pip --version``           target: ratio < 0.5
* ``attune pack checksum`` of a 256 MB file vs ``sha256sum``   target: ratio < 0.7
* ``attune pack checksum`` of a 10,000-file tree vs
  ``find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum``   target: ratio <= 1.0

Every command runs as a real process (what users and CI jobs see), after one
warm-up run so that both sides read from the page cache, the two sides'
runs interleaved so that a load spike on the machine hits both alike.

Usage: python benchmarks/bench_foundation.py [--runs N] [--size-mb M] [--files K]
Exit status: 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from benchutil import compare, report, tool


def make_big_file(path: Path, size_mb: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for i in range(size_mb):
            fh.write(block[i % 251 :] + block[: i % 251])  # not all blocks identical


def make_tree(root: Path, files: int) -> None:
    per_dir = 100
    for i in range(files):
        d = root / f"dir{i // per_dir:03d}" / ("sub" if i % 3 else "")
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:05d}.txt").write_bytes(os.urandom(64) * (1 + i % 24))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per command (median)")
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args(argv)

    attune, pip = tool("attune"), tool("pip")
    for needed in ("sha256sum", "find", "sort", "xargs", "sh"):
        if not shutil.which(needed):
            raise SystemExit(f"{needed} not found")
    print(f"python {sys.version.split()[0]} on {sys.platform}; {args.runs} runs each, median")
    ok = True

    t_attune, t_pip = compare([attune, "--version"], [pip, "--version"], args.runs * 2)
    ok &= report("start-up (--version)", t_attune, t_pip, "pip", 0.5, strict=True)

    with tempfile.TemporaryDirectory(prefix="attune-bench-") as tmp:
        big = Path(tmp) / "big.bin"
        make_big_file(big, args.size_mb)
        t_attune, t_ref = compare(
            [attune, "pack", "checksum", str(big)], ["sha256sum", str(big)], max(3, args.runs // 2)
        )
        ok &= report(
            f"checksum {args.size_mb} MB file", t_attune, t_ref, "sha256sum", 0.7, strict=True
        )
        big.unlink()

        tree = Path(tmp) / "tree"
        make_tree(tree, args.files)
        pipeline = "find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum"
        t_attune, t_ref = compare(
            [attune, "pack", "checksum", str(tree)], pipeline, args.runs, cwd=tree
        )
        ok &= report(
            f"checksum {args.files:,}-file tree", t_attune, t_ref, "pipeline", 1.0, strict=False
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
