"""What an install writes down: the audit row (succeeded or failed), the pack row, the
dependency rows, the sidecar kept next to each version, and the install result.

The source columns of every row come from :class:`~attune_packs.fetch.provenance.Provenance`
(``columns()``, ``checksum_columns()``): the pack row and the result hold the directory
checksum of the installed folder; the audit row holds the checksum that was verified
(the archive's when ``checksum_subject`` is ``archive``).
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

from attune_packs.db.records import utcnow
from attune_packs.install.options import InstallResult

if TYPE_CHECKING:
    from attune_packs.db import DependencyRecord, InstallationRecord, PackRecord
    from attune_packs.fetch.provenance import Provenance
    from attune_packs.install.attempt import Attempt, InstallerParts
    from attune_packs.install.store import Store
    from attune_packs.pack.checksum import TreeHash
    from attune_packs.pack.model import Manifest

__all__ = [
    "audit_row",
    "dependency_rows",
    "noop_result",
    "os_user",
    "pack_row",
    "record_failure",
    "result",
    "sidecar_doc",
    "stored_json",
    "utcnow",
]

#: The source and checksum columns of an attempt that failed before its source was known.
_UNKNOWN_SOURCE: dict[str, Any] = {
    "source_type": None,
    "source_url": None,
    "source_ref": None,
    "registry_name": None,
    "checksum": None,
    "checksum_subject": None,
    "checksum_verified": False,
}


# -- small helpers ---------------------------------------------------------------------------


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def stored_json(value: Any) -> Any:
    """``value`` as stored in the audit ``meta`` and the pack's ``manifest`` column.

    Not :func:`attune_packs.pack.model.json_safe`: that one differs on bytes, sets and
    huge integers, and switching would change what the database holds."""
    if isinstance(value, dict):
        return {str(k): stored_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [stored_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# -- rows --------------------------------------------------------------------------------------


def dependency_rows(manifest: Manifest) -> list[DependencyRecord]:
    """``pack_dependency`` rows for a manifest (duplicates merged: their constraints AND)."""
    from attune_packs.db import DependencyRecord

    merged: dict[tuple[str, str], list[str]] = {}
    for req in manifest.pack_deps:
        merged.setdefault(("pack", req.ref), [])
        if req.constraint and req.constraint != "*":
            merged[("pack", req.ref)].append(req.constraint)
    for rt in manifest.runtime_deps:
        merged.setdefault(("runtime", rt.name), [])
        if rt.constraint:
            merged[("runtime", rt.name)].append(rt.constraint.strip())
    aliases = {
        "attune_version": "attune",
        "python_version": "python",
        "python": "python",
        "nodejs_version": "nodejs",
        "nodejs": "nodejs",
    }
    for key, value in (manifest.version_requirements or {}).items():
        name = aliases.get(key, key)
        merged.setdefault(("runtime", name), [])
        if value:
            merged[("runtime", name)].append(str(value).strip())
    rows = []
    for (kind, name), constraints in sorted(merged.items()):
        unique = list(dict.fromkeys(constraints))
        constraint = ", ".join(unique) if unique else ("*" if kind == "pack" else "")
        rows.append(
            DependencyRecord(pack_ref=manifest.ref, kind=kind, name=name, constraint=constraint)
        )
    return rows


def sidecar_doc(attempt: Attempt, manifest: Manifest, tree: TreeHash) -> dict[str, Any]:
    """The record kept next to a version's folder (per-file digests for ``verify``,
    the source for ``rollback``)."""
    source = attempt.provenance
    assert source is not None
    return {
        "format": 1,
        "ref": manifest.ref,
        "version": manifest.version,
        "checksum": tree.checksum,
        "bytes": tree.bytes,
        "files": tree.files,
        "created_at": utcnow().isoformat(),
        "source": {
            **source.columns(),
            "checksum_subject": source.checksum_subject,
            "checksum_verified": source.checksum_verified,
        },
    }


def pack_row(
    store: Store,
    manifest: Manifest,
    checksum: str,
    source: Provenance,
    row: PackRecord | None,
) -> PackRecord:
    """The ``pack`` row of the version being activated (``checksum``: its directory's)."""
    from attune_packs.db import PackRecord

    columns = source.columns()
    now = utcnow()
    return PackRecord(
        ref=manifest.ref,
        version=manifest.version,
        label=manifest.label,
        description=manifest.description,
        author=manifest.author,
        license=manifest.license,
        checksum=checksum,
        storage_path=os.fspath(store.version_dir(manifest.ref, manifest.version)),
        source_type=columns["source_type"] or "local_directory",
        source_url=columns["source_url"],
        source_ref=columns["source_ref"],
        registry_name=columns["registry_name"],
        manifest=stored_json(manifest.raw),
        installed_at=row.installed_at if row is not None else now,
        updated_at=now,
    )


def audit_row(store: Store, attempt: Attempt, status: str, error: str | None) -> InstallationRecord:
    """The ``pack_installation`` row of ``attempt`` (``succeeded`` or ``failed``)."""
    from attune_packs.db import InstallationRecord

    storage = None
    if attempt.ref and attempt.version and status == "succeeded":
        storage = os.fspath(store.version_dir(attempt.ref, attempt.version))
    meta = dict(attempt.meta)
    for flag in ("force", "skip_deps", "skip_tests"):
        if getattr(attempt.options, flag):
            meta[flag] = True
    if status == "failed":
        meta["failed_step"] = attempt.step
    if attempt.http_retries is not None and attempt.http_retries.count:
        meta["http_retries"] = attempt.http_retries.count
    source = attempt.provenance
    columns = (
        {**source.columns(), **source.checksum_columns()} if source is not None else _UNKNOWN_SOURCE
    )
    return InstallationRecord(
        pack_ref=attempt.ref,
        pack_version=attempt.version,
        previous_version=attempt.previous_version,
        action=attempt.action if attempt.action != "none" else "install",
        status=status,
        **columns,
        storage_path=storage,
        installed_by=os_user(),
        installation_method=attempt.options.installation_method,
        started_at=attempt.started_at,
        finished_at=utcnow(),
        error_message=error,
        meta=stored_json(meta),
    )


def record_failure(installer: InstallerParts, attempt: Attempt, message: str, code: str) -> None:
    """Best effort: one failed audit row; never masks the original error."""
    attempt.meta["error_code"] = code
    if code == "locked":  # another command holds the home: no row can be written now
        return
    try:
        db = installer.db
        with installer.store.locked(db):
            db.add_audit(audit_row(installer.store, attempt, "failed", message))
    except Exception as exc:  # the original error matters more
        installer.bus.warning(f"could not record the failed attempt: {exc}")


# -- results -----------------------------------------------------------------------------------


def result(
    installer: InstallerParts,
    attempt: Attempt,
    manifest: Manifest,
    tree: TreeHash,
    status: str,
    audit_id: int | None,
    tests: dict[str, Any],
) -> InstallResult:
    assert attempt.provenance is not None
    return InstallResult(
        ref=manifest.ref,
        version=manifest.version,
        action=attempt.action,
        status=status,
        previous_version=attempt.previous_version,
        checksum=tree.checksum,
        provenance=attempt.provenance,
        storage_path=os.fspath(installer.store.version_dir(manifest.ref, manifest.version))
        if status != "dry_run"
        else None,
        installation_id=audit_id,
        files=tree.count,
        bytes=tree.bytes,
        tests=tests,
        warnings=list(installer.bus.warnings),
        dependencies=list(attempt.dependencies),
    )


def noop_result(
    installer: InstallerParts,
    attempt: Attempt,
    manifest: Manifest,
    tree: TreeHash,
    row: PackRecord | None,
) -> InstallResult:
    """The version is installed with the same content: nothing is written."""
    attempt.action = "none"
    attempt.previous_version = row.version if row else None
    installer.bus.info(f"{manifest.ref} {manifest.version} is already installed")
    return result(installer, attempt, manifest, tree, "already_installed", None, {})
