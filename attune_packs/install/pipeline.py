"""The installer: turn a SOURCE into an active, recorded, verifiable pack (issue 3).

Pipeline (each step emits ``step_started``/``step_completed`` with the step
names of DESIGN.md section 9)::

    resolve -> fetch -> extract -> validate -> verify -> dependencies -> test
            -> activate -> record

* Everything before ``activate`` happens in a private staging folder inside
  ``packs_dir`` (a temporary folder elsewhere for ``--dry-run``); nothing the
  user can see changes.
* ``activate`` takes the per-home lock, re-reads the database, commits the new
  state (pack row, dependency rows and the audit row in one transaction), then
  renames the staged folder into place and switches the link; see
  :mod:`attune_packs.install.store` for the ordering and the crash-recovery rule.
* A failure at any step leaves the active version and the database as they
  were, adds exactly one ``failed`` audit row holding the error, and re-raises
  the error (one line).

Semantics against what is installed: a new ref is an ``install``; a higher
version an ``upgrade``; a lower one a ``downgrade``; the same version and the
same directory checksum is "already installed" (nothing is written, not even an
audit row: the audit trail records changes and failures, and re-running an
idempotent ``install`` in CI must not grow it); the same version with other
content is refused unless ``force`` (then a ``reinstall``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import (
    AlreadyInstalled,
    AttuneError,
    ChecksumMismatch,
    DependencyError,
    NotFound,
    SourceError,
    StoreError,
    UsageError,
    interruption,
)
from attune_packs.events import Copying, Event, EventBus, Listener, Verifying, bus_or_null
from attune_packs.fetch import provenance
from attune_packs.fetch import spec as sources
from attune_packs.fetch.local import _archive_suffix
from attune_packs.fetch.provenance import public_url
from attune_packs.install.options import DependencyContext, InstallOptions, InstallResult
from attune_packs.install.record import _json_safe, dependency_rows, os_user, utcnow
from attune_packs.install.staging import Staging
from attune_packs.install.store import Intent, Store
from attune_packs.pack import model, naming
from attune_packs.pack.checksum import (
    TreeHash,
    _copy_file_hashing,
    copy_tree_hashing,
    hash_tree,
    parse_checksum,
)
from attune_packs.resolve.plan import classify_change

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database, InstallationRecord, PackRecord
    from attune_packs.pack.model import Manifest

if TYPE_CHECKING:
    from attune_packs.install.options import DependencyHook


def _dependency_step(ctx: DependencyContext) -> None:
    """The default dependencies step: plan, check runtimes, install what is missing."""
    from attune_packs.install.dependencies import dependency_hook

    dependency_hook(ctx)


@dataclass
class _Attempt:
    """What is known so far about one install attempt (for its audit row)."""

    source: str
    options: InstallOptions
    started_at: datetime
    step: str = "resolve"
    spec: sources.SourceSpec | None = None
    ref: str | None = None
    version: str | None = None
    previous_version: str | None = None
    action: str = "install"
    source_type: str | None = None
    source_url: str | None = None
    source_ref: str | None = None
    registry_name: str | None = None
    checksum: str | None = None
    checksum_subject: str | None = None
    checksum_verified: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    committed: bool = False  # the database transaction of this attempt went through
    #: The attempt's http.RetryCounter: HTTP retries of its own downloads (meta.http_retries).
    http_retries: Any = None
    #: How messages name the staged folders (deepest first): by what the user gave.
    names: list[naming.Shown] = field(default_factory=list)
    #: A registry requirement's entry, chosen in the resolve step (registry.Resolved).
    resolved: Any = None


class _NamingBus(EventBus):
    """Forwards every event to ``inner`` with staged paths named by what the user gave
    (:class:`~attune_packs.pack.naming.Shown`), so no progress line, warning or info ever
    shows a staging folder, whichever component emitted it."""

    def __init__(self, inner: EventBus, names: list[naming.Shown]) -> None:
        super().__init__()
        self.inner = inner
        self.names = names
        self.warnings = inner.warnings  # one list: results report the caller's warnings

    def subscribe(self, listener: Listener) -> None:
        self.inner.subscribe(listener)

    def emit(self, event: Event) -> None:
        if self.names:
            changes = {
                f.name: naming.scrub(value, self.names)
                for f in dataclasses.fields(event)
                if isinstance(value := getattr(event, f.name), str)
            }
            event = dataclasses.replace(event, **changes)
        self.inner.emit(event)


def _rename_paths(exc: AttuneError, names: list[naming.Shown]) -> None:
    """Name staged paths in ``exc`` (message and details) by what the user gave."""
    if not names:
        return
    exc.message = str(naming.scrub(exc.message, names))
    exc.args = (exc.message,)
    exc.details = naming.scrub(exc.details, names)  # type: ignore[assignment]


# -- the installer --------------------------------------------------------------------------


class Installer:
    """Install, uninstall, roll back and verify packs for one home (``Settings``)."""

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
        self._hook = dependency_hook
        self._db: Database | None = None
        self._ro_db: Database | None = None
        self._ro_opened = False
        self._opening: tuple[bool, threading.Thread, dict[str, Any]] | None = None

    # -- database ---------------------------------------------------------------------

    def prefetch_db(self, *, readonly: bool = False) -> None:
        """Start opening the database in a background thread.

        Importing SQLAlchemy/SQLModel and checking the schema revision take a few
        hundred milliseconds; an install overlaps them with copying and hashing."""
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

    def _join_db(self) -> None:
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
        self._join_db()
        if self._db is None:
            from attune_packs.db import open_database

            db = open_database(self.settings)
            assert db is not None
            self._db = db
        return self._db

    def _read_db(self, dry_run: bool) -> Database | None:
        """The database for reads; a dry run never creates or migrates it."""
        self._join_db()
        if not dry_run or self._db is not None:
            return self.db
        if not self._ro_opened:
            from attune_packs.db import open_database

            self._ro_db = open_database(self.settings, readonly=True)
            self._ro_opened = True
        return self._ro_db

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._join_db()
        for db in (self._db, self._ro_db):
            if db is not None:
                db.close()
        self._db = self._ro_db = None
        self._ro_opened = False

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
        attempt = _Attempt(source=source, options=options, started_at=utcnow())
        self.prefetch_db(readonly=options.dry_run)
        outer = self.bus
        self.bus = _NamingBus(outer, attempt.names)
        try:
            from attune_packs.net.http import counting_retries

            with counting_retries() as attempt.http_retries:
                return self._install(attempt)
        except BaseException as exc:
            if isinstance(exc, AttuneError):
                _rename_paths(exc, attempt.names)
            if options.dry_run:
                raise
            if attempt.committed:
                # The install itself is recorded as succeeded; what failed is making
                # the store match, which the recovery of the next command completes.
                self._finish_committed()
            elif isinstance(exc, AttuneError):
                self._record_failure(attempt, exc.message, exc.code)
            elif isinstance(exc, KeyboardInterrupt):  # Ctrl-C, SIGTERM, SIGHUP
                message, code, _status = interruption(exc)
                self._record_failure(attempt, message, code)
            elif isinstance(exc, Exception):
                message = f"internal error: {type(exc).__name__}: {exc}"
                self._record_failure(
                    attempt, str(naming.scrub(message, attempt.names)), "internal_error"
                )
            raise
        finally:
            self.bus = outer

    def _finish_committed(self) -> None:
        with contextlib.suppress(Exception), self.store.locked(self.db) as actions:
            for action in actions:
                self.bus.info(f"recovered: {action}")

    def _step(self, attempt: _Attempt, step: str, message: str = "") -> None:
        attempt.step = step
        self.bus.step_started(step, message)

    def _install(self, attempt: _Attempt) -> InstallResult:
        options = attempt.options
        bus = self.bus

        # resolve -------------------------------------------------------------------
        self._step(attempt, "resolve", public_url(attempt.source) or attempt.source)
        if options.expect_checksum is not None:
            parse_checksum(options.expect_checksum, "--expect-checksum value")
        spec = sources.classify(attempt.source, options.ref_spec)
        attempt.spec = spec
        attempt.source_type = spec.kind
        attempt.source_url = public_url(spec.location if spec.kind != sources.REGISTRY else None)
        attempt.source_ref = spec.git_ref or (spec.raw if spec.kind == sources.REGISTRY else None)
        if spec.kind == sources.REGISTRY:
            attempt.ref = spec.location
            if options.no_registry:
                raise UsageError(
                    f"{spec.raw!r} is a registry requirement, but --no-registry was given",
                    code="registry_disabled",
                )
        if (
            spec.kind in (sources.ARCHIVE, sources.GIT)
            and self.settings.require_checksums
            and options.expect_checksum is None
        ):
            raise AttuneError(
                f"refusing to install {spec.raw} without an expected checksum "
                "(require_checksums is on); pass --expect-checksum sha256:...",
                code="checksum_required",
            )
        note = spec.kind.replace("_", " ") + f": {public_url(spec.location)}"
        if spec.kind == sources.REGISTRY:
            # The registries answer here, so a pack none of them lists fails this step.
            from attune_packs.fetch import registry_entry

            attempt.resolved = registry_entry.resolve_requirement(
                spec,
                self.settings,
                bus,
                registry=options.registry,
                no_registry=options.no_registry,
                refresh=options.refresh,
            )
            entry = attempt.resolved.entry
            note = f"{entry.ref} {entry.version} from registry {attempt.resolved.registry_name!r}"
        bus.step_completed("resolve", note)

        if spec.kind == sources.LOCAL_DIRECTORY:
            self._claim(attempt, Path(spec.location))
        if spec.kind == sources.LOCAL_DIRECTORY and not options.force:
            quick = self._quick_noop(attempt, Path(spec.location))
            if quick is not None:
                return quick

        with self.store.staging(dry_run=options.dry_run) as staging:
            # Whatever is staged is named by what the user gave; the rest as "<staging>".
            attempt.names.append(naming.Shown.of(staging.path, "<staging>"))
            root, tree, archive_sum, fetched = self._fetch(attempt, spec, staging)

            # validate --------------------------------------------------------------
            self._step(attempt, "validate", "pack.yaml")
            from attune_packs.pack.contents import discover_contents
            from attune_packs.pack.manifest import load_manifest

            try:
                manifest = load_manifest(root, shown=attempt.names[0])
                # Component files Attune could not load make the pack invalid, as
                # ``attune pack validate`` says; refuse them before anything changes.
                discover_contents(root, manifest.ref, shown=attempt.names[0])
            except AttuneError:
                self._claim(attempt, root)
                raise
            attempt.ref, attempt.version = manifest.ref, manifest.version
            self._preclassify(attempt, manifest.ref, manifest.version)
            if spec.kind == sources.REGISTRY and manifest.ref != spec.location:
                raise SourceError(
                    f"the registry requirement {spec.raw!r} delivered the pack {manifest.ref!r}"
                )
            bus.step_completed("validate", f"{manifest.ref} {manifest.version}")

            # verify ----------------------------------------------------------------
            self._step(attempt, "verify", "checksum")
            if tree is None:
                bus.emit(Verifying(f"hashing {attempt.names[0].path(root)}"))
                tree = hash_tree(root)
            self._verify_checksum(attempt, spec, tree, archive_sum, fetched)
            attempt.meta.update(
                {"directory_checksum": tree.checksum, "files": tree.count, "bytes": tree.bytes}
            )
            bus.step_completed("verify", f"{tree.checksum} ({tree.count} files)")

            db = self._read_db(options.dry_run)
            row = db.get_pack(manifest.ref) if db is not None else None
            decision = self._decide(attempt, manifest, tree, row)
            if decision == "noop":
                return self._noop_result(attempt, manifest, tree, row)

            # dependencies ----------------------------------------------------------
            self._step(
                attempt,
                "dependencies",
                f"{len(manifest.pack_deps)} packs, {len(manifest.runtime_deps)} runtimes",
            )
            summary = f"{manifest.ref} {manifest.version}: "
            if options.skip_deps:
                bus.warning("dependency checks skipped (--skip-deps)")
                attempt.meta["skipped_dependencies"] = True
                summary += "skipped"
            else:
                hook = self._hook or _dependency_step
                ctx = DependencyContext(self, manifest, root, db, options, bus)
                try:
                    hook(ctx)
                finally:
                    attempt.dependencies = ctx.report
                    done = [
                        f"{d['ref']} {d['version']}"
                        for d in ctx.report
                        if d.get("status") == "installed"
                    ]
                    if done:
                        attempt.meta["installed_dependencies"] = done
                self._check_dependents(manifest, db, options.force, options.replacing)
                counts: dict[str, int] = {}
                for d in ctx.report:
                    status = d.get("status") or "planned"
                    counts[status] = counts.get(status, 0) + 1
                summary += (
                    ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "ok"
                )
            bus.step_completed("dependencies", summary)

            # test ------------------------------------------------------------------
            tests = self._run_tests(attempt, manifest, root)

            if options.dry_run:
                return self._result(attempt, manifest, tree, "dry_run", None, tests)

            # activate --------------------------------------------------------------
            self._step(attempt, "activate", f"{manifest.ref} {manifest.version}")
            rel_root = os.path.relpath(root, staging.path)
            intent = Intent(manifest.ref, manifest.version, tree.checksum, rel_root)
            self.store.check_link_slot(manifest.ref)
            sidecar = self._sidecar(attempt, manifest, tree)
            self.store.prepare(staging, intent, sidecar)
            with self.store.locked(self.db):
                # Another process may have changed things while we were staging.
                row = self.db.get_pack(manifest.ref)
                decision = self._decide(attempt, manifest, tree, row)
                if decision == "noop":
                    return self._noop_result(attempt, manifest, tree, row)
                self.store.check_link_slot(manifest.ref)
                audit = self._audit(attempt, "succeeded", None)
                pack = self._pack_row(manifest, tree.checksum, attempt, row)
                staging.kept = True  # from the commit on, recovery may need it
                audit_id = self.db.record(audit, pack=pack, dependencies=dependency_rows(manifest))
                attempt.committed = True
                self.store.materialize(staging.path, intent)
                bus.step_completed("activate", f"{manifest.ref} -> {intent.target}")

                # record --------------------------------------------------------------
                self._step(attempt, "record", f"installation #{audit_id}")
                removed = self._prune(manifest.ref, manifest.version)
            bus.step_completed("record", f"installation #{audit_id}")
            result = self._result(attempt, manifest, tree, "installed", audit_id, tests)
            result.removed_versions = removed
            return result

    # -- pipeline pieces ---------------------------------------------------------------

    def _claim(self, attempt: _Attempt, pack_dir: Path) -> None:
        """Best effort, for the audit row of an attempt that may fail before validation:
        the ref and version the pack.yaml claims, and what installing it would be."""
        try:
            from attune_packs.yamlio import load_yaml_file

            doc = load_yaml_file(pack_dir / "pack.yaml")
        except Exception:
            return
        if not isinstance(doc, dict):
            return
        ref, version = doc.get("ref"), doc.get("version")
        if isinstance(ref, str) and model.REF_RE.match(ref):
            attempt.ref = ref
            if isinstance(version, str) and len(version) < 256:
                attempt.version = version

    def _preclassify(self, attempt: _Attempt, ref: str, version: str) -> None:
        """Set the action/previous version an attempt would have (never raises)."""
        try:
            db = self._read_db(attempt.options.dry_run)
            row = db.get_pack(ref) if db is not None else None
            change = classify_change(row.version if row else None, version)
        except Exception:
            return
        attempt.previous_version = row.version if row else None
        attempt.action = "reinstall" if change == "same" else change

    def _quick_noop(self, attempt: _Attempt, src: Path) -> InstallResult | None:
        """A local folder whose version is active: hash it in place, skip staging if equal.

        The store (link + sidecar) says cheaply whether that is worth trying, while
        the database is still being opened in the background; the database has
        the final word."""
        from attune_packs.pack.manifest import load_manifest

        try:
            manifest = load_manifest(src)
        except AttuneError:
            return None  # the full pipeline reports it, on the staged copy
        ref, version = manifest.ref, manifest.version
        if self.store.read_link(ref) != f"{ref}-{version}":
            return None
        if not self.store.version_dir(ref, version).is_dir():
            return None
        side = self.store.read_sidecar(ref, version)
        if side is None:
            return None
        self._step(attempt, "fetch", f"hashing {src}")
        tree = hash_tree(src)
        self.bus.step_completed("fetch", f"{tree.count} files")
        if tree.checksum != side.get("checksum"):
            return None
        db = self._read_db(attempt.options.dry_run)
        row = db.get_pack(ref) if db is not None else None
        if row is None or row.version != version or row.checksum != tree.checksum:
            return None
        attempt.ref, attempt.version = ref, version
        self._step(attempt, "verify", "checksum")
        self._verify_checksum(attempt, attempt.spec, tree, None, None)  # type: ignore[arg-type]
        self.bus.step_completed("verify", tree.checksum)
        return self._noop_result(attempt, manifest, tree, row)

    def _fetch(
        self, attempt: _Attempt, spec: sources.SourceSpec, staging: Staging
    ) -> tuple[Path, TreeHash | None, str | None, provenance.FetchedPack | None]:
        bus = self.bus
        names = attempt.names
        if spec.kind == sources.LOCAL_DIRECTORY:
            self._step(attempt, "fetch", f"copying {spec.location}")
            names.insert(0, naming.Shown.of(staging.path / "pack", spec.display))
            tree = copy_tree_hashing(
                spec.location,
                staging.path / "pack",
                progress=lambda done, total, size: bus.emit(Copying(done, total, size)),
            )
            bus.step_completed("fetch", f"{tree.count} files, {tree.bytes} bytes")
            return staging.path / "pack", tree, None, None
        if spec.kind == sources.LOCAL_ARCHIVE:
            from attune_packs.pack import archive

            self._step(attempt, "fetch", f"reading {spec.location}")
            copy = staging.path / ("source" + _archive_suffix(spec.location))
            names.insert(0, naming.Shown.of(copy, spec.display))
            archive_sum = _copy_file_hashing(Path(spec.location), copy)
            attempt.meta["archive_checksum"] = archive_sum
            bus.step_completed("fetch", archive_sum)
            self._step(attempt, "extract", Path(spec.location).name)
            dest = staging.path / "tree"
            names.insert(0, naming.Shown.of(dest, spec.display, sep=":"))
            root = archive.extract_archive(
                copy,
                dest,
                self.settings.archive,
                bus,
                name=Path(spec.location).name,
            )
            inner = os.path.relpath(root, dest)
            if inner != ".":
                names.insert(0, naming.Shown.of(root, spec.display, inner, sep=":"))
            with contextlib.suppress(OSError):
                os.unlink(copy)
            bus.step_completed("extract", root.name)
            return root, None, archive_sum, None
        from attune_packs.fetch import fetcher

        self._step(attempt, "fetch", spec.display)
        for part in ("git", "archive"):
            names.insert(0, naming.Shown.of(staging.path / "fetch" / part, spec.display, sep=":"))
        fetched = fetcher.fetch(
            spec,
            self.settings,
            staging.path / "fetch",
            bus,
            expected_checksum=attempt.options.expect_checksum,
            registry=attempt.options.registry,
            no_registry=attempt.options.no_registry,
            refresh=attempt.options.refresh,
            resolved=attempt.resolved,
        )
        attempt.source_type = fetched.source_type
        attempt.source_url = public_url(fetched.source_url)
        attempt.source_ref = fetched.source_ref
        attempt.registry_name = fetched.registry_name
        if fetched.archive_checksum:
            attempt.meta["archive_checksum"] = fetched.archive_checksum
        if fetched.meta:
            attempt.meta["fetch"] = _json_safe(fetched.meta)
        shown = fetched.shown or naming.Shown.of(fetched.path, spec.display, sep=":")
        names.insert(0, shown)
        bus.step_completed("fetch", shown.path(fetched.path))
        return Path(fetched.path), None, fetched.archive_checksum, fetched

    def _verify_checksum(
        self,
        attempt: _Attempt,
        spec: sources.SourceSpec,
        tree: TreeHash,
        archive_sum: str | None,
        fetched: provenance.FetchedPack | None,
    ) -> None:
        expected = attempt.options.expect_checksum
        if expected is None and fetched is not None:
            expected = fetched.expected_checksum
        subject = "directory"
        if fetched is not None:
            subject = fetched.checksum_subject or "directory"
        elif spec is not None and spec.kind == sources.LOCAL_ARCHIVE:
            subject = "archive"
        verified = bool(fetched is not None and fetched.checksum_verified)
        if expected is not None:
            attempt.meta["expected_checksum"] = expected
            if not self.settings.verify_checksums:
                self.bus.warning("checksum verification is disabled (verify_checksums: false)")
            elif not verified:
                if expected == tree.checksum:
                    subject, verified = "directory", True
                elif archive_sum is not None and expected == archive_sum:
                    subject, verified = "archive", True
                else:
                    got = (
                        tree.checksum
                        if archive_sum is None
                        else f"{archive_sum} (archive) / {tree.checksum} (directory)"
                    )
                    raise ChecksumMismatch(
                        f"checksum mismatch for {attempt.source}: expected {expected}, got {got}",
                        details={
                            "expected": expected,
                            "directory": tree.checksum,
                            "archive": archive_sum,
                        },
                    )
                self.bus.emit(Verifying(f"{subject} checksum matches {expected}"))
        attempt.checksum_subject = subject
        attempt.checksum_verified = verified
        attempt.checksum = archive_sum if subject == "archive" and archive_sum else tree.checksum

    def _decide(
        self, attempt: _Attempt, manifest: Manifest, tree: TreeHash, row: PackRecord | None
    ) -> str:
        change = classify_change(row.version if row else None, manifest.version)
        attempt.previous_version = row.version if row else None
        if change != "same":
            attempt.action = change
            return change
        assert row is not None
        intact = (
            self.store.version_dir(row.ref, row.version).is_dir()
            and self.store.read_link(row.ref) == f"{row.ref}-{row.version}"
        )
        if row.checksum == tree.checksum and not attempt.options.force and intact:
            attempt.action = "none"
            return "noop"
        if row.checksum != tree.checksum and not attempt.options.force:
            attempt.action = "reinstall"
            raise AlreadyInstalled(
                f"{manifest.ref} {manifest.version} is already installed with different content "
                f"({row.checksum}, new {tree.checksum}); use --force to reinstall it",
                code="version_conflict",
            )
        attempt.action = "reinstall"
        return "reinstall"

    def _check_dependents(
        self,
        manifest: Manifest,
        db: Database | None,
        force: bool,
        ignore: Iterable[str] = (),
    ) -> None:
        """Refuse a version that breaks the constraint of an installed dependent
        (``ignore``: dependents the same run replaces)."""
        if db is None:
            return
        from attune_packs import versioning

        skip = set(ignore)
        broken = []
        for dep in db.dependents(manifest.ref):
            if dep.pack_ref in skip:
                continue
            constraint = dep.constraint or "*"
            try:
                ok = versioning.satisfies(manifest.version, constraint)
            except ValueError:
                continue
            if not ok:
                broken.append(f"{dep.pack_ref} requires {manifest.ref}@{constraint}")
        if not broken:
            return
        if force:
            self.bus.warning("this breaks installed packs: " + "; ".join(broken))
            return
        raise DependencyError(
            f"installing {manifest.ref} {manifest.version} would break installed packs: "
            + "; ".join(broken)
            + " (use --force to install anyway)",
            code="dependents_broken",
            details={"broken": broken},
        )

    def _run_tests(self, attempt: _Attempt, manifest: Manifest, root: Path) -> dict[str, Any]:
        enabled = bool((manifest.testing or {}).get("enabled"))
        self._step(attempt, "test", "pack tests" if enabled else "no pack tests")
        if not enabled:
            self.bus.step_completed("test", "no tests declared")
            return {"ran": False, "passed": None}
        if attempt.options.skip_tests:
            self.bus.warning("pack tests skipped (--skip-tests)")
            attempt.meta["skipped_tests"] = True
            self.bus.step_completed("test", "skipped")
            return {"ran": False, "passed": None, "skipped": True}
        from attune_packs.pack import packtests

        # packtests runs them on a throw-away copy: whatever they write (bytecode,
        # caches) never lands in the folder whose checksum was just recorded.
        report = packtests.run_pack_tests(root, manifest, attempt.options.test_timeout, self.bus)
        outcome = {"ran": bool(report.ran), "passed": bool(report.passed)}
        attempt.meta["tests"] = outcome
        self.bus.step_completed(
            "test",
            "passed"
            if report.passed and report.ran
            else "failed (warn only)"
            if report.ran
            else "not run",
        )
        return outcome

    def _prune(self, ref: str, current: str) -> list[str]:
        keep_n = max(1, self.settings.keep_versions)
        on_disk = set(self.store.versions_on_disk(ref))
        keep = [current]
        for version in self.db.activation_history(ref):
            if len(keep) >= keep_n:
                break
            if version != current and version in on_disk:
                keep.append(version)
        return self.store.prune(ref, keep)

    # -- rows and results ---------------------------------------------------------------

    def _sidecar(self, attempt: _Attempt, manifest: Manifest, tree: TreeHash) -> dict[str, Any]:
        return {
            "format": 1,
            "ref": manifest.ref,
            "version": manifest.version,
            "checksum": tree.checksum,
            "bytes": tree.bytes,
            "files": tree.files,
            "created_at": utcnow().isoformat(),
            "source": {
                "source_type": attempt.source_type,
                "source_url": attempt.source_url,
                "source_ref": attempt.source_ref,
                "registry_name": attempt.registry_name,
                "checksum_subject": attempt.checksum_subject,
                "checksum_verified": attempt.checksum_verified,
            },
        }

    def _pack_row(
        self, manifest: Manifest, checksum: str, attempt: _Attempt, row: PackRecord | None
    ) -> PackRecord:
        from attune_packs.db import PackRecord

        now = utcnow()
        return PackRecord(
            ref=manifest.ref,
            version=manifest.version,
            label=manifest.label,
            description=manifest.description,
            author=manifest.author,
            license=manifest.license,
            checksum=checksum,
            storage_path=os.fspath(self.store.version_dir(manifest.ref, manifest.version)),
            source_type=attempt.source_type or "local_directory",
            source_url=attempt.source_url,
            source_ref=attempt.source_ref,
            registry_name=attempt.registry_name,
            manifest=_json_safe(manifest.raw),
            installed_at=row.installed_at if row is not None else now,
            updated_at=now,
        )

    def _audit(self, attempt: _Attempt, status: str, error: str | None) -> InstallationRecord:
        from attune_packs.db import InstallationRecord

        storage = None
        if attempt.ref and attempt.version and status == "succeeded":
            storage = os.fspath(self.store.version_dir(attempt.ref, attempt.version))
        meta = dict(attempt.meta)
        for flag in ("force", "skip_deps", "skip_tests"):
            if getattr(attempt.options, flag):
                meta[flag] = True
        if status == "failed":
            meta["failed_step"] = attempt.step
        if attempt.http_retries is not None and attempt.http_retries.count:
            meta["http_retries"] = attempt.http_retries.count
        return InstallationRecord(
            pack_ref=attempt.ref,
            pack_version=attempt.version,
            previous_version=attempt.previous_version,
            action=attempt.action if attempt.action != "none" else "install",
            status=status,
            source_type=attempt.source_type,
            source_url=attempt.source_url,
            source_ref=attempt.source_ref,
            registry_name=attempt.registry_name,
            checksum=attempt.checksum,
            checksum_subject=attempt.checksum_subject,
            checksum_verified=attempt.checksum_verified,
            storage_path=storage,
            installed_by=os_user(),
            installation_method=attempt.options.installation_method,
            started_at=attempt.started_at,
            finished_at=utcnow(),
            error_message=error,
            meta=_json_safe(meta),
        )

    def _record_failure(self, attempt: _Attempt, message: str, code: str) -> None:
        """Best effort: one failed audit row; never masks the original error."""
        attempt.meta["error_code"] = code
        if attempt.ref and attempt.version and attempt.previous_version is None:
            self._preclassify(attempt, attempt.ref, attempt.version)
        try:
            db = self.db
            with self.store.locked(db):
                db.add_audit(self._audit(attempt, "failed", message))
        except Exception as exc:  # the original error matters more
            self.bus.warning(f"could not record the failed attempt: {exc}")

    def _result(
        self,
        attempt: _Attempt,
        manifest: Manifest,
        tree: TreeHash,
        status: str,
        audit_id: int | None,
        tests: dict[str, Any],
    ) -> InstallResult:
        return InstallResult(
            ref=manifest.ref,
            version=manifest.version,
            action=attempt.action,
            status=status,
            previous_version=attempt.previous_version,
            checksum=tree.checksum,
            checksum_subject=attempt.checksum_subject or "directory",
            checksum_verified=attempt.checksum_verified,
            source_type=attempt.source_type or "",
            source_url=attempt.source_url,
            source_ref=attempt.source_ref,
            registry_name=attempt.registry_name,
            storage_path=os.fspath(self.store.version_dir(manifest.ref, manifest.version))
            if status != "dry_run"
            else None,
            installation_id=audit_id,
            files=tree.count,
            bytes=tree.bytes,
            tests=tests,
            warnings=list(self.bus.warnings),
            dependencies=list(attempt.dependencies),
        )

    def _noop_result(
        self, attempt: _Attempt, manifest: Manifest, tree: TreeHash, row: PackRecord | None
    ) -> InstallResult:
        attempt.action = "none"
        attempt.previous_version = row.version if row else None
        self.bus.info(f"{manifest.ref} {manifest.version} is already installed")
        result = self._result(attempt, manifest, tree, "already_installed", None, {})
        return result

    # -- uninstall, rollback, verify ----------------------------------------------------

    def uninstall(self, ref: str, *, force: bool = False, method: str = "cli") -> dict[str, Any]:
        attempt = _Attempt(
            source=ref,
            options=InstallOptions(installation_method=method, force=force),
            started_at=utcnow(),
        )
        attempt.ref, attempt.action, attempt.step = ref, "uninstall", "record"
        try:
            db = self.db
            with self.store.locked(db):
                row = db.get_pack(ref)
                if row is None:
                    raise NotFound(f"pack {ref!r} is not installed")
                attempt.version = attempt.previous_version = row.version
                attempt.source_type, attempt.source_url = row.source_type, row.source_url
                attempt.checksum, attempt.checksum_subject = row.checksum, "directory"
                dependents = db.dependents(ref)
                if dependents and not force:
                    names = ", ".join(
                        f"{d.pack_ref} ({ref}@{d.constraint or '*'})" for d in dependents
                    )
                    raise DependencyError(
                        f"cannot uninstall {ref}: required by {names}; use --force to remove it anyway",
                        code="has_dependents",
                        details={"dependents": [d.pack_ref for d in dependents]},
                    )
                if dependents:
                    attempt.meta["broken_dependents"] = [d.pack_ref for d in dependents]
                    self.bus.warning(
                        f"removing {ref} although "
                        f"{', '.join(d.pack_ref for d in dependents)} "
                        f"{'depends' if len(dependents) == 1 else 'depend'} on it (--force)"
                    )
                attempt.meta["removed_versions"] = self.store.versions_on_disk(ref)
                audit = self._audit(attempt, "succeeded", None)
                audit.storage_path = row.storage_path
                self.store.mark_removal(ref)
                audit_id = db.record(audit, remove_ref=ref)
                self.store.remove_pack(ref)
        except AttuneError as exc:
            self._record_failure(attempt, exc.message, exc.code)
            raise
        return {
            "ref": ref,
            "version": row.version,
            "action": "uninstall",
            "status": "uninstalled",
            "installation_id": audit_id,
            "removed_versions": attempt.meta["removed_versions"],
            "broken_dependents": attempt.meta.get("broken_dependents", []),
            "warnings": list(self.bus.warnings),
        }

    def rollback(self, ref: str, *, method: str = "cli") -> dict[str, Any]:
        from attune_packs.pack.manifest import load_manifest

        attempt = _Attempt(
            source=ref, options=InstallOptions(installation_method=method), started_at=utcnow()
        )
        attempt.ref, attempt.action, attempt.step = ref, "rollback", "activate"
        try:
            db = self.db
            with self.store.locked(db):
                row = db.get_pack(ref)
                if row is None:
                    raise NotFound(f"pack {ref!r} is not installed")
                attempt.previous_version = row.version
                on_disk = set(self.store.versions_on_disk(ref))
                candidates = [
                    v for v in db.activation_history(ref) if v != row.version and v in on_disk
                ]
                if not candidates:
                    raise NotFound(
                        f"no previous version of {ref} is kept to roll back to "
                        f"(keep_versions: {self.settings.keep_versions})",
                        code="no_previous_version",
                    )
                target = candidates[0]
                attempt.version = target
                folder = self.store.version_dir(ref, target)
                side = self.store.read_sidecar(ref, target)
                if side is None:
                    raise StoreError(f"the record of {ref} {target} is missing; cannot roll back")
                self.bus.step_started("verify", f"{ref} {target}")
                tree = hash_tree(folder)
                if tree.checksum != side.get("checksum"):
                    raise StoreError(
                        f"the kept folder {folder} was modified since it was installed; "
                        "refusing to roll back to it",
                        code="tampered",
                    )
                self.bus.step_completed("verify", tree.checksum)
                manifest = load_manifest(folder)
                src = side.get("source") or {}
                attempt.source_type = src.get("source_type") or row.source_type
                attempt.source_url = src.get("source_url")
                attempt.source_ref = src.get("source_ref")
                attempt.registry_name = src.get("registry_name")
                attempt.checksum, attempt.checksum_subject = tree.checksum, "directory"
                attempt.checksum_verified = True
                self.bus.step_started("activate", f"{ref} {row.version} -> {target}")
                audit = self._audit(attempt, "succeeded", None)
                pack = self._pack_row(manifest, tree.checksum, attempt, row)
                audit_id = db.record(audit, pack=pack, dependencies=dependency_rows(manifest))
                self.store.switch_link(ref, f"{ref}-{target}")
                self.bus.step_completed("activate", f"{ref} -> {ref}-{target}")
                self._prune(ref, target)
        except AttuneError as exc:
            self._record_failure(attempt, exc.message, exc.code)
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

    def verify(self, refs: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Re-hash active folders against the recorded checksums."""
        db = self.db
        reports: list[dict[str, Any]] = []
        with self.store.locked(db):
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
                self.bus.emit(Verifying(f"{ref} {row.version}"))
                reports.append(self._verify_one(row))
        return reports

    def _verify_one(self, row: PackRecord) -> dict[str, Any]:
        from attune_packs.install.maintenance import diff_files

        folder = self.store.version_dir(row.ref, row.version)
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
        link = self.store.read_link(row.ref)
        if link != folder.name:
            report["errors"].append(
                f"link {self.store.link_path(row.ref)} points to {link!r}, expected {folder.name!r}"
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
            side = self.store.read_sidecar(row.ref, row.version)
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
