"""SIGKILL installs, rollbacks and uninstalls at random moments; then the next command's
recovery must leave link and database agreeing, and ``verify`` must pass."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_pack
from tests.install_helpers import make_tar

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

ITERATIONS = 15
SEED = 20240501


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env.update({"ATTUNE_HOME": str(home), "NO_COLOR": "1"})
    return env


def _big_pack(root: Path, version: str, files: int = 300) -> Path:
    write_pack(root, version=version)
    for i in range(files):
        p = root / "lib" / f"d{i % 20}" / f"f{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"# {version} {i}\n" + "x = 1\n" * 50)
    return root


def _agree(home: Path) -> None:
    """Every database row has its link and folder; no link without a row; no leftovers."""
    packs = home / "packs"
    con = sqlite3.connect(home / "attune.db")
    rows = dict(con.execute("select ref, version from pack").fetchall())
    con.close()
    for ref, version in rows.items():
        assert os.readlink(packs / ref) == f"{ref}-{version}", (ref, version)
        assert (packs / f"{ref}-{version}").is_dir()
    for entry in packs.iterdir() if packs.exists() else []:
        if entry.is_symlink():
            assert entry.name in rows, f"link without a database row: {entry.name}"
        assert not entry.name.startswith((".staging-", ".trash-", ".link-")), entry.name


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    home = tmp_path / "home"
    sources = {v: _big_pack(tmp_path / f"src-{v}", v) for v in ("1.0.0", "1.1.0", "2.0.0")}
    archive = make_tar(sources["2.0.0"], tmp_path / "demo-2.0.0.tar.gz")
    other = write_pack(tmp_path / "other", ref="other", extra="dependencies:\n  - demo@>=1\n")

    # One uninterrupted install tells how long a command takes here.
    start = time.monotonic()
    first = run_cli("pack", "install", str(sources["1.0.0"]), home=home)
    full = time.monotonic() - start
    assert first.exit_code == 0, first.stderr

    commands = [
        lambda: ["install", str(sources["1.1.0"])],
        lambda: ["install", str(sources["2.0.0"])],
        lambda: ["install", str(sources["1.0.0"])],
        lambda: ["install", str(archive), "--force"],
        lambda: ["install", str(sources[rng.choice(list(sources))]), "--force"],
        lambda: ["install", str(other), "--skip-deps"],
        lambda: ["rollback", "demo"],
        lambda: ["uninstall", rng.choice(["demo", "other"]), "--yes", "--force"],
    ]
    killed = 0
    for _ in range(ITERATIONS):
        args = rng.choice(commands)()
        proc = subprocess.Popen(
            [sys.executable, "-m", "attune_packs", "pack", *args, "--progress", "json"],
            env=_env(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if args[0] == "install" and rng.random() < 0.7:
            # Kill right after the k-th progress event (plus a hair): this aims at
            # the windows that matter (staging, commit, rename, link switch, prune).
            k = rng.choice([13, 14, 15]) if rng.random() < 0.5 else rng.randint(1, 18)
            for _n, _line in zip(range(k), iter(proc.stderr.readline, ""), strict=False):  # type: ignore[union-attr]
                pass
            time.sleep(rng.uniform(0, 0.02))
        else:
            time.sleep(rng.uniform(0.3, 1.1) * full)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=120)
        proc.stderr.close()  # type: ignore[union-attr]
        # The next command recovers first; then everything must agree and verify.
        r = run_cli("pack", "verify", "-o", "json", home=home)
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
        assert all(p["ok"] for p in r.json["packs"]), r.json
        _agree(home)
    # The schedule is random but fixed; most runs are cut short somewhere.
    print(f"killed {killed} of {ITERATIONS} commands")
    final = run_cli("pack", "install", str(sources["2.0.0"]), home=home)
    assert final.exit_code == 0, final.stderr
    assert run_cli("pack", "verify", home=home).exit_code == 0
    _agree(home)
