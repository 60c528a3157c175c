"""Resolving requirements into a lock file; install order of a lock file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from attune_packs.errors import DependencyError, UsageError
from attune_packs.events import EventBus
from attune_packs.fetch.local import load_local
from attune_packs.fetch.spec import looks_like_path
from attune_packs.resolve.planner import Planner, local_candidate

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database
    from attune_packs.resolve.lockfile import LockFile
    from attune_packs.resolve.model import Candidate

__all__ = ["lock", "locked_plan"]


# --------------------------------------------------------------------------- lock files


def lock(
    settings: Settings,
    requirements: Iterable[str],
    *,
    bus: EventBus | None = None,
    registry: str | None = None,
    no_registry: bool = False,
    refresh: bool = False,
) -> LockFile:
    """Resolve ``requirements`` (registry requirements and local paths) from the
    registries alone (installed packs play no part) into a :class:`LockFile`."""
    from attune_packs.pack.model import parse_pack_requirement
    from attune_packs.resolve.lockfile import LockedPack, LockFile

    roots: list[str] = []
    local: list[Candidate] = []
    requires: list[str] = []
    for text in requirements:
        if looks_like_path(text):
            pack = load_local(text, settings)
            if any(c.ref == pack.manifest.ref for c in local):
                raise UsageError(f"pack {pack.manifest.ref!r} is given twice")
            local.append(local_candidate(pack.manifest, pack.source))
            roots.append(pack.manifest.ref)
            entry = pack.source.url or text
        else:
            try:
                req = parse_pack_requirement(text)
            except ValueError as exc:
                raise UsageError(str(exc), code="invalid_requirement") from None
            roots.append(str(req))
            entry = str(req)
        if entry not in requires:
            requires.append(entry)
    if not roots:
        raise UsageError("nothing to lock: give at least one requirement or path")
    planner = Planner(
        settings,
        bus=bus,
        registry=registry,
        no_registry=no_registry,
        refresh=refresh,
        include_installed=False,
    )
    plan = planner.plan(roots, local=local, protect_installed=False)
    packs = []
    for item in plan.items:
        src = item.source
        if not src.checksum or not src.url:
            raise DependencyError(
                f"cannot lock {item.ref} {item.version}: registry {src.registry!r} lists no "
                "install source with a checksum for it",
                code="invalid_index",
            )
        packs.append(
            LockedPack(
                ref=item.ref,
                version=item.version,
                provenance=src,
                dependencies=sorted(item.requires),
                runtime_deps=list(item.origin.runtime_deps),
            )
        )
    return LockFile(requires=requires, packs=sorted(packs, key=lambda p: p.ref))


def _lock_order(lockfile: LockFile) -> list[str]:
    """The install order of a lock file (dependencies first); checks that it is
    complete and consistent (every requirement met by the locked version)."""
    from attune_packs.resolve.model import Candidate
    from attune_packs.resolve.resolver import resolve

    cands = {p.ref: Candidate(p.ref, p.version, list(p.dependencies), p) for p in lockfile.packs}
    try:
        res = resolve(
            sorted(cands),
            lambda ref: [cands[ref]] if ref in cands else [],
            {},
            protect_installed=False,
        )
    except DependencyError as exc:
        where = f" {lockfile.path}" if lockfile.path else ""
        raise DependencyError(
            f"the lock file{where} is inconsistent: {exc.message}", code="invalid_lockfile"
        ) from None
    return [item.ref for item in res.order]


def locked_plan(lockfile: LockFile, db: Database | None) -> list[dict[str, Any]]:
    """What installing ``lockfile`` would do, in install order (no fetching)."""
    from attune_packs.resolve.plan import classify_change

    by_ref = {p.ref: p for p in lockfile.packs}
    rows = []
    for ref in _lock_order(lockfile):
        p = by_ref[ref]
        row = db.get_pack(ref) if db is not None else None
        installed = row.version if row is not None else None
        change = classify_change(installed, p.version)
        action = "keep" if change == "same" else change
        rows.append(
            {
                "ref": ref,
                "version": p.version,
                "action": action,
                "status": "planned",
                "installed_version": installed,
                "requested": False,
                "required_by": [],
                "constraints": [],
                "dependencies": list(p.dependencies),
                "source": p.provenance.to_plan_dict(),
                "runtime_deps": list(p.runtime_deps),
            }
        )
    return rows
