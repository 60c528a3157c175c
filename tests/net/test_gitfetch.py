"""attune_packs.net.git with real repositories served over "dumb" HTTPS on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from attune_packs.errors import AttuneError, SourceError
from attune_packs.net.git import GitError, check_git_ref, check_git_url, clone
from attune_packs.pack.checksum import directory_checksum
from tests.conftest import write_pack
from tests.servers import TestServer, make_bare_repo, trusting_ca


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("git")
    work = write_pack(base / "work", "demo", "1.0.0", files={"actions/a.yaml": "name: a\n"})
    c1 = make_bare_repo(work, base / "srv" / "demo.git", tags=["v1.0.0"])
    sum1 = directory_checksum(work).checksum
    write_pack(work, "demo", "2.0.0")
    c2 = make_bare_repo(work, base / "srv" / "demo.git", tags=["v2.0.0"])
    sum2 = directory_checksum(work).checksum
    sub = base / "sub"
    write_pack(sub / "pack", "nested", "0.1.0")
    (sub / "README.md").write_text("repo with the pack in pack/\n")
    make_bare_repo(sub, base / "srv" / "nested.git")
    empty = base / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("no pack here\n")
    make_bare_repo(empty, base / "srv" / "nopack.git")
    return {"root": base / "srv", "c1": c1, "c2": c2, "sum1": sum1, "sum2": sum2}


@pytest.fixture(scope="module")
def server(repos: dict) -> Iterator[TestServer]:
    with TestServer(tls=True, static_root=repos["root"]) as s:
        yield s


@pytest.fixture(autouse=True)
def trust(server: TestServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from trusting_ca(server.ca_bundle, monkeypatch)


def do_clone(url: str, ref: str | None, dest: Path, **kw: object):
    return clone(url, ref, dest, allow_http=bool(kw.get("allow_http")), timeout=30)


@pytest.mark.parametrize(
    ("ref", "version"),
    [(None, "2.0.0"), ("main", "2.0.0"), ("v1.0.0", "1.0.0"), ("v2.0.0", "2.0.0")],
)
def test_clone_branch_tag_default(
    server: TestServer, repos: dict, tmp_path: Path, ref: str | None, version: str
) -> None:
    got = do_clone(server.url("demo.git"), ref, tmp_path / "c")
    assert f"version: {version}" in (got.path / "pack.yaml").read_text()
    assert not (tmp_path / "c" / ".git").exists()
    expected = repos["sum1"] if version == "1.0.0" else repos["sum2"]
    assert directory_checksum(got.path).checksum == expected
    assert got.commit == (repos["c1"] if version == "1.0.0" else repos["c2"])


def test_clone_full_commit(server: TestServer, repos: dict, tmp_path: Path) -> None:
    got = do_clone(server.url("demo.git"), repos["c1"], tmp_path / "c")
    assert got.commit == repos["c1"] and not got.shallow
    assert "version: 1.0.0" in (got.path / "pack.yaml").read_text()
    assert sorted(os.listdir(tmp_path / "c")) == ["actions", "pack.yaml"]


def test_pack_in_subfolder(server: TestServer, tmp_path: Path) -> None:
    got = do_clone(server.url("nested.git"), None, tmp_path / "c")
    assert got.path == tmp_path / "c" / "pack"


def test_repository_without_pack(server: TestServer, tmp_path: Path) -> None:
    with pytest.raises(GitError) as err:
        do_clone(server.url("nopack.git"), None, tmp_path / "c")
    assert "no pack.yaml at the root or in pack/" in err.value.message


def test_local_path_and_file_url(repos: dict, tmp_path: Path) -> None:
    bare = repos["root"] / "demo.git"
    got = do_clone(str(bare), "v1.0.0", tmp_path / "a")
    assert got.shallow and "1.0.0" in (got.path / "pack.yaml").read_text()
    got = do_clone(bare.as_uri(), "v2.0.0", tmp_path / "b")
    assert "2.0.0" in (got.path / "pack.yaml").read_text()


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "branch or tag 'nope' not found"),
        ("0" * 40, f"commit {'0' * 40} not found"),
    ],
)
def test_unknown_refs(server: TestServer, tmp_path: Path, ref: str, message: str) -> None:
    dest = tmp_path / "c"
    with pytest.raises(GitError) as err:
        do_clone(server.url("demo.git"), ref, dest)
    assert message in err.value.message
    assert "\n" not in err.value.message
    assert os.listdir(dest) == []


def test_missing_repository(server: TestServer, tmp_path: Path) -> None:
    with pytest.raises(GitError) as err:
        do_clone(server.url("missing.git"), None, tmp_path / "c")
    assert err.value.message.startswith(f"git clone of {server.url('missing.git')} failed:")
    assert "not found" in err.value.message


@pytest.mark.parametrize("ref", ["-uhttps://evil", "--upload-pack=touch /tmp/x", "a b", "x..y"])
def test_bad_refs_refused(ref: str) -> None:
    with pytest.raises(SourceError):
        check_git_ref(ref)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/x.git",
        "https://user:pw@example.org/x.git",
        "https://example.org/x.git?x=1",
        "git@github.com:org/repo.git",
        "ssh://example.org/x.git",
    ],
)
def test_bad_urls_refused(url: str) -> None:
    with pytest.raises(AttuneError) as err:
        check_git_url(url, allow_http=False)
    assert "pw" not in err.value.message


def test_http_allowed_with_allow_http(repos: dict, tmp_path: Path) -> None:
    with TestServer(static_root=repos["root"]) as plain:
        with pytest.raises(SourceError):
            do_clone(plain.url("demo.git"), None, tmp_path / "a")
        got = do_clone(plain.url("demo.git"), "v1.0.0", tmp_path / "b", allow_http=True)
        assert "1.0.0" in (got.path / "pack.yaml").read_text()


def test_untrusted_certificate(server: TestServer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ATTUNE_CA_BUNDLE")
    monkeypatch.setenv("GIT_SSL_CAINFO", "/nonexistent/ca.pem")
    with pytest.raises(GitError) as err:
        do_clone(server.url("demo.git"), None, tmp_path / "c")
    assert "\n" not in err.value.message


def test_hostile_environment_is_ignored(
    server: TestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caller's GIT_DIR / config must not steer the clone.
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'http.sslVerify'='false'")
    got = do_clone(server.url("demo.git"), "v1.0.0", tmp_path / "c")
    assert "1.0.0" in (got.path / "pack.yaml").read_text()
    assert not (tmp_path / "elsewhere").exists()
    assert os.environ["GIT_DIR"] == str(tmp_path / "elsewhere")  # restored afterwards


def test_timeout(tmp_path: Path) -> None:
    with TestServer(tls=True, ca_dir=tmp_path) as slow:
        os.environ["ATTUNE_CA_BUNDLE"] = str(slow.ca_bundle)
        slow.route("/slow.git/info/refs", b"", delay=30)
        with pytest.raises(GitError) as err:
            clone(slow.url("slow.git"), None, tmp_path / "c", allow_http=False, timeout=1)
    assert err.value.message.endswith("timed out after 1s")
