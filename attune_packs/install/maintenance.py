"""Maintenance of installed packs: uninstall, rollback to a kept version, and verify
(re-hash the active folders against the recorded checksums, naming the files that
changed).  Each change writes one audit row, as an install does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, DependencyError, NotFound, StoreError
from attune_packs.events import Verifying
from attune_packs.fetch.provenance import Provenance
from attune_packs.install.activate import prune
from attune_packs.install.attempt import Attempt
from attune_packs.install.options import InstallOptions
from attune_packs.install.record import (
    audit_row,
    dependency_rows,
    pack_row,
    record_failure,
    utcnow,
)
from attune_packs.pack.checksum import hash_tree

if TYPE_CHECKING:
    from attune_packs.db import PackRecord
    from attune_packs.install.attempt import InstallerParts
    from attune_packs.install.store import Store
    from attune_packs.pack.checksum import TreeHash


def _attempt(ref: str, action: str, step: str, options: InstallOptions) -> Attempt:
    attempt = Attempt(source=ref, options=options, started_at=utcnow())
    attempt.ref, attempt.action, attempt.step = ref, action, step
    return attempt


# -- uninstall, rollback ----------------------------------------------------------------------


def uninstall(
    installer: InstallerParts, ref: str, *, force: bool = False, method: str = "cli"
) -> dict[str, Any]:
    """Remove ``ref`` (every kept version); refused while installed packs depend on it,
    unless ``force``.  Its audit history stays."""
    options = InstallOptions(installation_method=method, force=force)
    attempt = _attempt(ref, "uninstall", "record", options)
    store, bus = installer.store, installer.bus
    try:
        db = installer.db
        with store.locked(db):
            row = db.get_pack(ref)
            if row is None:
                raise NotFound(f"pack {ref!r} is not installed")
            attempt.version = attempt.previous_version = row.version
            # The uninstall row names the removed folder's type, URL and checksum only.
            attempt.provenance = Provenance(
                row.source_type, row.source_url, checksum=row.checksum, checksum_subject="directory"
            )
            dependents = db.dependents(ref)
            if dependents and not force:
                names = ", ".join(f"{d.pack_ref} ({ref}@{d.constraint or '*'})" for d in dependents)
                raise DependencyError(
                    f"cannot uninstall {ref}: required by {names}; use --force to remove it anyway",
                    code="has_dependents",
                    details={"dependents": [d.pack_ref for d in dependents]},
                )
            if dependents:
                attempt.meta["broken_dependents"] = [d.pack_ref for d in dependents]
                bus.warning(
                    f"removing {ref} although "
                    f"{', '.join(d.pack_ref for d in dependents)} "
                    f"{'depends' if len(dependents) == 1 else 'depend'} on it (--force)"
                )
            attempt.meta["removed_versions"] = store.versions_on_disk(ref)
            audit = audit_row(store, attempt, "succeeded", None)
            audit.storage_path = row.storage_path
            store.mark_removal(ref)
            audit_id = db.record(audit, remove_ref=ref)
            store.remove_pack(ref)
    except AttuneError as exc:
        record_failure(installer, attempt, exc.message, exc.code)
        raise
    return {
        "ref": ref,
        "version": row.version,
        "action": "uninstall",
        "status": "uninstalled",
        "installation_id": audit_id,
        "removed_versions": attempt.meta["removed_versions"],
        "broken_dependents": attempt.meta.get("broken_dependents", []),
        "warnings": list(bus.warnings),
    }


def rollback(installer: InstallerParts, ref: str, *, method: str = "cli") -> dict[str, Any]:
    """Re-activate the most recently active version of ``ref`` that is still kept
    (its folder re-hashed first: a modified one is refused)."""
    from attune_packs.pack.manifest import load_manifest

    attempt = _attempt(ref, "rollback", "activate", InstallOptions(installation_method=method))
    store, bus = installer.store, installer.bus
    try:
        db = installer.db
        with store.locked(db):
            row = db.get_pack(ref)
            if row is None:
                raise NotFound(f"pack {ref!r} is not installed")
            attempt.previous_version = row.version
            on_disk = set(store.versions_on_disk(ref))
            candidates = [
                v for v in db.activation_history(ref) if v != row.version and v in on_disk
            ]
            if not candidates:
                raise NotFound(
                    f"no previous version of {ref} is kept to roll back to "
                    f"(keep_versions: {installer.settings.keep_versions})",
                    code="no_previous_version",
                )
            target = candidates[0]
            attempt.version = target
            folder = store.version_dir(ref, target)
            side = store.read_sidecar(ref, target)
            if side is None:
                raise StoreError(f"the record of {ref} {target} is missing; cannot roll back")
            bus.step_started("verify", f"{ref} {target}")
            tree = hash_tree(folder)
            if tree.checksum != side.get("checksum"):
                raise StoreError(
                    f"the kept folder {folder} was modified since it was installed; "
                    "refusing to roll back to it",
                    code="tampered",
                )
            bus.step_completed("verify", tree.checksum)
            manifest = load_manifest(folder)
            kept = Provenance.from_columns(side.get("source") or {}, fallback_type=row.source_type)
            attempt.provenance = replace(
                kept, checksum=tree.checksum, checksum_subject="directory", checksum_verified=True
            )
            bus.step_started("activate", f"{ref} {row.version} -> {target}")
            audit = audit_row(store, attempt, "succeeded", None)
            pack = pack_row(store, manifest, tree.checksum, attempt.provenance, row)
            audit_id = db.record(audit, pack=pack, dependencies=dependency_rows(manifest))
            store.switch_link(ref, f"{ref}-{target}")
            bus.step_completed("activate", f"{ref} -> {ref}-{target}")
            prune(installer, ref, target)
    except AttuneError as exc:
        record_failure(installer, attempt, exc.message, exc.code)
        raise
    return {
        "ref": ref,
        "version": target,
        "previous_version": row.version,
        "action": "rollback",
        "status": "rolled_back",
        "checksum": tree.checksum,
        "installation_id": audit_id,
        "storage_path": os.fspath(folder),
    }


# -- verify -------------------------------------------------------------------------------------


def verify(installer: InstallerParts, refs: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Re-hash active folders against the recorded checksums."""
    db = installer.db
    reports: list[dict[str, Any]] = []
    with installer.store.locked(db):
        wanted = list(refs or [])
        rows = {p.ref: p for p in db.list_packs()}
        names = wanted or sorted(rows)
        for ref in names:
            row = rows.get(ref)
            if row is None:
                reports.append(
                    {
                        "ref": ref,
                        "ok": False,
                        "errors": [f"pack {ref!r} is not installed"],
                        "version": None,
                        "path": None,
                        "expected": None,
                        "actual": None,
                        "changed": [],
                        "added": [],
                        "missing": [],
                    }
                )
                continue
            installer.bus.emit(Verifying(f"{ref} {row.version}"))
            reports.append(_verify_one(installer.store, row))
    return reports


def _verify_one(store: Store, row: PackRecord) -> dict[str, Any]:
    folder = store.version_dir(row.ref, row.version)
    report: dict[str, Any] = {
        "ref": row.ref,
        "version": row.version,
        "path": os.fspath(folder),
        "expected": row.checksum,
        "actual": None,
        "ok": False,
        "changed": [],
        "added": [],
        "missing": [],
        "errors": [],
    }
    link = store.read_link(row.ref)
    if link != folder.name:
        report["errors"].append(
            f"link {store.link_path(row.ref)} points to {link!r}, expected {folder.name!r}"
        )
    if not folder.is_dir() or folder.is_symlink():
        report["errors"].append(f"the folder {folder} is missing")
        return report
    try:
        tree = hash_tree(folder, strict=False)
    except AttuneError as exc:
        report["errors"].append(exc.message)
        return report
    report["actual"] = None if tree.odd else tree.checksum
    if tree.checksum != row.checksum or tree.odd:
        mismatch = f"checksum mismatch: expected {row.checksum}, got {tree.checksum}"
        side = store.read_sidecar(row.ref, row.version)
        if side is None or side.get("checksum") != row.checksum:
            report["errors"].append(
                mismatch + " (the per-file record is missing: cannot name the files)"
            )
        else:
            diff = diff_files(side["files"], tree)
            report["changed"], report["added"], report["missing"] = (
                diff.changed,
                diff.added,
                diff.missing,
            )
            if diff.clean and not tree.odd:
                report["errors"].append(mismatch)
        for rel, kind in sorted(tree.odd.items()):
            report["errors"].append(f"{rel} is a {kind}")
    report["ok"] = not (
        report["errors"] or report["changed"] or report["added"] or report["missing"]
    )
    return report


@dataclass
class TreeDiff:
    changed: list[str]
    added: list[str]
    missing: list[str]

    @property
    def clean(self) -> bool:
        return not (self.changed or self.added or self.missing)


def diff_files(recorded: dict[str, str], actual: TreeHash) -> TreeDiff:
    changed = sorted(
        rel for rel, digest in actual.files.items() if rel in recorded and recorded[rel] != digest
    )
    changed += sorted(rel for rel in actual.odd if rel in recorded)
    added = sorted(rel for rel in actual.files if rel not in recorded)
    added += sorted(rel for rel in actual.odd if rel not in recorded)
    missing = sorted(rel for rel in recorded if rel not in actual.files and rel not in actual.odd)
    return TreeDiff(sorted(changed), sorted(added), missing)
