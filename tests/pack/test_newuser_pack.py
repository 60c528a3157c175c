"""Defects a new user met with pack folders and archives: every message in our words,
one line, naming what the user gave; nothing copied or kept that should not be."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows, snapshot


def test_undecodable_file_names_are_shown_as_escapes(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    os.close(os.open(os.fsencode(pack) + b"/bad\xffname", os.O_CREAT | os.O_WRONLY))
    r = run_cli("pack", "checksum", str(pack))
    assert r.exit_code == 1
    assert r.stderr == f"error: file name is not valid UTF-8: {pack}/bad\\xffname\n"
    missing = os.fsdecode(os.fsencode(tmp_path) + b"/\xff")
    r = run_cli("pack", "checksum", missing)
    assert r.exit_code == 1 and r.stderr == f"error: no such file or directory: {tmp_path}/\\xff\n"
    assert "\\udc" not in r.stderr and "b'" not in r.stderr


def test_a_wrong_value_is_described_once(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p", extra="dependencies: [{a: b}]\nenabled: [1]\n")
    messages = [
        e["message"] for e in run_cli("pack", "validate", str(pack), "-o", "json").json["errors"]
    ]
    assert "'dependencies[0]' must be a string, got a mapping" in messages
    assert "'enabled' must be true or false, got a list" in messages


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    pack = tmp_path / "dup"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        "ref: dup\nref: dup2\nversion: 1.0.0\nlabel: L\ndescription: D\n"
    )
    r = run_cli("pack", "validate", str(pack), "-o", "json")
    assert r.exit_code == 1
    assert r.json["errors"][0]["message"] == (
        "pack.yaml: duplicate key 'ref' at line 2, column 1 (first given at line 1)"
    )
    home = tmp_path / "h"
    r = run_cli("pack", "install", str(pack), home=home)
    assert r.exit_code == 1 and "duplicate key 'ref'" in r.stderr
    assert snapshot(home)["store"] == {} or not any(
        k.startswith("dup") for k in snapshot(home)["store"]
    )
    home.mkdir(exist_ok=True)
    (home / "config.yaml").write_text("keep_versions: 2\nkeep_versions: 3\n")
    r = run_cli("pack", "list", home=home)
    assert r.exit_code == 1 and "duplicate key 'keep_versions' at line 2" in r.stderr


def test_git_folders_inside_archives_are_not_installed(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in (
            ("pack.yaml", b"ref: evil\nlabel: L\ndescription: D\nversion: 1.0.0\n"),
            (".git/config", b"[core]\n"),
            ("lib/.git/HEAD", b"ref: refs/heads/main\n"),
            ("lib/x.py", b"x = 1\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    home = tmp_path / "h"
    r = run_cli("pack", "install", str(archive), home=home)
    assert r.exit_code == 0, r.stderr
    installed = sorted(
        str(p.relative_to(home / "packs" / "evil-1.0.0"))
        for p in (home / "packs" / "evil-1.0.0").rglob("*")
        if p.is_file()
    )
    assert installed == ["lib/x.py", "pack.yaml"]
    assert run_cli("pack", "verify", home=home).exit_code == 0


def test_a_missing_archive_name_is_not_found(tmp_path: Path) -> None:
    for name in ("missing.tar.gz", "missing.zip", "pack.yaml"):
        r = run_cli("pack", "install", name, "-o", "json", cwd=tmp_path, home=tmp_path / "h")
        assert r.exit_code == 1, name
        assert r.json["error"] == {
            "code": "not_found",
            "message": f"no such file or directory: {name}",
        }


def test_ssh_git_addresses_are_refused_clearly(tmp_path: Path) -> None:
    r = run_cli(
        "pack", "install", "git@127.0.0.1:org/x.git", "--progress", "none", home=tmp_path / "h"
    )
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        "error: unsupported source 'git@127.0.0.1:org/x.git': SSH git addresses are not "
        "supported; use the repository's https:// URL (or a local path)"
    ]


def test_a_folder_without_pack_yaml_is_refused_before_copying(tmp_path: Path) -> None:
    folder = tmp_path / "nopack"
    folder.mkdir()
    (folder / "big.bin").write_bytes(b"\0" * 1_000_000)
    home = tmp_path / "h"
    r = run_cli("pack", "install", str(folder), "--progress", "json", home=home)
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == f"error: invalid pack in {folder}: no pack.yaml in {folder}"
    events = [json.loads(line)["event"] for line in r.stderr.splitlines() if line.startswith("{")]
    assert "copying" not in events and "step_started" not in events[1:]
    assert audit_rows(home)[-1]["status"] == "failed"
    packs = home / "packs"
    assert not packs.exists() or not [p for p in packs.iterdir() if p.name.startswith(".")]


def test_ref_spec_needs_a_repository(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "plain")
    r = run_cli(
        "pack", "install", str(pack), "--ref-spec", "v1", "--progress", "none", home=tmp_path / "h"
    )
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"error: --ref-spec v1 needs a git repository, but {pack} is a folder without git history"
    )


def test_component_file_messages_have_one_shape(tmp_path: Path) -> None:
    pack = write_pack(
        tmp_path / "comp",
        files={
            "actions/bad.yaml": "a: [\n",
            "actions/empty.yaml": "",
            "actions/named.yaml": "name: [1]\n",
        },
    )
    (pack / "sensors").mkdir()
    (pack / "sensors" / "latin.yaml").write_bytes(b"name: caf\xe9\n")
    errors = run_cli("pack", "validate", str(pack), "-o", "json").json["errors"]
    messages = sorted(e["message"] for e in errors)
    assert all(m.startswith("component file ") for m in messages), messages
    assert any("actions/empty.yaml: must be a YAML mapping" in m for m in messages)
    assert any("sensors/latin.yaml: not valid UTF-8 (byte 9)" in m for m in messages)


def test_usage_errors_have_no_stray_period() -> None:
    r = run_cli("pack", "validate")
    assert r.stderr == "error: Missing argument 'PATH' (see 'attune pack validate --help')\n"


def test_validate_reports_every_bad_list_item(tmp_path: Path) -> None:
    pack = write_pack(
        tmp_path / "p",
        extra='runtime_deps: [5, "python3>=banana", "nodejs>>18", ""]\n'
        'dependencies: [{a: b}, "BAD REF"]\n',
    )
    fields = [
        e["field"] for e in run_cli("pack", "validate", str(pack), "-o", "json").json["errors"]
    ]
    for field in ("runtime_deps[0]", "runtime_deps[1]", "runtime_deps[2]", "runtime_deps[3]"):
        assert field in fields, (field, fields)
    assert "dependencies[0]" in fields and "dependencies[1]" in fields
