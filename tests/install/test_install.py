"""Install semantics, failures at every step, dry runs, checksums, archives, events."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from attune_packs.config import load_settings
from attune_packs.errors import AlreadyInstalled, DependencyError
from attune_packs.events import STEPS, EventBus
from attune_packs.install.options import InstallOptions
from attune_packs.install.pipeline import Installer
from attune_packs.install.record import os_user
from attune_packs.pack.checksum import directory_checksum, file_checksum
from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows, hostile_tar, make_tar, make_zip, snapshot


def installer(home: Path, bus: EventBus | None = None) -> Installer:
    return Installer(load_settings(home=home, env={}), bus)


def install(home: Path, source: Path | str, **opts: object):
    inst = installer(home)
    try:
        return inst.install(str(source), InstallOptions(**opts))  # type: ignore[arg-type]
    finally:
        inst.close()


# -- the semantics ------------------------------------------------------------------------------


def test_install_upgrade_downgrade_noop(home: Path, tmp_path: Path) -> None:
    src = write_pack(
        tmp_path / "src",
        extra="runtime_deps:\n  - python3>=3.8\n",
        files={"actions/hello.yaml": "name: hello\nrunner_type: shell\n"},
    )
    r = install(home, src)
    assert (r.action, r.status, r.previous_version) == ("install", "installed", None)
    packs = home / "packs"
    assert os.readlink(packs / "demo") == "demo-1.0.0"
    assert (packs / "demo" / "actions" / "hello.yaml").is_file()
    assert r.checksum == directory_checksum(src).checksum
    assert directory_checksum(packs / "demo-1.0.0").checksum == r.checksum

    (row,) = audit_rows(home)
    assert row["action"] == "install" and row["status"] == "succeeded"
    assert row["installed_by"] == os_user() and row["installation_method"] == "cli"
    assert row["source_type"] == "local_directory" and row["source_url"] == str(src)
    assert row["checksum"] == r.checksum and row["checksum_subject"] == "directory"
    assert row["checksum_verified"] == 0
    assert row["storage_path"] == str(packs / "demo-1.0.0")
    assert row["started_at"] <= row["finished_at"] and row["error_message"] is None
    assert json.loads(row["meta"])["files"] == 2

    # Same version, same content: a no-op that writes nothing, not even an audit row.
    before = snapshot(home)
    r = install(home, src)
    assert (r.action, r.status) == ("none", "already_installed")
    assert snapshot(home) == before and len(audit_rows(home)) == 1

    write_pack(src, version="2.0.0", extra="runtime_deps:\n  - python3>=3.8\n")
    r = install(home, src)
    assert (r.action, r.previous_version) == ("upgrade", "1.0.0")
    write_pack(src, version="1.5.0")
    r = install(home, src)
    assert (r.action, r.previous_version) == ("downgrade", "2.0.0")
    assert os.readlink(packs / "demo") == "demo-1.5.0"
    # keep_versions = 2: the active one and the one active before it.
    assert sorted(p.name for p in packs.glob("demo-*")) == ["demo-1.5.0", "demo-2.0.0"]
    assert r.removed_versions == ["1.0.0"]
    assert [a["action"] for a in audit_rows(home)] == ["install", "upgrade", "downgrade"]
    con = sqlite3.connect(home / "attune.db")
    assert con.execute("select version, checksum from pack").fetchall() == [
        ("1.5.0", directory_checksum(src).checksum)
    ]
    # 1.5.0 has no runtime_deps: the dependency rows follow the installed version.
    assert con.execute("select * from pack_dependency").fetchall() == []


def test_keep_versions_setting(home: Path, tmp_path: Path) -> None:
    (home / "config.yaml").write_text("keep_versions: 3\n")
    src = tmp_path / "src"
    for v in ("1.0.0", "1.1.0", "1.2.0", "1.3.0"):
        write_pack(src, version=v)
        install(home, src)
    assert sorted(p.name for p in (home / "packs").glob("demo-*")) == [
        "demo-1.1.0",
        "demo-1.2.0",
        "demo-1.3.0",
    ]
    assert sorted(os.listdir(home / "packs" / ".attune" / "demo")) == [
        "1.1.0.json",
        "1.2.0.json",
        "1.3.0.json",
    ]


def test_same_version_other_content_needs_force(home: Path, tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src", files={"a.txt": "one"})
    install(home, src)
    (src / "a.txt").write_text("two")
    before = snapshot(home)
    r = run_cli("pack", "install", str(src), "-o", "json", home=home)
    assert r.exit_code == 1
    assert r.json["error"]["code"] == "version_conflict"
    assert "already installed with different content" in r.stderr and "--force" in r.stderr
    assert snapshot(home) == before
    failed = audit_rows(home)[-1]
    assert (failed["status"], failed["action"]) == ("failed", "reinstall")

    r = run_cli("pack", "install", str(src), "--force", "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    (res,) = r.json["results"]
    assert (res["action"], res["status"]) == ("reinstall", "installed")
    assert (home / "packs" / "demo" / "a.txt").read_text() == "two"
    assert sorted(p.name for p in (home / "packs").iterdir()) == [".attune", "demo", "demo-1.0.0"]
    assert run_cli("pack", "verify", home=home).exit_code == 0
    # --force on identical content is an explicit reinstall, too.
    assert install(home, src, force=True).action == "reinstall"


def test_in_process_errors_are_typed(home: Path, tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src", files={"a.txt": "one"})
    install(home, src)
    (src / "a.txt").write_text("two")
    with pytest.raises(AlreadyInstalled):
        install(home, src)
    dep = write_pack(tmp_path / "dep", ref="needy", extra="dependencies:\n  - other@^1\n")
    with pytest.raises(DependencyError, match="pack other@\\^1 is not installed"):
        install(home, dep)


def test_dry_run_changes_nothing(home: Path, tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp)}
    r = run_cli("pack", "install", str(src), "--dry-run", "-o", "json", home=home, env=env)
    assert r.exit_code == 0, r.stderr
    (res,) = r.json["results"]
    assert (res["status"], res["action"], res["dry_run"]) == ("dry_run", "install", True)
    assert list(home.iterdir()) == [] and list(tmp.iterdir()) == []

    install(home, src)
    write_pack(src, version="2.0.0")
    before, rows = snapshot(home), audit_rows(home)
    r = run_cli("pack", "install", str(src), "--dry-run", "-o", "json", home=home, env=env)
    assert r.exit_code == 0, r.stderr
    assert r.json["results"][0]["action"] == "upgrade"
    assert snapshot(home) == before and audit_rows(home) == rows
    # A failing dry run records nothing either.
    (src / "pack.yaml").write_text("ref: demo\n")
    r = run_cli("pack", "install", str(src), "--dry-run", home=home, env=env)
    assert r.exit_code == 1
    assert snapshot(home) == before and audit_rows(home) == rows
    assert list(tmp.iterdir()) == []


# -- checksums and archives ------------------------------------------------------------------


def test_expect_checksum_directory(home: Path, tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src")
    good = directory_checksum(src).checksum
    bad = "sha256:" + "0" * 64
    r = run_cli("pack", "install", str(src), "--expect-checksum", bad, home=home)
    assert r.exit_code == 1
    assert f"expected {bad}, got {good}" in r.stderr
    assert audit_rows(home)[-1]["error_message"].startswith("checksum mismatch")
    assert not (home / "packs" / "demo").exists()
    r = run_cli("pack", "install", str(src), "--expect-checksum", "md5:abc", home=home)
    assert r.exit_code == 2 and "invalid --expect-checksum value" in r.stderr
    r = run_cli("pack", "install", str(src), "--expect-checksum", good, "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    assert r.json["results"][0]["checksum_verified"] is True
    row = audit_rows(home)[-1]
    assert (row["checksum_subject"], row["checksum_verified"], row["checksum"]) == (
        "directory",
        1,
        good,
    )


@pytest.mark.parametrize(
    ("name", "maker"),
    [
        ("demo.tar.gz", lambda s, o: make_tar(s, o, mode="w:gz")),
        ("demo.tgz", lambda s, o: make_tar(s, o, top=None, mode="w:gz")),
        ("demo.tar", lambda s, o: make_tar(s, o, mode="w")),
        ("demo.zip", lambda s, o: make_zip(s, o)),
    ],
)
def test_local_archives(home: Path, tmp_path: Path, name: str, maker) -> None:
    src = write_pack(tmp_path / "src", files={"actions/a.yaml": "name: a\n", "lib/x.py": "x=1\n"})
    archive = maker(src, tmp_path / name)
    archive_sum = file_checksum(archive).checksum
    r = run_cli("pack", "install", str(archive), "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    (res,) = r.json["results"]
    assert res["checksum"] == directory_checksum(src).checksum
    assert res["checksum_subject"] == "archive" and res["source_type"] == "local_archive"
    row = audit_rows(home)[-1]
    assert row["checksum"] == archive_sum and row["checksum_subject"] == "archive"
    assert json.loads(row["meta"])["archive_checksum"] == archive_sum
    assert (home / "packs" / "demo" / "lib" / "x.py").read_text() == "x=1\n"
    # The same archive again is a no-op; its archive checksum is accepted as expected.
    r = run_cli("pack", "install", str(archive), "--expect-checksum", archive_sum, home=home)
    assert r.exit_code == 0 and "already installed" in r.stdout
    assert len(audit_rows(home)) == 1


def test_archive_expect_checksum_subjects(home: Path, tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src")
    archive = make_tar(src, tmp_path / "demo.tar.gz")
    r = run_cli(
        "pack",
        "install",
        str(archive),
        "--expect-checksum",
        file_checksum(archive).checksum,
        "-o",
        "json",
        home=home,
    )
    assert r.exit_code == 0, r.stderr
    assert r.json["results"][0]["checksum_subject"] == "archive"
    assert r.json["results"][0]["checksum_verified"] is True
    write_pack(src, version="1.1.0")
    archive = make_zip(src, tmp_path / "demo.zip")
    r = run_cli(
        "pack",
        "install",
        str(archive),
        "--expect-checksum",
        directory_checksum(src).checksum,
        "-o",
        "json",
        home=home,
    )
    assert r.exit_code == 0, r.stderr
    assert r.json["results"][0]["checksum_subject"] == "directory"
    assert audit_rows(home)[-1]["checksum_subject"] == "directory"


# -- a failure at every step leaves everything as it was, plus one failed row -----------------


def _fault(step: str, home: Path, tmp_path: Path) -> tuple[list[str], str]:
    """Arrange a fault at ``step`` for installing demo 2.0.0; return (CLI args, code)."""
    src = write_pack(tmp_path / "v2", version="2.0.0")
    if step == "resolve":
        return [str(tmp_path / "no-such-pack")], "not_found"
    if step == "fetch":
        os.symlink("/etc/hostname", src / "escape")
        return [str(src)], "checksum_error"
    if step == "extract":
        text = (src / "pack.yaml").read_text()
        return [str(hostile_tar(tmp_path / "evil.tar.gz", text))], "unsafe_archive"
    if step == "validate":
        (src / "pack.yaml").write_text("ref: demo\nlabel: x\ndescription: x\nversion: banana\n")
        return [str(src)], "invalid_manifest"
    if step == "verify":
        return [str(src), "--expect-checksum", "sha256:" + "1" * 64], "checksum_mismatch"
    if step == "dependencies":
        write_pack(src, version="2.0.0", extra="dependencies:\n  - missing@^1\n")
        return [str(src)], "dependency_missing"
    if step == "test":
        write_pack(
            src,
            version="2.0.0",
            extra="testing:\n  enabled: true\n  runners:\n    shell:\n      type: script\n"
            "      entry_point: t.sh\n",
            files={"t.sh": "echo broken >&2; exit 3\n"},
        )
        return [str(src)], "pack_tests_failed"
    if step == "activate":
        os.rename(home / "packs" / "demo", home / "packs" / "demo.link")
        (home / "packs" / "demo").mkdir()
        return [str(src)], "store_conflict"
    if step == "record":
        con = sqlite3.connect(home / "attune.db")
        con.execute(
            "create trigger boom before update on pack when new.version = '2.0.0' "
            "begin select raise(abort, 'injected failure'); end"
        )
        con.commit()
        con.close()
        return [str(src)], "database_error"
    raise AssertionError(step)


@pytest.mark.parametrize("step", STEPS)  # every step of events.STEPS
def test_failure_at_each_step_leaves_state_intact(home: Path, tmp_path: Path, step: str) -> None:
    install(home, write_pack(tmp_path / "v1", version="1.0.0"))
    args, code = _fault(step, home, tmp_path)
    before, rows = snapshot(home), audit_rows(home)
    r = run_cli("pack", "install", *args, "-o", "json", "--progress", "none", home=home)
    assert r.exit_code in (1, 2), r.stderr
    assert r.json["error"]["code"] == code, r.json
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and line.startswith("error: ")
    assert snapshot(home) == before
    new = audit_rows(home)[len(rows) :]
    assert len(new) == 1
    assert new[0]["status"] == "failed"
    assert new[0]["error_message"] == line[len("error: ") :]
    assert json.loads(new[0]["meta"])["error_code"] == code
    if step not in ("resolve", "extract", "validate"):
        assert (new[0]["pack_ref"], new[0]["pack_version"]) == ("demo", "2.0.0")
        assert new[0]["action"] == "upgrade"
    if step == "extract":  # the user's file is named, not the staged copy
        assert "source.tar.gz" not in line
    if step == "validate":  # the claimed ref is kept; the version was invalid
        assert (new[0]["pack_ref"], new[0]["pack_version"]) == ("demo", "banana")
    assert not list((home / "packs").glob(".staging-*"))


# -- dependencies ---------------------------------------------------------------------------


def test_dependency_rows_and_dependents(home: Path, tmp_path: Path) -> None:
    install(home, write_pack(tmp_path / "core", ref="core", version="1.2.0"))
    app = write_pack(
        tmp_path / "app",
        ref="app",
        extra="dependencies:\n  packs:\n    - core@^1.2\n  python_version: '>=3.8'\n"
        "runtime_deps:\n  - shell\n",
    )
    install(home, app)
    con = sqlite3.connect(home / "attune.db")
    deps = con.execute(
        'select pack_ref, kind, name, "constraint" from pack_dependency order by kind, name'
    ).fetchall()
    assert deps == [
        ("app", "pack", "core", "^1.2"),
        ("app", "runtime", "python", ">=3.8"),
        ("app", "runtime", "shell", ""),
    ]
    # core 2.0.0 would break app's ^1.2.
    before = snapshot(home)
    core2 = write_pack(tmp_path / "core2", ref="core", version="2.0.0")
    r = run_cli("pack", "install", str(core2), home=home)
    assert r.exit_code == 1 and "would break installed packs: app requires core@^1.2" in r.stderr
    assert snapshot(home) == before
    r = run_cli("pack", "install", str(core2), "--force", home=home)
    assert r.exit_code == 0, r.stderr
    r = run_cli("pack", "show", "core", "-o", "json", home=home)
    assert r.json["dependents"] == [{"ref": "app", "constraint": "^1.2"}]
    r = run_cli("pack", "show", "app", "-o", "json", home=home)
    assert {"kind": "pack", "name": "core", "constraint": "^1.2"} in r.json["dependencies"]


def test_skip_deps_installs_with_a_warning(home: Path, tmp_path: Path) -> None:
    app = write_pack(tmp_path / "app", ref="app", extra="dependencies:\n  - core@^1\n")
    r = run_cli("pack", "install", str(app), "--progress", "plain", home=home)
    assert r.exit_code == 1 and "core@^1 is not installed" in r.stderr
    r = run_cli("pack", "install", str(app), "--skip-deps", "--progress", "plain", home=home)
    assert r.exit_code == 0, r.stderr
    assert "dependency checks skipped" in r.stderr
    assert json.loads(audit_rows(home)[-1]["meta"])["skipped_dependencies"] is True


def test_skip_tests(home: Path, tmp_path: Path) -> None:
    src = write_pack(
        tmp_path / "src",
        extra="testing:\n  enabled: true\n  runners:\n    shell:\n      type: script\n"
        "      entry_point: t.sh\n",
        files={"t.sh": "touch written-by-test; exit ${FAIL:-0}\n"},
    )
    r = run_cli("pack", "install", str(src), "--skip-tests", home=home, env={"FAIL": "1"})
    assert r.exit_code == 0, r.stderr
    assert json.loads(audit_rows(home)[-1]["meta"])["skipped_tests"] is True
    write_pack(
        src,
        version="1.1.0",
        extra=(src / "pack.yaml").read_text().split("license: Apache-2.0\n")[1],
    )
    r = run_cli("pack", "install", str(src), "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    assert r.json["results"][0]["tests"] == {"ran": True, "passed": True}
    # Whatever the tests wrote stayed out of the installed folder.
    assert not (home / "packs" / "demo" / "written-by-test").exists()
    assert run_cli("pack", "verify", home=home).exit_code == 0


# -- several sources, events, progress ---------------------------------------------------------


def test_several_sources_stop_at_the_first_failure(home: Path, tmp_path: Path) -> None:
    a = write_pack(tmp_path / "a", ref="alpha")
    b = write_pack(tmp_path / "b", ref="beta")
    (b / "pack.yaml").write_text("ref: beta\n")
    c = write_pack(tmp_path / "c", ref="gamma")
    r = run_cli("pack", "install", str(a), str(b), str(c), home=home)
    assert r.exit_code == 1
    assert "already done: alpha 1.0.0" in r.stderr
    assert (home / "packs" / "alpha").exists() and not (home / "packs" / "gamma").exists()
    r = run_cli("pack", "install", str(a), str(c), "-o", "yaml", home=home)
    assert r.exit_code == 0 and "status: already_installed" in r.stdout
    assert "status: installed" in r.stdout


def test_events_cover_every_step(home: Path, tmp_path: Path) -> None:
    src = write_pack(
        tmp_path / "src",
        extra="testing:\n  enabled: true\n  runners:\n    shell:\n      type: script\n"
        "      entry_point: t.sh\n",
        files={"t.sh": "exit 0\n"},
    )
    archive = make_tar(src, tmp_path / "demo.tar.gz")
    seen: list[dict] = []
    inst = installer(home, EventBus(lambda e: seen.append(e.to_dict())))
    inst.install(str(archive))
    inst.close()
    started = [e["step"] for e in seen if e["event"] == "step_started"]
    completed = [e["step"] for e in seen if e["event"] == "step_completed"]
    steps = [
        "resolve",
        "fetch",
        "extract",
        "validate",
        "verify",
        "dependencies",
        "test",
        "activate",
        "record",
    ]
    assert started == steps and completed == steps
    assert any(e["event"] == "extracting" for e in seen)


def test_progress_json_lines_on_stderr(home: Path, tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src")
    r = run_cli("pack", "install", str(src), "--progress", "json", "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    events = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    assert {"event": "step_completed", "step": "record", "message": "installation #1"} in events
    assert r.json["results"][0]["ref"] == "demo"  # stdout holds exactly one document
