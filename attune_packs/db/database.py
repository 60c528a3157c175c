"""Opening the installation database and the queries the installer needs.

The schema is defined by the SQLModel classes in :mod:`attune_packs.db.models`
and created/upgraded only by the Alembic migrations.  Day-to-day access is
plain, portable SQL (named parameters, standard quoting) run through:

* the standard library's :mod:`sqlite3` for SQLite files (the default), so that
  a CLI command does not pay for importing SQLAlchemy, SQLModel and pydantic
  (a few hundred milliseconds) once the schema is at head;
* SQLAlchemy (:mod:`attune_packs.db.sqla`) for every other URL (PostgreSQL for
  a fleet sharing one record, ``sqlite://`` with options, in-memory).

:func:`open_database` creates the database on first use and brings it to head
through Alembic (driven from code; no ``alembic.ini`` at run time).  When the
schema is already at head that costs one ``SELECT`` on ``alembic_version``.  A
database at a revision this attune-packs does not know is refused.

SQLite runs in WAL mode with a busy timeout; write transactions start with
``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy timeout instead
of failing with "database is locked" when a read turns into a write.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import DatabaseError

if TYPE_CHECKING:
    from attune_packs.config import Settings

#: The newest migration revision this version of attune-packs ships.
HEAD_REVISION = "0001"
#: Milliseconds SQLite waits for a competing writer before reporting "locked".
BUSY_TIMEOUT_MS = int(os.environ.get("ATTUNE_DB_BUSY_TIMEOUT_MS", "120000"))

ACTIVATING_ACTIONS = ("install", "upgrade", "downgrade", "reinstall", "rollback")


def utcnow() -> datetime:
    return datetime.now(UTC)


def migrations_dir() -> Path:
    """Where the Alembic environment lives: inside the package (wheel) or the source tree."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file() and (candidate / "versions").is_dir():
            return candidate
    raise DatabaseError(
        "the database migrations are missing from this installation of attune-packs "
        f"(looked in {package / 'migrations'}); reinstall attune-packs",
        code="migrations_missing",
    )


# -- records (what queries return and writes take) -----------------------------------------


@dataclass
class PackRecord:
    """A ``pack`` row: one installed ref and its active version."""

    ref: str
    version: str
    label: str
    description: str
    checksum: str
    storage_path: str
    source_type: str
    installed_at: datetime
    updated_at: datetime
    author: str | None = None
    license: str | None = None
    source_url: str | None = None
    source_ref: str | None = None
    registry_name: str | None = None
    manifest: dict[str, Any] | None = None
    id: int | None = None


@dataclass
class InstallationRecord:
    """A ``pack_installation`` row: one attempt in the audit trail."""

    action: str
    status: str
    started_at: datetime
    finished_at: datetime
    pack_ref: str | None = None
    pack_version: str | None = None
    previous_version: str | None = None
    source_type: str | None = None
    source_url: str | None = None
    source_ref: str | None = None
    registry_name: str | None = None
    checksum: str | None = None
    checksum_subject: str | None = None
    checksum_verified: bool = False
    storage_path: str | None = None
    installed_by: str | None = None
    installation_method: str = "cli"
    error_message: str | None = None
    meta: dict[str, Any] | None = field(default=None)
    id: int | None = None


@dataclass
class DependencyRecord:
    """A ``pack_dependency`` row of the installed version of ``pack_ref``."""

    pack_ref: str
    kind: str
    name: str
    constraint: str = ""
    id: int | None = None


TIMESTAMPS = frozenset({"installed_at", "updated_at", "started_at", "finished_at"})
JSON_COLUMNS = frozenset({"manifest", "meta"})

_PACK_COLS = [f.name for f in fields(PackRecord) if f.name != "id"]
_AUDIT_COLS = [f.name for f in fields(InstallationRecord) if f.name != "id"]
_DEP_COLS = ["pack_ref", "kind", "name", "constraint"]


def _q(column: str) -> str:
    return f'"{column}"' if column == "constraint" else column


def _insert_sql(table: str, cols: Sequence[str]) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(_q(c) for c in cols)}) "
        f"VALUES ({', '.join(':' + c for c in cols)})"
    )


_SELECT_PACK = f"SELECT id, {', '.join(_PACK_COLS)} FROM pack"
_SELECT_AUDIT = f"SELECT id, {', '.join(_AUDIT_COLS)} FROM pack_installation"
_SELECT_DEP = 'SELECT id, pack_ref, kind, name, "constraint" FROM pack_dependency'


def _to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _to_json(value: Any) -> Any:
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


def _record(cls: type, row: dict[str, Any]) -> Any:
    values = {}
    for key, value in row.items():
        if key in TIMESTAMPS:
            value = _to_datetime(value)
        elif key in JSON_COLUMNS:
            value = _to_json(value)
        elif key == "checksum_verified":
            value = bool(value)
        values[key] = value
    return cls(**values)


def _values(record: Any, cols: Sequence[str]) -> dict[str, Any]:
    out = {}
    for col in cols:
        value = getattr(record, col)
        if col in TIMESTAMPS:
            if value is None or value.tzinfo is None:
                raise DatabaseError(f"internal error: {col} must be a timezone-aware timestamp")
            value = value.astimezone(UTC)
        out[col] = value
    return out


class Transaction:
    """What :meth:`Database._transaction` yields: run statements, insert rows."""

    def execute(self, sql: str, params: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def insert(self, table: str, values: dict[str, Any]) -> int:  # pragma: no cover
        raise NotImplementedError


class Database:
    """The installation database: queries and one-transaction writes.

    Subclasses provide :meth:`_query` and :meth:`_transaction` for a driver."""

    backend = "abstract"

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.readonly = readonly

    # -- driver hooks -------------------------------------------------------------------

    def _query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError  # pragma: no cover

    @contextmanager
    def _transaction(self) -> Iterator[Transaction]:  # pragma: no cover
        raise NotImplementedError
        yield  # type: ignore[unreachable]

    def close(self) -> None:  # pragma: no cover
        pass

    def revision(self) -> str | None:  # pragma: no cover
        raise NotImplementedError

    # -- reads ----------------------------------------------------------------------------

    def get_pack(self, ref: str) -> PackRecord | None:
        rows = self._query(f"{_SELECT_PACK} WHERE ref = :ref", {"ref": ref})
        return _record(PackRecord, rows[0]) if rows else None

    def list_packs(self) -> list[PackRecord]:
        return [_record(PackRecord, r) for r in self._query(f"{_SELECT_PACK} ORDER BY ref", {})]

    def dependencies(self, ref: str) -> list[DependencyRecord]:
        sql = f"{_SELECT_DEP} WHERE pack_ref = :ref ORDER BY kind, name"
        return [_record(DependencyRecord, r) for r in self._query(sql, {"ref": ref})]

    def all_dependencies(self) -> list[DependencyRecord]:
        sql = f"{_SELECT_DEP} ORDER BY pack_ref, kind, name"
        return [_record(DependencyRecord, r) for r in self._query(sql, {})]

    def dependents(self, ref: str) -> list[DependencyRecord]:
        """Rows of *other* installed packs that require the pack ``ref``."""
        sql = (
            f"{_SELECT_DEP} WHERE kind = 'pack' AND name = :ref AND pack_ref <> :ref "
            "ORDER BY pack_ref"
        )
        return [_record(DependencyRecord, r) for r in self._query(sql, {"ref": ref})]

    def history(self, ref: str | None = None, limit: int | None = None) -> list[InstallationRecord]:
        """Audit rows, newest first."""
        sql = _SELECT_AUDIT
        params: dict[str, Any] = {}
        if ref is not None:
            sql += " WHERE pack_ref = :ref"
            params["ref"] = ref
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = int(limit)
        return [_record(InstallationRecord, r) for r in self._query(sql, params)]

    def activation_history(self, ref: str) -> list[str]:
        """Versions of ``ref`` in the order they were last made active, newest first."""
        actions = ", ".join(f"'{a}'" for a in ACTIVATING_ACTIONS)
        sql = (
            "SELECT pack_version FROM pack_installation WHERE pack_ref = :ref "
            f"AND status = 'succeeded' AND action IN ({actions}) ORDER BY id DESC"
        )
        seen: list[str] = []
        for row in self._query(sql, {"ref": ref}):
            version = row["pack_version"]
            if version is not None and version not in seen:
                seen.append(version)
        return seen

    # -- writes ---------------------------------------------------------------------------

    def record(
        self,
        audit: InstallationRecord,
        *,
        pack: PackRecord | None = None,
        dependencies: Sequence[DependencyRecord] | None = None,
        remove_ref: str | None = None,
    ) -> int:
        """One transaction: upsert ``pack`` (or delete ``remove_ref``), replace its
        dependency rows, append the audit row.  Returns the audit row's id."""
        if self.readonly:
            raise DatabaseError("internal error: write to a read-only database handle")
        with self._transaction() as tx:
            if pack is not None:
                values = _values(pack, _PACK_COLS)
                existing = tx.query("SELECT id FROM pack WHERE ref = :ref", {"ref": pack.ref})
                if existing:
                    del values["installed_at"]
                    sets = ", ".join(f"{c} = :{c}" for c in values if c != "ref")
                    tx.execute(f"UPDATE pack SET {sets} WHERE ref = :ref", values)
                else:
                    tx.insert("pack", values)
                tx.execute("DELETE FROM pack_dependency WHERE pack_ref = :ref", {"ref": pack.ref})
                for dep in dependencies or ():
                    tx.insert("pack_dependency", _values(dep, _DEP_COLS))
            if remove_ref is not None:
                tx.execute("DELETE FROM pack_dependency WHERE pack_ref = :ref", {"ref": remove_ref})
                tx.execute("DELETE FROM pack WHERE ref = :ref", {"ref": remove_ref})
            audit.id = tx.insert("pack_installation", _values(audit, _AUDIT_COLS))
            return audit.id

    def add_audit(self, audit: InstallationRecord) -> int:
        return self.record(audit)


# -- SQLite through the standard library ---------------------------------------------------------


def _sqlite_text(value: Any) -> Any:
    if isinstance(value, datetime):
        # The storage format SQLAlchemy uses for SQLite DATETIME (naive UTC).
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _sqlite_error(path: Path, exc: sqlite3.Error) -> DatabaseError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DatabaseError(f"database error ({path}): {text}")


class _SqliteTx(Transaction):
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        self.conn.execute(sql, {k: _sqlite_text(v) for k, v in params.items()})

    def query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    def insert(self, table: str, values: dict[str, Any]) -> int:
        cur = self.conn.execute(
            _insert_sql(table, list(values)), {k: _sqlite_text(v) for k, v in values.items()}
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)


class SqliteDatabase(Database):
    """A SQLite file through :mod:`sqlite3` (no SQLAlchemy import)."""

    backend = "sqlite"

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        super().__init__(f"sqlite:///{path}", readonly=readonly)
        self.path = path
        try:
            if readonly:
                conn = sqlite3.connect(
                    f"file:{path}?mode=ro",
                    uri=True,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                conn = sqlite3.connect(
                    path,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the database {path}: {exc}") from None
        self.conn = conn

    def close(self) -> None:
        self.conn.close()

    def revision(self) -> str | None:
        try:
            rows = self.conn.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise DatabaseError(f"cannot open the database {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"cannot open the database {self.path}: {exc}") from None
        if len(rows) > 1:
            raise DatabaseError("the database records several schema heads; cannot continue")
        return str(rows[0][0]) if rows else None

    def _query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            return _SqliteTx(self.conn).query(sql, params)
        except sqlite3.Error as exc:
            raise _sqlite_error(self.path, exc) from exc

    @contextmanager
    def _transaction(self) -> Iterator[Transaction]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _sqlite_error(self.path, exc) from exc
        try:
            yield _SqliteTx(self.conn)
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise _sqlite_error(self.path, exc) from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        with suppress(sqlite3.Error):
            self.conn.execute("ROLLBACK")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL (None for anything SQLAlchemy must handle)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            if not rest or rest == ":memory:" or "?" in rest or rest.startswith("file:"):
                return None
            return Path(rest)
    return None


def too_new(revision: str) -> DatabaseError:
    return DatabaseError(
        f"database schema {revision!r} is newer than this attune-packs; upgrade attune-packs",
        code="database_too_new",
    )


def outdated(revision: str) -> DatabaseError:
    return DatabaseError(
        f"the database schema {revision!r} needs an upgrade; "
        "run any attune pack command without --dry-run first",
        code="database_outdated",
    )


def open_database(settings: Settings, *, readonly: bool = False) -> Database | None:
    """Open (and on first use create and migrate) the installation database.

    ``readonly=True`` (``--dry-run``) never creates or migrates anything: it
    returns None when the database does not exist yet (or is still empty).
    """
    url = settings.database_url
    path = sqlite_file(url)
    if path is None:
        from attune_packs.db.sqla import open_sqlalchemy

        return open_sqlalchemy(settings, readonly=readonly)
    if readonly and not path.exists():
        return None
    if not readonly:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"cannot create the database folder {path.parent}: {exc.strerror}"
            ) from None
    db = SqliteDatabase(path, readonly=readonly)
    try:
        revision = db.revision()
        if revision != HEAD_REVISION:
            from attune_packs.db import sqla

            if readonly:
                if revision is None:
                    db.close()
                    return None
                if revision not in sqla.known_revisions():
                    raise too_new(revision)
                raise outdated(revision)
            sqla.migrate(settings, url)
            revision = db.revision()
            if revision != HEAD_REVISION:  # pragma: no cover - migrate() checks this
                raise DatabaseError(f"the database schema is at {revision!r} after migrating")
    except BaseException:
        db.close()
        raise
    return db
