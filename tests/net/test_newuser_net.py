"""Messages a new user met in the network and database layers (defects they found).

* A URL typed on the command line with credentials is refused with advice that
  fits it (a registry with headers, or download it yourself); only a registry's
  own URL gets "put them in the registry's headers".
* ``git+file:///x`` is shown as written, never as ``git+file:/x``.
* A database URL whose driver is missing names the driver and how to install it
  (``pip install 'attune-packs[postgres]'`` for PostgreSQL), in one line, and no
  message ever shows the URL's password.

Real CLI runs; the only address used is 127.0.0.1 (port 1: nothing listens, and
nothing is ever sent there, the URLs are refused first).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa

from attune_packs.errors import SourceError
from attune_packs.net.urls import check_url
from attune_packs.redaction import display_location, redact_url
from tests.conftest import run_cli
from tests.servers import write_config

HEADERS_HINT = "put them in the registry's headers in config.yaml"


# --------------------------------------------------------------------------- credentials


def test_archive_url_with_credentials_on_the_command_line(home: Path) -> None:
    write_config(home)
    url = "https://u:p4ss@127.0.0.1:1/x.tar.gz"
    r = run_cli("pack", "install", url, "--progress", "none", home=home)
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == (
        "error: refusing archive URL https://***@127.0.0.1:1/x.tar.gz: URLs must not carry "
        "credentials; to authenticate, serve it from a registry whose headers in "
        "config.yaml carry the credentials, or download it yourself and install the file"
    )
    assert HEADERS_HINT not in r.stderr and "p4ss" not in r.stderr
    r = run_cli("pack", "install", url, "-o", "json", home=home)
    assert r.json["error"]["code"] == "invalid_url"
    assert "p4ss" not in r.stdout + r.stderr and HEADERS_HINT not in r.stdout


def test_git_url_with_credentials_on_the_command_line(home: Path) -> None:
    write_config(home)
    r = run_cli(
        "pack", "install", "git+https://u:p4ss@127.0.0.1:1/x.git", "--progress", "none", home=home
    )
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == (
        "error: refusing git URL https://***@127.0.0.1:1/x.git: URLs must not carry "
        "credentials; to use a private repository, clone it yourself (with your own git "
        "credentials) and install the local clone"
    )
    assert "p4ss" not in r.stderr


def test_registry_url_with_credentials_keeps_the_headers_hint(home: Path) -> None:
    write_config(home, [{"name": "r", "url": "https://bob:pw123@127.0.0.1:1/index.json"}])
    r = run_cli("pack", "install", "demo", "--progress", "none", home=home)
    assert r.exit_code == 1
    # Refused when the configuration is read, or by check_url: the headers hint either way.
    assert "must not carry credentials" in r.stderr and "pw123" not in r.stderr
    assert "put them in the registry's headers" in r.stderr
    assert "download it yourself" not in r.stderr


def test_check_url_context_is_explicit_or_taken_from_what() -> None:
    url = "https://u:secret@127.0.0.1:1/x.tar.gz"
    cases = [
        ({"what": "registry URL"}, True),
        ({"what": "archive URL", "registry": True}, True),
        ({"what": "archive URL"}, False),
        ({"what": "registry URL", "registry": False}, False),
        ({}, False),
    ]
    for kwargs, registry in cases:
        with pytest.raises(SourceError) as err:
            check_url(url, allow_http=False, **kwargs)
        message = err.value.message
        assert "URLs must not carry credentials" in message and "secret" not in message
        assert (HEADERS_HINT in message) is registry, (kwargs, message)
        assert ("download it yourself" in message) is not registry, (kwargs, message)


# --------------------------------------------------------------------------- display of URLs


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("git+file:///tmp/x.git", "git+file:///tmp/x.git"),
        ("git+file://localhost/tmp/x.git", "git+file://localhost/tmp/x.git"),
        ("git+https://u:p@127.0.0.1/x.git", "git+https://***@127.0.0.1/x.git"),
        ("file:///tmp/x.git", "file:///tmp/x.git"),
        ("https://127.0.0.1/x.tar.gz?token=1", "https://127.0.0.1/x.tar.gz?…"),
    ],
)
def test_urls_are_shown_as_written(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert display_location(url) == shown


def test_missing_git_plus_file_repository_is_named_as_given(home: Path, tmp_path: Path) -> None:
    url = f"git+file://{tmp_path.resolve()}/missing.git"
    assert url.startswith("git+file:///")
    r = run_cli("pack", "install", url, "--progress", "plain", home=home)
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines()[-1] == f"error: no such file or directory: {url}"
    # Every mention, progress lines included, keeps the "//".
    assert r.stderr.count("git+file:") == r.stderr.count("git+file:///") >= 2, r.stderr


# --------------------------------------------------------------------------- database drivers


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def _list(home: Path, url: str, *extra: str):
    return run_cli("pack", "list", *extra, home=home, env={"ATTUNE_DATABASE_URL": url})


@pytest.mark.skipif(not _missing("psycopg"), reason="psycopg is installed")
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://user@127.0.0.1/db", "postgresql://user@127.0.0.1/db"),
        ("postgresql://user:s3cretpw@127.0.0.1/db", "postgresql://user:***@127.0.0.1/db"),
        (
            "postgresql+psycopg://user@127.0.0.1/db?password=s3cretpw",
            "postgresql+psycopg://user@127.0.0.1/db?password=***",
        ),
    ],
)
def test_postgres_without_its_driver(home: Path, url: str, shown: str) -> None:
    message = (
        f"cannot use database {shown}: its driver is not installed (no Python module "
        "'psycopg'); install it with: pip install 'attune-packs[postgres]'"
    )
    r = _list(home, url)
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [f"error: {message}"]
    r = _list(home, url, "-o", "json")
    assert r.json["error"] == {"code": "config_error", "message": message}
    r = _list(home, url, "-v")
    assert "s3cretpw" not in r.stdout + r.stderr


@pytest.mark.skipif(not _missing("MySQLdb"), reason="MySQLdb is installed")
def test_other_missing_driver_is_named(home: Path) -> None:
    r = _list(home, "mysql://user:s3cretpw@127.0.0.1/db")
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [
        "error: cannot use database mysql://user:***@127.0.0.1/db: its driver is not "
        "installed (no Python module 'MySQLdb'); install the package providing it into "
        "attune's Python environment"
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Not a number as the port: was an internal error quoting nothing useful.
        (
            "postgresql://user:s3cretpw@127.0.0.1:port/db",
            "error: invalid database URL 'postgresql://user:***@127.0.0.1:port/db'",
        ),
        (
            "nosuchdb://user:s3cretpw@127.0.0.1/db",
            "error: cannot use database nosuchdb://user:***@127.0.0.1/db: SQLAlchemy has no "
            "database dialect 'nosuchdb' (is the URL's scheme right? a dialect from another "
            "package must be installed first)",
        ),
    ],
)
def test_bad_database_urls_never_show_the_password(home: Path, url: str, expected: str) -> None:
    r = _list(home, url)
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [expected]
    r = _list(home, url, "-v")
    assert "s3cretpw" not in r.stdout + r.stderr


def test_driver_errors_quoting_the_password_are_scrubbed() -> None:
    from attune_packs.db.sqla import _scrub

    url = sa.engine.make_url("postgresql://user:s3cretpw@127.0.0.1/db?sslpassword=k3y")
    text = 'connection to "user:s3cretpw@127.0.0.1" failed (sslpassword k3y)'
    assert _scrub(text, url) == 'connection to "user:***@127.0.0.1" failed (sslpassword ***)'
