"""One command's worth of installer work: install, install a lock file, uninstall,
roll back, verify -- each returning a plain result whose ``to_dict()`` is the JSON
document of the matching ``attune pack`` command.

The CLI and :class:`attune_packs.api.PackManager` both call these; they only
drive :class:`~attune_packs.install.pipeline.Installer` (and the lock-file
functions) and shape the result, so every rule stays in the pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune_packs.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from attune_packs.config import Settings
    from attune_packs.events import EventBus
    from attune_packs.install.options import InstallOptions
    from attune_packs.resolve.lockfile import LockFile

__all__ = [
    "InstallRun",
    "LockedRun",
    "RollbackResult",
    "UninstallResult",
    "VerifyReport",
    "check_install_request",
    "install_locked_file",
    "plan_rows",
    "rollback_pack",
    "run_install",
    "uninstall_pack",
    "verify_packs",
]


# --------------------------------------------------------------------------- install


def check_install_request(
    sources: Sequence[str],
    *,
    locked: str | Path | None = None,
    ref_spec: str | None = None,
    expect_checksum: str | None = None,
    registry: str | None = None,
    no_registry: bool = False,
    skip_deps: bool = False,
    refresh: bool = False,
) -> None:
    """Refuse a contradictory install request (:class:`UsageError`), before anything
    is loaded or fetched.  The messages name the command-line options."""
    if locked is not None:
        if sources:
            raise UsageError("give either SOURCE... or --locked FILE, not both")
        clash = [
            name
            for name, given in (
                ("--ref-spec", ref_spec is not None),
                ("--expect-checksum", expect_checksum is not None),
                ("--registry", registry is not None),
                ("--no-registry", no_registry),
                ("--skip-deps", skip_deps),
                ("--refresh", refresh),
            )
            if given
        ]
        if clash:
            raise UsageError(
                f"{', '.join(clash)} cannot be used with --locked (the lock file fixes "
                "sources, checksums and dependencies)"
            )
        return
    if not sources:
        raise UsageError("missing SOURCE: give at least one pack source (or --locked FILE)")
    if len(sources) > 1 and (expect_checksum is not None or ref_spec is not None):
        raise UsageError("--expect-checksum and --ref-spec take exactly one SOURCE")
    if expect_checksum is not None:
        from attune_packs.pack.checksum import parse_checksum

        parse_checksum(expect_checksum, "--expect-checksum value")
    if no_registry and registry is not None:
        raise UsageError("--registry and --no-registry cannot be used together")


def _result_source(r: dict[str, Any]) -> dict[str, Any]:
    """The ``source`` of a requested pack's plan row (from its install result)."""
    meta_type = r.get("source_type") or ""
    return {
        "type": meta_type,
        "url": r.get("source_url") or r.get("source_ref"),
        "git_ref": r.get("source_ref") if meta_type == "git" else None,
        "checksum": r.get("checksum"),
        "registry": r.get("registry_name"),
    }


def plan_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan of a dry run: each SOURCE's dependencies (install order), then itself."""
    rows: list[dict[str, Any]] = []
    for r in results:
        for d in r.get("dependencies") or []:
            rows.append({**d, "required_by": list(d.get("required_by") or [])})
        action = "keep" if r["status"] == "already_installed" else r["action"]
        rows.append(
            {
                "ref": r["ref"],
                "version": r["version"],
                "action": action,
                "status": "kept" if action == "keep" else "planned",
                "installed_version": r.get("previous_version"),
                "requested": True,
                "required_by": ["(requested)"],
                "source": _result_source(r),
            }
        )
    return rows


class InstallRun:
    """The outcome of installing SOURCEs in order: one result document per SOURCE
    (``InstallResult.to_dict()``, dependencies listed inside), and for a dry run the
    plan rows (dependencies first, then each SOURCE)."""

    __slots__ = ("dry_run", "plan", "results")

    def __init__(self, dry_run: bool, results: list[dict[str, Any]]) -> None:
        self.dry_run = dry_run
        self.results = results
        self.plan: list[dict[str, Any]] | None = plan_rows(results) if dry_run else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"dry_run": self.dry_run, "results": self.results}
        if self.plan is not None:
            data["plan"] = self.plan
        return data

    def __repr__(self) -> str:
        return f"InstallRun(dry_run={self.dry_run!r}, results={len(self.results)})"


def run_install(
    settings: Settings,
    sources: Sequence[str],
    options: InstallOptions,
    *,
    bus: EventBus | None = None,
) -> InstallRun:
    """Install ``sources`` in order with ``options``; the first failure stops the run
    (its message names what was already installed; those stay installed).

    The request is assumed checked (:func:`check_install_request`)."""
    from attune_packs.install.pipeline import Installer

    installer = Installer(settings, bus)
    try:
        results = installer.install_each((source, options) for source in sources)
    finally:
        installer.close()
    return InstallRun(options.dry_run, results)


class LockedRun:
    """The outcome of ``install --locked FILE``: the results, or for a dry run the plan."""

    __slots__ = ("dry_run", "locked", "plan", "results")

    def __init__(
        self,
        locked: str | None,
        *,
        dry_run: bool,
        results: list[dict[str, Any]],
        plan: list[dict[str, Any]] | None = None,
    ) -> None:
        self.locked = locked  # the lock file's path
        self.dry_run = dry_run
        self.results = results
        self.plan = plan

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "dry_run": self.dry_run,
            "locked": self.locked,
            "results": self.results,
        }
        if self.plan is not None:
            data["plan"] = self.plan
        return data

    def __repr__(self) -> str:
        return f"LockedRun(locked={self.locked!r}, dry_run={self.dry_run!r})"


def load_lock(path: str | Path) -> LockFile:
    """Read and check a lock file (:class:`NotFound`, ``invalid_lockfile``)."""
    from attune_packs.resolve import lockfile

    return lockfile.load(path)


def install_locked_file(
    settings: Settings,
    lock: LockFile | str | Path,
    *,
    dry_run: bool = False,
    force: bool = False,
    skip_tests: bool = False,
    bus: EventBus | None = None,
) -> LockedRun:
    """Install exactly the packs of the lock file ``lock`` (a path or a loaded one),
    dependencies first, each checked against its locked checksum (recorded with
    installation_method ``lockfile``).  A dry run only reads the database."""
    import os

    loaded = load_lock(lock) if isinstance(lock, (str, os.PathLike)) else lock
    if dry_run:
        from attune_packs.db import open_database
        from attune_packs.resolve.lock import locked_plan

        db = open_database(settings, readonly=True)
        try:
            rows = locked_plan(loaded, db)
        finally:
            if db is not None:
                db.close()
        return LockedRun(loaded.path, dry_run=True, results=[], plan=rows)
    from attune_packs.install.locked import install_locked

    results = install_locked(settings, loaded, bus=bus, force=force, skip_tests=skip_tests)
    return LockedRun(loaded.path, dry_run=False, results=results)


# --------------------------------------------------------------------------- maintenance


class UninstallResult:
    """A removed pack: the version that was active, every removed version, the
    dependents left broken (``force``) and the warnings."""

    __slots__ = (
        "action",
        "broken_dependents",
        "installation_id",
        "ref",
        "removed_versions",
        "status",
        "version",
        "warnings",
    )

    def __init__(self, doc: dict[str, Any]) -> None:
        self.ref: str = doc["ref"]
        self.version: str = doc["version"]
        self.action: str = doc["action"]
        self.status: str = doc["status"]
        self.installation_id: int | None = doc["installation_id"]
        self.removed_versions: list[str] = doc["removed_versions"]
        self.broken_dependents: list[str] = doc["broken_dependents"]
        self.warnings: list[str] = doc["warnings"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "action": self.action,
            "status": self.status,
            "installation_id": self.installation_id,
            "removed_versions": self.removed_versions,
            "broken_dependents": self.broken_dependents,
            "warnings": self.warnings,
        }

    def __repr__(self) -> str:
        return f"UninstallResult(ref={self.ref!r}, version={self.version!r})"


def uninstall_pack(
    settings: Settings,
    ref: str,
    *,
    force: bool = False,
    method: str = "cli",
    bus: EventBus | None = None,
) -> UninstallResult:
    """Remove the installed pack ``ref`` (every kept version); refused while another
    installed pack depends on it unless ``force``.  The audit row keeps ``method``."""
    from attune_packs.install.pipeline import Installer

    installer = Installer(settings, bus)
    try:
        doc = installer.uninstall(ref, force=force, method=method)
    finally:
        installer.close()
    return UninstallResult(doc)


class RollbackResult:
    """A rollback: the version re-activated, the one it replaced, its checksum."""

    __slots__ = (
        "action",
        "checksum",
        "installation_id",
        "previous_version",
        "ref",
        "status",
        "storage_path",
        "version",
    )

    def __init__(self, doc: dict[str, Any]) -> None:
        self.ref: str = doc["ref"]
        self.version: str = doc["version"]
        self.previous_version: str = doc["previous_version"]
        self.action: str = doc["action"]
        self.status: str = doc["status"]
        self.checksum: str = doc["checksum"]
        self.installation_id: int | None = doc["installation_id"]
        self.storage_path: str = doc["storage_path"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "previous_version": self.previous_version,
            "action": self.action,
            "status": self.status,
            "checksum": self.checksum,
            "installation_id": self.installation_id,
            "storage_path": self.storage_path,
        }

    def __repr__(self) -> str:
        return (
            f"RollbackResult(ref={self.ref!r}, version={self.version!r}, "
            f"previous_version={self.previous_version!r})"
        )


def rollback_pack(
    settings: Settings, ref: str, *, method: str = "cli", bus: EventBus | None = None
) -> RollbackResult:
    """Re-activate the previously active version of ``ref`` that is still kept."""
    from attune_packs.install.pipeline import Installer

    installer = Installer(settings, bus)
    try:
        doc = installer.rollback(ref, method=method)
    finally:
        installer.close()
    return RollbackResult(doc)


class VerifyReport:
    """Installed packs re-hashed against their recorded checksums: one report per
    pack (``ref``, ``version``, ``path``, ``expected``, ``actual``, ``ok``, the
    ``changed``/``added``/``missing`` files and ``errors``)."""

    __slots__ = ("packs",)

    def __init__(self, packs: list[dict[str, Any]]) -> None:
        self.packs = packs

    @property
    def ok(self) -> bool:
        return all(r["ok"] for r in self.packs)

    def problems(self) -> list[str]:
        """One ``error: REF VERSION: ...`` line per pack that failed."""
        lines: list[str] = []
        for r in self.packs:
            if r["ok"]:
                continue
            parts = [f"{k} {', '.join(r[k])}" for k in ("changed", "added", "missing") if r[k]]
            parts += r["errors"]
            who = f"{r['ref']} {r['version']}" if r["version"] else r["ref"]
            lines.append(f"error: {who}: " + "; ".join(parts))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "packs": self.packs}

    def __repr__(self) -> str:
        return f"VerifyReport(ok={self.ok!r}, packs={len(self.packs)})"


def verify_packs(
    settings: Settings, refs: Iterable[str] | None = None, *, bus: EventBus | None = None
) -> VerifyReport:
    """Re-hash ``refs`` (default: every installed pack) against the recorded checksums."""
    from attune_packs.install.pipeline import Installer

    installer = Installer(settings, bus)
    try:
        reports = installer.verify(list(refs or []) or None)
    finally:
        installer.close()
    return VerifyReport(reports)
