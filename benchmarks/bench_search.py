#!/usr/bin/env python3
"""Search benchmark: ``attune pack search`` on a 10,000-pack index vs ``pip --version``.

A realistic index of 10,000 packs (keywords, two install sources, a few
actions each) is generated into a temporary local-file registry.  One search
warms the cache (validation marker and search summary, keyed by the index's
content hash); then the median of timed runs of

* ``attune pack search <query>`` (warm cache)      target: faster than pip start-up
* ``attune pack index show <ref>`` (warm cache)     reported only

is compared with ``pip --version`` measured in the same run.  The cold first
search (full JSON Schema validation of the 10,000 entries) is reported too.
Both tools run with byte-code caching on (``PYTHONPYCACHEPREFIX`` in the
temporary folder, ``PYTHONDONTWRITEBYTECODE`` dropped), as for an installed
tool; the warm-up runs fill that cache.

Usage: python benchmarks/bench_search.py [--runs N] [--packs K]
Exit status: 0 when the target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchutil import tool

WORDS = [
    "alpha",
    "beta",
    "cloud",
    "data",
    "deploy",
    "dns",
    "email",
    "event",
    "file",
    "git",
    "http",
    "incident",
    "jira",
    "k8s",
    "ldap",
    "log",
    "mail",
    "metrics",
    "monitor",
    "network",
    "notify",
    "pager",
    "queue",
    "ssh",
    "storage",
    "ticket",
    "vault",
    "vm",
    "webhook",
    "windows",
]


def make_index(packs: int) -> dict:
    entries = []
    for i in range(packs):
        ref = f"pack-{WORDS[i % len(WORDS)]}-{i:05d}"
        kw = sorted({WORDS[(i * 7 + k) % len(WORDS)] for k in range(4)})
        commit = f"{i:040x}"
        entries.append(
            {
                "ref": ref,
                "label": f"{WORDS[i % len(WORDS)].title()} integration {i}",
                "description": f"Automation for {' and '.join(kw)} systems (generated pack {i})",
                "version": f"{1 + i % 3}.{i % 10}.{i % 7}",
                "author": "Benchmark",
                "license": "Apache-2.0",
                "keywords": kw,
                "runtime_deps": ["python3"],
                "install_sources": [
                    {
                        "type": "git",
                        "url": f"https://git.example.org/packs/{ref}.git",
                        "ref": commit,
                        "checksum": "sha256:" + f"{i:064x}",
                    },
                    {
                        "type": "archive",
                        "url": f"https://dl.example.org/{ref}/{commit}.tar.gz",
                        "checksum": "sha256:" + f"{i + 1:064x}",
                    },
                ],
                "contents": {
                    "actions": [
                        {"name": f"action_{k}", "description": f"Does thing {k} for {ref}"}
                        for k in range(4)
                    ],
                    "sensors": [],
                    "triggers": [],
                    "rules": [],
                    "workflows": [],
                },
            }
        )
    entries.sort(key=lambda e: e["ref"])
    return {
        "registry_name": "Benchmark Index",
        "registry_url": "https://registry.example.org/index",
        "version": "1.0",
        "last_updated": "2024-01-01T00:00:00Z",
        "packs": entries,
    }


def run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd!r} failed ({proc.returncode}): {proc.stderr.decode()[:300]}")
    return elapsed


def timed(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    run(cmd, env)  # warm-up
    return statistics.median(run(cmd, env) for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per command (median)")
    parser.add_argument("--packs", type=int, default=10_000)
    args = parser.parse_args(argv)
    attune, pip = tool("attune"), tool("pip")
    print(f"python {sys.version.split()[0]} on {sys.platform}; {args.runs} runs each, median")
    with tempfile.TemporaryDirectory(prefix="attune-bench-search-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        index = Path(tmp) / "index.json"
        index.write_text(json.dumps(make_index(args.packs), indent=2), encoding="utf-8")
        (home / "config.yaml").write_text(
            f"registries:\n  - name: bench\n    url: {index}\n    priority: 1\n",
            encoding="utf-8",
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("ATTUNE_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        # Byte-code as an installed tool has it (pip's is precompiled), kept out of the tree.
        env.update(
            {
                "ATTUNE_HOME": str(home),
                "NO_COLOR": "1",
                "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache"),
            }
        )
        size_mb = index.stat().st_size / 1e6
        query = ["pack", "search", "vault"]
        cold = run([attune, *query], env)
        print(
            f"index: {args.packs:,} packs, {size_mb:.1f} MB; cold first search "
            f"(validation + summary) {cold * 1000:.0f} ms"
        )
        t_search = timed([attune, *query], args.runs, env)
        some_ref = f"pack-{WORDS[(args.packs // 2) % len(WORDS)]}-{args.packs // 2:05d}"
        t_show = timed([attune, "pack", "index", "show", some_ref], args.runs, env)
        t_pip = timed([pip, "--version"], args.runs, env)
    ratio = t_search / t_pip
    ok = ratio < 1.0
    print(
        f"{'search (warm, 10k packs)':<34} attune {t_search * 1000:8.1f} ms   pip --version "
        f"{t_pip * 1000:8.1f} ms   ratio {ratio:5.2f}x   target < 1.0x   "
        f"{'OK' if ok else 'MISSED'}"
    )
    print(
        f"{'index show (warm, 10k packs)':<34} attune {t_show * 1000:8.1f} ms   pip --version "
        f"{t_pip * 1000:8.1f} ms   ratio {t_show / t_pip:5.2f}x   (reported only)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
