"""The SQLite driver (standard library sqlite3; no SQLAlchemy)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.db.database import Database, Transaction
from attune_packs.db.records import BUSY_TIMEOUT_MS, _insert_sql
from attune_packs.errors import DatabaseError

if TYPE_CHECKING:
    pass


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
