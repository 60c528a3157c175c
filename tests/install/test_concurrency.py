"""Nine ``attune pack install`` processes into one fresh home, at the same time."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli, write_pack


def test_nine_concurrent_installs(tmp_path: Path) -> None:
    home = tmp_path / "home"  # fresh: the database is created (and migrated) under the race
    sources = [
        write_pack(
            tmp_path / f"p{i}", ref=f"pack{i}", files={f"lib/f{j}.py": "x\n" for j in range(50)}
        )
        for i in range(6)
    ]
    same = write_pack(tmp_path / "same", ref="shared", files={"a.txt": "a"})
    args = [*sources, same, same, same]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env.update({"ATTUNE_HOME": str(home), "NO_COLOR": "1"})
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "attune_packs",
                "pack",
                "install",
                str(src),
                "--progress",
                "none",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for src in args
    ]
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        outcomes.append((p.returncode, out, err))
    for code, _out, err in outcomes:
        assert code == 0, err
        assert "locked" not in err.lower()
    same_outputs = [out for (_c, out, _e), src in zip(outcomes, args, strict=True) if src == same]
    assert sum("shared 1.0.0 installed" in o for o in same_outputs) == 1
    assert sum("already installed" in o for o in same_outputs) == 2

    con = sqlite3.connect(home / "attune.db")
    refs = sorted(r[0] for r in con.execute("select ref from pack"))
    audit = con.execute("select pack_ref, action, status from pack_installation").fetchall()
    con.close()
    assert refs == sorted([f"pack{i}" for i in range(6)] + ["shared"])
    assert sorted(audit) == sorted((ref, "install", "succeeded") for ref in refs)
    r = run_cli("pack", "verify", "-o", "json", home=home)
    assert r.exit_code == 0 and len(r.json["packs"]) == 7
    assert not list((home / "packs").glob(".staging-*"))
