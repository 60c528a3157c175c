"""Configuration rules checked once, in ``load_settings``: ``packs_dir`` and the folder of
an explicitly given SQLite database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from attune_packs.config import load_settings
from attune_packs.db.open import open_database
from attune_packs.errors import ConfigError
from attune_packs.install.options import InstallOptions
from attune_packs.install.pipeline import Installer
from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows
from tests.servers import write_config


def tree(root: Path) -> list[str]:
    """Every path below ``root`` (links shown with their target), for before/after checks."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            out.append(f"{rel} -> {os.readlink(full)}" if full.is_symlink() else rel)
    return sorted(out)


# ------------------------------------------------------------------ packs_dir


def test_packs_dir_root_is_refused(home: Path) -> None:
    config = write_config(home, packs_dir="/")
    before = config.read_bytes()
    with pytest.raises(ConfigError) as info:
        load_settings(home=home, env={})
    assert info.value.code == "config_error" and info.value.exit_code == 1
    assert info.value.message == (
        f"config key 'packs_dir' ('/') in {config} must not be the root folder: installed "
        "packs need a folder of their own (e.g. /var/lib/attune/packs)"
    )
    assert config.read_bytes() == before and tree(home) == ["config.yaml"]


@pytest.mark.parametrize("value", ["//", "/./", "/tmp/.."])
def test_other_spellings_of_root_are_refused(home: Path, value: str) -> None:
    write_config(home, packs_dir=value)
    with pytest.raises(ConfigError, match=r"config key 'packs_dir' \('.*'\) .* root folder"):
        load_settings(home=home, env={})


def test_packs_dir_linked_to_root_is_refused(home: Path, tmp_path: Path) -> None:
    link = tmp_path / "packs-link"
    os.symlink("/", link)
    write_config(home, packs_dir=str(link))
    with pytest.raises(ConfigError) as info:
        load_settings(home=home, env={})
    assert info.value.message.startswith(f"config key 'packs_dir' ({str(link)!r})")
    assert "is a symbolic link to the root folder /" in info.value.message
    assert os.readlink(link) == "/"


def test_packs_dir_that_is_a_file_is_refused(home: Path, tmp_path: Path) -> None:
    afile = tmp_path / "packs.txt"
    afile.write_text("not a folder\n", encoding="utf-8")
    write_config(home, packs_dir=str(afile))
    with pytest.raises(
        ConfigError, match=r"config key 'packs_dir' \(.*packs\.txt'\) .*not a folder"
    ):
        load_settings(home=home, env={})
    assert afile.read_text(encoding="utf-8") == "not a folder\n"


def test_a_linked_packs_dir_is_resolved_once(home: Path, tmp_path: Path) -> None:
    real = tmp_path / "disk" / "packs"
    real.mkdir(parents=True)
    link = tmp_path / "packs"
    os.symlink(real, link)
    write_config(home, packs_dir=str(link))
    settings = load_settings(home=home, env={})
    assert settings.packs_dir == real and settings.packs_dir_link == link
    inst = Installer(settings)
    try:
        result = inst.install(str(write_pack(tmp_path / "src")), InstallOptions(skip_tests=True))
    finally:
        inst.close()
    assert result.status == "installed"
    # Everything went to the real folder; the link was used by nobody and is unchanged.
    assert os.readlink(link) == str(real)
    assert "demo -> demo-1.0.0" in tree(real) and (real / "demo-1.0.0" / "pack.yaml").is_file()
    (row,) = audit_rows(home)
    assert row["storage_path"] == str(real / "demo-1.0.0")
    # Later commands keep working on the real path even if the link goes away.
    os.unlink(link)
    inst = Installer(settings)
    try:
        (check,) = inst.verify()
    finally:
        inst.close()
    assert check["ok"] is True


def test_a_plain_packs_dir_reports_no_link(home: Path) -> None:
    settings = load_settings(home=home, env={})
    assert settings.packs_dir == home / "packs" and settings.packs_dir_link is None


# ------------------------------------------------------------------ database_url


def test_configured_database_in_a_missing_folder_is_refused(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "db"
    url = f"sqlite:///{missing / 'attune.db'}"
    config = write_config(home, database_url=url)
    with pytest.raises(ConfigError) as info:
        load_settings(home=home, env={})
    assert info.value.code == "config_error" and info.value.exit_code == 1
    assert info.value.message == (
        f"config key 'database_url' in {config}: the folder {missing} of the database "
        f"{url!r} does not exist; create it first or fix the URL (the database file itself "
        "is created on first use)"
    )
    assert not (tmp_path / "nowhere").exists() and tree(home) == ["config.yaml"]


@pytest.mark.parametrize(
    "make_url",
    [
        lambda folder: f"sqlite:///{folder / 'x.db'}",
        lambda folder: f"sqlite+pysqlite:///{folder / 'x.db'}?timeout=5",
        lambda folder: f"sqlite:///file:{folder / 'x.db'}?uri=true",
    ],
)
def test_environment_database_in_a_missing_folder_is_refused(
    home: Path, tmp_path: Path, make_url
) -> None:
    folder = tmp_path / "missing"
    url = make_url(folder)
    with pytest.raises(ConfigError) as info:
        load_settings(home=home, env={"ATTUNE_DATABASE_URL": url})
    assert info.value.message.startswith(
        f"ATTUNE_DATABASE_URL: the folder {folder} of the database {url!r} does not exist"
    )
    assert not folder.exists()


def test_database_folder_that_is_a_file_is_refused(home: Path, tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    url = f"sqlite:///{afile / 'attune.db'}"
    with pytest.raises(ConfigError, match=f"the folder {afile} of the database .* is not a folder"):
        load_settings(home=home, env={"ATTUNE_DATABASE_URL": url})
    assert afile.read_text(encoding="utf-8") == "x"


def test_databases_that_need_no_folder_are_accepted(home: Path, tmp_path: Path) -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "postgresql://db.example.org/attune"):
        assert load_settings(home=home, env={"ATTUNE_DATABASE_URL": url}).database_url == url
    there = tmp_path / "there"
    there.mkdir()
    url = f"sqlite:///{there / 'attune.db'}"
    settings = load_settings(home=home, env={"ATTUNE_DATABASE_URL": url})
    db = open_database(settings)
    assert db is not None
    db.close()
    assert (there / "attune.db").is_file()


def test_the_default_database_is_still_created_in_a_new_home(tmp_path: Path) -> None:
    home = tmp_path / "brand" / "new" / "home"
    settings = load_settings(home=home, env={})
    assert settings.database_url == f"sqlite:///{home / 'attune.db'}"
    db = open_database(settings)
    assert db is not None
    db.close()
    assert (home / "attune.db").is_file()


@pytest.mark.timeout(30)
def test_a_fifo_config_is_refused_naming_it_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.mkfifo(home / "config.yaml")
    r = run_cli("pack", "list", home=home)
    assert r.exit_code == 1
    assert r.stderr.count("config.yaml") == 1, r.stderr
    assert "FIFO" in r.stderr and len(r.stderr.splitlines()) == 1
