"""open_database(): pick the driver, migrate on first use, refuse newer schemas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from attune_packs.db.records import HEAD_REVISION, outdated, too_new
from attune_packs.db.sqlite import SqliteDatabase, sqlite_file
from attune_packs.errors import DatabaseError

if TYPE_CHECKING:
    from attune_packs.config import Settings

if TYPE_CHECKING:
    from attune_packs.db.database import Database


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
            # Imported here only to keep SQLAlchemy off the common path (no cycle).
            from attune_packs.db.sqla import known_revisions, migrate

            if readonly:
                if revision is None:
                    db.close()
                    return None
                if revision not in known_revisions():
                    raise too_new(revision)
                raise outdated(revision)
            migrate(settings, url)
            revision = db.revision()
            if revision != HEAD_REVISION:  # pragma: no cover - migrate() checks this
                raise DatabaseError(f"the database schema is at {revision!r} after migrating")
    except BaseException:
        db.close()
        raise
    return db
