"""Benchmark: transitive pack-dependency resolution on a generated registry.

Registry: 1,000 packs x 5 versions (1.0.0 1.1.0 1.2.0 2.0.0 2.1.0), every version
depending on 6 other packs with npm constraints (``^1.1``, ``~1.2``, ``>=1.2.0``,
``1.x || 2.x``, ``>=1.1.0 <3``, ``*`` ...).  The request is the 10 top packs, which pull
in (nearly) the whole registry.  Three scenarios, all deterministic (fixed seed):

* ``compatible``: the newest versions fit together (the common case);
* ``broken-releases``: 5 % of the packs have a newest release that needs a version that
  does not exist, so an older one must be chosen;
* ``conflicts``: 10 version conflicts planted so the resolver must backtrack (give up
  the newest version of a pack for an older one) -- this is where resolvelib's
  backtracking runs on the whole graph.

Prints, for each scenario, the best of a few runs, the target (< 1 s) and the ratio to a
reference measured in the same run: the start-up time of ``pip --version`` (a resolver
users wait for every day).  Run: ``.venv/bin/python benchmarks/bench_resolve.py``.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attune_packs.resolve.model import Candidate
from attune_packs.resolve.resolver import resolve

N_PACKS = 1000
VERSIONS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"]
DEPS_PER_VERSION = 6
WINDOW = 120
TARGET_S = 1.0
RUNS = 3

# Constraints a 1.x version puts on a dependency (all admit the dependency's 1.2.0) and
# those a 2.x version puts (all admit the dependency's 2.1.0).
OLD_STYLE = ["^1.1", "~1.2", ">=1.0.0 <2", "1.x", "^1.0.0", "1.1.0 - 1.2"]
NEW_STYLE = ["^2", ">=1.2.0", "1.x || 2.x", ">=1.1.0 <3", "*", "^2.0.0", ">=2.0.0, <3"]


def name(i: int) -> str:
    return f"p{i:04d}"


def build_registry(scenario: str, seed: int = 20240601) -> dict[str, list[Candidate]]:
    rng = random.Random(seed)
    deps: dict[tuple[int, str], list[str]] = {}
    extra: dict[tuple[str, str], list[str]] = {}
    for i in range(N_PACKS):
        pool = list(range(i + 1, min(N_PACKS, i + 1 + WINDOW)))
        for v in VERSIONS:
            chosen = rng.sample(pool, min(len(pool), DEPS_PER_VERSION))
            style = OLD_STYLE if v.startswith("1.") else NEW_STYLE
            deps[(i, v)] = [f"{name(j)}@{rng.choice(style)}" for j in chosen]
    if scenario == "broken-releases":
        for i in rng.sample(range(N_PACKS), N_PACKS // 20):
            deps[(i, "2.1.0")].append(f"{name(i)}-gone@^3")  # a pack that does not exist
    elif scenario == "conflicts":
        # Ten planted conflicts: X@2.x needs A and B; A@2.x needs C@^2 while every B
        # needs C@^1 -> the resolver must give up the newest A for an older one (A@1.x
        # needs C@^1).  A, B and C are packs of their own, used only there.
        for k in range(10):
            x = 10 + k * ((N_PACKS - 20) // 10)
            a, b, c = (f"t{k}-{s}" for s in "abc")
            for v in ("2.0.0", "2.1.0"):
                deps[(x, v)] = [*deps[(x, v)], f"{a}@*", f"{b}@*"]
            for v in VERSIONS:
                extra[(a, v)] = [f"{c}@^2" if v.startswith("2.") else f"{c}@^1"]
                extra[(b, v)] = [f"{c}@^1"]
                extra[(c, v)] = []
    registry: dict[str, list[Candidate]] = {}
    for (i, v), reqs in deps.items():
        registry.setdefault(name(i), []).append(Candidate(name(i), v, reqs, origin="bench"))
    for (ref, v), reqs in extra.items():
        registry.setdefault(ref, []).append(Candidate(ref, v, reqs, origin="bench"))
    return registry


def time_resolution(scenario: str) -> tuple[float, int, int]:
    best = float("inf")
    size = backtracked = 0
    for _ in range(RUNS):
        registry = build_registry(scenario)  # fresh objects: no cache carried over
        roots = [name(i) for i in range(10)]
        start = time.perf_counter()
        res = resolve(roots, lambda ref, reg=registry: reg.get(ref, []), {})
        best = min(best, time.perf_counter() - start)
        size = len(res.order)
        backtracked = sum(1 for item in res.order if item.version != "2.1.0")
    return best, size, backtracked


def reference_seconds() -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pip", "--version"],
            check=True,
            capture_output=True,
        )
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    ref = reference_seconds()
    print(f"reference: `pip --version` start-up {ref:.3f} s (best of 3)")
    print(
        f"registry: {N_PACKS} packs x {len(VERSIONS)} versions, "
        f"{DEPS_PER_VERSION} dependencies per version; request: 10 top packs"
    )
    worst = 0.0
    for scenario in ("compatible", "broken-releases", "conflicts"):
        seconds, size, older = time_resolution(scenario)
        worst = max(worst, seconds)
        verdict = "OK" if seconds < TARGET_S else "OVER TARGET"
        print(
            f"{scenario:16s} {seconds:7.3f} s  ({size} packs resolved, {older} not at newest)"
            f"  target < {TARGET_S:.1f} s: {verdict}  ratio vs pip start-up: {seconds / ref:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
