"""What the commands say: verify's labelled checksums, counts in words, the resolve
step of a pack no registry has, progress while a large folder is copied."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli, write_pack
from tests.servers import index_doc, index_entry, pack_tarball, sha, write_config


def test_verify_labels_the_expected_and_the_found_checksum(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert run_cli("pack", "install", str(write_pack(tmp_path / "p")), home=home).exit_code == 0
    expected = run_cli("pack", "show", "demo", "-o", "json", home=home).json["checksum"]
    (home / "packs" / "demo-1.0.0" / "pack.yaml").write_text("ref: demo\nversion: 9.9.9\n")
    r = run_cli("pack", "verify", home=home)
    assert r.exit_code == 1
    lines = [line.strip() for line in r.stdout.splitlines()]
    assert f"demo: expected checksum {expected}" in lines
    found = next(line for line in lines if line.startswith("demo: found checksum"))
    assert found.split()[-1].startswith("sha256:") and found.split()[-1] != expected
    doc = run_cli("pack", "verify", "-o", "json", home=home).json
    assert doc["packs"][0]["expected"] == expected
    assert doc["packs"][0]["actual"] == found.split()[-1]


def test_counts_are_words(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert run_cli("pack", "install", str(write_pack(tmp_path / "p")), home=home).exit_code == 0
    r = run_cli("pack", "deps", "demo", home=home)
    assert r.exit_code == 0, r.stderr
    assert "1 pack: 0 to install or change, 1 kept" in r.stdout
    assert "1 packs" not in r.stdout


def _registry_home(tmp_path: Path) -> Path:
    """A home whose one registry is a local index listing only the pack 'other'."""
    home = tmp_path / "h"
    index = tmp_path / "reg" / "index.json"
    index.parent.mkdir()
    tarball = pack_tarball(write_pack(tmp_path / "other", ref="other"))
    (index.parent / "other.tar.gz").write_bytes(tarball)
    source = {"type": "archive", "url": "other.tar.gz", "checksum": sha(tarball)}
    index.write_text(json.dumps(index_doc([index_entry("other", "1.0.0", [source])])))
    write_config(home, [{"name": "local", "url": str(index), "priority": 1}])
    return home


def test_resolve_step_fails_for_a_pack_no_registry_has(tmp_path: Path) -> None:
    home = _registry_home(tmp_path)
    r = run_cli("pack", "install", "nosuch", "--progress", "json", home=home)
    assert r.exit_code == 1
    events = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    started = [e for e in events if e["event"] == "step_started"]
    completed = [e for e in events if e["event"] == "step_completed"]
    assert [e["step"] for e in started] == ["resolve"]
    assert completed == []  # no ✓ for a step that did not succeed
    assert "nosuch" in r.stderr.splitlines()[-1]
    r = run_cli("pack", "install", "nosuch", "--progress", "plain", home=home)
    assert "[resolve] done" not in r.stderr


def test_resolve_step_names_the_registry_entry(tmp_path: Path) -> None:
    home = _registry_home(tmp_path)
    r = run_cli("pack", "install", "other", "--dry-run", "--progress", "json", home=home)
    events = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    done = next(e for e in events if e["event"] == "step_completed" and e["step"] == "resolve")
    assert done["message"] == "other 1.0.0 from registry 'local'"


def test_copying_a_large_folder_reports_files_and_bytes(tmp_path: Path) -> None:
    files = {f"lib/m{i}.py": "x = 1\n" * 20 for i in range(500)}
    pack = write_pack(tmp_path / "big", files=files)
    r = run_cli("pack", "install", str(pack), "--progress", "json", home=tmp_path / "h")
    assert r.exit_code == 0, r.stderr
    copying = [json.loads(line) for line in r.stderr.splitlines() if '"event": "copying"' in line]
    assert 5 <= len(copying) <= 110  # about a hundred updates, not one per file
    assert copying[-1]["files_done"] == copying[-1]["files_total"] == 501
    assert copying[-1]["bytes_done"] == sum(
        p.stat().st_size for p in pack.rglob("*") if p.is_file()
    )
    done = [c["files_done"] for c in copying]
    assert done == sorted(done)
    r = run_cli(
        "pack", "install", str(pack), "--force", "--progress", "plain", home=tmp_path / "h2"
    )
    assert "[fetch] copied 501 of 501 files (" in r.stderr


def test_verify_of_a_pack_that_is_not_installed_shows_no_none(tmp_path: Path) -> None:
    r = run_cli("pack", "verify", "nosuch", home=tmp_path / "h")
    assert r.exit_code == 1
    assert "None" not in r.stdout + r.stderr
    assert "nosuch: pack 'nosuch' is not installed" in r.stdout


def test_lock_check_says_when_the_file_does_not_exist(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    lock = tmp_path / "site.lock"
    r = run_cli(
        "pack",
        "lock",
        str(pack),
        "--no-registry",
        "--check",
        "--file",
        str(lock),
        home=tmp_path / "h",
    )
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == f"error: {lock} does not exist"
    assert "does not exist yet (run without --check to write it)" in r.stdout
    assert not lock.exists()
    assert (
        run_cli(
            "pack", "lock", str(pack), "--no-registry", "--file", str(lock), home=tmp_path / "h"
        ).exit_code
        == 0
    )
    (tmp_path / "q").mkdir()
    r = run_cli(
        "pack",
        "lock",
        str(write_pack(tmp_path / "q", version="2.0.0")),
        "--no-registry",
        "--check",
        "--file",
        str(lock),
        home=tmp_path / "h",
    )
    assert r.exit_code == 1 and r.stderr.strip().splitlines()[-1] == f"error: {lock} is out of date"
