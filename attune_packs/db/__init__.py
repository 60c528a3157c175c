"""The installation database (DESIGN.md section 7): schema, drivers, migrations glue.

``records`` holds the row types, constants and SQL text; ``database`` the
driver-neutral :class:`Database`; ``sqlite`` the standard-library driver used
for SQLite files; ``sqla`` the SQLAlchemy driver (other URLs) and the Alembic
glue; ``models`` the SQLModel tables the migrations are written against;
``open`` picks the driver, migrates on first use and refuses newer schemas.
Imports only the base modules (errors, config, ...), never another domain
package.  Importing this package is cheap (standard library only): SQLAlchemy,
SQLModel and Alembic load only when migrating or for non-SQLite URLs.
"""

from __future__ import annotations

from attune_packs.db.database import Database
from attune_packs.db.open import open_database
from attune_packs.db.records import (
    HEAD_REVISION,
    DependencyRecord,
    InstallationRecord,
    PackRecord,
    migrations_dir,
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
