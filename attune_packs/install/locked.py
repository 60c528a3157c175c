"""Installing a lock file (``attune pack install --locked FILE``): exactly its packs,
dependencies first, each verified against its locked checksum.

The top of install/: it drives the pipeline; nothing in install/ imports it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from attune_packs.errors import NotFound
from attune_packs.events import EventBus, bus_or_null
from attune_packs.install.dependencies import check_hook, check_runtimes
from attune_packs.install.options import DEFAULT_TEST_TIMEOUT, InstallOptions
from attune_packs.install.pipeline import Installer
from attune_packs.resolve.lock import _lock_order

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.resolve.lockfile import LockFile

__all__ = ["install_locked"]


def install_locked(
    settings: Settings,
    lockfile: LockFile,
    *,
    bus: EventBus | None = None,
    force: bool = False,
    skip_tests: bool = False,
    test_timeout: float | None = None,
) -> list[dict[str, Any]]:
    """Install exactly the packs of ``lockfile``, dependencies first, each verified
    against its locked checksum before anything of it is activated and recorded with
    ``installation_method = lockfile``.  Runtimes of every locked pack are checked first.
    Stops at the first failure (earlier packs stay installed; the message says which)."""
    bus = bus_or_null(bus)
    order = _lock_order(lockfile)
    by_ref = {p.ref: p for p in lockfile.packs}
    check_runtimes([(ref, by_ref[ref].runtime_deps) for ref in order], bus)
    for ref in order:
        p = by_ref[ref]
        source = p.provenance
        url = source.url or ""
        local_path = source.kind in ("local_directory", "local_archive") or (
            source.kind in ("archive", "git") and "://" not in url
        )
        if local_path and not os.path.exists(url):
            raise NotFound(f"lock file: the source of {p.ref} {p.version} does not exist: {url}")
    pending = {p.ref: p.version for p in lockfile.packs}
    replacing = tuple(sorted(pending))
    installer = Installer(settings, bus, dependency_hook=check_hook(pending))

    def options(ref: str) -> InstallOptions:
        source = by_ref[ref].provenance
        return InstallOptions(
            ref_spec=source.git_ref if source.kind == "git" else None,
            force=force,
            skip_tests=skip_tests,
            expect_checksum=source.checksum,
            installation_method="lockfile",
            test_timeout=test_timeout or DEFAULT_TEST_TIMEOUT,
            replacing=replacing,
            no_registry=True,
        )

    jobs = ((by_ref[ref].provenance.url or "", options(ref)) for ref in order)
    try:
        results = installer.install_each(jobs)
    finally:
        installer.close()
    return results
