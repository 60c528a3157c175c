"""The installation database: migrations, schema, WAL, refusing a newer schema."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from attune_packs import db as dbpkg
from attune_packs.config import load_settings
from attune_packs.db import InstallationRecord, open_database, utcnow
from attune_packs.db.models import SQLModel
from attune_packs.db.sqla import alembic_config
from attune_packs.errors import DatabaseError
from tests.conftest import REPO, run_cli, write_pack


def _settings(home: Path):
    return load_settings(home=home, env={})


def test_fresh_home_is_created_and_migrated(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    db = open_database(_settings(home))
    assert db is not None
    con = sqlite3.connect(home / "attune.db")
    assert con.execute("select version_num from alembic_version").fetchall() == [
        (dbpkg.HEAD_REVISION,)
    ]
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    assert {"pack", "pack_installation", "pack_dependency", "alembic_version"} <= tables
    db.close()


def test_models_match_the_migrations(tmp_path: Path) -> None:
    open_database(_settings(tmp_path)).close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'attune.db'}")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, SQLModel.metadata) == []
    engine.dispose()


def test_head_constant_matches_the_shipped_migrations() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == dbpkg.HEAD_REVISION
    assert dbpkg.migrations_dir() == REPO / "migrations"


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    open_database(_settings(tmp_path)).close()
    con = sqlite3.connect(tmp_path / "attune.db")
    con.execute("update alembic_version set version_num = 'f00dfeed9999'")
    con.commit()
    con.close()
    with pytest.raises(DatabaseError) as err:
        open_database(_settings(tmp_path))
    assert err.value.code == "database_too_new"
    assert "'f00dfeed9999' is newer than this attune-packs; upgrade attune-packs" in str(err.value)
    r = run_cli("pack", "list", "-o", "json", home=tmp_path)
    assert r.exit_code == 1
    assert r.json["error"]["code"] == "database_too_new"
    assert "upgrade attune-packs" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    # Nothing was changed by the refusal.
    con = sqlite3.connect(tmp_path / "attune.db")
    assert con.execute("select version_num from alembic_version").fetchall() == [("f00dfeed9999",)]


def test_unmigrated_empty_file_is_migrated(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "attune.db").close()  # an empty database file
    db = open_database(_settings(tmp_path))
    assert db is not None and db.list_packs() == []
    db.close()


def test_readonly_open_never_creates_anything(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert open_database(_settings(home), readonly=True) is None
    assert not home.exists()


def test_timestamps_are_timezone_aware_utc(tmp_path: Path) -> None:
    db = open_database(_settings(tmp_path))
    assert db is not None
    started = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    db.add_audit(
        InstallationRecord(
            pack_ref="x",
            action="install",
            status="failed",
            started_at=started,
            finished_at=utcnow(),
            meta={"k": [1, 2]},
        )
    )
    (row,) = db.history()
    assert row.started_at == started and row.started_at.tzinfo is not None
    assert row.finished_at.utcoffset().total_seconds() == 0
    assert row.meta == {"k": [1, 2]}
    with pytest.raises(DatabaseError, match="timezone-aware"):
        db.add_audit(
            InstallationRecord(
                pack_ref="x",
                action="install",
                status="failed",
                started_at=datetime(2024, 1, 1),  # naive: refused
                finished_at=utcnow(),
            )
        )
    db.close()


def test_database_url_override(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "x.db"
    other.parent.mkdir()  # an explicit database's folder must exist (never created)
    pack = write_pack(tmp_path / "p")
    r = run_cli(
        "pack",
        "install",
        str(pack),
        home=tmp_path / "h",
        env={"ATTUNE_DATABASE_URL": f"sqlite:///{other}"},
    )
    assert r.exit_code == 0, r.stderr
    assert other.exists() and not (tmp_path / "h" / "attune.db").exists()


def test_database_is_not_loaded_for_checksum_and_validate(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    code = (
        "import sys\n"
        "from attune_packs.cli.app import main\n"
        "for args in (['pack', 'checksum', sys.argv[1]], ['pack', 'validate', sys.argv[1]]):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        "bad = [m for m in ('sqlalchemy', 'sqlmodel', 'alembic') if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(pack)], capture_output=True, text=True, check=True
    ).stdout
    assert "LOADED []" in out


def test_sqlalchemy_driver_does_the_same(tmp_path: Path) -> None:
    """Non-file URLs go through SQLAlchemy; the same operations give the same rows."""
    from attune_packs.db.sqla import SqlAlchemyDatabase
    from attune_packs.install.pipeline import Installer

    url = f"sqlite:///file:{tmp_path / 'sa.db'}?uri=true"
    settings = load_settings(home=tmp_path / "home", env={"ATTUNE_DATABASE_URL": url})
    inst = Installer(settings)
    try:
        assert isinstance(inst.db, SqlAlchemyDatabase)
        src = write_pack(tmp_path / "src", extra="dependencies:\n  - base@^1\n")
        base = write_pack(tmp_path / "base", ref="base")
        inst.install(str(base))
        inst.install(str(src))
        write_pack(src, version="1.1.0", extra="dependencies:\n  - base@^1\n")
        inst.install(str(src))
        assert inst.rollback("demo")["version"] == "1.0.0"
        assert [r["ok"] for r in inst.verify()] == [True, True]
        assert [d.pack_ref for d in inst.db.dependents("base")] == ["demo"]
        assert inst.db.get_pack("demo").installed_at.tzinfo is not None  # type: ignore[union-attr]
        history = inst.db.history()
        assert [h.action for h in history] == ["rollback", "upgrade", "install", "install"]
        assert history[0].meta is None or isinstance(history[0].meta, dict)
        assert inst.db.activation_history("demo") == ["1.0.0", "1.1.0"]
        inst.uninstall("demo")
        assert inst.db.get_pack("demo") is None
    finally:
        inst.close()
    # The file the stdlib driver reads is the same database.
    plain = load_settings(
        home=tmp_path / "home", env={"ATTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'sa.db'}"}
    )
    db = open_database(plain)
    assert db is not None and db.backend == "sqlite"
    assert [p.ref for p in db.list_packs()] == ["base"]
    assert [h.action for h in db.history(limit=2)] == ["uninstall", "rollback"]
    db.close()


def test_stdlib_driver_rows_are_readable_by_sqlalchemy(tmp_path: Path) -> None:
    from sqlmodel import Session, select

    from attune_packs.db.models import Pack, PackInstallation

    db = open_database(_settings(tmp_path))
    assert db is not None
    started = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    db.add_audit(
        InstallationRecord(
            pack_ref="x",
            action="install",
            status="failed",
            started_at=started,
            finished_at=started,
            meta={"k": "v"},
            checksum_verified=True,
        )
    )
    db.close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'attune.db'}")
    with Session(engine) as s:
        (row,) = s.exec(select(PackInstallation)).all()
        assert row.started_at == started and row.meta == {"k": "v"} and row.checksum_verified
        assert s.exec(select(Pack)).all() == []
    engine.dispose()


def test_in_memory_url_works(tmp_path: Path) -> None:
    r = run_cli(
        "pack", "list", "-o", "json", home=tmp_path, env={"ATTUNE_DATABASE_URL": "sqlite://"}
    )
    assert r.exit_code == 0, r.stderr
    assert r.json == []


def test_commands_on_an_up_to_date_database_do_not_load_sqlalchemy(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    assert run_cli("pack", "install", str(pack), home=tmp_path / "h").exit_code == 0
    code = (
        "import sys\n"
        "from attune_packs.cli.app import main\n"
        "for args in (['pack', 'list'], ['pack', 'install', sys.argv[1]], ['pack', 'verify'],\n"
        "             ['pack', 'history'], ['pack', 'show', 'demo']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, (args, e.code)\n"
        "bad = [m for m in ('sqlalchemy', 'sqlmodel', 'alembic') if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env["ATTUNE_HOME"] = str(tmp_path / "h")
    out = subprocess.run(
        [sys.executable, "-c", code, str(pack)], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout
