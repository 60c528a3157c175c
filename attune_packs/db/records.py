"""Row records, constants and SQL text shared by the database drivers."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import DatabaseError

if TYPE_CHECKING:
    pass

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
