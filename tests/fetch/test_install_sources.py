"""``attune pack install`` from the local forms a new user tries first.

* ``path/to/pack.yaml`` installs that pack's folder.
* A bare git repository (a path or a ``file://`` URL) is cloned at ``HEAD`` or at
  ``--ref-spec``; ``git+file://`` and ``git+https://`` mean git whatever the URL
  looks like; a working tree (a checkout with ``.git`` inside) stays a folder.
* A file that is neither a pack.yaml nor an archive is ``not_a_pack`` (exit 1),
  the same for ``install`` and ``validate``.

Real files, real git repositories, the real CLI.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from attune_packs.pack.checksum import directory_checksum
from tests.conftest import CliResult, run_cli, write_pack
from tests.install_helpers import audit_rows, install_json, snapshot
from tests.servers import TestServer, git, make_bare_repo, write_config


def install(home: Path, *args: str, cwd: Path | None = None, env: dict | None = None) -> CliResult:
    return install_json(home, *args, cwd=cwd, env=env)


def installed(home: Path) -> dict[str, dict[str, Any]]:
    db = home / "attune.db"
    if not db.exists():
        return {}
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return {r["ref"]: dict(r) for r in con.execute("select * from pack")}
    finally:
        con.close()


def last_audit(home: Path) -> dict[str, Any]:
    row = audit_rows(home)[-1]
    row["meta"] = json.loads(row["meta"]) if row["meta"] else {}
    return row


def active_files(home: Path, ref: str) -> list[str]:
    root = home / "packs" / ref
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def one_error(r: CliResult, code: str, exit_code: int = 1) -> str:
    """The failure contract: exit status, one ``error:`` line, the JSON error document."""
    assert r.exit_code == exit_code, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert doc["error"]["code"] == code, doc
    assert lines[0] == "error: " + doc["error"]["message"]
    return doc["error"]["message"]


def seed(home: Path, tmp_path: Path) -> dict[str, Any]:
    """Install a pack that must survive what follows; return the state to compare with."""
    keep = write_pack(tmp_path / "seed" / "keep", "keep", "1.0.0")
    r = install(home, str(keep))
    assert r.exit_code == 0, r.stderr
    return snapshot(home)


@pytest.fixture
def repo(tmp_path: Path) -> dict[str, Any]:
    """A bare repository whose HEAD (main) holds demo 1.1.0 and whose tag v1.0.0 holds 1.0.0."""
    work = write_pack(tmp_path / "work", "demo", "1.0.0", files={"actions/a.yaml": "name: a\n"})
    bare = tmp_path / "srv" / "demo.git"
    c1 = make_bare_repo(work, bare, tags=["v1.0.0"])
    sum1 = directory_checksum(work).checksum
    write_pack(work, "demo", "1.1.0", files={"actions/a.yaml": "name: a\n"})
    c2 = make_bare_repo(work, bare)
    sum2 = directory_checksum(work).checksum
    return {"work": work, "bare": bare, "c1": c1, "c2": c2, "sum1": sum1, "sum2": sum2}


# --------------------------------------------------------------------------- pack.yaml path


def test_install_pack_yaml_path_installs_its_folder(home: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "src" / "mypack", "mypack", "1.2.0", files={"README": "hi\n"})
    r = install(home, str(pack / "pack.yaml"))
    assert r.exit_code == 0, r.stderr
    result = r.json["results"][0]
    assert (result["ref"], result["version"], result["status"]) == ("mypack", "1.2.0", "installed")
    assert result["source_type"] == "local_directory"
    assert result["source_url"] == str(pack.resolve())
    assert result["checksum"] == directory_checksum(pack).checksum
    row = installed(home)["mypack"]
    assert (row["source_type"], row["source_url"]) == ("local_directory", str(pack.resolve()))
    audit = last_audit(home)
    assert (audit["status"], audit["source_type"]) == ("succeeded", "local_directory")
    assert audit["source_url"] == str(pack.resolve())
    assert active_files(home, "mypack") == ["README", "pack.yaml"]


def test_install_relative_pack_yaml_from_its_folder(home: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "here", "here", "0.1.0")
    r = install(home, "pack.yaml", cwd=pack)
    assert r.exit_code == 0, r.stderr
    assert installed(home)["here"]["source_url"] == str(pack.resolve())
    # Installing the folder itself afterwards is the same pack: nothing to do.
    r = install(home, str(pack))
    assert r.exit_code == 0, r.stderr
    assert r.json["results"][0]["status"] == "already_installed"


def test_broken_pack_yaml_path_names_the_folder_given(home: Path, tmp_path: Path) -> None:
    pack = tmp_path / "src" / "broken"
    pack.mkdir(parents=True)
    (pack / "pack.yaml").write_text("ref: broken\nlabel: B\ndescription: d\n", encoding="utf-8")
    before = seed(home, tmp_path)
    r = install(home, str(pack / "pack.yaml"))
    message = one_error(r, "invalid_manifest")
    assert message.startswith(f"invalid pack in {pack}: ")
    assert "required field 'version' is missing" in message
    assert ".staging-" not in r.stderr + r.stdout and str(home) not in r.stderr + r.stdout
    assert snapshot(home) == before
    assert [a["status"] for a in audit_rows(home)] == ["succeeded", "failed"]


# --------------------------------------------------------------------------- git repositories


def test_bare_repo_path_installs_head_as_git(home: Path, repo: dict) -> None:
    before = installed(home)
    r = install(home, str(repo["bare"]))
    assert r.exit_code == 0, r.stderr
    result = r.json["results"][0]
    assert (result["ref"], result["version"]) == ("demo", "1.1.0")
    assert result["source_type"] == "git" and result["source_url"] == str(repo["bare"])
    # No --ref-spec: the commit HEAD named is what was installed (and what re-installs it).
    assert result["source_ref"] == repo["c2"]
    assert result["checksum"] == repo["sum2"]
    audit = last_audit(home)
    assert (audit["source_type"], audit["source_url"]) == ("git", str(repo["bare"]))
    assert audit["source_ref"] == repo["c2"]
    assert audit["meta"]["fetch"]["commit"] == repo["c2"]
    assert before == {} and installed(home)["demo"]["source_type"] == "git"
    assert ".git" not in active_files(home, "demo")
    assert active_files(home, "demo") == ["actions/a.yaml", "pack.yaml"]
    # A repository on this machine is local, like a folder: no "no expected checksum".
    assert "warning" not in r.stderr


def test_bare_repo_file_url_installs_as_git(home: Path, repo: dict) -> None:
    r = install(home, repo["bare"].as_uri(), "--expect-checksum", repo["sum2"])
    assert r.exit_code == 0, r.stderr
    result = r.json["results"][0]
    assert (result["version"], result["source_type"]) == ("1.1.0", "git")
    assert result["checksum_verified"] is True
    assert result["source_url"] == str(repo["bare"]) and result["source_ref"] == repo["c2"]


def test_bare_repo_at_ref_spec(home: Path, repo: dict) -> None:
    r = install(home, str(repo["bare"]), "--ref-spec", "v1.0.0")
    assert r.exit_code == 0, r.stderr
    result = r.json["results"][0]
    assert (result["version"], result["source_type"], result["source_ref"]) == (
        "1.0.0",
        "git",
        "v1.0.0",
    )
    assert last_audit(home)["meta"]["fetch"]["commit"] == repo["c1"]
    assert result["checksum"] == repo["sum1"]


def test_git_plus_file_url_clones_a_working_tree(home: Path, repo: dict) -> None:
    # An uncommitted file in the working tree: git installs what is committed.
    (repo["work"] / "scratch.txt").write_text("not committed\n")
    r = install(home, "git+" + repo["work"].as_uri())
    assert r.exit_code == 0, r.stderr
    result = r.json["results"][0]
    assert (result["version"], result["source_type"]) == ("1.1.0", "git")
    assert result["source_url"] == str(repo["work"]) and result["source_ref"] == repo["c2"]
    assert "scratch.txt" not in active_files(home, "demo")


def test_working_tree_folder_stays_a_local_directory(home: Path, repo: dict) -> None:
    (repo["work"] / "scratch.txt").write_text("not committed\n")
    r = install(home, str(repo["work"]))
    assert r.exit_code == 0, r.stderr
    result = r.json["results"][0]
    assert (result["source_type"], result["source_ref"]) == ("local_directory", None)
    files = active_files(home, "demo")
    assert "scratch.txt" in files and not any(f.startswith(".git") for f in files)


def test_recorded_git_source_round_trips_through_a_lock_file(
    home: Path, repo: dict, tmp_path: Path
) -> None:
    r = install(home, str(repo["bare"]))
    assert r.exit_code == 0, r.stderr
    row = last_audit(home)
    # HEAD moves on; the recorded (url, ref) still names what was installed.
    write_pack(repo["work"], "demo", "2.0.0")
    make_bare_repo(repo["work"], repo["bare"])
    lock = tmp_path / "demo.lock"
    lock.write_text(
        "version: 1\nrequires: []\npacks:\n"
        f'- ref: "demo"\n  version: "1.1.0"\n  source:\n    type: "git"\n'
        f'    url: "{row["source_url"]}"\n    git_ref: "{row["source_ref"]}"\n'
        f'  checksum: "{row["checksum"]}"\n  dependencies: []\n  runtime_deps: []\n',
        encoding="utf-8",
    )
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    r = run_cli(
        "pack", "install", "--locked", str(lock), "--progress", "none", "-o", "json", home=fresh
    )
    assert r.exit_code == 0, r.stderr
    again = last_audit(fresh)
    assert (again["source_type"], again["source_url"], again["source_ref"]) == (
        "git",
        str(repo["bare"]),
        repo["c2"],
    )
    assert again["checksum"] == row["checksum"] == repo["sum2"]
    assert installed(fresh)["demo"]["version"] == "1.1.0"


def test_git_plus_https_url_without_git_suffix(home: Path, tmp_path: Path) -> None:
    work = write_pack(tmp_path / "work", "remote_demo", "3.0.0")
    srv = tmp_path / "srv"
    commit = make_bare_repo(work, srv / "remote_demo")
    dirsum = directory_checksum(work).checksum
    write_config(home)
    with TestServer(tls=True, static_root=srv) as server:
        env = {"ATTUNE_CA_BUNDLE": str(server.ca_bundle)}
        url = server.url("remote_demo")
        r = install(home, "git+" + url, "--expect-checksum", dirsum, env=env)
        assert r.exit_code == 0, r.stderr
        result = r.json["results"][0]
        assert (result["source_type"], result["source_url"]) == ("git", url)
        assert result["source_ref"] == commit and result["checksum_verified"] is True
        # The recorded pair installs the same tree again, without the git+ prefix.
        fresh = tmp_path / "fresh"
        write_config(fresh)
        r = install(
            fresh,
            result["source_url"],
            "--ref-spec",
            result["source_ref"],
            "--expect-checksum",
            dirsum,
            env=env,
        )
        assert r.exit_code == 0, r.stderr
        assert r.json["results"][0]["source_type"] == "git"


def test_empty_bare_repo_fails_cleanly(home: Path, tmp_path: Path) -> None:
    bare = tmp_path / "empty.git"
    bare.mkdir()
    git("init", "-q", "--bare", cwd=bare)
    before = seed(home, tmp_path)
    r = install(home, str(bare))
    message = one_error(r, "git_error")
    assert message.startswith(f"git clone of {bare} failed: the repository has no commit at HEAD")
    assert ".staging-" not in r.stderr and str(home) not in r.stderr
    assert snapshot(home) == before
    rows = audit_rows(home)
    assert [(a["status"], a["source_type"]) for a in rows][1:] == [("failed", "git")]


def test_ref_spec_with_a_file_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    before = seed(home, tmp_path)
    r = install(home, str(pack / "pack.yaml"), "--ref-spec", "v1.0.0")
    message = one_error(r, "usage_error", exit_code=2)
    assert (
        message == f"--ref-spec v1.0.0 needs a git repository, but {pack / 'pack.yaml'} is a file"
    )
    assert snapshot(home) == before


def test_unsupported_git_plus_scheme_is_a_usage_error(home: Path) -> None:
    r = install(home, "git+ssh://example.invalid/demo.git")
    message = one_error(r, "usage_error", exit_code=2)
    assert "'git+ssh'" in message and "git+https://" in message


# --------------------------------------------------------------------------- not a pack


def _not_a_pack_file(tmp_path: Path, kind: str) -> Path:
    if kind == "text":
        path = tmp_path / "notes.txt"
        path.write_text("just some notes\n")
    elif kind == "binary":
        path = tmp_path / "blob"
        path.write_bytes(bytes(range(256)) * 4)
    else:
        path = tmp_path / "pipe"
        os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["text", "binary", "fifo"])
def test_install_of_a_file_that_is_not_a_pack(home: Path, tmp_path: Path, kind: str) -> None:
    path = _not_a_pack_file(tmp_path, kind)
    before = seed(home, tmp_path)
    r = install(home, str(path))
    message = one_error(r, "not_a_pack")
    assert message.startswith(f"{path} is not a pack: expected a pack folder, its pack.yaml, or ")
    assert ".zip, .tar.gz, .tgz or .tar archive" in message
    assert snapshot(home) == before
    rows = [(a["status"], a["error_message"]) for a in audit_rows(home)]
    assert rows[1:] == [("failed", message)]


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_validate_and_install_agree_on_a_file_that_is_not_a_pack(
    home: Path, tmp_path: Path, kind: str
) -> None:
    path = _not_a_pack_file(tmp_path, kind)
    v = run_cli("pack", "validate", str(path), "-o", "json", home=home)
    i = install(home, str(path))
    v_msg, i_msg = one_error(v, "not_a_pack"), one_error(i, "not_a_pack")
    assert v.exit_code == i.exit_code == 1
    assert v_msg == f"{path} is not a pack: expected a pack folder or its pack.yaml"
    assert i_msg.startswith(f"{path} is not a pack: expected a pack folder, its pack.yaml")


def test_validate_of_an_archive_is_not_a_pack(home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "demo.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00" + bytes(60))
    r = run_cli("pack", "validate", str(archive), "-o", "json", home=home)
    message = one_error(r, "not_a_pack")
    assert message == f"{archive} is an archive: expected a pack folder or its pack.yaml"
