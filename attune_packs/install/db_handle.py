"""The installer's database, opened lazily (and in the background while files are copied).

Importing SQLAlchemy/SQLModel and checking the schema revision take a few hundred
milliseconds; an install overlaps them with copying and hashing (:meth:`prefetch`).
A dry run opens the database read-only and never creates or migrates it
(:meth:`LazyDatabase.read`).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database


class LazyDatabase:
    """The database of one home: read-write (:attr:`db`) and read-only (:meth:`read`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db: Database | None = None
        self._ro_db: Database | None = None
        self._ro_opened = False
        self._opening: tuple[bool, threading.Thread, dict[str, Any]] | None = None

    def prefetch(self, *, readonly: bool = False) -> None:
        """Start opening the database in a background thread."""
        if self._opening is not None or (self._ro_opened if readonly else self._db is not None):
            return
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                from attune_packs.db import open_database

                box["db"] = open_database(self.settings, readonly=readonly)
            except BaseException as exc:
                box["exc"] = exc

        thread = threading.Thread(target=run, name="attune-open-db", daemon=True)
        thread.start()
        self._opening = (readonly, thread, box)

    def _join(self) -> None:
        if self._opening is None:
            return
        readonly, thread, box = self._opening
        thread.join()
        self._opening = None
        if "exc" in box:
            raise box["exc"]
        if readonly:
            self._ro_db, self._ro_opened = box["db"], True
        else:
            self._db = box["db"]

    @property
    def db(self) -> Database:
        """The database for writes (created and migrated on first use)."""
        self._join()
        if self._db is None:
            from attune_packs.db import open_database

            db = open_database(self.settings)
            assert db is not None
            self._db = db
        return self._db

    def read(self, dry_run: bool) -> Database | None:
        """The database for reads; a dry run never creates or migrates it."""
        self._join()
        if not dry_run or self._db is not None:
            return self.db
        if not self._ro_opened:
            from attune_packs.db import open_database

            self._ro_db = open_database(self.settings, readonly=True)
            self._ro_opened = True
        return self._ro_db

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._join()
        for db in (self._db, self._ro_db):
            if db is not None:
                db.close()
        self._db = self._ro_db = None
        self._ro_opened = False
