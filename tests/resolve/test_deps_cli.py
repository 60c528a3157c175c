"""End to end: dependency resolution and installation, dry-run plans, ``pack deps``,
lock files and ``install --locked``, runtime checks, uninstall with dependents.

Real archives built here, a real format 1.1 local registry (several versions per ref,
relative archive URLs), the example index of ``packs-example/``, real SQLite, the real
CLI in a subprocess.  Fake runtimes are scripts put first on PATH.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from attune_packs.fetch.provenance import Provenance
from attune_packs.resolve import lockfile
from tests.conftest import EXAMPLES, CliResult, run_cli, write_pack
from tests.install_helpers import audit_rows, snapshot
from tests.servers import index_doc, index_entry, pack_tarball, write_config

# ref, version, pack requirements, runtime requirements
CATALOGUE: list[tuple[str, str, list[str], list[str]]] = [
    ("base", "1.0.0", [], []),
    ("base", "1.1.0", [], []),
    ("base", "2.0.0", [], []),
    ("lib", "1.0.0", ["base@^1"], []),
    ("lib", "2.0.0", ["base@^2"], []),
    # The newest lib (2.0.0) needs base@^2, which app's base@^1 rules out: backtracking.
    ("app", "1.0.0", ["lib", "base@^1"], []),
    # lib@^1 needs base@^1 while clash needs base@^2: impossible.
    ("clash", "1.0.0", ["lib@^1", "base@^2"], []),
    ("modern", "1.0.0", ["base@^1.1"], []),
    ("cyc_a", "1.0.0", ["cyc_b@^1"], []),
    ("cyc_b", "1.0.0", ["cyc_a@^1"], []),
    ("nodedep", "1.0.0", [], ["nodejs>=18"]),
    ("usesnode", "1.0.0", ["nodedep"], []),
]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _manifest_extra(ref: str, deps: list[str], runtimes: list[str]) -> str:
    extra = ""
    if deps:
        if ref == "app":  # the object form, with a runtime minimum
            extra += "dependencies:\n  python_version: '>=3.8'\n  packs:\n"
            extra += "".join(f"    - '{d}'\n" for d in deps)
        else:
            extra += "dependencies:\n" + "".join(f"  - '{d}'\n" for d in deps)
    if runtimes:
        extra += "runtime_deps:\n" + "".join(f"  - '{r}'\n" for r in runtimes)
    return extra


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A format 1.1 local registry: ``index.json`` + ``archives/`` built from CATALOGUE."""
    base = tmp_path_factory.mktemp("registry")
    (base / "archives").mkdir()
    entries = []
    for ref, version, deps, runtimes in CATALOGUE:
        src = write_pack(
            base / "src" / f"{ref}-{version}",
            ref,
            version,
            extra=_manifest_extra(ref, deps, runtimes),
            files={"actions/noop.yaml": f"name: noop\ndescription: {ref} {version}\n"},
        )
        data = pack_tarball(src, top=f"{ref}-{version}")
        name = f"archives/{ref}-{version}.tar.gz"
        (base / name).write_bytes(data)
        extra: dict[str, Any] = {"runtime_deps": runtimes}
        if deps:
            extra["dependencies"] = {"packs": deps}
        entries.append(
            index_entry(
                ref, version, [{"type": "archive", "url": name, "checksum": sha(data)}], **extra
            )
        )
    entries.sort(key=lambda e: (e["ref"], [int(x) for x in e["version"].split(".")]))
    index = base / "index.json"
    index.write_text(json.dumps(index_doc(entries, fmt="1.1", name="test")), encoding="utf-8")
    return index


def configure(home: Path, *registries: tuple[str, Path | str]) -> None:
    write_config(
        home, [{"name": n, "url": str(u), "priority": i + 1} for i, (n, u) in enumerate(registries)]
    )


@pytest.fixture
def home_reg(home: Path, reg: Path) -> Path:
    configure(home, ("test", reg))
    return home


def attune(home: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli("pack", *args, home=home, env=env)


def install(home: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return attune(home, "install", *args, "--progress", "none", "-o", "json", env=env)


def installed(home: Path) -> dict[str, str]:
    db = home / "attune.db"
    if not db.exists():
        return {}
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("select ref, version from pack").fetchall())
    finally:
        con.close()


def visible_packs(home: Path) -> list[str]:
    packs = home / "packs"
    return (
        sorted(p.name for p in packs.iterdir() if not p.name.startswith("."))
        if packs.exists()
        else []
    )


def one_error(r: CliResult, code: str, exit_code: int = 1) -> str:
    assert r.exit_code == exit_code, (r.stdout, r.stderr)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert r.json["error"]["code"] == code, r.json
    return errors[0]


# --------------------------------------------------------------------------- install


def test_backtracking_transitive_install_recorded_as_dependencies(home_reg: Path) -> None:
    home = home_reg
    r = install(home, "app")
    assert r.exit_code == 0, r.stderr
    # lib 2.0.0 (the newest) needs base@^2; app needs base@^1: lib 1.0.0 it is.
    assert installed(home) == {"app": "1.0.0", "base": "1.1.0", "lib": "1.0.0"}
    (res,) = r.json["results"]
    assert [(d["ref"], d["version"], d["status"]) for d in res["dependencies"]] == [
        ("base", "1.1.0", "installed"),
        ("lib", "1.0.0", "installed"),
    ]
    assert res["dependencies"][0]["source"]["registry"] == "test"
    # Dependencies first, each recorded as such; the audit trail through the CLI.
    h = attune(home, "history", "-o", "json")
    assert h.exit_code == 0, h.stderr
    rows = sorted(h.json, key=lambda a: a["id"])
    assert [(a["pack_ref"], a["installation_method"], a["status"]) for a in rows] == [
        ("base", "dependency", "succeeded"),
        ("lib", "dependency", "succeeded"),
        ("app", "cli", "succeeded"),
    ]
    assert rows[0]["registry_name"] == "test"
    assert json.loads(audit_rows(home)[-1]["meta"])["installed_dependencies"] == [
        "base 1.1.0",
        "lib 1.0.0",
    ]
    # pack_dependency rows for every installed version.
    con = sqlite3.connect(home / "attune.db")
    deps = con.execute(
        'select pack_ref, kind, name, "constraint" from pack_dependency order by 1, 2, 3'
    ).fetchall()
    con.close()
    assert deps == [
        ("app", "pack", "base", "^1"),
        ("app", "pack", "lib", "*"),
        ("app", "runtime", "python", ">=3.8"),
        ("lib", "pack", "base", "^1"),
    ]
    # Again: nothing to do, nothing written.
    rows_before = audit_rows(home)
    r = install(home, "app")
    assert r.exit_code == 0 and r.json["results"][0]["status"] == "already_installed"
    assert audit_rows(home) == rows_before


def test_conflict_is_explained_and_nothing_is_installed(home_reg: Path) -> None:
    r = install(home_reg, "clash")
    line = one_error(r, "dependency_conflict")
    assert "cannot satisfy 'base'" in line
    assert "clash@1.0.0 needs base@^2" in line and "needs base@^1" in line
    assert "available: 1.0.0, 1.1.0, 2.0.0" in line
    assert installed(home_reg) == {} and visible_packs(home_reg) == []
    (row,) = audit_rows(home_reg)
    assert (row["pack_ref"], row["status"]) == ("clash", "failed")
    assert json.loads(row["meta"])["failed_step"] == "dependencies"


def test_cycles_install_and_show(home_reg: Path) -> None:
    r = install(home_reg, "cyc_a")
    assert r.exit_code == 0, r.stderr
    assert installed(home_reg) == {"cyc_a": "1.0.0", "cyc_b": "1.0.0"}
    assert [(a["pack_ref"], a["installation_method"]) for a in audit_rows(home_reg)] == [
        ("cyc_b", "dependency"),
        ("cyc_a", "cli"),
    ]
    r = attune(home_reg, "deps", "cyc_a", "-o", "json")
    assert r.exit_code == 0, r.stderr
    (root,) = r.json["tree"]
    (child,) = root["dependencies"]
    assert (child["ref"], child["action"]) == ("cyc_b", "keep")
    assert child["dependencies"] == [
        {
            "ref": "cyc_a",
            "version": "1.0.0",
            "action": "keep",
            "installed_version": "1.0.0",
            "constraint": "^1",
            "source": child["dependencies"][0]["source"],
            "cycle": True,
        }
    ]


def test_skip_deps_skips_resolution(home_reg: Path) -> None:
    r = attune(home_reg, "install", "app", "--skip-deps", "--progress", "plain")
    assert r.exit_code == 0, r.stderr
    assert "dependency checks skipped (--skip-deps)" in r.stderr
    assert installed(home_reg) == {"app": "1.0.0"}


def test_upgrade_of_an_installed_dependency_and_protection(home_reg: Path, tmp_path: Path) -> None:
    home = home_reg
    svc1 = write_pack(tmp_path / "svc1", "svc", "1.0.0", extra="dependencies:\n  - base@^1\n")
    assert install(home, str(svc1)).exit_code == 0
    assert installed(home) == {"base": "1.1.0", "svc": "1.0.0"}
    # svc 2.0.0 needs base@^2: base is upgraded although svc 1.0.0 (being replaced)
    # asked for ^1.
    svc2 = write_pack(tmp_path / "svc2", "svc", "2.0.0", extra="dependencies:\n  - base@^2\n")
    r = install(home, str(svc2))
    assert r.exit_code == 0, r.stderr
    (dep,) = r.json["results"][0]["dependencies"]
    assert (dep["ref"], dep["action"], dep["installed_version"]) == ("base", "upgrade", "1.1.0")
    assert installed(home) == {"base": "2.0.0", "svc": "2.0.0"}
    last = [(a["pack_ref"], a["action"], a["installation_method"]) for a in audit_rows(home)]
    assert last[-2:] == [("base", "upgrade", "dependency"), ("svc", "upgrade", "cli")]
    # lib 1.0.0 would need base ^1, which the installed svc 2.0.0 forbids.
    before = snapshot(home)
    line = one_error(install(home, "lib@^1"), "dependency_conflict")
    assert "svc@2.0.0 (installed) needs base@^2" in line
    assert snapshot(home) == before


def test_no_registry_only_checks(home_reg: Path, tmp_path: Path) -> None:
    needy = write_pack(tmp_path / "needy", "needy", extra="dependencies:\n  - lib\n")
    line = one_error(install(home_reg, str(needy), "--no-registry"), "dependency_missing")
    assert "pack lib is not installed" in line
    assert installed(home_reg) == {}


def test_fail_closed_and_one_registry_per_ref(home: Path, reg: Path, tmp_path: Path) -> None:
    configure(home, ("broken", tmp_path / "missing.json"), ("test", reg))
    line = one_error(
        install(home, str(write_pack(tmp_path / "m", "m", extra="dependencies:\n  - base\n"))),
        "registry_unavailable",
    )
    assert "'broken'" in line and "fail closed" in line
    assert installed(home) == {}
    # A first registry listing only base 1.0.0 wins the ref: no mixing with the second.
    small = tmp_path / "small"
    small.mkdir()
    data = json.loads(reg.read_text())
    keep = [e for e in data["packs"] if (e["ref"], e["version"]) == ("base", "1.0.0")]
    for e in keep:
        for s in e["install_sources"]:
            s["url"] = str(reg.parent / s["url"])
    (small / "index.json").write_text(json.dumps(index_doc(keep, fmt="1.1", name="small")))
    configure(home, ("small", small / "index.json"), ("test", reg))
    line = one_error(install(home, "modern"), "dependency_conflict")
    assert "modern@1.0.0 needs base@^1.1, which no usable version satisfies" in line


# --------------------------------------------------------------------------- runtimes


def fake_runtime(tmp_path: Path, name: str, version_text: str) -> dict[str, str]:
    """``name --version`` prints ``version_text``; returns an env with it first on PATH."""
    bindir = tmp_path / f"bin-{name}-{version_text}".replace(" ", "_")
    bindir.mkdir(parents=True, exist_ok=True)
    exe = bindir / name
    exe.write_text(f"#!/bin/sh\necho '{version_text}'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return {"PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.parametrize(
    "extra",
    [
        "runtime_deps:\n  - nodejs>=18\n",
        "nodejs: '18'\n",
        "dependencies:\n  nodejs_version: '>=18'\n  packs:\n    - base\n",
    ],
    ids=["runtime_deps", "top_level", "dependencies_object"],
)
def test_runtime_failure_before_anything_is_activated(
    home_reg: Path, tmp_path: Path, extra: str
) -> None:
    if "packs:" not in extra:
        extra += "dependencies:\n  - base\n"
    pack = write_pack(tmp_path / "web", "web", extra=extra)
    old = fake_runtime(tmp_path, "node", "v16.20.2")
    line = one_error(install(home_reg, str(pack), env=old), "runtime_unsatisfied")
    assert "nodejs" in line and "16.20.2" in line and "18" in line
    # The dependency (base) was not installed either: runtimes come first.
    assert installed(home_reg) == {} and visible_packs(home_reg) == []
    new = fake_runtime(tmp_path, "node", "v20.1.0")
    r = install(home_reg, str(pack), env=new)
    assert r.exit_code == 0, r.stderr
    assert installed(home_reg) == {"base": "2.0.0", "web": "1.0.0"}


def test_runtime_of_a_dependency_is_checked_first(home_reg: Path, tmp_path: Path) -> None:
    old = fake_runtime(tmp_path, "node", "v16.20.2")
    line = one_error(install(home_reg, "usesnode", env=old), "runtime_unsatisfied")
    assert "pack 'nodedep' needs nodejs: found version 16.20.2" in line
    assert "does not satisfy >=18" in line
    assert installed(home_reg) == {}


# --------------------------------------------------------------------------- dry run, deps


def test_dry_run_prints_the_plan_and_changes_nothing(home_reg: Path, tmp_path: Path) -> None:
    home = home_reg
    assert install(home, "base@1.0.0").exit_code == 0
    before, rows = snapshot(home), audit_rows(home)
    r = install(home, "app", "modern", "--dry-run")
    assert r.exit_code == 0, r.stderr
    plan = [(p["ref"], p["version"], p["action"], p["installed_version"]) for p in r.json["plan"]]
    assert plan == [
        ("base", "1.0.0", "keep", "1.0.0"),  # app's base@^1: the installed one is kept
        ("lib", "1.0.0", "install", None),
        ("app", "1.0.0", "install", None),
        ("base", "1.1.0", "upgrade", "1.0.0"),  # modern needs base@^1.1
        ("modern", "1.0.0", "install", None),
    ]
    lib = r.json["plan"][1]
    assert lib["source"]["type"] == "archive" and lib["source"]["registry"] == "test"
    assert lib["source"]["url"].endswith("archives/lib-1.0.0.tar.gz")
    assert lib["required_by"] == ["app@1.0.0"]
    y = attune(home, "install", "app", "--dry-run", "--progress", "none", "-o", "yaml")
    assert y.exit_code == 0, y.stderr
    assert [p["ref"] for p in yaml.safe_load(y.stdout)["plan"]] == ["base", "lib", "app"]
    t = attune(home, "install", "app", "--dry-run", "--progress", "none")
    assert t.exit_code == 0, t.stderr
    assert t.stdout.startswith("dry run: nothing was changed")
    assert "registry 'test': archive" in t.stdout and "keep" in t.stdout
    assert snapshot(home) == before and audit_rows(home) == rows


def test_deps_command(home_reg: Path, tmp_path: Path) -> None:
    r = attune(home_reg, "deps", "app", "-o", "json")
    assert r.exit_code == 0, r.stderr
    (root,) = r.json["tree"]
    assert (root["ref"], root["action"], root["constraint"]) == ("app", "install", "(requested)")
    assert [(c["ref"], c["version"], c["constraint"]) for c in root["dependencies"]] == [
        ("lib", "1.0.0", "*"),
        ("base", "1.1.0", "^1"),
    ]
    assert root["dependencies"][0]["dependencies"][0]["ref"] == "base"
    assert [i["ref"] for i in r.json["order"]] == ["base", "lib", "app"]
    t = attune(home_reg, "deps", "app")
    assert t.exit_code == 0, t.stderr
    lines = t.stdout.splitlines()
    assert lines[0].split() == ["pack", "version", "action", "constraint", "from"]
    assert lines[1].startswith("app ") and lines[2].startswith("├─ lib")
    assert lines[3].startswith("│  └─ base") and lines[4].startswith("└─ base")
    assert "3 packs: 3 to install or change, 0 kept" in t.stdout
    # A folder: its dependencies resolved the same way; nothing is installed.
    folder = write_pack(tmp_path / "f", "f", extra="dependencies:\n  - modern\n")
    r = attune(home_reg, "deps", str(folder), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [(i["ref"], i["version"]) for i in r.json["order"]] == [
        ("base", "1.1.0"),
        ("modern", "1.0.0"),
        ("f", "1.0.0"),
    ]
    assert installed(home_reg) == {}
    line = one_error(attune(home_reg, "deps", "clash", "-o", "json"), "dependency_conflict")
    assert "cannot satisfy 'base'" in line
    line = one_error(attune(home_reg, "deps", "nosuch", "-o", "json"), "dependency_conflict")
    assert "no version of pack 'nosuch' is available" in line
    one_error(attune(home_reg, "deps", "Bad@", "-o", "json"), "invalid_requirement", 2)


# --------------------------------------------------------------------------- lock files


def test_lock_then_install_locked_into_a_fresh_home(home_reg: Path, tmp_path: Path) -> None:
    lock = tmp_path / "site.lock"
    r = attune(home_reg, "lock", "app", "--file", str(lock), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json["written"] is True
    text = lock.read_bytes()
    assert text.startswith(b"# attune-packs lock file")
    doc = yaml.safe_load(text)
    assert doc["version"] == 1 and doc["requires"] == ["app"]
    assert [(p["ref"], p["version"]) for p in doc["packs"]] == [
        ("app", "1.0.0"),
        ("base", "1.1.0"),
        ("lib", "1.0.0"),
    ]
    lib = doc["packs"][2]
    data = (Path(lib["source"]["url"])).read_bytes()
    assert lib["checksum"] == sha(data) and lib["source"]["type"] == "archive"
    assert lib["dependencies"] == ["base@^1"] and lib["source"]["registry"] == "test"
    # Same input, same bytes; --check agrees.
    t = attune(home_reg, "lock", "app", "--file", str(lock))
    assert t.exit_code == 0 and "3 packs, unchanged" in t.stdout
    assert lock.read_bytes() == text
    assert attune(home_reg, "lock", "app", "--file", str(lock), "--check").exit_code == 0
    stale = attune(home_reg, "lock", "modern", "--file", str(lock), "--check", "-o", "json")
    assert stale.exit_code == 1 and stale.json["up_to_date"] is False
    assert lock.read_bytes() == text
    assert installed(home_reg) == {}  # locking installs nothing

    fresh = tmp_path / "fresh"  # no registries configured at all
    fresh.mkdir()
    r = attune(fresh, "install", "--locked", str(lock), "--progress", "none", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [x["ref"] for x in r.json["results"]] == ["base", "lib", "app"]
    assert installed(fresh) == {"app": "1.0.0", "base": "1.1.0", "lib": "1.0.0"}
    assert {a["installation_method"] for a in audit_rows(fresh)} == {"lockfile"}
    assert all(a["checksum_verified"] for a in audit_rows(fresh))
    assert attune(fresh, "verify").exit_code == 0
    # Once more: already installed, nothing recorded; the dry run says keep.
    rows = audit_rows(fresh)
    r = attune(fresh, "install", "--locked", str(lock), "--dry-run", "-o", "json")
    assert [p["action"] for p in r.json["plan"]] == ["keep", "keep", "keep"]
    r = attune(fresh, "install", "--locked", str(lock), "--progress", "none", "-o", "json")
    assert {x["status"] for x in r.json["results"]} == {"already_installed"}
    assert audit_rows(fresh) == rows


def _lock_doc(reg: Path) -> dict[str, Any]:
    def pack(ref: str, version: str, deps: list[str]) -> dict[str, Any]:
        url = reg.parent / "archives" / f"{ref}-{version}.tar.gz"
        return {
            "ref": ref,
            "version": version,
            "source": {"type": "archive", "url": str(url)},
            "checksum": sha(url.read_bytes()),
            "dependencies": deps,
            "runtime_deps": [],
        }

    return {
        "version": 1,
        "requires": ["lib"],
        "packs": [pack("base", "1.0.0", []), pack("lib", "1.0.0", ["base@^1"])],
    }


def test_locked_refuses_a_checksum_difference(home: Path, reg: Path, tmp_path: Path) -> None:
    doc = _lock_doc(reg)
    doc["packs"][1]["checksum"] = sha(b"something else")
    lock = tmp_path / "tampered.lock"
    lock.write_text(yaml.safe_dump(doc))
    line = one_error(
        attune(home, "install", "--locked", str(lock), "--progress", "none", "-o", "json"),
        "checksum_mismatch",
    )
    assert "already done: base 1.0.0" in line
    # Nothing of lib was activated; base (before it in the order) was.
    assert installed(home) == {"base": "1.0.0"}
    assert visible_packs(home) == ["base", "base-1.0.0"]
    failed = audit_rows(home)[-1]
    assert (failed["pack_ref"], failed["status"], failed["installation_method"]) == (
        "lib",
        "failed",
        "lockfile",
    )


@pytest.mark.parametrize(
    ("change", "code", "fragment"),
    [
        (lambda d: d.update(version=2), "lockfile_too_new", "newer than this attune-packs"),
        (lambda d: d.update(extra=1), "invalid_lockfile", "extra: unknown key"),
        (lambda d: d["packs"].pop(0), "invalid_lockfile", "is inconsistent"),
        (lambda d: d["packs"][0].update(checksum="md5:x"), "invalid_lockfile", "checksum"),
        (
            lambda d: d["packs"][0]["source"].update(url="rel/base.tar.gz"),
            "invalid_lockfile",
            "must be absolute",
        ),
    ],
    ids=["too_new", "unknown_key", "incomplete", "bad_checksum", "relative_url"],
)
def test_bad_lock_files_are_refused(
    home: Path, reg: Path, tmp_path: Path, change: Any, code: str, fragment: str
) -> None:
    doc = _lock_doc(reg)
    change(doc)
    lock = tmp_path / "bad.lock"
    lock.write_text(yaml.safe_dump(doc))
    line = one_error(attune(home, "install", "--locked", str(lock), "-o", "json"), code)
    assert fragment in line
    assert installed(home) == {}


def test_locked_usage_errors(home: Path, tmp_path: Path) -> None:
    one_error(
        attune(home, "install", "--locked", str(tmp_path / "none.lock"), "-o", "json"), "not_found"
    )
    lock = tmp_path / "x.lock"
    lock.write_text("version: 1\n")
    one_error(attune(home, "install", "x", "--locked", str(lock), "-o", "json"), "usage_error", 2)
    one_error(
        attune(home, "install", "--locked", str(lock), "--skip-deps", "-o", "json"),
        "usage_error",
        2,
    )


def test_lockfile_format_is_canonical(tmp_path: Path) -> None:
    pack = lockfile.LockedPack(
        ref="zeta",
        version="1.0.0",
        provenance=Provenance(
            "git",
            url='/srv/pack\u00e9s/zeta "x".git',
            checksum="sha256:" + "a" * 64,
            git_ref="v1.0.0",
        ),
        dependencies=["alpha@^1", "alpha@<2 || 3.x"],
    )
    other = lockfile.LockedPack(
        "alpha",
        "1.0.0",
        Provenance("local_directory", "/p/\U0001f600", checksum="sha256:" + "b" * 64),
    )
    lock = lockfile.LockFile(requires=["zeta"], packs=[pack, other])
    text = lockfile.dump(lock)
    assert text.isascii() and text.endswith("\n")
    assert text == lockfile.dump(lockfile.LockFile(["zeta"], [other, pack]))
    path = tmp_path / "a.lock"
    assert lockfile.write(path, lock) is True
    assert lockfile.write(path, lock) is False  # identical: not rewritten
    back = lockfile.load(path)
    assert [p.ref for p in back.packs] == ["alpha", "zeta"]
    assert back.packs[1].provenance.url == pack.provenance.url
    assert back.packs[0].provenance.url == other.provenance.url
    assert back.packs[1].provenance.git_ref == "v1.0.0"
    assert lockfile.dump(back) == text
    assert yaml.safe_load(text) == lock.to_dict()


# --------------------------------------------------------------------------- uninstall, examples


def test_uninstall_refuses_while_dependents_are_installed(home_reg: Path) -> None:
    home = home_reg
    assert install(home, "app").exit_code == 0
    before = snapshot(home)
    line = one_error(attune(home, "uninstall", "base", "--yes", "-o", "json"), "has_dependents")
    assert "required by app (base@^1), lib (base@^1)" in line
    assert snapshot(home) == before
    r = attune(home, "uninstall", "base", "--yes", "--force")
    assert r.exit_code == 0, r.stderr
    assert "warning: removing base although app, lib depend on it (--force)" in r.stderr
    assert installed(home) == {"app": "1.0.0", "lib": "1.0.0"}


def test_example_index_installs_dependencies_by_name(home: Path, tmp_path: Path) -> None:
    # The examples' index is format 1.0 with archive URLs relative to it: copy it as is.
    shutil.copytree(EXAMPLES / "archives", tmp_path / "ex" / "archives")
    shutil.copy(EXAMPLES / "index.json", tmp_path / "ex" / "index.json")
    configure(home, ("examples", tmp_path / "ex" / "index.json"))
    r = attune(home, "deps", "incident_response", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert [(i["ref"], i["action"]) for i in r.json["order"]] == [
        ("core_utils", "install"),
        ("shell_tools", "install"),
        ("incident_response", "install"),
    ]
    r = install(home, "incident_response", "--skip-tests")
    assert r.exit_code == 0, r.stderr
    assert installed(home) == {
        "core_utils": "1.2.0",
        "incident_response": "1.0.0",
        "shell_tools": "2.0.1",
    }
    assert [(a["pack_ref"], a["installation_method"]) for a in audit_rows(home)] == [
        ("core_utils", "dependency"),
        ("shell_tools", "dependency"),
        ("incident_response", "cli"),
    ]


def test_deps_and_lock_of_local_paths(home_reg: Path, tmp_path: Path) -> None:
    from attune_packs.pack.checksum import directory_checksum

    site = write_pack(tmp_path / "site", "site", extra="dependencies:\n  - modern\n")
    archive = tmp_path / "site.tar.gz"
    archive.write_bytes(pack_tarball(site))
    r = attune(home_reg, "deps", str(archive), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json["kind"] == "path"
    assert [(i["ref"], i["version"]) for i in r.json["order"]] == [
        ("base", "1.1.0"),
        ("modern", "1.0.0"),
        ("site", "1.0.0"),
    ]
    lock = tmp_path / "local.lock"
    r = attune(home_reg, "lock", str(site), "--file", str(lock), "-o", "json")
    assert r.exit_code == 0, r.stderr
    entry = next(p for p in r.json["packs"] if p["ref"] == "site")
    assert entry["source"] == {"type": "local_directory", "url": str(site.resolve())}
    assert entry["checksum"] == directory_checksum(site).checksum
    assert r.json["requires"] == [str(site.resolve())]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    r = attune(fresh, "install", "--locked", str(lock), "--progress", "none", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert installed(fresh) == {"base": "1.1.0", "modern": "1.0.0", "site": "1.0.0"}
    assert audit_rows(fresh)[-1]["source_type"] == "local_directory"
    # The folder changed after locking: refused, nothing of it activated.
    (site / "actions").mkdir()
    (site / "actions" / "new.yaml").write_text("name: new\n")
    other = tmp_path / "other"
    other.mkdir()
    r = attune(other, "install", "--locked", str(lock), "--progress", "none", "-o", "json")
    one_error(r, "checksum_mismatch")
    assert "site" not in installed(other) and "site" not in visible_packs(other)


def test_git_sources_across_registries_and_lock(home: Path, reg: Path, tmp_path: Path) -> None:
    from attune_packs.pack.checksum import directory_checksum
    from tests.servers import make_bare_repo

    gitreg = tmp_path / "gitreg"
    work = write_pack(tmp_path / "work", "gitpack", "1.0.0", extra="dependencies:\n  - base@~1.0\n")
    make_bare_repo(work, gitreg / "repos" / "gitpack.git", tags=["v1.0.0"])
    dirsum = directory_checksum(work).checksum
    entry = index_entry(
        "gitpack",
        "1.0.0",
        [{"type": "git", "url": "repos/gitpack.git", "ref": "v1.0.0", "checksum": dirsum}],
        dependencies={"packs": ["base@~1.0"]},
    )
    (gitreg / "index.json").write_text(json.dumps(index_doc([entry], name="gitreg")))
    # gitpack from the first registry; base is not listed there, so the second wins it.
    configure(home, ("gitreg", gitreg / "index.json"), ("test", reg))
    r = install(home, "gitpack")
    assert r.exit_code == 0, r.stderr
    assert installed(home) == {"base": "1.0.0", "gitpack": "1.0.0"}
    regs = {a["pack_ref"]: a["registry_name"] for a in audit_rows(home)}
    assert regs == {"base": "test", "gitpack": "gitreg"}
    lock = tmp_path / "git.lock"
    r = attune(home, "lock", "gitpack", "--file", str(lock), "-o", "json")
    assert r.exit_code == 0, r.stderr
    entry = next(p for p in r.json["packs"] if p["ref"] == "gitpack")
    assert entry["source"]["type"] == "git" and entry["source"]["git_ref"] == "v1.0.0"
    assert entry["source"]["url"] == str(gitreg / "repos" / "gitpack.git")
    assert entry["checksum"] == dirsum
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    r = attune(fresh, "install", "--locked", str(lock), "--progress", "none", "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert installed(fresh) == {"base": "1.0.0", "gitpack": "1.0.0"}
    row = audit_rows(fresh)[-1]
    assert (row["source_type"], row["source_ref"], row["checksum_verified"]) == ("git", "v1.0.0", 1)
