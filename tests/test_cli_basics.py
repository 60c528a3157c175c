from __future__ import annotations

from pathlib import Path

from attune_packs import __version__
from tests.conftest import run_cli


def test_version() -> None:
    r = run_cli("--version")
    assert r.exit_code == 0
    assert r.stdout.strip() == f"attune-packs {__version__}"


def test_known_answers(tmp_path: Path) -> None:
    (tmp_path / "t" / "nested").mkdir(parents=True)
    (tmp_path / "t" / "nested" / "file.txt").write_bytes(b"fixture\n")
    r = run_cli("pack", "checksum", str(tmp_path / "t"), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json["checksum"] == (
        "sha256:e9837162383488cb9b187ea585ce8963634d7d04f75abeb0c43d5456de0d6b13"
    )
    (tmp_path / "h").write_bytes(b"Hello, world!")
    r = run_cli("pack", "checksum", str(tmp_path / "h"), "-o", "json")
    assert r.json["checksum"] == (
        "sha256:315f5bdb76d078c43b8ac0064e4a0164612b1fce77c869345bfc94c75894edd3"
    )
