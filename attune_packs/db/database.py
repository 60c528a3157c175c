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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from attune_packs.db.records import (
    _AUDIT_COLS,
    _DEP_COLS,
    _PACK_COLS,
    _SELECT_AUDIT,
    _SELECT_DEP,
    _SELECT_PACK,
    ACTIVATING_ACTIONS,
    DependencyRecord,
    InstallationRecord,
    PackRecord,
    _record,
    _values,
)
from attune_packs.errors import DatabaseError

if TYPE_CHECKING:
    pass


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
