"""The Python API (attune_packs.api.PackManager): the same objects the CLI renders.

Every method is checked against the command it mirrors: ``result.to_dict()`` must
equal what ``attune pack ... -o json`` prints for the same home.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attune_packs.api import PackManager
from attune_packs.errors import (
    AttuneError,
    ChecksumMismatch,
    ConfigError,
    DependencyError,
    NotFound,
    UsageError,
)
from attune_packs.events import EventBus
from tests.conftest import EXAMPLES, REPO, run_cli, write_pack
from tests.install_helpers import audit_rows


def pm(home: Path, **kw: Any) -> PackManager:
    """A manager for ``home`` that reads no ATTUNE_* variable of the test process."""
    return PackManager(home=home, env={}, **kw)


def cli_json(home: Path, *args: str, code: int = 0) -> Any:
    r = run_cli("pack", *args, "-o", "json", home=home)
    assert r.exit_code == code, r.stderr
    return r.json


def same(result: Any, cli_doc: Any) -> None:
    """``to_dict()`` is the CLI's document, byte for byte once serialised alike."""
    dumped = json.loads(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
    assert dumped == cli_doc


@pytest.fixture
def registry_home(home: Path) -> Path:
    """A home whose one registry is the example index (local archives, no network)."""
    (home / "config.yaml").write_text(
        f"registries:\n  - name: examples\n    url: {EXAMPLES / 'index.json'}\n    priority: 1\n",
        encoding="utf-8",
    )
    return home


# -- import cost and settings ----------------------------------------------------------------


def test_importing_the_api_loads_nothing_else() -> None:
    code = (
        "import sys, attune_packs.api\n"
        "print(sorted(m for m in sys.modules if m.startswith('attune_packs')))\n"
        "print('dataclasses' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.splitlines()
    assert out == ["['attune_packs', 'attune_packs.api']", "False"]


def test_checksum_and_validate_work_with_a_broken_config(home: Path, tmp_path: Path) -> None:
    (home / "config.yaml").write_text("no_such_key: 1\n", encoding="utf-8")
    pack = write_pack(tmp_path / "p", files={"a.txt": "x"})
    manager = pm(home)
    result = manager.checksum(pack)
    same(result, cli_json(home, "checksum", str(pack)))
    assert result.kind == "directory" and result.files == 2
    report = manager.validate(pack)
    same(report, cli_json(home, "validate", str(pack)))
    assert report.valid and report.ref == "demo"
    with pytest.raises(ConfigError) as err:
        manager.list()
    assert err.value.code == "config_error"
    assert cli_json(home, "list", code=err.value.exit_code) == err.value.to_dict()


def test_checksum_expect_and_mismatch(home: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    good = pm(home).checksum(str(pack)).checksum
    result = pm(home).checksum(pack, expect=good)
    same(result, cli_json(home, "checksum", str(pack), "--expect", good))
    assert result.matches is True
    with pytest.raises(ChecksumMismatch) as err:
        pm(home).checksum(pack, expect="sha256:" + "0" * 64)
    assert err.value.code == "checksum_mismatch" and err.value.exit_code == 1
    with pytest.raises(UsageError) as bad:
        pm(home).checksum(pack, expect="md5:abc")
    assert bad.value.code == "invalid_checksum"


def test_validate_reports_problems_and_refuses_non_packs(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "pack.yaml").write_text("ref: Bad Ref\nversion: x\n", encoding="utf-8")
    report = pm(home).validate(bad)
    assert not report.valid and report.errors
    same(report, cli_json(home, "validate", str(bad), code=1))
    with pytest.raises(NotFound) as err:
        pm(home).validate(tmp_path / "missing")
    assert err.value.code == "not_found"


# -- install, list, show, history, verify, uninstall -----------------------------------------


def test_install_is_recorded_as_api_and_reads_match_the_cli(home: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p", files={"a.txt": "x"})
    manager = pm(home)
    dry = manager.install([str(pack)], dry_run=True)
    same(dry, cli_json(home, "install", str(pack), "--dry-run", "--progress", "none"))
    assert dry.dry_run and dry.plan and manager.list() == []

    run = manager.install(str(pack))  # one SOURCE may be given as a string
    assert not run.dry_run and run.plan is None
    (result,) = run.results
    assert (result["ref"], result["status"], result["installation_id"]) == ("demo", "installed", 1)
    assert audit_rows(home)[-1]["installation_method"] == "api"

    # installing it again is a no-op, the same document as the CLI's
    same(manager.install([str(pack)]), cli_json(home, "install", str(pack), "--progress", "none"))

    packs = manager.list()
    assert [p.ref for p in packs] == ["demo"] and packs[0].version == "1.0.0"
    same(packs, cli_json(home, "list"))
    details = manager.show("demo")
    assert details.pack.ref == "demo" and details.link_target == "demo-1.0.0"
    same(details, cli_json(home, "show", "demo"))
    trail = manager.history()
    assert [a.installation_method for a in trail] == ["api"]
    same(trail, cli_json(home, "history"))
    same(manager.history("demo", limit=1), cli_json(home, "history", "demo", "--limit", "1"))
    report = manager.verify()
    assert report.ok and report.problems() == []
    same(report, cli_json(home, "verify"))


def test_verify_reports_changes_without_raising(home: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p", files={"a.txt": "x"})
    pm(home).install([str(pack)])
    (home / "packs" / "demo" / "a.txt").write_text("changed", encoding="utf-8")
    report = pm(home).verify(["demo", "ghost"])
    assert not report.ok
    assert report.problems() == [
        "error: demo 1.0.0: changed a.txt",
        "error: ghost: pack 'ghost' is not installed",
    ]
    same(report, cli_json(home, "verify", "demo", "ghost", code=1))


def test_uninstall_matches_the_cli_and_is_recorded_as_api(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    api_home, cli_home = tmp_path / "api", tmp_path / "cli"
    pm(api_home).install([str(pack)])
    assert run_cli("pack", "install", str(pack), "-q", home=cli_home).exit_code == 0
    result = pm(api_home).uninstall("demo")
    assert (result.ref, result.status, result.removed_versions) == (
        "demo",
        "uninstalled",
        ["1.0.0"],
    )
    same(result, cli_json(cli_home, "uninstall", "demo", "--yes"))
    assert [r["installation_method"] for r in audit_rows(api_home)] == ["api", "api"]
    assert [r["installation_method"] for r in audit_rows(cli_home)] == ["cli", "cli"]


def test_errors_are_typed_with_codes(home: Path, tmp_path: Path) -> None:
    base = write_pack(tmp_path / "base", ref="base")
    app = write_pack(
        tmp_path / "app", ref="app", extra="dependencies:\n  packs:\n    - base@^1.0\n"
    )
    manager = pm(home)
    manager.install([str(base), str(app)], no_registry=True)
    with pytest.raises(DependencyError) as dep:
        manager.uninstall("base")
    assert dep.value.code == "has_dependents" and dep.value.details["dependents"] == ["app"]
    forced = manager.uninstall("base", force=True)
    assert forced.broken_dependents == ["app"] and len(forced.warnings) == 1
    with pytest.raises(NotFound) as missing:
        manager.show("base")
    assert missing.value.code == "not_found" and missing.value.exit_code == 1
    with pytest.raises(UsageError) as usage:
        manager.install(["x"], registry="a", no_registry=True)
    assert usage.value.exit_code == 2
    with pytest.raises(UsageError, match="missing SOURCE"):
        manager.install([])
    with pytest.raises(AttuneError) as gone:
        manager.install([str(tmp_path / "nowhere")])
    assert gone.value.code == "not_found"
    assert audit_rows(home)[-1]["installation_method"] == "api"  # the failure is recorded too


def test_events_reach_the_bus_and_warnings_are_per_call(home: Path, tmp_path: Path) -> None:
    seen: list[Any] = []
    bus = EventBus(seen.append)
    base = write_pack(tmp_path / "base", ref="base")
    app = write_pack(
        tmp_path / "app", ref="app", extra="dependencies:\n  packs:\n    - base@^1.0\n"
    )
    manager = pm(home, bus=bus)
    manager.install([str(base), str(app)], no_registry=True)
    steps = [e.step for e in seen if e.event == "step_started"]
    assert steps[:2] == ["resolve", "fetch"] and "record" in steps
    first = manager.uninstall("base", force=True)
    second = manager.uninstall("app")
    assert len(first.warnings) == 1 and second.warnings == []
    assert bus.warnings == first.warnings


# -- lock files and registries ---------------------------------------------------------------


def test_locked_install(registry_home: Path, tmp_path: Path) -> None:
    home = registry_home
    lock = tmp_path / "site.lock"
    cli_json(home, "lock", "shell_tools", "--file", str(lock))
    manager = pm(home)
    dry = manager.install(locked=lock, dry_run=True)
    same(dry, cli_json(home, "install", "--locked", str(lock), "--dry-run"))
    run = manager.install(locked=str(lock), skip_tests=True)
    assert [r["ref"] for r in run.results] == ["shell_tools"] and run.locked == str(lock)
    assert audit_rows(home)[-1]["installation_method"] == "lockfile"
    with pytest.raises(UsageError, match="cannot be used with --locked"):
        manager.install(locked=lock, registry="examples")


def test_search(registry_home: Path) -> None:
    home = registry_home
    found = pm(home).search("core")
    assert found.hits and found.hits[0].ref == "core_utils"
    same(found, cli_json(home, "search", "core"))
    few = pm(home).search("a", limit=1)
    assert len(few.shown) == 1 and few.total > 1 and few.hidden == few.total - 1
    same(few, cli_json(home, "search", "a", "--limit", "1"))
    with pytest.raises(UsageError) as err:
        pm(home).search("core", registry="nope")
    assert err.value.code == "unknown_registry"
