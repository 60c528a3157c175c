"""The installer: turn a SOURCE into an active, recorded, verifiable pack (issue 3).

Pipeline (each step emits ``step_started``/``step_completed`` with the step
names of DESIGN.md section 9), one module per phase::

    resolve (decide) -> fetch, extract (fetch_step) -> validate (prepare)
        -> verify (verify_source) -> dependencies, test (prepare)
        -> activate, record (activate)

* Everything before ``activate`` happens in a private staging folder inside
  ``packs_dir`` (a temporary folder elsewhere for ``--dry-run``); nothing the
  user can see changes.
* ``activate`` takes the per-home lock, re-reads the database, commits the new
  state (pack row, dependency rows and the audit row in one transaction), then
  renames the staged folder into place and switches the link; see
  :mod:`attune_packs.install.store` for the ordering and the crash-recovery rule.
* A failure at any step leaves the active version and the database as they
  were, adds exactly one ``failed`` audit row holding the error
  (:mod:`attune_packs.install.record`), and re-raises the error (one line).

Semantics against what is installed (:mod:`attune_packs.install.decide`): a new ref
is an ``install``; a higher version an ``upgrade``; a lower one a ``downgrade``; the
same version and the same directory checksum is "already installed" (nothing is
written, not even an audit row: the audit trail records changes and failures, and
re-running an idempotent ``install`` in CI must not grow it); the same version with
other content is refused unless ``force`` (then a ``reinstall``).

Uninstall, rollback and verify live in :mod:`attune_packs.install.maintenance`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, interruption
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fetch import spec as sources
from attune_packs.install import decide, maintenance, prepare, record
from attune_packs.install.activate import activate
from attune_packs.install.attempt import Attempt, NamingBus, rename_paths
from attune_packs.install.db_handle import LazyDatabase
from attune_packs.install.dependencies import dependency_hook as default_dependency_hook
from attune_packs.install.fetch_step import fetch_step
from attune_packs.install.options import InstallOptions, InstallResult
from attune_packs.install.store import Store
from attune_packs.install.verify_source import verify_step
from attune_packs.pack import naming

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database
    from attune_packs.install.options import DependencyHook


class Installer:
    """Install, uninstall, roll back and verify packs for one home (``Settings``).

    ``dependency_hook`` is the ``dependencies`` step (default:
    :func:`attune_packs.install.dependencies.dependency_hook`, which plans and installs
    missing dependencies through :meth:`nested`)."""

    def __init__(
        self,
        settings: Settings,
        bus: EventBus | None = None,
        *,
        dependency_hook: DependencyHook | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus_or_null(bus)
        self.store = Store(settings)
        self.database = LazyDatabase(settings)
        self.dependency_hook: DependencyHook = dependency_hook or default_dependency_hook

    def nested(self, *, dependency_hook: DependencyHook) -> Installer:
        """An installer for the same home and bus with another dependencies step
        (the dependencies of a pack, the packs of a plan or lock file)."""
        return type(self)(self.settings, self.bus, dependency_hook=dependency_hook)

    # -- database ---------------------------------------------------------------------

    def prefetch_db(self, *, readonly: bool = False) -> None:
        """Start opening the database in a background thread (see :mod:`.db_handle`)."""
        self.database.prefetch(readonly=readonly)

    @property
    def db(self) -> Database:
        return self.database.db

    def close(self) -> None:
        self.database.close()

    # -- install ----------------------------------------------------------------------

    def install_each(self, jobs: Iterable[tuple[str, InstallOptions]]) -> list[dict[str, Any]]:
        """Install ``(source, options)`` pairs in order, stopping at the first failure,
        whose one-line message then names what was already installed."""
        results: list[dict[str, Any]] = []
        for source, options in jobs:
            try:
                results.append(self.install(source, options).to_dict())
            except AttuneError as exc:
                if results:
                    done = ", ".join(f"{r['ref']} {r['version']}" for r in results)
                    exc.message = f"{exc.message} (already done: {done})"
                    exc.args = (exc.message,)
                raise
        return results

    def install(self, source: str, options: InstallOptions | None = None) -> InstallResult:
        options = options or InstallOptions()
        attempt = Attempt(source=source, options=options, started_at=record.utcnow())
        self.prefetch_db(readonly=options.dry_run)
        outer = self.bus
        self.bus = NamingBus(outer, attempt.names)
        try:
            from attune_packs.net.http import counting_retries

            with counting_retries() as attempt.http_retries:
                return self._install(attempt)
        except BaseException as exc:
            if isinstance(exc, AttuneError):
                rename_paths(exc, attempt.names)
            if not options.dry_run:
                self._after_failure(attempt, exc)
            raise
        finally:
            self.bus = outer

    def _install(self, attempt: Attempt) -> InstallResult:
        """The steps in order; each phase function records its step in ``attempt``."""
        options = attempt.options
        spec = decide.resolve_source(self, attempt)
        if spec.kind == sources.LOCAL_DIRECTORY:
            decide.claim(attempt, Path(spec.location))
            if not options.force:
                quick = decide.quick_noop(self, attempt, Path(spec.location))
                if quick is not None:
                    return quick

        with self.store.staging(dry_run=options.dry_run) as staging:
            # Whatever is staged is named by what the user gave; the rest as "<staging>".
            attempt.names.append(naming.Shown.of(staging.path, "<staging>"))
            staged = fetch_step(self, attempt, spec, staging)
            manifest = prepare.validate_step(self, attempt, spec, staged.root)
            tree = verify_step(self, attempt, spec, staged)

            db = self.database.read(options.dry_run)
            row = db.get_pack(manifest.ref) if db is not None else None
            if decide.decide(self.store, attempt, manifest, tree, row) == "noop":
                return record.noop_result(self, attempt, manifest, tree, row)

            prepare.dependencies_step(self, attempt, manifest, staged.root, db)
            tests = prepare.run_tests(self, attempt, manifest, staged.root)
            if options.dry_run:
                return record.result(self, attempt, manifest, tree, "dry_run", None, tests)
            return activate(self, attempt, staging, staged.root, manifest, tree, tests)

    def _after_failure(self, attempt: Attempt, exc: BaseException) -> None:
        """Record a failed attempt (one ``failed`` audit row), or, when its transaction
        went through, complete what the store still lacks."""
        if attempt.committed:
            # The install itself is recorded as succeeded; what failed is making
            # the store match, which the recovery of the next command completes.
            with contextlib.suppress(Exception), self.store.locked(self.db) as actions:
                for action in actions:
                    self.bus.info(f"recovered: {action}")
            return
        if isinstance(exc, AttuneError):
            message, code = exc.message, exc.code
        elif isinstance(exc, KeyboardInterrupt):  # Ctrl-C, SIGTERM, SIGHUP
            message, code, _status = interruption(exc)
        elif isinstance(exc, Exception):
            message = f"internal error: {type(exc).__name__}: {exc}"
            message, code = str(naming.scrub(message, attempt.names)), "internal_error"
        else:
            return
        if attempt.ref and attempt.version and attempt.previous_version is None:
            decide.preclassify(self, attempt, attempt.ref, attempt.version)
        record.record_failure(self, attempt, message, code)

    # -- uninstall, rollback, verify (install/maintenance.py) ---------------------------

    def uninstall(self, ref: str, *, force: bool = False, method: str = "cli") -> dict[str, Any]:
        return maintenance.uninstall(self, ref, force=force, method=method)

    def rollback(self, ref: str, *, method: str = "cli") -> dict[str, Any]:
        return maintenance.rollback(self, ref, method=method)

    def verify(self, refs: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Re-hash active folders against the recorded checksums."""
        return maintenance.verify(self, refs)
