"""Read-side queries over the installation database: list, show, history, refs.

Each function opens the database, reads, closes it and returns plain result
objects whose ``to_dict()`` is the JSON document of the matching command
(``attune pack list|show|history -o json``).  Nothing here takes the home lock
or runs the installer, and only :func:`show_pack` touches the store (to read
the link and the kept versions), so ``attune pack list`` starts small: the
database package and this module are all it loads.

Like the installer, :func:`list_packs`, :func:`show_pack` and :func:`history`
create and migrate the database on first use (an empty home lists nothing);
:func:`installed_refs` never creates anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune_packs.errors import NotFound, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from attune_packs.config import Settings
    from attune_packs.db import Database, DependencyRecord, InstallationRecord, PackRecord

__all__ = [
    "AuditEntry",
    "AuditTrail",
    "Dependency",
    "Dependent",
    "PackDetails",
    "PackInfo",
    "PackList",
    "history",
    "installed_refs",
    "list_packs",
    "show_pack",
]


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _open(settings: Settings) -> Database:
    from attune_packs.db import open_database

    db = open_database(settings)
    assert db is not None  # only a read-only open may return None
    return db


# --------------------------------------------------------------------------- results


class PackInfo:
    """One installed pack: its ``pack`` row (active version, provenance, checksum)."""

    __slots__ = (
        "author",
        "checksum",
        "description",
        "installed_at",
        "label",
        "license",
        "manifest",
        "ref",
        "registry_name",
        "source_ref",
        "source_type",
        "source_url",
        "storage_path",
        "updated_at",
        "version",
    )

    def __init__(self, row: PackRecord) -> None:
        self.ref = row.ref
        self.version = row.version
        self.label = row.label
        self.description = row.description
        self.author = row.author
        self.license = row.license
        self.checksum = row.checksum
        self.storage_path = row.storage_path
        self.source_type = row.source_type
        self.source_url = row.source_url
        self.source_ref = row.source_ref
        self.registry_name = row.registry_name
        self.installed_at: datetime | None = row.installed_at
        self.updated_at: datetime | None = row.updated_at
        #: The normalised pack.yaml as recorded (``show`` prints it; ``list`` does not).
        self.manifest: dict[str, Any] = row.manifest or {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "label": self.label,
            "description": self.description,
            "author": self.author,
            "license": self.license,
            "checksum": self.checksum,
            "storage_path": self.storage_path,
            "source_type": self.source_type,
            "source_url": self.source_url,
            "source_ref": self.source_ref,
            "registry_name": self.registry_name,
            "installed_at": _ts(self.installed_at),
            "updated_at": _ts(self.updated_at),
        }

    def __repr__(self) -> str:
        return f"PackInfo(ref={self.ref!r}, version={self.version!r})"


class PackList(list[PackInfo]):
    """The installed packs, by ref (a list; ``to_dict()`` gives the list of documents)."""

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self]


class AuditEntry:
    """One row of the audit trail: an install, upgrade, ..., rollback or uninstall attempt."""

    __slots__ = (
        "action",
        "checksum",
        "checksum_subject",
        "checksum_verified",
        "error_message",
        "finished_at",
        "id",
        "installation_method",
        "installed_by",
        "meta",
        "pack_ref",
        "pack_version",
        "previous_version",
        "registry_name",
        "source_ref",
        "source_type",
        "source_url",
        "started_at",
        "status",
        "storage_path",
    )

    def __init__(self, row: InstallationRecord) -> None:
        self.id = row.id
        self.pack_ref = row.pack_ref
        self.pack_version = row.pack_version
        self.previous_version = row.previous_version
        self.action = row.action
        self.status = row.status
        self.source_type = row.source_type
        self.source_url = row.source_url
        self.source_ref = row.source_ref
        self.registry_name = row.registry_name
        self.checksum = row.checksum
        self.checksum_subject = row.checksum_subject
        self.checksum_verified = row.checksum_verified
        self.storage_path = row.storage_path
        self.installed_by = row.installed_by
        self.installation_method = row.installation_method
        self.started_at: datetime | None = row.started_at
        self.finished_at: datetime | None = row.finished_at
        self.error_message = row.error_message
        self.meta: dict[str, Any] = row.meta or {}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pack_ref": self.pack_ref,
            "pack_version": self.pack_version,
            "previous_version": self.previous_version,
            "action": self.action,
            "status": self.status,
            "source_type": self.source_type,
            "source_url": self.source_url,
            "source_ref": self.source_ref,
            "registry_name": self.registry_name,
            "checksum": self.checksum,
            "checksum_subject": self.checksum_subject,
            "checksum_verified": self.checksum_verified,
            "storage_path": self.storage_path,
            "installed_by": self.installed_by,
            "installation_method": self.installation_method,
            "started_at": _ts(self.started_at),
            "finished_at": _ts(self.finished_at),
            "error_message": self.error_message,
            "meta": self.meta,
        }

    def __repr__(self) -> str:
        return (
            f"AuditEntry(id={self.id!r}, pack_ref={self.pack_ref!r}, "
            f"action={self.action!r}, status={self.status!r})"
        )


class AuditTrail(list[AuditEntry]):
    """Audit rows, newest first (a list); ``ref`` is the pack asked about, if any."""

    def __init__(self, entries: list[AuditEntry], ref: str | None = None) -> None:
        super().__init__(entries)
        self.ref = ref

    def to_dict(self) -> list[dict[str, Any]]:
        return [a.to_dict() for a in self]


class Dependency:
    """A requirement of an installed pack: ``kind`` ``pack`` or ``runtime``."""

    __slots__ = ("constraint", "kind", "name")

    def __init__(self, row: DependencyRecord) -> None:
        self.kind = row.kind
        self.name = row.name
        self.constraint = row.constraint

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "constraint": self.constraint}

    def __repr__(self) -> str:
        return f"Dependency({self.kind!r}, {self.name!r}, {self.constraint!r})"


class Dependent:
    """An installed pack that requires the one shown (with its constraint)."""

    __slots__ = ("constraint", "ref")

    def __init__(self, row: DependencyRecord) -> None:
        self.ref = row.pack_ref
        self.constraint = row.constraint

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "constraint": self.constraint}

    def __repr__(self) -> str:
        return f"Dependent({self.ref!r}, {self.constraint!r})"


class PackDetails:
    """One installed pack in full: its row, store state, dependencies, dependents and
    the last audit row (``attune pack show``)."""

    __slots__ = (
        "active_link",
        "dependencies",
        "dependents",
        "kept_versions",
        "last_change",
        "link_target",
        "pack",
    )

    def __init__(
        self,
        pack: PackInfo,
        *,
        active_link: str,
        link_target: str | None,
        kept_versions: list[str],
        dependencies: list[Dependency],
        dependents: list[Dependent],
        last_change: AuditEntry | None,
    ) -> None:
        self.pack = pack
        self.active_link = active_link  # <packs_dir>/<ref>
        self.link_target = link_target  # what it points to (<ref>-<version>), None if missing
        self.kept_versions = kept_versions
        self.dependencies = dependencies
        self.dependents = dependents
        self.last_change = last_change

    def to_dict(self) -> dict[str, Any]:
        data = self.pack.to_dict()
        data.update(
            {
                "active_link": self.active_link,
                "link_target": self.link_target,
                "kept_versions": self.kept_versions,
                "dependencies": [d.to_dict() for d in self.dependencies],
                "dependents": [d.to_dict() for d in self.dependents],
                "last_change": self.last_change.to_dict() if self.last_change else None,
                "manifest": self.pack.manifest,
            }
        )
        return data

    def __repr__(self) -> str:
        return f"PackDetails(ref={self.pack.ref!r}, version={self.pack.version!r})"


# --------------------------------------------------------------------------- queries


def list_packs(settings: Settings) -> PackList:
    """Every installed pack (its active version), by ref."""
    db = _open(settings)
    try:
        return PackList(PackInfo(p) for p in db.list_packs())
    finally:
        db.close()


def show_pack(settings: Settings, ref: str) -> PackDetails:
    """The installed pack ``ref`` in full; :class:`NotFound` when it is not installed."""
    import os

    from attune_packs.install.store import Store

    store = Store(settings)
    db = _open(settings)
    try:
        row = db.get_pack(ref)
        if row is None:
            raise NotFound(f"pack {ref!r} is not installed")
        deps = db.dependencies(ref)
        dependents = db.dependents(ref)
        last = db.history(ref, limit=1)
        kept = store.versions_on_disk(ref)
        link = store.read_link(ref)
    finally:
        db.close()
    return PackDetails(
        PackInfo(row),
        active_link=os.fspath(store.link_path(ref)),
        link_target=link,
        kept_versions=kept,
        dependencies=[Dependency(d) for d in deps],
        dependents=[Dependent(d) for d in dependents],
        last_change=AuditEntry(last[0]) if last else None,
    )


def history(settings: Settings, ref: str | None = None, limit: int | None = None) -> AuditTrail:
    """The audit trail (of ``ref`` only, if given), newest first, at most ``limit`` rows."""
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    db = _open(settings)
    try:
        rows = db.history(ref, limit)
    finally:
        db.close()
    return AuditTrail([AuditEntry(a) for a in rows], ref)


def installed_refs(settings: Settings) -> list[str]:
    """The refs installed in this home, sorted; empty when there is no database yet.

    Never creates or migrates the database (shell completion calls it on every
    TAB); errors (an unreadable or too new database) propagate."""
    from attune_packs.db import open_database

    db = open_database(settings, readonly=True)
    if db is None:
        return []
    try:
        return [p.ref for p in db.list_packs()]
    finally:
        db.close()
