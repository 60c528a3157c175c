#!/usr/bin/env python3
"""Start-up of every command against ``pip --version``, measured side by side.

Two tables, each line ``attune ... / pip --version`` as median wall times and
their ratio, target <= 0.35x:

* ``attune pack COMMAND --help`` for every declared command: the whole start-up
  of that command (interpreter, argument parsing, the command's own module),
  without the work it then does;
* for information, light real invocations against a small home (one example
  pack installed, the public reference index as a local registry): ``list``,
  ``show``, ``history``, ``checksum``, ``validate``, ``search``, ``index show``,
  ``registries``, ``cache stats``, ``deps`` (these include the work itself).

Every command runs as a real process, after one warm-up, the two sides' runs
interleaved so that a load spike on the machine hits both alike.  Both run from a
fresh virtual environment holding a regular (not editable) install of this
checkout, as users get it: an editable install adds an import hook to every
Python start-up, ours and pip's alike, that users do not have.

Usage: python benchmarks/bench_startup.py [--runs N]
Exit status: 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from benchutil import compare, report

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.35


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (median)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from attune_packs.cli.commands import COMMANDS

    print(f"python {sys.version.split()[0]}; {args.runs} runs each, median; target <= {TARGET}x")
    ok = True
    with tempfile.TemporaryDirectory(prefix="attune-bench-") as tmp:
        venv = Path(tmp) / "venv"
        print("installing this checkout into a fresh venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # The same pip as the project's own venv (make upgrades it): the reference.
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"],
            check=True,
        )
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                "-c",
                str(REPO / "constraints.txt"),
                str(REPO),
            ],
            check=True,
        )
        attune, pip = str(venv / "bin" / "attune"), str(venv / "bin" / "pip")
        home = Path(tmp) / "home"
        home.mkdir()
        index = REPO.parent / "shared" / "reference" / "attune-standard-index.json"
        if not index.is_file():
            index = REPO / "tests" / "data" / "attune-standard-index.json"
        (home / "config.yaml").write_text(
            f"registries:\n  - name: reference\n    url: {index}\n    priority: 1\n"
        )
        env = {"ATTUNE_HOME": str(home)}
        pack = REPO / "packs-example" / "core_utils"
        subprocess.run(
            [attune, "pack", "install", str(pack), "-q"],
            check=True,
            env=env | {"PATH": str(Path(attune).parent)},
            capture_output=True,
        )
        ref_run = [pip, "--version"]

        print("\n-- start-up: attune pack COMMAND --help")
        for words in COMMANDS:
            ours = [attune, *words.split(), "--help"]
            t_ours, t_pip = compare(ours, ref_run, args.runs, env=env)
            ok &= report(f"{words} --help", t_ours, t_pip, "pip", TARGET, strict=False)

        print("\n-- light invocations")
        light = [
            ["pack", "list"],
            ["pack", "show", "core_utils"],
            ["pack", "history"],
            ["pack", "checksum", str(pack)],
            ["pack", "validate", str(pack)],
            ["pack", "search", "slack"],
            ["pack", "index", "show", "slack"],
            ["pack", "registries"],
            ["pack", "cache", "stats"],
            ["pack", "deps", "core_utils"],
        ]
        for words in light:
            label = " ".join(w if len(w) < 20 else "PATH" for w in words)
            t_ours, t_pip = compare([attune, *words], ref_run, args.runs, env=env)
            # Informational: these do real work (a database, an index); start-up is above.
            print(
                f"{label:<34} attune {t_ours * 1000:8.1f} ms   pip {t_pip * 1000:8.1f} ms   "
                f"ratio {t_ours / t_pip:5.2f}x   (work included; no target)",
                flush=True,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
