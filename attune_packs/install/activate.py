"""The ``activate`` and ``record`` steps: make the staged pack the active version.

Under the per-home lock: re-read the database (another process may have changed things
while we were staging), commit the pack row, dependency rows and audit row in one
transaction, then rename the staged folder into place and switch the link (see
:mod:`attune_packs.install.store` for the ordering and the crash-recovery rule), and
prune versions beyond ``keep_versions``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from attune_packs.install import record
from attune_packs.install.decide import decide
from attune_packs.install.store import Intent

if TYPE_CHECKING:
    from pathlib import Path

    from attune_packs.install.attempt import Attempt, InstallerParts
    from attune_packs.install.options import InstallResult
    from attune_packs.install.staging import Staging
    from attune_packs.pack.checksum import TreeHash
    from attune_packs.pack.model import Manifest


def activate(
    installer: InstallerParts,
    attempt: Attempt,
    staging: Staging,
    root: Path,
    manifest: Manifest,
    tree: TreeHash,
    tests: dict[str, Any],
) -> InstallResult:
    store, bus = installer.store, installer.bus
    attempt.begin(bus, "activate", f"{manifest.ref} {manifest.version}")
    rel_root = os.path.relpath(root, staging.path)
    intent = Intent(manifest.ref, manifest.version, tree.checksum, rel_root)
    store.check_link_slot(manifest.ref)
    store.prepare(staging, intent, record.sidecar_doc(attempt, manifest, tree))
    db = installer.db
    with store.locked(db):
        # Another process may have changed things while we were staging.
        row = db.get_pack(manifest.ref)
        if decide(store, attempt, manifest, tree, row) == "noop":
            return record.noop_result(installer, attempt, manifest, tree, row)
        store.check_link_slot(manifest.ref)
        assert attempt.provenance is not None
        audit = record.audit_row(store, attempt, "succeeded", None)
        pack = record.pack_row(store, manifest, tree.checksum, attempt.provenance, row)
        staging.kept = True  # from the commit on, recovery may need it
        audit_id = db.record(audit, pack=pack, dependencies=record.dependency_rows(manifest))
        attempt.committed = True
        store.materialize(staging.path, intent)
        bus.step_completed("activate", f"{manifest.ref} -> {intent.target}")

        attempt.begin(bus, "record", f"installation #{audit_id}")
        removed = prune(installer, manifest.ref, manifest.version)
    bus.step_completed("record", f"installation #{audit_id}")
    result = record.result(installer, attempt, manifest, tree, "installed", audit_id, tests)
    result.removed_versions = removed
    return result


def prune(installer: InstallerParts, ref: str, current: str) -> list[str]:
    """Remove versions of ``ref`` beyond ``keep_versions`` (the current one and the most
    recently active ones stay)."""
    keep_n = max(1, installer.settings.keep_versions)
    on_disk = set(installer.store.versions_on_disk(ref))
    keep = [current]
    for version in installer.db.activation_history(ref):
        if len(keep) >= keep_n:
            break
        if version != current and version in on_disk:
            keep.append(version)
    return installer.store.prune(ref, keep)
