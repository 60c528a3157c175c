#!/usr/bin/env python3
"""Install benchmark: a 10,000-file local pack vs ``cp -r`` plus hashing it, same run.

Prints one line per measurement with the median wall times, the ratio
(attune / reference) and the target:

* ``attune pack install ./pack`` (10,000 files, into a home whose database
  exists) vs ``cp -r pack dst && find dst -type f | sort | xargs sha256sum``
  target: ratio <= 2.0 (aim: 1.3)
* a no-op reinstall (same version, same content) of that pack and of a
  10-file pack vs ``attune --version``: reported (the pack is hashed again; the
  rest is the CLI's start-up, typer and pydantic included)

The install copies and hashes in one pass (every byte is read once), then makes
the tree durable with one ``syncfs`` before the rename; ``cp -r`` does not sync
at all, so the comparison is conservative.  Every command runs as a real
process, each side after one warm-up run, runs interleaved.

Usage: python benchmarks/bench_install.py [--runs N] [--files K]
Exit status: 0 when the install target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchutil import tool


def make_pack(root: Path, files: int, ref: str = "bench") -> None:
    """A pack of ``files`` files (pack.yaml included), sizes 64 B to ~6 KB, 100 per folder."""
    root.mkdir(parents=True)
    (root / "pack.yaml").write_text(
        f"ref: {ref}\nlabel: Bench\ndescription: benchmark pack\nversion: 1.0.0\n"
        "author: bench\nlicense: Apache-2.0\n"
    )
    for i in range(files - 1):
        d = root / "actions" / f"group{i // 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"file{i:05d}.py").write_bytes(os.urandom(64) * (1 + i % 96))


def timed(cmd: list[str] | str, env: dict[str, str], setup: Callable[[], None] | None = None):
    shell = isinstance(cmd, str)

    def once() -> float:
        if setup is not None:
            setup()
        start = time.perf_counter()
        proc = subprocess.run(cmd, shell=shell, env=env, capture_output=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{cmd!r} failed ({proc.returncode}): {proc.stderr.decode()[:400]}")
        return elapsed

    return once


def compare(a: Callable[[], float], b: Callable[[], float], runs: int) -> tuple[float, float]:
    a()
    b()
    ta, tb = [], []
    for _ in range(runs):
        ta.append(a())
        tb.append(b())
    return statistics.median(ta), statistics.median(tb)


def report(label: str, ours: float, ref: float, ref_name: str, target: float | None) -> bool:
    ratio = ours / ref
    ok = target is None or ratio <= target
    goal = f"target <= {target}x   {'OK' if ok else 'MISSED'}" if target else "(reported)"
    print(
        f"{label:<32} attune {ours * 1000:8.1f} ms   {ref_name} {ref * 1000:8.1f} ms   "
        f"ratio {ratio:5.2f}x   {goal}",
        flush=True,
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (median)")
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument(
        "--dir", default=None, help="where to work (default: the system temp folder)"
    )
    args = parser.parse_args(argv)
    attune = tool("attune")
    for needed in ("cp", "find", "sort", "xargs", "sha256sum", "sh"):
        if not shutil.which(needed):
            raise SystemExit(f"{needed} not found")
    print(f"python {sys.version.split()[0]} on {sys.platform}; {args.runs} runs each, median")

    with tempfile.TemporaryDirectory(prefix="attune-bench-install-", dir=args.dir) as tmp_s:
        tmp = Path(tmp_s)
        pack = tmp / "pack"
        make_pack(pack, args.files)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
        env["NO_COLOR"] = "1"
        # Byte-compiled once (the warm-up run), as in any real installation, even
        # where the environment sets PYTHONDONTWRITEBYTECODE.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")

        # A home with its database already created, copied fresh for every run.
        template = tmp / "template-home"
        subprocess.run(
            [attune, "pack", "list"],
            env={**env, "ATTUNE_HOME": str(template)},
            check=True,
            capture_output=True,
        )
        home = tmp / "home"
        install_env = {**env, "ATTUNE_HOME": str(home)}

        def fresh_home() -> None:
            shutil.rmtree(home, ignore_errors=True)
            shutil.copytree(template, home)
            os.sync()  # start from clean page cache writeback, like the reference

        dst = tmp / "dst"

        def fresh_dst() -> None:
            shutil.rmtree(dst, ignore_errors=True)
            os.sync()

        ours = timed(
            [attune, "pack", "install", str(pack), "--progress", "none"], install_env, fresh_home
        )
        ref_cmd = (
            f"cp -r '{pack}' '{dst}' && find '{dst}' -type f | sort | xargs sha256sum >/dev/null"
        )
        reference = timed(ref_cmd, env, fresh_dst)
        a, b = compare(ours, reference, args.runs)
        ok = report(f"install {args.files:,} files", a, b, "cp -r + sha256sum", 2.0)
        print(f"{'':<32} (aim: 1.3x)")

        # No-op reinstall: the pack is installed (the last timed run left it there).
        noop = timed([attune, "pack", "install", str(pack), "--progress", "none"], install_env)
        version = timed([attune, "--version"], env)
        a, b = compare(noop, version, args.runs)
        report(f"no-op reinstall ({args.files:,} files)", a, b, "attune --version", None)
        small = tmp / "small"
        make_pack(small, 10, ref="small")
        subprocess.run(
            [attune, "pack", "install", str(small)],
            env=install_env,
            check=True,
            capture_output=True,
        )
        noop = timed([attune, "pack", "install", str(small), "--progress", "none"], install_env)
        a, b = compare(noop, version, args.runs)
        report("no-op reinstall (10 files)", a, b, "attune --version", None)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
