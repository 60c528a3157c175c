"""A new user's configuration mistakes, refused once, up front, in words they know:
``ATTUNE_LOCK_TIMEOUT``, the lock wait and its message, relative paths in the config
file, limits that could only fail later, and type errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attune_packs import locking
from attune_packs.config import load_settings
from attune_packs.errors import ConfigError, StoreError
from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows
from tests.servers import write_config


def listing(root: Path) -> list[str]:
    """Every path below ``root``, relative, sorted (for nothing-changed checks)."""
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def write_raw(home: Path, doc: dict[str, Any]) -> Path:
    """``home/config.yaml`` holding exactly ``doc``."""
    import yaml

    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def one_error(r: Any, code: str = "config_error", exit_code: int = 1) -> str:
    """The single ``error:`` line of a failed command (checked with ``-o json`` too)."""
    assert r.exit_code == exit_code, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    return lines[0].removeprefix("error: ")


# ------------------------------------------------------------------ ATTUNE_LOCK_TIMEOUT


@pytest.mark.parametrize("value", ["abc", "", " ", "-1", "nan", "inf", "1s"])
def test_a_bad_lock_timeout_is_a_config_error_naming_the_variable(home: Path, value: str) -> None:
    r = run_cli("pack", "list", home=home, env={"ATTUNE_LOCK_TIMEOUT": value})
    assert one_error(r) == (
        f"ATTUNE_LOCK_TIMEOUT must be a number of seconds (0 or more), not {value!r}"
    )
    r = run_cli("pack", "list", "-o", "json", home=home, env={"ATTUNE_LOCK_TIMEOUT": value})
    assert r.exit_code == 1 and r.json["error"]["code"] == "config_error"
    assert "ATTUNE_LOCK_TIMEOUT" in r.json["error"]["message"]
    assert listing(home) == []  # refused before anything was created


@pytest.mark.parametrize("value", ["0", "2.5", " 30 ", "600"])
def test_good_lock_timeouts_are_accepted(home: Path, value: str) -> None:
    r = run_cli("pack", "list", "-o", "json", home=home, env={"ATTUNE_LOCK_TIMEOUT": value})
    assert r.exit_code == 0, r.stderr


@pytest.fixture
def holder(home: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the home lock until the test ends."""
    code = (
        "import sys\n"
        "from filelock import FileLock\n"
        f"lock = FileLock({str(home / '.attune.lock')!r})\n"
        "lock.acquire()\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


BUSY = (
    "another attune command is using {home} (waited {waited} s); try again when it has "
    "finished, or raise ATTUNE_LOCK_TIMEOUT"
)


def test_a_busy_home_fails_once_within_the_bound_with_one_clear_error(
    home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A home with a database and one pack, so only the install itself needs the lock.
    first = run_cli("pack", "install", str(write_pack(tmp_path / "first", ref="first")),
                    "--skip-tests", home=home)  # fmt: skip
    assert first.exit_code == 0, first.stderr
    before = listing(home / "packs")
    request.getfixturevalue("holder")
    demo = write_pack(tmp_path / "demo")
    started = time.monotonic()
    r = run_cli("pack", "install", str(demo), "--skip-tests", "--progress", "none", "-o", "json",
                home=home, env={"ATTUNE_LOCK_TIMEOUT": "3"})  # fmt: skip
    elapsed = time.monotonic() - started
    assert r.exit_code == 1, r.stderr
    assert r.json["error"]["code"] == "locked"
    assert r.json["error"]["message"] == BUSY.format(home=home, waited=3)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: " + BUSY.format(home=home, waited=3)]
    assert "timed out" not in r.stderr
    # The 3 s bound is for the command: it used to wait it again to record the failure.
    assert 3 <= elapsed < 5.5, elapsed
    # Nothing half-written: the store is as it was, the pack is not installed.
    assert listing(home / "packs") == before
    assert [row["pack_ref"] for row in audit_rows(home)] == ["first"]


def test_the_lock_bound_is_not_spent_twice_but_is_again_once_free(
    home: Path, request: pytest.FixtureRequest
) -> None:
    path = home / ".attune.lock"
    proc = request.getfixturevalue("holder")
    started = time.monotonic()
    with pytest.raises(StoreError) as info, locking.hold(path, timeout=1):
        pass  # pragma: no cover - never held
    assert info.value.code == "locked" and info.value.message == BUSY.format(home=home, waited=1)
    assert time.monotonic() - started >= 1
    started = time.monotonic()
    with pytest.raises(StoreError), locking.hold(path, timeout=1):
        pass  # pragma: no cover - never held
    assert time.monotonic() - started < 0.5  # already waited the bound moments ago
    proc.kill()
    proc.wait(timeout=30)
    with locking.hold(path, timeout=1):
        assert locking.is_held(path)


# ------------------------------------------------------------------ relative paths


def test_a_relative_packs_dir_is_relative_to_the_config_file(home: Path, tmp_path: Path) -> None:
    write_config(home, packs_dir="relpacks")
    pack = write_pack(tmp_path / "src" / "demo")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    saved = os.getcwd()
    try:
        for cwd in (tmp_path, elsewhere):
            os.chdir(cwd)
            assert load_settings(home=home, env={}).packs_dir == home / "relpacks"
    finally:
        os.chdir(saved)
    r = run_cli("pack", "install", str(pack), "--skip-tests", home=home, cwd=tmp_path)
    assert r.exit_code == 0, r.stderr
    r = run_cli("pack", "list", "-o", "json", home=home, cwd=elsewhere)
    assert r.exit_code == 0, r.stderr
    assert [p["ref"] for p in r.json] == ["demo"]
    verify = run_cli("pack", "verify", "-o", "json", home=home, cwd=elsewhere)
    assert verify.exit_code == 0, verify.stdout + verify.stderr
    assert (home / "relpacks" / "demo" / "pack.yaml").is_file()
    assert not (tmp_path / "relpacks").exists() and not (elsewhere / "relpacks").exists()


def test_a_relative_packs_dir_of_an_explicit_config(tmp_path: Path) -> None:
    conf_dir = tmp_path / "etc"
    config = write_config(conf_dir, packs_dir="../data/packs")
    settings = load_settings(home=tmp_path / "home", config=config, env={})
    assert settings.packs_dir == tmp_path / "data" / "packs"


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_packs_dir_is_refused(home: Path, value: str) -> None:
    config = write_config(home, packs_dir=value)
    r = run_cli("pack", "list", home=home)
    assert one_error(r) == (
        f"config key 'packs_dir' in {config} must not be empty: give a folder "
        f"(e.g. /var/lib/attune/packs), or remove the key to use {home / 'packs'}"
    )
    assert listing(home) == ["config.yaml"]


def test_a_relative_sqlite_database_is_relative_to_the_config_file(
    home: Path, tmp_path: Path
) -> None:
    (home / "db").mkdir(parents=True)
    write_config(home, database_url="sqlite:///db/attune.db")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    settings = load_settings(home=home, env={})
    assert settings.database_url == f"sqlite:///{home / 'db' / 'attune.db'}"
    r = run_cli("pack", "install", str(write_pack(tmp_path / "demo")), "--skip-tests",
                home=home, cwd=tmp_path)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = run_cli("pack", "list", "-o", "json", home=home, cwd=elsewhere)
    assert [p["ref"] for p in r.json] == ["demo"]
    assert (home / "db" / "attune.db").is_file()
    assert not (tmp_path / "db").exists() and not (elsewhere / "db").exists()


def test_relative_sqlite_urls_keep_their_driver_and_query(home: Path) -> None:
    (home / "db").mkdir(parents=True)
    for given, expected in [
        ("sqlite+pysqlite:///db/a.db?timeout=5", f"sqlite+pysqlite:///{home}/db/a.db?timeout=5"),
        ("sqlite:///file:db/a.db?uri=true", f"sqlite:///file:{home}/db/a.db?uri=true"),
        ("sqlite:///file:x?mode=memory&uri=true", "sqlite:///file:x?mode=memory&uri=true"),
        (f"sqlite:///{home}/db/a.db", f"sqlite:///{home}/db/a.db"),
        ("sqlite://", "sqlite://"),
        ("postgresql://db.example.org/attune", "postgresql://db.example.org/attune"),
    ]:
        write_config(home, database_url=given)
        assert load_settings(home=home, env={}).database_url == expected, given


def test_a_relative_database_url_in_the_environment_is_relative_to_the_current_folder(
    home: Path, tmp_path: Path
) -> None:
    (tmp_path / "here").mkdir()
    saved = os.getcwd()
    os.chdir(tmp_path)
    try:
        settings = load_settings(home=home, env={"ATTUNE_DATABASE_URL": "sqlite:///here/x.db"})
    finally:
        os.chdir(saved)
    assert settings.database_url == f"sqlite:///{tmp_path / 'here' / 'x.db'}"


def test_an_empty_database_url_is_refused(home: Path) -> None:
    config = write_config(home, database_url="")
    with pytest.raises(ConfigError) as info:
        load_settings(home=home, env={})
    assert info.value.message.startswith(f"config key 'database_url' in {config} must not be empty")


# ------------------------------------------------------------------ limits and registries


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"archive": {"max_entries": 0}}, "config key 'archive.max_entries' must be at least 1, got 0"),
        ({"archive": {"max_entry_bytes": 0}},
         "config key 'archive.max_entry_bytes' must be at least 1, got 0"),
        ({"archive": {"max_total_bytes": 0}},
         "config key 'archive.max_total_bytes' must be at least 1, got 0"),
        ({"keep_versions": 0}, "config key 'keep_versions' must be at least 1, got 0"),
        ({"network": {"retries": -1}}, "config key 'network.retries' must not be negative, got -1"),
        ({"network": {"timeout": -0.5}},
         "config key 'network.timeout' must not be negative, got -0.5"),
        ({"network": {"timeout": float("nan")}},
         "config key 'network.timeout' must be a finite number, got nan"),
        ({"network": {"connect_timeout": float("inf")}},
         "config key 'network.connect_timeout' must be a finite number, got inf"),
        ({"registries": [{"name": "", "url": "https://r.example.org/index.json"}]},
         "config key 'registries[0].name' must not be empty: name the registry"),
        ({"registries": [{"name": "  ", "url": "https://r.example.org/index.json"}]},
         "config key 'registries[0].name' must not be empty: name the registry"),
        ({"registries": [{"name": "f", "url": "ftp://r.example.org/index.json"}]},
         "config key 'registries[0].url' of registry 'f' ('ftp://r.example.org/index.json') "
         "uses the unsupported scheme 'ftp': use https://, a local path or file://"),
        ({"registries": [{"name": "cred", "url": "https://alice:s3cret@r.example.org/i.json"}]},
         "config key 'registries[0].url' of registry 'cred' ('https://***@r.example.org/i.json') "
         "must not carry credentials: put them in the registry's headers "
         "(e.g. headers: {Authorization: 'Bearer ...'})"),
        ({"registries": [{"name": "h", "url": "http://r.example.org/i.json"}]},
         "config key 'registries[0].url' of registry 'h' ('http://r.example.org/i.json') uses "
         "plain http://: use https:// (or set network.allow_http: true)"),
        ({"registries": [{"name": "q", "url": "https://r.example.org/i.json?token=x"}]},
         "config key 'registries[0].url' of registry 'q' ('https://r.example.org/i.json?…') "
         "must not carry a query or a fragment"),
        ({"registries": [{"name": "e", "url": ""}]},
         "config key 'registries[0].url' of registry 'e' ('') must not be empty"),
        ({"registries": [{"name": "n", "url": "https:///i.json"}]},
         "config key 'registries[0].url' of registry 'n' ('https:///i.json') has no host"),
        ({"registries": [{"name": "r", "url": "file://server/i.json"}]},
         "config key 'registries[0].url' of registry 'r' ('file://server/i.json') must be a "
         "local file:// URL (file:///absolute/path)"),
    ],
)  # fmt: skip
def test_values_that_could_only_fail_later_are_refused_at_load(
    home: Path, config: dict[str, Any], message: str
) -> None:
    write_raw(home, config)
    r = run_cli("pack", "list", home=home)
    assert one_error(r) == message
    assert "s3cret" not in r.stderr
    assert listing(home) == ["config.yaml"]


def test_zero_network_limits_mean_no_limit_and_are_accepted(home: Path) -> None:
    zero = {k: 0 for k in ("timeout", "connect_timeout", "retries", "index_max_bytes",
                           "archive_max_bytes", "cache_ttl", "retry_backoff")}  # fmt: skip
    write_config(home, network=zero)
    settings = load_settings(home=home, env={})
    assert settings.network.timeout == 0 and settings.network.archive_max_bytes == 0


def test_good_registry_urls_are_accepted(home: Path) -> None:
    write_config(
        home,
        [
            {"name": "a", "url": "https://r.example.org/index.json"},
            {"name": "b", "url": "mirror/index.json"},
            {"name": "c", "url": "/srv/My Registry/index.json"},
            {"name": "d", "url": "file:///srv/index.json"},
            {"name": "e", "url": "http://r.example.org/index.json"},
        ],
        network={"allow_http": True},
    )
    assert [r.name for r in load_settings(home=home, env={}).registries] == list("abcde")


# ------------------------------------------------------------------ type errors in words


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"keep_versions": "abc"}, "config key 'keep_versions' must be a whole number, got 'abc' (text)"),
        ({"keep_versions": True}, "config key 'keep_versions' must be a whole number, got true (true/false)"),
        ({"keep_versions": 1.5}, "config key 'keep_versions' must be a whole number, got 1.5 (a decimal number)"),
        ({"keep_versions": None}, "config key 'keep_versions' must be a whole number, got nothing (an empty value)"),
        ({"keep_versions": [1]}, "config key 'keep_versions' must be a whole number, got a list"),
        ({"network": {"timeout": "fast"}}, "config key 'network.timeout' must be a number, got 'fast' (text)"),
        ({"network": {"allow_http": "sure"}}, "config key 'network.allow_http' must be true or false, got 'sure' (text)"),
        ({"network": {"retries": 2.0}}, "config key 'network.retries' must be a whole number, got 2.0 (a decimal number)"),
        ({"verify_checksums": 1}, "config key 'verify_checksums' must be true or false, got 1 (a whole number)"),
        ({"packs_dir": 5}, "config key 'packs_dir' must be text, got 5 (a whole number)"),
        ({"network": [1, 2]}, "config key 'network' must be a mapping (key: value lines), got a list"),
        ({"archive": "big"}, "config key 'archive' must be a mapping (key: value lines), got 'big' (text)"),
        ({"registries": {"name": "x"}}, "config key 'registries' must be a list, got a mapping (key: value lines)"),
        ({"registries": ["https://r.example.org"]},
         "config key 'registries[0]' must be a mapping (key: value lines), got "
         "'https://r.example.org' (text)"),
        ({"registries": [{"name": 7, "url": "x.json"}]}, "config key 'registries[0].name' must be text, got 7 (a whole number)"),
        ({"registries": [{"name": "a", "url": "x.json", "priority": "high"}]},
         "config key 'registries[0].priority' must be a whole number, got 'high' (text)"),
        ({"registries": [{"name": "a", "url": "x.json", "enabled": "no way"}]},
         "config key 'registries[0].enabled' must be true or false, got 'no way' (text)"),
    ],
)  # fmt: skip
def test_type_errors_say_what_was_found_in_words(
    home: Path, config: dict[str, Any], message: str
) -> None:
    write_raw(home, config)
    assert one_error(run_cli("pack", "list", home=home)) == message
    r = run_cli("pack", "list", "-o", "json", home=home)
    assert r.json["error"] == {"code": "config_error", "message": message}
    for word in ("str", "bool", "float", "int,", "NoneType"):
        assert f"not {word}" not in message
