"""``--ref-spec`` takes what ``git checkout`` takes, and a local folder that is not a
repository is named as such (defects a new user found).

* ``HEAD``, full ref names (``refs/tags/v1.0.0``, ``refs/heads/main``, any other
  ``refs/...``), abbreviated commits of at least 7 hex digits (a branch of that
  name wins, as in git; an ambiguous abbreviation is a clear error) -- over a
  local path, a ``file://`` URL and "dumb" HTTPS.
* ``attune pack install git+file:///plain/folder --ref-spec v1`` says
  ``/plain/folder is not a git repository (--ref-spec needs one)``, never git's
  "Could not read from remote repository".

Real repositories (made with git), a real HTTPS server on 127.0.0.1, the real CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attune_packs.errors import SourceError
from attune_packs.net.git import GitError, check_git_ref, clone
from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows
from tests.servers import TestServer, git, make_bare_repo, trusting_ca


def _colliding_commits(bare: Path, parent: str) -> tuple[str, str]:
    """Write two commits (same tree as ``parent``) whose ids share their first 7 hex
    digits but not the 8th, on branches ``twin-a`` and ``twin-b``; return their ids."""
    tree = git("rev-parse", f"{parent}^{{tree}}", cwd=bare)
    seen: dict[str, tuple[bytes, str]] = {}
    i = 0
    while True:
        body = (
            f"tree {tree}\nparent {parent}\n"
            "author Tests <tests@example.invalid> 1700000000 +0000\n"
            "committer Tests <tests@example.invalid> 1700000000 +0000\n\n"
            f"twin {i}\n"
        ).encode()
        oid = hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()
        other = seen.get(oid[:7])
        if other is not None and other[1][7] != oid[7]:
            break
        seen[oid[:7]] = (body, oid)
        i += 1
    ids = []
    for name, (data, expected) in (("twin-a", other), ("twin-b", (body, oid))):
        path = bare.parent / f"{name}.commit"
        path.write_bytes(data)
        got = git("hash-object", "-t", "commit", "-w", str(path), cwd=bare)
        assert got == expected
        git("update-ref", f"refs/heads/{name}", got, cwd=bare)
        ids.append(got)
    return ids[0], ids[1]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("newuser-git").resolve()
    work = write_pack(base / "work", "demo", "1.0.0")
    bare = base / "srv" / "demo.git"
    c1 = make_bare_repo(work, bare)
    write_pack(work, "demo", "1.1.0")
    c2 = make_bare_repo(work, bare, tags=["v1.1.0"])
    # An annotated tag (refs/tags/... must be peeled to its commit), a ref outside
    # heads/ and tags/, and a branch named like the abbreviation of another commit.
    git("tag", "-a", "-m", "first release", "v1.0.0", c1, cwd=bare)
    git("update-ref", "refs/pull/1/head", c1, cwd=bare)
    git("update-ref", f"refs/heads/{c2[:8]}", c1, cwd=bare)
    twin_a, twin_b = _colliding_commits(bare, c2)
    git("update-server-info", cwd=bare)
    plain = base / "plain"
    plain.mkdir()
    (plain / "README.md").write_text("a folder without git history\n")
    return {
        "base": base,
        "bare": bare,
        "work": work,
        "plain": plain,
        "c1": c1,
        "c2": c2,
        "twin_a": twin_a,
        "twin_b": twin_b,
    }


@pytest.fixture(scope="module")
def server(repo: dict) -> Iterator[TestServer]:
    with TestServer(tls=True, static_root=repo["bare"].parent) as s:
        yield s


@pytest.fixture(autouse=True)
def trust(server: TestServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from trusting_ca(server.ca_bundle, monkeypatch)


def location(repo: dict, server: TestServer, transport: str) -> str:
    if transport == "path":
        return str(repo["bare"])
    if transport == "file_url":
        return repo["bare"].as_uri()
    return server.url("demo.git")  # "dumb" HTTPS: no shallow clones


def do_clone(url: str, ref: str | None, dest: Path, **kw: Any):
    return clone(url, ref, dest, allow_http=False, timeout=60, **kw)


# --------------------------------------------------------------------------- every form


FORMS = {
    # name: (ref given the commit ids, expected commit key, expected version)
    "HEAD": (lambda r: "HEAD", "c2", "1.1.0"),
    "full tag ref (annotated)": (lambda r: "refs/tags/v1.0.0", "c1", "1.0.0"),
    "full tag ref (lightweight)": (lambda r: "refs/tags/v1.1.0", "c2", "1.1.0"),
    "full branch ref": (lambda r: "refs/heads/main", "c2", "1.1.0"),
    "other full ref": (lambda r: "refs/pull/1/head", "c1", "1.0.0"),
    "abbreviated commit (8)": (lambda r: r["c1"][:8], "c1", "1.0.0"),
    "abbreviated commit (7, upper case)": (lambda r: r["c1"][:7].upper(), "c1", "1.0.0"),
    "abbreviated twin with 8 digits": (lambda r: r["twin_b"][:8], "twin_b", "1.1.0"),
}


@pytest.mark.parametrize("transport", ["path", "file_url", "dumb_https"])
@pytest.mark.parametrize("form", list(FORMS))
def test_ref_spec_forms_resolve_like_git_checkout(
    repo: dict, server: TestServer, tmp_path: Path, transport: str, form: str
) -> None:
    make_ref, key, version = FORMS[form]
    ref = make_ref(repo)
    got = do_clone(location(repo, server, transport), ref, tmp_path / "c")
    assert got.commit == repo[key]
    assert got.ref == ref
    assert f"version: {version}" in (got.path / "pack.yaml").read_text()
    assert not (tmp_path / "c" / ".git").exists()


def test_a_branch_named_like_an_abbreviation_wins(repo: dict, tmp_path: Path) -> None:
    # As in git: the branch "<c2[:8]>" (at c1) is taken before the commit c2.
    got = do_clone(str(repo["bare"]), repo["c2"][:8], tmp_path / "c")
    assert got.commit == repo["c1"]


@pytest.mark.parametrize("transport", ["path", "dumb_https"])
def test_ambiguous_abbreviation_is_a_clear_error(
    repo: dict, server: TestServer, tmp_path: Path, transport: str
) -> None:
    short = repo["twin_a"][:7]
    assert repo["twin_b"].startswith(short)
    dest = tmp_path / "c"
    with pytest.raises(GitError) as err:
        do_clone(location(repo, server, transport), short, dest)
    assert err.value.message.endswith(
        f"failed: the abbreviated commit {short!r} is ambiguous (several commits start "
        "with it): give more hex digits, or the full commit"
    )
    assert os.listdir(dest) == []


def test_unknown_forms_are_named(repo: dict, tmp_path: Path) -> None:
    bare = str(repo["bare"])
    known = {repo[k] for k in ("c1", "c2", "twin_a", "twin_b")}
    missing = next(
        p for p in ("0000000", "1234567", "7654321") if not any(c.startswith(p) for c in known)
    )
    cases = {
        missing: f"no branch, tag or commit {missing!r} found",
        "refs/tags/nope": "ref 'refs/tags/nope' not found",
        "refs/heads/nope": "ref 'refs/heads/nope' not found",
        repo["c1"][:6]: (
            f"branch or tag {repo['c1'][:6]!r} not found "
            "(an abbreviated commit needs at least 7 hex digits)"
        ),
    }
    for i, (ref, message) in enumerate(cases.items()):
        dest = tmp_path / f"c{i}"
        with pytest.raises(GitError) as err:
            do_clone(bare, ref, dest)
        assert err.value.message == f"git clone of {bare} at {ref} failed: {message}"
        assert os.listdir(dest) == []


@pytest.mark.parametrize("ref", ["-HEAD", "--upload-pack=touch /tmp/x", "HEAD^", "a b"])
def test_refused_refs_still_refused(ref: str) -> None:
    with pytest.raises(SourceError) as err:
        check_git_ref(ref)
    assert err.value.code == "usage_error"


def test_hostile_git_environment_still_ignored(
    repo: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fetch and full-clone paths run git in the clone: GIT_DIR must not steer them.
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_WORK_TREE", str(tmp_path / "elsewhere"))
    got = do_clone(str(repo["bare"]), "refs/tags/v1.0.0", tmp_path / "a")
    assert got.commit == repo["c1"]
    got = do_clone(str(repo["bare"]), repo["c1"][:9], tmp_path / "b")
    assert got.commit == repo["c1"]
    assert not (tmp_path / "elsewhere").exists()


# --------------------------------------------------------------------------- through the CLI


def install(home: Path, *args: str) -> Any:
    return run_cli(
        "pack", "install", *args, "--skip-tests", "--progress", "none", "-o", "json", home=home
    )


@pytest.mark.parametrize(
    ("ref", "key", "version"),
    [
        ("HEAD", "c2", "1.1.0"),
        ("refs/tags/v1.0.0", "c1", "1.0.0"),
        ("refs/heads/main", "c2", "1.1.0"),
        ("short", "c1", "1.0.0"),
    ],
)
def test_cli_installs_each_form_and_records_the_commit(
    repo: dict, tmp_path: Path, ref: str, key: str, version: str
) -> None:
    ref = repo["c1"][:8] if ref == "short" else ref
    home = tmp_path / "home"
    home.mkdir()
    r = install(home, str(repo["bare"]), "--ref-spec", ref)
    assert r.exit_code == 0, r.stderr
    result = r.json["results"][0]
    assert (result["version"], result["source_type"], result["source_ref"]) == (
        version,
        "git",
        ref,
    )
    row = audit_rows(home)[-1]
    assert json.loads(row["meta"])["fetch"]["commit"] == repo[key]


def test_cli_ambiguous_abbreviation(repo: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    short = repo["twin_a"][:7]
    r = run_cli("pack", "install", str(repo["bare"]), "--ref-spec", short, home=home)
    assert r.exit_code == 1
    assert f"the abbreviated commit {short!r} is ambiguous" in r.stderr
    assert "Needed a single revision" not in r.stderr


# --------------------------------------------------------------------------- not a repository


def test_plain_folder_is_not_a_repository(repo: dict, tmp_path: Path) -> None:
    plain = repo["plain"]
    dest = tmp_path / "c"
    with pytest.raises(GitError) as err:
        do_clone(str(plain), "v1", dest)
    assert err.value.message == f"{plain} is not a git repository (--ref-spec needs one)"
    assert err.value.code == "not_a_repository"
    assert not dest.exists() or os.listdir(dest) == []
    with pytest.raises(GitError) as err:
        do_clone(plain.as_uri(), None, tmp_path / "d")
    assert err.value.message == f"{plain.as_uri()} is not a git repository"
    # A ref from elsewhere (a registry index) does not name the option.
    with pytest.raises(GitError) as err:
        do_clone(str(plain), "v1", tmp_path / "e", ref_option=None)
    assert err.value.message == f"{plain} is not a git repository"


def test_folder_inside_a_working_tree_is_not_a_repository(repo: dict, tmp_path: Path) -> None:
    # git clone does not look upwards; neither does the check.
    inner = repo["work"] / "sub"
    inner.mkdir(exist_ok=True)
    with pytest.raises(GitError) as err:
        do_clone(str(inner), "main", tmp_path / "c")
    assert err.value.message == f"{inner} is not a git repository (--ref-spec needs one)"


def test_working_trees_and_linked_worktrees_are_repositories(repo: dict, tmp_path: Path) -> None:
    got = do_clone(str(repo["work"]), "HEAD", tmp_path / "a")
    assert got.commit == repo["c2"]
    linked = tmp_path / "linked"
    git("worktree", "add", "-q", "--detach", str(linked), repo["c1"], cwd=repo["work"])
    try:
        assert (linked / ".git").is_file()
        got = do_clone(str(linked), "HEAD", tmp_path / "b")
        assert got.commit == repo["c1"]
    finally:
        git("worktree", "remove", "--force", str(linked), cwd=repo["work"])


def test_cli_git_plus_file_plain_folder(repo: dict, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    plain = repo["plain"]
    for extra, message in [
        (["--ref-spec", "v1"], f"{plain} is not a git repository (--ref-spec needs one)"),
        ([], f"{plain} is not a git repository"),
    ]:
        r = run_cli("pack", "install", f"git+file://{plain}", *extra, home=home)
        assert r.exit_code == 1, r.stderr
        assert r.stderr.strip().splitlines()[-1] == f"error: {message}"
        assert "Could not read from remote repository" not in r.stderr
        r = run_cli("pack", "install", f"git+file://{plain}", *extra, "-o", "json", home=home)
        assert r.json["error"] == {"code": "not_a_repository", "message": message}
