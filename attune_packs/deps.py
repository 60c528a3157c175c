"""Dependency planning and installation: the glue between the resolver, the installed
packs, the registries and the installer (issue 5).

:mod:`attune_packs.resolver` is pure; this module feeds it:

* **installed packs** (the ``pack`` and ``pack_dependency`` rows) become candidates whose
  requirements are the ones recorded for the installed version;
* **registries** (formats 1.0 and 1.1) give every version of a ref listed by the registry
  that *wins* the ref (first by priority; fail closed, exactly as :mod:`registry`); a ref no
  registry lists has no candidates;
* **local packs** (the pack being installed, a folder given to ``attune pack deps`` or
  ``attune pack lock``) are the only candidates for their ref.

Policy (the resolver's): every constraint holds at once; an installed version that
satisfies is kept, otherwise the highest satisfying version of the winning registry is
taken, backtracking to older versions when the newest leads to a dead end; cycles are
fine; a conflict is one line naming the packs and constraints that clash.

The registries are consulted only when the installed packs alone cannot satisfy the
request (an offline first pass), so installing a pack whose dependencies are already
present needs no registry at all.

:func:`dependency_hook` is the installer's ``dependencies`` step: it plans, checks every
runtime of the pack and of each dependency to be installed *before anything is
activated*, then installs the missing dependencies first (resolver order), each recorded
with ``installation_method = dependency``.  In a dry run it only reports the plan.
:func:`install_locked` installs a lock file (:mod:`attune_packs.lockfile`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, DependencyError, NotFound, UsageError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fetch.local import load_local
from attune_packs.fetch.provenance import Source
from attune_packs.fetch.spec import looks_like_path

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database, PackRecord
    from attune_packs.installer import DependencyContext, DependencyHook, InstallOptions
    from attune_packs.lockfile import LockFile
    from attune_packs.pack.model import Manifest
    from attune_packs.registry.index import Index, IndexEntry
    from attune_packs.registry.loader import LoadedRegistry
    from attune_packs.registry.resolution import RegistrySet
    from attune_packs.resolver import Candidate, Resolution

__all__ = [
    "Origin",
    "Plan",
    "PlanItem",
    "Planner",
    "check_hook",
    "dependency_hook",
    "install_locked",
    "local_candidate",
    "lock",
    "locked_plan",
]


@dataclass
class Origin:
    """What the planner knows about a candidate (carried through the resolver)."""

    kind: str  # registry | installed | local
    source: Source
    runtime_deps: list[str] = field(default_factory=list)
    manifest: Manifest | None = None


@dataclass
class PlanItem:
    """One pack of a plan, in install order (dependencies first)."""

    ref: str
    version: str
    action: str  # install | upgrade | downgrade | keep
    installed_version: str | None
    requested: bool
    required_by: list[str]
    constraints: list[str]
    dependencies: list[str]
    origin: Origin
    requires: list[str]  # its pack requirements, as declared
    status: str = "planned"  # planned | kept | installed | already_installed
    checksum: str | None = None  # once installed: what was verified (the audit's checksum)
    installation_id: int | None = None

    @property
    def source(self) -> Source:
        return self.origin.source

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "action": self.action,
            "status": self.status,
            "installed_version": self.installed_version,
            "requested": self.requested,
            "required_by": list(self.required_by),
            "constraints": list(self.constraints),
            "dependencies": list(self.dependencies),
            "source": self.source.to_dict(),
            "runtime_deps": list(self.origin.runtime_deps),
            "checksum": self.checksum,
            "installation_id": self.installation_id,
        }


@dataclass
class Plan:
    items: list[PlanItem]  # install order
    roots: list[str]

    @property
    def by_ref(self) -> dict[str, PlanItem]:
        return {item.ref: item for item in self.items}

    @property
    def changes(self) -> list[PlanItem]:
        return [item for item in self.items if item.action != "keep"]

    def tree(self, ref: str | None = None) -> list[dict[str, Any]]:
        """Nested ``{ref, version, action, constraint, source, dependencies: [...]}`` from
        the roots (or ``ref``); a pack already on the path is shown once more with
        ``cycle: true`` and no children."""
        from attune_packs.resolver import parse_pack_requirement

        items = self.by_ref

        def edge(parent: PlanItem, child: str) -> str:
            found = []
            for raw in parent.requires:
                try:
                    req = parse_pack_requirement(raw)
                except ValueError:
                    continue
                if req.ref == child:
                    found.append(req.constraint)
            return ", ".join(found) or "*"

        def node(r: str, constraint: str, path: tuple[str, ...]) -> dict[str, Any]:
            item = items[r]
            out: dict[str, Any] = {
                "ref": r,
                "version": item.version,
                "action": item.action,
                "installed_version": item.installed_version,
                "constraint": constraint,
                "source": item.source.to_dict(),
            }
            if r in path:
                out["cycle"] = True
                return out
            out["dependencies"] = [
                node(d, edge(item, d), (*path, r)) for d in item.dependencies if d in items
            ]
            return out

        starts = [ref] if ref is not None else self.roots
        return [node(r, "(requested)", ()) for r in starts if r in items]

    def to_dict(self) -> dict[str, Any]:
        return {"roots": list(self.roots), "order": [i.to_dict() for i in self.items]}


# --------------------------------------------------------------------------- candidates


def _pick_source(entry: IndexEntry, index: Index, registry: str) -> Source:
    """The install source a registry install uses (git first, then archive, as
    :func:`remote.fetch_entry`), its URL resolved against a local index's folder."""
    sources = entry.install_sources
    src = next((s for s in sources if s.type == "git"), None) or next(
        (s for s in sources if s.type == "archive"), None
    )
    if src is None:
        return Source("registry", None, registry=registry)
    return Source(src.type, index.resolve_url(src.url), src.ref, src.checksum, registry)


def local_candidate(manifest: Manifest, source: Source) -> Candidate:
    """A candidate for a pack on disk (the one being installed, a folder, an archive)."""
    from attune_packs.resolver import Candidate

    return Candidate(
        manifest.ref,
        manifest.version,
        [str(r) for r in manifest.pack_deps],
        Origin("local", source, [str(r) for r in manifest.runtime_deps], manifest),
    )


def installed_candidates(db: Database | None) -> dict[str, Candidate]:
    """Every installed pack with the pack requirements recorded for its version."""
    from attune_packs.resolver import Candidate

    if db is None:
        return {}
    requires: dict[str, list[str]] = {}
    runtimes: dict[str, list[str]] = {}
    for dep in db.all_dependencies():
        if dep.kind == "pack":
            c = (dep.constraint or "*").strip() or "*"
            requires.setdefault(dep.pack_ref, []).append(
                dep.name if c == "*" else f"{dep.name}@{c}"
            )
        elif dep.kind == "runtime":
            runtimes.setdefault(dep.pack_ref, []).append(f"{dep.name}{dep.constraint or ''}")
    out: dict[str, Candidate] = {}
    for row in db.list_packs():
        src = Source("installed", row.storage_path, registry=row.registry_name)
        out[row.ref] = Candidate(
            row.ref,
            row.version,
            requires.get(row.ref, []),
            Origin("installed", src, runtimes.get(row.ref, [])),
        )
    return out


class Planner:
    """Builds plans for one home: installed packs + registries (+ local packs).

    ``include_installed=False`` plans from the registries alone (lock files).
    ``registry``/``no_registry``/``refresh`` mean what the install options mean."""

    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        bus: EventBus | None = None,
        registry: str | None = None,
        no_registry: bool = False,
        refresh: bool = False,
        include_installed: bool = True,
    ) -> None:
        self.settings = settings
        self.db = db
        self.bus = bus_or_null(bus)
        self.registry = registry
        self.no_registry = no_registry
        self.refresh = refresh
        self.include_installed = include_installed
        self._rset: RegistrySet | None = None
        self._installed: dict[str, Candidate] | None = None
        self._rows: dict[str, PackRecord] | None = None
        self._by_ref: dict[str, list[Candidate]] = {}
        self.consulted_registries = False

    # -- what is there

    def installed(self) -> dict[str, Candidate]:
        if self._installed is None:
            self._installed = installed_candidates(self.db) if self.include_installed else {}
        return self._installed

    def installed_row(self, ref: str) -> PackRecord | None:
        if self.db is None or not self.include_installed:
            return None
        if self._rows is None:
            self._rows = {r.ref: r for r in self.db.list_packs()}
        return self._rows.get(ref)

    def registries_available(self) -> bool:
        if self.no_registry:
            return False
        if self.registry is not None:
            return True  # an unknown or disabled name is reported when it is used
        return bool(self.settings.enabled_registries())

    def why_offline(self) -> str:
        if self.no_registry:
            return "--no-registry was given"
        return f"no registries are configured in {self.settings.config_file}"

    def _registries(self) -> RegistrySet:
        if self._rset is None:
            from attune_packs.registry.resolution import RegistrySet

            self._rset = RegistrySet(
                self.settings, self.bus, refresh=self.refresh, only=self.registry
            )
        return self._rset

    def registry_candidates(self, ref: str) -> list[Candidate]:
        """Every version of ``ref`` in the registry that wins it ([] if none lists it)."""
        found = self._by_ref.get(ref)
        if found is not None:
            return found
        from attune_packs.resolver import Candidate
        from attune_packs.versioning import is_valid_version

        self.consulted_registries = True
        loaded: LoadedRegistry
        try:
            loaded, entries = self._registries().winner(ref)
        except NotFound:
            entries = []
        found = []
        for entry in entries:
            if not is_valid_version(entry.version):
                continue
            src = _pick_source(entry, loaded.index, loaded.name)
            found.append(
                Candidate(
                    ref,
                    entry.version,
                    entry.dependencies_packs(),
                    Origin("registry", src, entry.runtime_deps),
                )
            )
        self._by_ref[ref] = found
        return found

    # -- planning

    def plan(
        self,
        roots: Iterable[Any],
        *,
        local: Iterable[Candidate] = (),
        protect_installed: bool = True,
        pinned: Mapping[str, str] | None = None,
    ) -> Plan:
        """Resolve ``roots`` (requirements like ``"core@^1"``) transitively.

        ``local``: candidates that are the only versions of their ref (the installed
        version of such a ref is being replaced: its own requirements are dropped, and
        installed packs' constraints on it are left to the installer's dependents check).
        ``pinned``: ref -> version that must be kept (``attune pack deps`` of an installed
        pack)."""
        from attune_packs.resolver import Candidate, parse_pack_requirement, resolve

        local = list(local)
        local_refs = {c.ref for c in local}
        installed: dict[str, Candidate] = {}
        for ref, cand in self.installed().items():
            if ref in local_refs:
                continue
            reqs = cand.requires
            if local_refs:
                reqs = [r for r in reqs if parse_pack_requirement(r).ref not in local_refs]
            if reqs is not cand.requires:
                cand = Candidate(cand.ref, cand.version, reqs, cand.origin)
            installed[ref] = cand
        root_list = list(roots)
        for ref, version in (pinned or {}).items():
            root_list.append(f"{ref}@={version}")

        def offline(ref: str) -> list[Candidate]:
            return [c for c in local if c.ref == ref]

        def online(ref: str) -> list[Candidate]:
            if ref in local_refs:
                return offline(ref)
            return self.registry_candidates(ref)

        resolution: Resolution
        if self.include_installed or not self.registries_available():
            try:
                resolution = resolve(
                    root_list, offline, installed, protect_installed=protect_installed
                )
                return self._build(resolution)
            except DependencyError as exc:
                if exc.code != "dependency_conflict" or not self.registries_available():
                    raise self._offline(exc) from None
        resolution = resolve(root_list, online, installed, protect_installed=protect_installed)
        return self._build(resolution)

    def _offline(self, exc: DependencyError) -> DependencyError:
        if exc.code != "dependency_conflict" or self.registries_available():
            return exc
        missing = "no version of pack" in exc.message or "is available" in exc.message
        return DependencyError(
            f"{exc.message}; no registry was consulted ({self.why_offline()})",
            code="dependency_missing" if missing else exc.code,
            details=exc.details,
        )

    def _build(self, resolution: Resolution) -> Plan:
        from attune_packs.installer import classify_change

        items = []
        for r in resolution.order:
            origin: Origin = r.candidate.origin
            installed = r.installed_version
            action = r.action
            if origin.kind == "local":
                row = self.installed_row(r.ref)
                installed = row.version if row is not None else None
                change = classify_change(installed, r.version)
                action = "keep" if change == "same" else change
            elif action == "reinstall":
                action = "keep"
            items.append(
                PlanItem(
                    ref=r.ref,
                    version=r.version,
                    action=action,
                    installed_version=installed,
                    requested=r.requested,
                    required_by=list(r.required_by),
                    constraints=list(r.constraints),
                    dependencies=list(r.dependencies),
                    origin=origin,
                    requires=[str(x) for x in r.candidate.requires],
                    status="kept" if action == "keep" else "planned",
                )
            )
        return Plan(items, list(resolution.roots))


# --------------------------------------------------------------------------- checks


def _missing_problems(manifest: Manifest, version_of: Callable[[str], str | None]) -> list[str]:
    from attune_packs import versioning

    problems: list[str] = []
    for req in manifest.pack_deps:
        have = version_of(req.ref)
        if have is None:
            problems.append(f"pack {req} is not installed")
            continue
        try:
            ok = versioning.satisfies(have, req.constraint or "*")
        except ValueError as exc:
            problems.append(f"invalid constraint in {req}: {exc}")
            continue
        if not ok:
            problems.append(f"pack {req} is required but {req.ref} {have} is installed")
    return problems


def _check_installed(ctx: DependencyContext, pending: Mapping[str, str]) -> None:
    """Every required pack installed (or about to be, by the same run) in a satisfying
    version; raises ``dependency_missing`` otherwise."""

    def version_of(ref: str) -> str | None:
        if ref in pending:
            return pending[ref]
        row = ctx.installed(ref)
        return row.version if row is not None else None

    problems = _missing_problems(ctx.manifest, version_of)
    if problems:
        raise DependencyError(
            f"{ctx.manifest.ref} {ctx.manifest.version}: " + "; ".join(problems),
            code="dependency_missing",
            details={"problems": problems},
        )


def check_runtimes(packs: Iterable[tuple[str, Any]], bus: EventBus | None = None) -> None:
    """Check the runtimes of several packs (``(ref, manifest or requirement strings)``)
    at once; one ``runtime_unsatisfied`` error naming every failing runtime."""
    from attune_packs.pack import runtimes

    failures: list[str] = []
    checks: list[dict[str, Any]] = []
    for ref, what in packs:
        for check in runtimes.check_runtimes(what):
            checks.append({"pack": ref, **check.to_dict()})
            if not check.ok:
                failures.append(f"pack '{ref}' needs {check.message()}")
            elif check.status == "skipped" and bus is not None:
                bus.info(check.message())
    if failures:
        raise DependencyError(
            "runtimes missing or unsuitable: " + "; ".join(failures),
            code="runtime_unsatisfied",
            details={"runtimes": checks},
        )


def check_hook(pending: Mapping[str, str] | None = None) -> DependencyHook:
    """A hook that installs nothing: the pack's dependencies must be installed (or in
    ``pending``, ref -> version, i.e. being installed by the same run: cycles) and its
    runtimes present.  Used for the packs of a plan and of a lock file."""
    pending = dict(pending or {})

    def hook(ctx: DependencyContext) -> None:
        _check_installed(ctx, pending)
        check_runtimes([(ctx.manifest.ref, ctx.manifest)], ctx.bus)

    return hook


# --------------------------------------------------------------------------- the installer hook


def _root_source(ctx: DependencyContext) -> Source:
    return Source("local_directory", os.fspath(ctx.pack_dir))


def _report_offline(ctx: DependencyContext) -> None:
    for req in ctx.manifest.pack_deps:
        row = ctx.installed(req.ref)
        if row is None:
            continue
        ctx.report.append(
            {
                "ref": row.ref,
                "version": row.version,
                "action": "keep",
                "status": "kept",
                "installed_version": row.version,
                "requested": False,
                "required_by": [f"{ctx.manifest.ref}@{ctx.manifest.version}"],
                "constraints": [f"{req.constraint} ({ctx.manifest.ref}@{ctx.manifest.version})"],
                "dependencies": [],
                "source": Source(
                    "installed", row.storage_path, registry=row.registry_name
                ).to_dict(),
                "runtime_deps": [],
                "checksum": row.checksum,
                "installation_id": None,
            }
        )


def dependency_hook(ctx: DependencyContext) -> None:
    """The ``dependencies`` step of an install: plan, check runtimes, install what is
    missing (dependencies first), or only report the plan in a dry run."""
    manifest = ctx.manifest
    opts = ctx.options
    bus = ctx.bus
    if not manifest.pack_deps:
        check_runtimes([(manifest.ref, manifest)], bus)
        return
    planner = Planner(
        ctx.installer.settings,
        db=ctx.db,
        bus=bus,
        registry=opts.registry,
        no_registry=opts.no_registry,
        refresh=opts.refresh,
    )
    if not planner.registries_available():
        # Nothing could be installed: the dependencies must already be there.
        _check_installed(ctx, {})
        _report_offline(ctx)
        check_runtimes([(manifest.ref, manifest)], bus)
        return
    root = local_candidate(manifest, _root_source(ctx))
    # Installed packs outside the plan stay protected even with --force: --force is about
    # the pack being installed (the installer's own dependents check), never a licence to
    # break other packs through a dependency change.
    plan = planner.plan([manifest.ref], local=[root], protect_installed=True)
    deps = [item for item in plan.items if item.ref != manifest.ref]
    changes = [item for item in deps if item.action != "keep"]
    # Every runtime, of the pack and of each dependency to install, before anything moves.
    check_runtimes(
        [(manifest.ref, manifest)] + [(i.ref, i.origin.runtime_deps) for i in changes], bus
    )
    for item in deps:
        if item.action == "keep":
            item.status = "kept"
    if changes:
        bus.info(
            "dependencies to install: "
            + ", ".join(f"{i.ref} {i.version} ({i.action})" for i in changes)
        )
    if opts.dry_run or not changes:
        ctx.report.extend(item.to_dict() for item in deps)
        return
    pending = {item.ref: item.version for item in plan.items}
    replacing = tuple(sorted({manifest.ref, *(i.ref for i in changes)}))
    _install_items(ctx, changes, pending, replacing)
    ctx.report.extend(item.to_dict() for item in deps)


def _nested_options(ctx: DependencyContext, **kw: Any) -> InstallOptions:
    from attune_packs.installer import InstallOptions

    opts = ctx.options
    return InstallOptions(
        skip_tests=opts.skip_tests,
        refresh=False,
        test_timeout=opts.test_timeout,
        **kw,
    )


def _install_items(
    ctx: DependencyContext,
    changes: list[PlanItem],
    pending: Mapping[str, str],
    replacing: tuple[str, ...],
) -> None:
    from attune_packs.installer import Installer

    nested = Installer(ctx.installer.settings, ctx.bus, dependency_hook=check_hook(pending))
    done: list[str] = []
    try:
        for item in changes:
            opts = _nested_options(
                ctx,
                registry=item.source.registry,
                installation_method="dependency",
                replacing=replacing,
            )
            try:
                result = nested.install(f"{item.ref}@{item.version}", opts)
            except AttuneError as exc:
                so_far = f" (dependencies installed so far: {', '.join(done)})" if done else ""
                exc.message = (
                    f"dependency {item.ref} {item.version} of {ctx.manifest.ref} "
                    f"{ctx.manifest.version}: {exc.message}{so_far}"
                )
                raise
            item.status = "installed" if result.changed else result.status
            item.checksum = result.checksum
            item.installation_id = result.installation_id
            if result.changed:
                done.append(f"{item.ref} {item.version}")
    finally:
        nested.close()


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
    from attune_packs.lockfile import LockedPack, LockFile
    from attune_packs.resolver import parse_pack_requirement

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
                source_type=src.type,
                url=src.url,
                git_ref=src.git_ref,
                registry=src.registry,
                checksum=src.checksum,
                dependencies=sorted(item.requires),
                runtime_deps=list(item.origin.runtime_deps),
            )
        )
    return LockFile(requires=requires, packs=sorted(packs, key=lambda p: p.ref))


def _lock_order(lockfile: LockFile) -> list[str]:
    """The install order of a lock file (dependencies first); checks that it is
    complete and consistent (every requirement met by the locked version)."""
    from attune_packs.resolver import Candidate, resolve

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
    from attune_packs.installer import classify_change

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
                "source": p.source().to_dict(),
                "runtime_deps": list(p.runtime_deps),
            }
        )
    return rows


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
    from attune_packs.installer import DEFAULT_TEST_TIMEOUT, Installer, InstallOptions

    bus = bus_or_null(bus)
    order = _lock_order(lockfile)
    by_ref = {p.ref: p for p in lockfile.packs}
    check_runtimes([(ref, by_ref[ref].runtime_deps) for ref in order], bus)
    for ref in order:
        p = by_ref[ref]
        local_path = p.source_type in ("local_directory", "local_archive") or (
            p.source_type in ("archive", "git") and "://" not in p.url
        )
        if local_path and not os.path.exists(p.url):
            raise NotFound(f"lock file: the source of {p.ref} {p.version} does not exist: {p.url}")
    pending = {p.ref: p.version for p in lockfile.packs}
    replacing = tuple(sorted(pending))
    installer = Installer(settings, bus, dependency_hook=check_hook(pending))
    jobs = (
        (
            by_ref[ref].url,
            InstallOptions(
                ref_spec=by_ref[ref].git_ref if by_ref[ref].source_type == "git" else None,
                force=force,
                skip_tests=skip_tests,
                expect_checksum=by_ref[ref].checksum,
                installation_method="lockfile",
                test_timeout=test_timeout or DEFAULT_TEST_TIMEOUT,
                replacing=replacing,
                no_registry=True,
            ),
        )
        for ref in order
    )
    try:
        results = installer.install_each(jobs)
    finally:
        installer.close()
    return results
