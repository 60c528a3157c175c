"""remote.fetch for archive URLs, git URLs and registry requirements (real servers, real git)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from attune_packs.config import load_settings
from attune_packs.errors import (
    ArchiveError,
    AttuneError,
    ChecksumMismatch,
    SourceError,
    UsageError,
)
from attune_packs.events import EventBus
from attune_packs.fetch.fetcher import fetch
from attune_packs.fetch.spec import classify
from attune_packs.net.cache import DownloadCache
from attune_packs.pack.checksum import directory_checksum
from tests.conftest import write_pack
from tests.servers import (
    TestServer,
    combined_ca_bundle,
    index_doc,
    index_entry,
    make_bare_repo,
    pack_tarball,
    sha,
    trust_ca,
    trusting_ca,
    write_config,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Packs as git repositories and tarballs, served over HTTPS."""
    base = tmp_path_factory.mktemp("remote")
    srv = base / "srv"
    demo = write_pack(base / "demo", "demo", "1.0.0", files={"actions/hello.yaml": "name: hello\n"})
    commit = make_bare_repo(demo, srv / "demo.git", tags=["v1.0.0"])
    tarball = pack_tarball(demo)
    liar = write_pack(base / "liar", "demo", "9.9.9")
    liar_tar = pack_tarball(liar)
    server = TestServer(tls=True, static_root=srv).start()
    server.route("/demo-1.0.0.tar.gz", tarball)
    server.route("/liar.tar.gz", liar_tar)
    server.route("/page.html", b"<html>not an archive</html>")
    yield {
        "base": base,
        "server": server,
        "demo_dir": demo,
        "commit": commit,
        "dir_sum": directory_checksum(demo).checksum,
        "tarball": tarball,
        "tar_sum": sha(tarball),
        "liar_sum": sha(liar_tar),
    }
    server.stop()


@pytest.fixture(autouse=True)
def trust(world: dict, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from trusting_ca(world["server"].ca_bundle, monkeypatch)


def make_settings(home: Path, registries: list[dict] | None = None, **kw):
    write_config(home, registries if registries is not None else [], **kw)
    return load_settings(home=home, env={})


def serve_index(world: dict, path: str, entries: list[dict], fmt: str = "1.0") -> str:
    world["server"].route(path, json.dumps(index_doc(entries, fmt=fmt)).encode())
    return world["server"].url(path)


def git_src(world: dict, url: str | None = None, ref: str = "v1.0.0", checksum: str | None = None):
    return {
        "type": "git",
        "url": url or world["server"].url("demo.git"),
        "ref": ref,
        "checksum": checksum or world["dir_sum"],
    }


def arch_src(world: dict, url: str | None = None, checksum: str | None = None):
    return {
        "type": "archive",
        "url": url or world["server"].url("demo-1.0.0.tar.gz"),
        "checksum": checksum or world["tar_sum"],
    }


def bus() -> EventBus:
    return EventBus()


# --------------------------------------------------------------------------- archive URLs


def test_archive_url_with_checksum(world: dict, home: Path, tmp_path: Path) -> None:
    s = make_settings(home)
    url = world["server"].url("demo-1.0.0.tar.gz")
    b = bus()
    got = fetch(classify(url), s, tmp_path / "stage", b, expected_checksum=world["tar_sum"])
    assert (got.path / "pack.yaml").is_file()
    assert got.path.is_relative_to(tmp_path / "stage")
    assert got.provenance.source_type == "archive" and got.provenance.source_url == url
    assert got.provenance.checksum_subject == "archive" and got.provenance.checksum_verified
    assert got.archive_checksum == world["tar_sum"] == got.expected_checksum
    assert directory_checksum(got.path).checksum == world["dir_sum"]
    assert b.warnings == []
    assert DownloadCache(s.cache_dir).lookup(world["tar_sum"]) is not None


def test_archive_url_without_checksum_warns_or_is_refused(
    world: dict, home: Path, tmp_path: Path
) -> None:
    url = world["server"].url("demo-1.0.0.tar.gz")
    b = bus()
    got = fetch(classify(url), make_settings(home), tmp_path / "a", b)
    assert not got.provenance.checksum_verified and got.archive_checksum == world["tar_sum"]
    assert any("no expected checksum" in w for w in b.warnings)
    route = world["server"].routes["/demo-1.0.0.tar.gz"]
    hits = route.hits
    strict = make_settings(home, require_checksums=True)
    with pytest.raises(SourceError) as err:
        fetch(classify(url), strict, tmp_path / "b", bus())
    assert err.value.code == "checksum_required"
    assert route.hits == hits  # nothing was downloaded
    assert not any((tmp_path / "b").iterdir())


def test_archive_checksum_mismatch(world: dict, home: Path, tmp_path: Path) -> None:
    s = make_settings(home)
    wrong = "sha256:" + "0" * 64
    with pytest.raises(ChecksumMismatch) as err:
        fetch(
            classify(world["server"].url("demo-1.0.0.tar.gz")),
            s,
            tmp_path / "s",
            bus(),
            expected_checksum=wrong,
        )
    assert "expected " + wrong in err.value.message and world["tar_sum"] in err.value.message
    assert not any((tmp_path / "s").iterdir())
    assert DownloadCache(s.cache_dir).stats()["archives"]["entries"] == 0
    assert DownloadCache(s.cache_dir).stats()["temporary"]["entries"] == 0


def test_not_an_archive(world: dict, home: Path, tmp_path: Path) -> None:
    url = world["server"].url("page.html")
    with pytest.raises(ArchiveError) as err:
        fetch(classify(url), make_settings(home), tmp_path / "s", bus())
    assert "\n" not in err.value.message


def test_archive_from_cache_with_server_stopped(world: dict, home: Path, tmp_path: Path) -> None:
    s = make_settings(home)
    with TestServer(tls=True, ca_dir=tmp_path) as temp:
        trust_ca(temp.ca_bundle)
        temp.route("/p.tar.gz", world["tarball"])
        url = temp.url("p.tar.gz")
        fetch(classify(url), s, tmp_path / "one", bus(), expected_checksum=world["tar_sum"])
    # The server is gone; the expected checksum is cached, so no download is needed.
    b = bus()
    got = fetch(classify(url), s, tmp_path / "two", bus(), expected_checksum=world["tar_sum"])
    assert (got.path / "pack.yaml").is_file() and got.meta["from_cache"] is True
    assert b.warnings == []
    # A corrupted cache entry is not used: the download is attempted (and fails here).
    cached = DownloadCache(s.cache_dir).path_for(world["tar_sum"])
    cached.write_bytes(b"tampered")
    with pytest.raises(AttuneError) as err:
        fetch(classify(url), s, tmp_path / "three", bus(), expected_checksum=world["tar_sum"])
    assert "cannot connect" in err.value.message
    assert not cached.exists()


# --------------------------------------------------------------------------- git URLs


def test_git_url(world: dict, home: Path, tmp_path: Path) -> None:
    b = bus()
    spec = classify(world["server"].url("demo.git"), "v1.0.0")
    got = fetch(spec, make_settings(home), tmp_path / "s", b, expected_checksum=world["dir_sum"])
    assert got.provenance.source_type == "git" and got.provenance.source_ref == "v1.0.0"
    assert (
        got.provenance.checksum_subject == "directory" and got.expected_checksum == world["dir_sum"]
    )
    assert got.meta["commit"] == world["commit"]
    assert directory_checksum(got.path).checksum == world["dir_sum"]
    assert b.warnings == []
    with pytest.raises(SourceError) as err:
        fetch(spec, make_settings(home, require_checksums=True), tmp_path / "t", bus())
    assert err.value.code == "checksum_required"


def test_git_ref_option_injection_refused(world: dict, home: Path, tmp_path: Path) -> None:
    spec = classify(world["server"].url("demo.git"), "--upload-pack=touch /tmp/pwned")
    with pytest.raises(SourceError):
        fetch(spec, make_settings(home), tmp_path / "s", bus())


# --------------------------------------------------------------------------- registry


def reg_settings(home: Path, url: str, **kw):
    return make_settings(home, [{"name": "test", "url": url, "priority": 1}], **kw)


def test_registry_git_source(world: dict, home: Path, tmp_path: Path) -> None:
    url = serve_index(
        world,
        "/reg-git/index.json",
        [index_entry("demo", "1.0.0", [git_src(world), arch_src(world)])],
    )
    for req in ("demo", "demo@1.0.0", "demo@latest", "demo@^1.0"):
        stage = tmp_path / req.replace("@", "_").replace("^", "c")
        got = fetch(classify(req), reg_settings(home, url), stage, bus())
        assert got.provenance.source_type == "registry" and got.provenance.registry_name == "test"
        assert got.provenance.source_ref == req
        assert got.meta["registry_source"] == "git" and got.meta["fallback"] is False
        assert got.meta["commit"] == world["commit"]
        assert (
            got.provenance.checksum_subject == "directory"
            and got.expected_checksum == world["dir_sum"]
        )
        assert directory_checksum(got.path).checksum == world["dir_sum"]


def test_registry_git_fails_falls_back_to_archive(world: dict, home: Path, tmp_path: Path) -> None:
    broken = git_src(world, url=world["server"].url("gone.git"))
    url = serve_index(
        world, "/reg-fb/index.json", [index_entry("demo", "1.0.0", [broken, arch_src(world)])]
    )
    b = bus()
    got = fetch(classify("demo"), reg_settings(home, url), tmp_path / "s", b)
    assert got.meta["registry_source"] == "archive" and got.meta["fallback"] is True
    assert "gone.git" in got.meta["fallback_reason"]
    assert got.provenance.checksum_subject == "archive" and got.provenance.checksum_verified
    assert got.archive_checksum == world["tar_sum"]
    assert any("using the archive source" in w for w in b.warnings)


def test_registry_git_only_failure_is_an_error(world: dict, home: Path, tmp_path: Path) -> None:
    url = serve_index(
        world,
        "/reg-gitonly/index.json",
        [index_entry("demo", "1.0.0", [git_src(world, url=world["server"].url("gone.git"))])],
    )
    with pytest.raises(AttuneError) as err:
        fetch(classify("demo"), reg_settings(home, url), tmp_path / "s", bus())
    assert "gone.git" in err.value.message and "\n" not in err.value.message


def test_manifest_index_mismatch(world: dict, home: Path, tmp_path: Path) -> None:
    liar = arch_src(world, url=world["server"].url("liar.tar.gz"), checksum=world["liar_sum"])
    url = serve_index(world, "/reg-liar/index.json", [index_entry("demo", "1.0.0", [liar])])
    with pytest.raises(SourceError) as err:
        fetch(classify("demo"), reg_settings(home, url), tmp_path / "s", bus())
    assert err.value.code == "manifest_index_mismatch"
    assert err.value.message.startswith("manifest/index mismatch:")
    assert "demo 1.0.0" in err.value.message and "demo 9.9.9" in err.value.message
    # Also through git: the index says 2.0.0 but the tag holds 1.0.0.
    url = serve_index(
        world, "/reg-liar2/index.json", [index_entry("demo", "2.0.0", [git_src(world)])]
    )
    with pytest.raises(SourceError) as err:
        fetch(classify("demo"), reg_settings(home, url), tmp_path / "t", bus())
    assert err.value.code == "manifest_index_mismatch"


def test_registry_archive_checksum_mismatch(world: dict, home: Path, tmp_path: Path) -> None:
    bad = arch_src(world, checksum="sha256:" + "1" * 64)
    url = serve_index(world, "/reg-bad/index.json", [index_entry("demo", "1.0.0", [bad])])
    with pytest.raises(ChecksumMismatch):
        fetch(classify("demo"), reg_settings(home, url), tmp_path / "s", bus())


def test_user_expected_checksum_on_registry_install(
    world: dict, home: Path, tmp_path: Path
) -> None:
    url = serve_index(
        world, "/reg-user/index.json", [index_entry("demo", "1.0.0", [arch_src(world)])]
    )
    s = reg_settings(home, url)
    got = fetch(classify("demo"), s, tmp_path / "a", bus(), expected_checksum=world["dir_sum"])
    assert got.archive_checksum == world["tar_sum"]
    with pytest.raises(ChecksumMismatch):
        fetch(classify("demo"), s, tmp_path / "b", bus(), expected_checksum="sha256:" + "2" * 64)


def test_no_registry_flag(world: dict, home: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        fetch(classify("demo"), make_settings(home), tmp_path / "s", bus(), no_registry=True)
    assert "--no-registry" in err.value.message


def test_registry_reinstall_with_server_stopped(world: dict, home: Path, tmp_path: Path) -> None:
    with TestServer(tls=True, ca_dir=tmp_path) as temp:
        trust_ca(temp.ca_bundle)
        temp.route("/p.tar.gz", world["tarball"])
        doc = index_doc([index_entry("demo", "1.0.0", [arch_src(world, url=temp.url("p.tar.gz"))])])
        temp.route("/index.json", json.dumps(doc).encode())
        s = reg_settings(home, temp.url("index.json"))
        fetch(classify("demo"), s, tmp_path / "one", bus())
    b = bus()
    got = fetch(classify("demo@1.0.0"), s, tmp_path / "two", b)
    assert (got.path / "pack.yaml").is_file() and got.meta["from_cache"] is True
    # With an expired index cache the stale copy is used, with a warning.
    s0 = reg_settings(home, temp.url("index.json"), network={"cache_ttl": 0, "retries": 0})
    b = bus()
    got = fetch(classify("demo"), s0, tmp_path / "three", b)
    assert any("unreachable" in w for w in b.warnings)
    with pytest.raises(AttuneError):
        fetch(classify("demo"), s0, tmp_path / "four", bus(), refresh=True)


def test_archive_headers_only_on_registry_origin(world: dict, home: Path, tmp_path: Path) -> None:
    server = world["server"]
    with TestServer(tls=True, ca_dir=tmp_path, ca=None) as other:
        trust_ca(combined_ca_bundle(tmp_path / "both.pem", server, other))
        other.route("/elsewhere.tar.gz", world["tarball"])
        own = server.route("/own-origin.tar.gz", world["tarball"])
        entries = [
            index_entry("demo", "1.0.0", [arch_src(world, url=server.url("own-origin.tar.gz"))]),
            index_entry("other", "1.0.0", [arch_src(world, url=other.url("elsewhere.tar.gz"))]),
        ]
        url = serve_index(world, "/reg-auth/index.json", entries)
        s = make_settings(
            home, [{"name": "p", "url": url, "headers": {"Authorization": "Bearer zzz-secret"}}]
        )
        fetch(classify("demo"), s, tmp_path / "a", bus())
        assert own.requests[-1]["authorization"] == "Bearer zzz-secret"
        DownloadCache(s.cache_dir).clean()
        with pytest.raises(SourceError):  # manifest says demo, entry says other
            fetch(classify("other"), s, tmp_path / "b", bus())
        assert other.log and all("authorization" not in h for _, h in other.log)


def test_local_mirror_with_relative_sources(world: dict, home: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "archives").mkdir(parents=True)
    (mirror / "archives" / "demo.tar.gz").write_bytes(world["tarball"])
    import shutil

    shutil.copytree(world["base"] / "srv" / "demo.git", mirror / "git" / "demo.git")
    entries = [
        index_entry(
            "demo",
            "1.0.0",
            [
                {
                    "type": "git",
                    "url": "git/demo.git",
                    "ref": "v1.0.0",
                    "checksum": world["dir_sum"],
                },
                {"type": "archive", "url": "archives/demo.tar.gz", "checksum": world["tar_sum"]},
            ],
        )
    ]
    (mirror / "index.json").write_text(json.dumps(index_doc(entries)))
    s = make_settings(home, [{"name": "m", "url": str(mirror / "index.json")}])
    got = fetch(classify("demo"), s, tmp_path / "a", bus())
    assert got.meta["registry_source"] == "git"
    assert got.provenance.source_url == str(mirror / "git" / "demo.git")
    shutil.rmtree(mirror / "git")
    b = bus()
    got = fetch(classify("demo"), s, tmp_path / "b", b)
    assert got.meta["registry_source"] == "archive" and got.meta["fallback"] is True
    assert got.provenance.source_url == str(mirror / "archives" / "demo.tar.gz")
