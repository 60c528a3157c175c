"""The installation database (DESIGN.md section 7).

Importing this package is cheap (standard library only).  SQLAlchemy, SQLModel
and Alembic are loaded by :mod:`attune_packs.db.sqla` and
:mod:`attune_packs.db.models` only when migrating or for non-SQLite URLs.
"""

from __future__ import annotations

from attune_packs.db.database import (
    HEAD_REVISION,
    Database,
    DependencyRecord,
    InstallationRecord,
    PackRecord,
    migrations_dir,
    open_database,
    utcnow,
)

__all__ = [
    "HEAD_REVISION",
    "Database",
    "DependencyRecord",
    "InstallationRecord",
    "PackRecord",
    "migrations_dir",
    "open_database",
    "utcnow",
]
