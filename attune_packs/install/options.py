"""What goes into an install and what comes out: InstallOptions, InstallResult, and the
dependency hook's DependencyContext (with the PackInstaller it may use for nested installs).

The bottom of install/: it imports no other module of the package, so the dependencies
step (install/dependencies.py) is typed without importing the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from attune_packs.events import EventBus

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database, PackRecord
    from attune_packs.fetch.provenance import Provenance
    from attune_packs.pack.model import Manifest

DEFAULT_TEST_TIMEOUT = 300.0


# -- options, results, hooks ---------------------------------------------------------------


@dataclass
class InstallOptions:
    ref_spec: str | None = None
    force: bool = False
    skip_deps: bool = False
    skip_tests: bool = False
    no_registry: bool = False
    registry: str | None = None
    expect_checksum: str | None = None
    dry_run: bool = False
    refresh: bool = False
    installation_method: str = "cli"
    test_timeout: float = DEFAULT_TEST_TIMEOUT
    #: Refs the same run replaces (a dependency plan): the constraints their *installed*
    #: versions place on this pack are not enforced (the plan already checked the new ones).
    replacing: tuple[str, ...] = ()


@dataclass
class InstallResult:
    ref: str
    version: str
    action: str  # install | upgrade | downgrade | reinstall | none
    status: str  # installed | already_installed | dry_run
    previous_version: str | None
    checksum: str  # the directory checksum of the installed folder
    #: Where it came from and what was verified (``checksum`` there: the audit row's).
    provenance: Provenance
    storage_path: str | None = None
    installation_id: int | None = None
    files: int = 0
    bytes: int = 0
    tests: dict[str, Any] = field(default_factory=dict)
    removed_versions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: What the dependency hook planned/installed for this pack (dependencies first).
    dependencies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.status == "installed"

    def to_dict(self) -> dict[str, Any]:
        source = self.provenance.columns()
        return {
            "ref": self.ref,
            "version": self.version,
            "previous_version": self.previous_version,
            "action": self.action,
            "status": self.status,
            "changed": self.changed,
            "dry_run": self.status == "dry_run",
            "checksum": self.checksum,
            "checksum_subject": self.provenance.checksum_subject or "directory",
            "checksum_verified": self.provenance.checksum_verified,
            "source_type": source["source_type"] or "",
            "source_url": source["source_url"],
            "source_ref": source["source_ref"],
            "registry_name": source["registry_name"],
            "storage_path": self.storage_path,
            "installation_id": self.installation_id,
            "files": self.files,
            "bytes": self.bytes,
            "tests": self.tests,
            "removed_versions": self.removed_versions,
            "warnings": self.warnings,
            "dependencies": self.dependencies,
        }


class PackInstaller(Protocol):
    """What a dependency hook may use of the installer running it
    (:class:`attune_packs.install.pipeline.Installer`)."""

    settings: Settings

    def install(self, source: str, options: InstallOptions | None = None) -> InstallResult: ...

    def nested(self, *, dependency_hook: DependencyHook) -> PackInstaller:
        """An installer for the same home and bus whose dependencies step is ``dependency_hook``."""
        ...

    def close(self) -> None: ...


@dataclass
class DependencyContext:
    """What a dependency hook gets: the staged pack and a way to install more packs."""

    installer: PackInstaller
    manifest: Manifest
    pack_dir: Path
    db: Database | None  # None only for a dry run against a home without a database
    options: InstallOptions
    bus: EventBus
    #: Filled by the hook: one dict per dependency planned, kept or installed
    #: (``InstallResult.dependencies``).
    report: list[dict[str, Any]] = field(default_factory=list)

    def installed(self, ref: str) -> PackRecord | None:
        return self.db.get_pack(ref) if self.db is not None else None

    def install(self, source: str, *, ref_spec: str | None = None) -> InstallResult:
        """Install a dependency (recorded with installation_method ``dependency``)."""
        opts = InstallOptions(
            ref_spec=ref_spec,
            skip_deps=False,
            skip_tests=self.options.skip_tests,
            no_registry=self.options.no_registry,
            registry=self.options.registry,
            dry_run=self.options.dry_run,
            refresh=self.options.refresh,
            installation_method="dependency",
            test_timeout=self.options.test_timeout,
        )
        return self.installer.install(source, opts)


#: A dependency hook checks (and may install) what the staged pack needs; it raises
#: :class:`~attune_packs.errors.DependencyError` when something is missing.
DependencyHook = Callable[[DependencyContext], None]
