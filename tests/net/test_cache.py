"""The content-addressed download cache (attune_packs.net.cache) and ``attune pack cache``."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from attune_packs.config import NetworkConfig
from attune_packs.errors import ChecksumMismatch, NetworkError
from attune_packs.net.cache import DownloadCache
from attune_packs.net.http import HttpClient
from tests.conftest import run_cli
from tests.servers import TestServer, sha

NET = NetworkConfig(timeout=60, connect_timeout=30, retries=1, retry_backoff=0.01)
DATA = b"archive bytes " * 1000
SUM = sha(DATA)

pytestmark = pytest.mark.usefixtures("trust_tls")


@pytest.fixture(scope="module")
def tls() -> Iterator[TestServer]:
    with TestServer(tls=True) as server:
        server.route("/a.tar.gz", DATA)
        yield server


def test_download_is_stored_by_checksum_and_reused(tls: TestServer, tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "cache")
    route = tls.routes["/a.tar.gz"]
    before = route.hits
    with HttpClient(NET) as c:
        got = cache.fetch_url(c, tls.url("a.tar.gz"), expected=SUM, max_bytes=1 << 20)
        assert not got.from_cache and got.checksum == SUM
        assert got.path == tmp_path / "cache" / "archives" / "sha256" / SUM[7:9] / SUM[7:]
        again = cache.fetch_url(c, tls.url("a.tar.gz"), expected=SUM, max_bytes=1 << 20)
    assert again.from_cache and route.hits == before + 1
    assert cache.stats()["archives"] == {"entries": 1, "bytes": len(DATA)}


def test_without_expected_checksum_it_is_cached_under_its_own(
    tls: TestServer, tmp_path: Path
) -> None:
    cache = DownloadCache(tmp_path / "cache")
    with HttpClient(NET) as c:
        got = cache.fetch_url(c, tls.url("a.tar.gz"), expected=None, max_bytes=1 << 20)
    assert got.checksum == SUM and cache.lookup(SUM) == got.path


def test_mismatch_and_partial_downloads_never_enter(tls: TestServer, tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "cache")
    tls.route("/cut.tar.gz", DATA, drop_after=500)
    with HttpClient(NET) as c:
        with pytest.raises(ChecksumMismatch):
            cache.fetch_url(
                c, tls.url("a.tar.gz"), expected="sha256:" + "0" * 64, max_bytes=1 << 20
            )
        with pytest.raises(NetworkError):
            cache.fetch_url(c, tls.url("cut.tar.gz"), expected=SUM, max_bytes=1 << 20)
    stats = cache.stats()
    assert stats["archives"]["entries"] == 0 and stats["temporary"]["entries"] == 0


def test_corrupt_entry_is_dropped(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "cache")
    path = cache.path_for(SUM)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not the right bytes")
    assert cache.lookup(SUM) is None and not path.exists()


def test_local_archive_copy(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "cache")
    src = tmp_path / "a.tar.gz"
    src.write_bytes(DATA)
    assert cache.add_local(src, expected=SUM).checksum == SUM
    assert cache.add_local(src, expected=SUM).from_cache
    with pytest.raises(ChecksumMismatch):
        DownloadCache(tmp_path / "other").add_local(src, expected="sha256:" + "1" * 64)
    assert DownloadCache(tmp_path / "other").stats()["archives"]["entries"] == 0


def _age(path: Path, days: float) -> None:
    t = time.time() - days * 86400
    os.utime(path, (t, t))


def test_clean_older_than(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path / "cache")
    old_data, new_data = b"old", b"new"
    for data in (old_data, new_data):
        f = tmp_path / "f"
        f.write_bytes(data)
        cache.add_local(f, expected=None)
    old = cache.path_for(sha(old_data))
    _age(old, 40)
    stale_tmp = cache.tmp / "download-stale"
    stale_tmp.write_bytes(b"x")
    _age(stale_tmp, 1)
    young_tmp = cache.tmp / "download-in-progress"
    young_tmp.write_bytes(b"y")
    result = cache.clean(older_than_days=30)
    assert result["removed"] == 2 and not old.exists() and not stale_tmp.exists()
    assert young_tmp.exists()
    assert cache.stats()["archives"]["entries"] == 1
    cache.clean()
    assert cache.stats()["archives"]["entries"] == 0


def test_cli_cache_stats_and_clean(home: Path) -> None:
    cache = DownloadCache(home / "cache")
    f = home / "a.tar.gz"
    f.write_bytes(DATA)
    entry = cache.add_local(f, expected=SUM).path
    r = run_cli("pack", "cache", "stats", "-o", "json", home=home)
    assert r.exit_code == 0
    assert r.json["archives"] == {"entries": 1, "bytes": len(DATA)}
    r = run_cli("pack", "cache", "stats", home=home)
    assert "archives:" in r.stdout and "1 (13.7 KiB)" in r.stdout
    r = run_cli("pack", "cache", "clean", "--older-than", "7", "-o", "json", home=home)
    assert r.exit_code == 0 and r.json["removed"] == 0 and entry.exists()
    _age(entry, 8)
    r = run_cli("pack", "cache", "clean", "--older-than", "7", home=home)
    assert r.exit_code == 0 and r.stdout.startswith("removed 1 files") and not entry.exists()
    r = run_cli("pack", "cache", "clean", "--older-than", "-1", home=home)
    assert r.exit_code == 2
