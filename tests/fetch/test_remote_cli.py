"""End to end: ``attune pack install`` from archive URLs, git URLs and registries.

Real HTTPS servers (trustme CA) and real git repositories served over "dumb"
HTTP on 127.0.0.1; the real CLI in a subprocess.  Every failure: exit 1 (2 for
usage), one ``error:`` line on stderr, and nothing installed.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from attune_packs.pack.checksum import directory_checksum
from tests.conftest import CliResult, run_cli, write_pack
from tests.servers import (
    TestServer,
    index_doc,
    index_entry,
    make_bare_repo,
    pack_tarball,
    sha,
    write_config,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("e2e")
    srv = base / "srv"
    v1 = write_pack(base / "v1", "demo", "1.0.0", files={"actions/hello.yaml": "name: hello\n"})
    commit = make_bare_repo(v1, srv / "demo.git", tags=["v1.0.0"])
    v2 = write_pack(base / "v2", "demo", "1.1.0", files={"actions/hello.yaml": "name: hello\n"})
    liar = write_pack(base / "liar", "demo", "7.0.0")
    tar1, tar2, liar_tar = pack_tarball(v1), pack_tarball(v2), pack_tarball(liar)
    server = TestServer(tls=True, static_root=srv).start()
    server.route("/demo-1.0.0.tar.gz", tar1)
    server.route("/demo-1.1.0.tar.gz", tar2)
    server.route("/liar.tar.gz", liar_tar)
    yield {
        "server": server,
        "commit": commit,
        "dir1": directory_checksum(v1).checksum,
        "dir2": directory_checksum(v2).checksum,
        "tar1": tar1,
        "sum1": sha(tar1),
        "sum2": sha(tar2),
        "liar_sum": sha(liar_tar),
        "env": {"ATTUNE_CA_BUNDLE": str(server.ca_bundle)},
    }
    server.stop()


def attune(world: dict, home: Path, *args: str, env: dict | None = None) -> CliResult:
    return run_cli("pack", *args, home=home, env={**world["env"], **(env or {})})


def install(world: dict, home: Path, *args: str, env: dict | None = None) -> CliResult:
    return attune(
        world, home, "install", *args, "--skip-tests", "--progress", "none", "-o", "json", env=env
    )


def _db(home: Path) -> sqlite3.Connection | None:
    """The installation database, read directly (DESIGN.md section 7; faster than the CLI)."""
    path = home / "attune.db"
    if not path.exists():
        return None
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def installed(world: dict, home: Path) -> dict[str, str]:
    conn = _db(home)
    if conn is None:
        return {}
    with contextlib.closing(conn):
        return {r["ref"]: r["version"] for r in conn.execute("SELECT ref, version FROM pack")}


def last_audit(world: dict, home: Path) -> dict:
    conn = _db(home)
    assert conn is not None
    with contextlib.closing(conn):
        row = conn.execute("SELECT * FROM pack_installation ORDER BY id DESC LIMIT 1").fetchone()
    doc = dict(row)
    doc["meta"] = json.loads(doc["meta"]) if doc["meta"] else {}
    doc["checksum_verified"] = bool(doc["checksum_verified"])
    return doc


def assert_failed(world: dict, home: Path, r: CliResult, fragment: str, code: int = 1) -> None:
    """Exit code, one error line on stderr, the JSON error document, nothing installed."""
    assert r.exit_code == code, (r.stdout, r.stderr)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, r.stderr
    assert fragment in errors[0], errors[0]
    assert "Traceback" not in r.stderr
    doc = json.loads(r.stdout)
    assert fragment in doc["error"]["message"]
    assert installed(world, home) == {}
    packs = home / "packs"
    leftovers = [p.name for p in packs.iterdir()] if packs.exists() else []
    assert [n for n in leftovers if not n.startswith(".")] == []


def config(home: Path, world: dict | None = None, registries: list | None = None, **kw) -> None:
    write_config(home, registries, **kw)


def registry(world: dict, home: Path, path: str, entries: list[dict], **kw) -> str:
    world["server"].route(path, json.dumps(index_doc(entries, fmt="1.1")).encode())
    url = world["server"].url(path)
    config(home, registries=[{"name": "test", "url": url, "priority": 1}], **kw)
    return url


def git_src(world: dict, url: str | None = None) -> dict:
    return {
        "type": "git",
        "url": url or world["server"].url("demo.git"),
        "ref": "v1.0.0",
        "checksum": world["dir1"],
    }


def arch_src(world: dict, path: str = "demo-1.0.0.tar.gz", checksum: str | None = None) -> dict:
    return {
        "type": "archive",
        "url": world["server"].url(path),
        "checksum": checksum or world["sum1"],
    }


# --------------------------------------------------------------------------- success


def test_install_archive_url_with_checksum(world: dict, home: Path) -> None:
    config(home)
    url = world["server"].url("demo-1.0.0.tar.gz")
    r = install(world, home, url, "--expect-checksum", world["sum1"])
    assert r.exit_code == 0, r.stderr
    assert "warning" not in r.stderr
    assert installed(world, home) == {"demo": "1.0.0"}
    audit = last_audit(world, home)
    assert audit["source_type"] == "archive" and audit["source_url"] == url
    assert audit["checksum_subject"] == "archive" and audit["checksum_verified"] is True
    assert audit["checksum"] == world["sum1"]


def test_install_archive_url_without_checksum_warns(world: dict, home: Path) -> None:
    config(home)
    r = install(world, home, world["server"].url("demo-1.0.0.tar.gz"))
    assert r.exit_code == 0, r.stderr
    assert "warning: no expected checksum" in r.stderr
    assert installed(world, home) == {"demo": "1.0.0"}


def test_require_checksums_refuses_unverified_url(world: dict, home: Path) -> None:
    config(home, require_checksums=True)
    route = world["server"].routes["/demo-1.0.0.tar.gz"]
    hits = route.hits
    r = install(world, home, world["server"].url("demo-1.0.0.tar.gz"))
    assert_failed(world, home, r, "without an expected checksum")
    assert route.hits == hits


def test_install_git_url(world: dict, home: Path) -> None:
    config(home)
    r = install(
        world,
        home,
        world["server"].url("demo.git"),
        "--ref-spec",
        "v1.0.0",
        "--expect-checksum",
        world["dir1"],
    )
    assert r.exit_code == 0, r.stderr
    audit = last_audit(world, home)
    assert audit["source_type"] == "git" and audit["source_ref"] == "v1.0.0"
    assert audit["checksum"] == world["dir1"] and audit["checksum_verified"] is True
    assert audit["meta"]["fetch"]["commit"] == world["commit"]


def test_install_registry_requirement_forms(world: dict, home: Path) -> None:
    registry(
        world,
        home,
        "/e2e-forms/index.json",
        [
            index_entry("demo", "1.0.0", [git_src(world), arch_src(world)]),
            index_entry("demo", "1.1.0", [arch_src(world, "demo-1.1.0.tar.gz", world["sum2"])]),
        ],
    )
    r = install(world, home, "demo@1.0.0")
    assert r.exit_code == 0, r.stderr
    audit = last_audit(world, home)
    assert audit["source_type"] == "registry" and audit["registry_name"] == "test"
    assert audit["source_ref"] == "demo@1.0.0"
    assert audit["meta"]["fetch"]["registry_source"] == "git"
    assert audit["meta"]["fetch"]["fallback"] is False
    assert audit["checksum"] == world["dir1"] and audit["checksum_verified"] is True
    r = install(world, home, "demo@^1.0")
    assert r.exit_code == 0, r.stderr
    assert r.json["results"][0]["version"] == "1.1.0"
    assert installed(world, home) == {"demo": "1.1.0"}
    for req in ("demo@latest", "demo"):
        r = install(world, home, req)
        assert r.exit_code == 0, r.stderr
        assert r.json["results"][0]["status"] == "already_installed"


def test_git_failure_falls_back_to_archive(world: dict, home: Path) -> None:
    broken = git_src(world, world["server"].url("missing.git"))
    registry(
        world, home, "/e2e-fb/index.json", [index_entry("demo", "1.0.0", [broken, arch_src(world)])]
    )
    r = install(world, home, "demo")
    assert r.exit_code == 0, r.stderr
    assert "using the archive source" in r.stderr
    fetch = last_audit(world, home)["meta"]["fetch"]
    assert fetch["registry_source"] == "archive" and fetch["fallback"] is True
    assert installed(world, home) == {"demo": "1.0.0"}


def test_500_then_200_is_retried(world: dict, home: Path) -> None:
    config(home)
    route = world["server"].route("/flaky.tar.gz", world["tar1"], fail_times=2)
    r = install(
        world, home, world["server"].url("flaky.tar.gz"), "--expect-checksum", world["sum1"]
    )
    assert r.exit_code == 0, r.stderr
    assert route.hits == 3


def test_reinstall_from_cache_with_server_stopped(world: dict, home: Path, tmp_path: Path) -> None:
    with TestServer(tls=True, ca_dir=tmp_path) as temp:
        temp.route("/p.tar.gz", world["tar1"])
        entries = [
            index_entry(
                "demo",
                "1.0.0",
                [{"type": "archive", "url": temp.url("p.tar.gz"), "checksum": world["sum1"]}],
            )
        ]
        temp.route("/index.json", json.dumps(index_doc(entries)).encode())
        config(home, registries=[{"name": "temp", "url": temp.url("index.json")}])
        env = {"ATTUNE_CA_BUNDLE": str(temp.ca_bundle)}
        r = install(world, home, "demo", env=env)
        assert r.exit_code == 0, r.stderr
    assert attune(world, home, "uninstall", "demo", "--yes", env=env).exit_code == 0
    r = install(world, home, "demo", env=env)  # the server is gone
    assert r.exit_code == 0, r.stderr
    assert installed(world, home) == {"demo": "1.0.0"}
    assert last_audit(world, home)["meta"]["fetch"]["from_cache"] is True
    stats = attune(world, home, "cache", "stats", "-o", "json").json
    assert stats["archives"]["entries"] == 1
    r = attune(world, home, "cache", "clean", "-o", "json")
    assert r.exit_code == 0 and r.json["removed"] >= 1
    assert attune(world, home, "cache", "stats", "-o", "json").json["archives"]["entries"] == 0


# --------------------------------------------------------------------------- failures


def test_checksum_mismatch(world: dict, home: Path) -> None:
    config(home)
    r = install(
        world,
        home,
        world["server"].url("demo-1.0.0.tar.gz"),
        "--expect-checksum",
        "sha256:" + "0" * 64,
    )
    assert_failed(world, home, r, "checksum mismatch")
    audit = last_audit(world, home)
    assert audit["status"] == "failed" and "checksum mismatch" in audit["error_message"]


def test_registry_checksum_mismatch(world: dict, home: Path) -> None:
    bad = arch_src(world, checksum="sha256:" + "3" * 64)
    registry(world, home, "/e2e-bad/index.json", [index_entry("demo", "1.0.0", [bad])])
    assert_failed(world, home, install(world, home, "demo"), "checksum mismatch")


def test_manifest_index_mismatch(world: dict, home: Path) -> None:
    liar = arch_src(world, "liar.tar.gz", world["liar_sum"])
    registry(world, home, "/e2e-liar/index.json", [index_entry("demo", "1.0.0", [liar])])
    assert_failed(world, home, install(world, home, "demo"), "manifest/index mismatch")


def test_fail_closed_priority(world: dict, home: Path) -> None:
    good = world["server"].url("e2e-good/index.json")
    world["server"].route(
        "/e2e-good/index.json",
        json.dumps(index_doc([index_entry("demo", "1.0.0", [arch_src(world)])])).encode(),
    )
    world["server"].route("/e2e-broken/index.json", b"", status=503)
    config(
        home,
        registries=[
            {"name": "first", "url": world["server"].url("e2e-broken/index.json"), "priority": 1},
            {"name": "second", "url": good, "priority": 2},
        ],
        network={"retries": 0},
    )
    assert_failed(world, home, install(world, home, "demo"), "fail closed")
    r = install(world, home, "demo", "--registry", "second")
    assert r.exit_code == 0, r.stderr
    assert last_audit(world, home)["registry_name"] == "second"


@pytest.mark.parametrize(
    ("route", "kw", "network", "fragment"),
    [
        ("slow.tar.gz", {"delay": 30}, {"timeout": 1}, "timed out after 1s"),
        ("drop.tar.gz", {"drop_after": 100}, {}, "connection dropped"),
        ("huge.tar.gz", {}, {"archive_max_bytes": 100}, "too large"),
        ("gone.tar.gz", {"status": 404}, {}, "HTTP 404"),
        ("down.tar.gz", {"fail_times": 1000}, {}, "HTTP 500"),
    ],
)
def test_network_failures(
    world: dict, home: Path, route: str, kw: dict, network: dict, fragment: str
) -> None:
    r_obj = world["server"].route(f"/{route}", world["tar1"], **kw)
    config(home, network=network)
    r = install(world, home, world["server"].url(route), "--expect-checksum", world["sum1"])
    assert_failed(world, home, r, fragment)
    if kw.get("status") == 404:
        assert r_obj.hits == 1  # 4xx: no retries
    if "fail_times" in kw or "drop_after" in kw:
        assert r_obj.hits == 3  # 1 + retries (2)
        assert "after 3 attempts" in r.stderr


def test_redirect_to_http_refused(world: dict, home: Path) -> None:
    with TestServer() as plain:
        plain.route("/p.tar.gz", world["tar1"])
        world["server"].route("/to-http.tar.gz", location=plain.url("p.tar.gz"))
        config(home, network={"allow_http": True})
        r = install(
            world, home, world["server"].url("to-http.tar.gz"), "--expect-checksum", world["sum1"]
        )
        assert_failed(world, home, r, "from https to plain http")
        assert plain.routes["/p.tar.gz"].hits == 0


def test_url_rules_and_no_registry(world: dict, home: Path) -> None:
    config(home)
    for bad, fragment in [
        ("http://127.0.0.1:1/p.tar.gz", "plain-http"),
        ("https://u:pw@127.0.0.1:1/p.tar.gz", "credentials"),
    ]:
        r = install(world, home, bad, "--expect-checksum", world["sum1"])
        assert r.exit_code in (1, 2)
        assert fragment in r.stderr and "pw@" not in r.stderr
    r = install(world, home, "demo", "--no-registry")
    assert r.exit_code == 2 and "--no-registry" in r.stderr
    r = install(world, home, world["server"].url("demo.git"), "--ref-spec", "--upload-pack=x")
    assert r.exit_code in (1, 2) and installed(world, home) == {}
