from __future__ import annotations

from pathlib import Path

import pytest

from attune_packs import __version__
from tests.conftest import DATA, SHARED, run_cli


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


def test_usage_error_is_one_line_exit_2() -> None:
    r = run_cli("pack", "instal")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        "error: No such command 'instal'. Did you mean 'install', 'uninstall', 'list'?"
        " (see 'attune pack --help')"
    ]


def test_usage_error_with_json_output_prints_the_error_document(tmp_path: Path) -> None:
    r = run_cli("pack", "list", "--bogus", "-o", "json", home=tmp_path)
    assert r.exit_code == 2
    assert r.json["error"]["code"] == "usage_error"
    assert "--bogus" in r.json["error"]["message"]
    assert len(r.stderr.splitlines()) == 1


def test_missing_argument_names_it() -> None:
    r = run_cli("pack", "validate", "-o", "yaml")
    assert r.exit_code == 2
    assert "Missing argument 'PATH'" in r.stderr
    assert r.stdout.startswith("error:\n  code: usage_error\n")


def test_pack_alone_shows_help() -> None:
    r = run_cli("pack")
    assert r.exit_code == 2
    assert "Commands:" in r.stdout + r.stderr


def test_reference_copies_are_current() -> None:
    """tests/data/ holds copies of shared/reference/; they must not drift."""
    data = DATA
    if not (SHARED / "reference").is_dir():
        pytest.skip("shared/reference/ is not beside this checkout")
    for name in ("attune-standard-index.json", "index.schema.json"):
        assert (data / name).read_bytes() == (SHARED / "reference" / name).read_bytes()
