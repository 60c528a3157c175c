"""Dependency planning: the glue between the resolver, the installed packs and the
registries (issue 5).

:mod:`attune_packs.resolve.resolver` is pure; this module feeds it:

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

Installing what a plan says is the installer's ``dependencies`` step
(:mod:`attune_packs.install.dependencies`); a lock file is installed by
:mod:`attune_packs.install.locked`.  Nothing here imports install/.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from attune_packs.errors import DependencyError, NotFound
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fetch.provenance import Provenance, from_install_source
from attune_packs.resolve.plan import Origin, Plan, PlanItem

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database, PackRecord
    from attune_packs.pack.model import Manifest
    from attune_packs.registry.index import Index, IndexEntry
    from attune_packs.registry.loader import LoadedRegistry
    from attune_packs.registry.resolution import RegistrySet
    from attune_packs.resolve.model import Candidate, Resolution

__all__ = ["Planner", "local_candidate"]


# --------------------------------------------------------------------------- candidates


def _pick_source(entry: IndexEntry, index: Index, registry: str) -> Provenance:
    """The install source a registry install uses (git first, then archive, as
    :func:`~attune_packs.fetch.registry_entry.fetch_entry`)."""
    sources = entry.install_sources
    src = next((s for s in sources if s.type == "git"), None) or next(
        (s for s in sources if s.type == "archive"), None
    )
    if src is None:
        return Provenance("registry", registry=registry)
    return from_install_source(src, index, registry)


def local_candidate(manifest: Manifest, source: Provenance) -> Candidate:
    """A candidate for a pack on disk (the one being installed, a folder, an archive)."""
    from attune_packs.resolve.model import Candidate

    return Candidate(
        manifest.ref,
        manifest.version,
        [str(r) for r in manifest.pack_deps],
        Origin("local", source, [str(r) for r in manifest.runtime_deps], manifest),
    )


def installed_candidates(db: Database | None) -> dict[str, Candidate]:
    """Every installed pack with the pack requirements recorded for its version."""
    from attune_packs.resolve.model import Candidate

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
        src = Provenance("installed", row.storage_path, registry=row.registry_name)
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
        from attune_packs.registry.resolution import why_no_registries

        return why_no_registries(self.settings)

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
        from attune_packs.resolve.model import Candidate
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
        from attune_packs.pack.model import parse_pack_requirement
        from attune_packs.resolve.model import Candidate
        from attune_packs.resolve.resolver import resolve

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
        from attune_packs.resolve.plan import classify_change

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
