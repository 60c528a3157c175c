"""The installation database tables (DESIGN.md section 7) as SQLModel classes.

The schema itself is created and upgraded only by the Alembic migrations in
``migrations/``; these classes must stay in step with the newest revision
(``tests/test_db.py`` compares them).  Every timestamp is timezone-aware UTC,
also on SQLite, which stores no offset: :class:`UTCDateTime` attaches it again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Values of the enumerated text columns (kept as plain strings for portability).
ACTIONS = ("install", "upgrade", "downgrade", "reinstall", "uninstall", "rollback")
ACTIVATING_ACTIONS = ("install", "upgrade", "downgrade", "reinstall", "rollback")
STATUSES = ("succeeded", "failed")
SOURCE_TYPES = ("git", "archive", "local_directory", "local_archive", "registry")
CHECKSUM_SUBJECTS = ("directory", "archive")
INSTALLATION_METHODS = ("cli", "dependency", "lockfile", "api")
DEPENDENCY_KINDS = ("pack", "runtime")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _ts(nullable: bool = False) -> Any:
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable))


def _json() -> Any:
    return Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=True))


class Pack(SQLModel, table=True):
    """One row per installed ref: what is active now."""

    __tablename__ = "pack"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=255, sa_column_kwargs={"unique": True, "nullable": False})
    version: str = Field(max_length=255)
    label: str = Field(max_length=1024)
    description: str = Field(sa_type=sa.Text)
    author: str | None = Field(default=None, max_length=1024)
    license: str | None = Field(default=None, max_length=255)
    checksum: str = Field(max_length=71)
    storage_path: str = Field(sa_type=sa.Text)
    source_type: str = Field(max_length=32)
    source_url: str | None = Field(default=None, sa_type=sa.Text)
    source_ref: str | None = Field(default=None, max_length=1024)
    registry_name: str | None = Field(default=None, max_length=1024)
    manifest: dict[str, Any] | None = _json()
    installed_at: datetime = _ts()
    updated_at: datetime = _ts()


class PackInstallation(SQLModel, table=True):
    """One row per attempt: the audit trail (never updated once written, never deleted)."""

    __tablename__ = "pack_installation"

    id: int | None = Field(default=None, primary_key=True)
    pack_ref: str | None = Field(default=None, max_length=255, index=True)
    pack_version: str | None = Field(default=None, max_length=255)
    previous_version: str | None = Field(default=None, max_length=255)
    action: str = Field(max_length=32)
    status: str = Field(max_length=32)
    source_type: str | None = Field(default=None, max_length=32)
    source_url: str | None = Field(default=None, sa_type=sa.Text)
    source_ref: str | None = Field(default=None, max_length=1024)
    registry_name: str | None = Field(default=None, max_length=1024)
    checksum: str | None = Field(default=None, max_length=71)
    checksum_subject: str | None = Field(default=None, max_length=32)
    checksum_verified: bool = Field(default=False)
    storage_path: str | None = Field(default=None, sa_type=sa.Text)
    installed_by: str | None = Field(default=None, max_length=255)
    installation_method: str = Field(default="cli", max_length=32)
    started_at: datetime = _ts()
    finished_at: datetime = _ts()
    error_message: str | None = Field(default=None, sa_type=sa.Text)
    meta: dict[str, Any] | None = _json()


class PackDependency(SQLModel, table=True):
    """The dependencies of the installed version of each pack."""

    __tablename__ = "pack_dependency"
    __table_args__ = (
        sa.UniqueConstraint("pack_ref", "kind", "name", name="uq_pack_dependency_ref_kind_name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pack_ref: str = Field(max_length=255, index=True)
    kind: str = Field(max_length=32)
    name: str = Field(max_length=255, index=True)
    constraint: str = Field(default="", max_length=1024)
