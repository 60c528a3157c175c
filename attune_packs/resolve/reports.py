"""What ``attune pack deps`` and ``attune pack lock`` compute, as result objects.

:func:`dependency_tree` resolves one target (an installed ref, a registry
requirement or a local pack) exactly as an install would and returns the tree;
:func:`lock_to_file` resolves requirements into a lock file and writes it (or,
with ``check``, compares it).  Neither installs anything; :func:`dependency_tree`
only reads the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune_packs.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from attune_packs.config import Settings
    from attune_packs.events import EventBus
    from attune_packs.resolve.lockfile import LockFile
    from attune_packs.resolve.plan import Plan

__all__ = [
    "DepsReport",
    "LockReport",
    "check_registry_options",
    "dependency_tree",
    "describe_source",
    "lock_to_file",
]


def check_registry_options(registry: str | None, no_registry: bool) -> None:
    """``--registry`` and ``--no-registry`` exclude each other."""
    if no_registry and registry is not None:
        raise UsageError("--registry and --no-registry cannot be used together")


def describe_source(src: dict[str, Any]) -> str:
    """The one-line text of a plan or lock-file ``source`` document
    (``registry 'main': archive https://...``, ``folder /path``, ``installed``)."""
    from attune_packs.fetch.provenance import Provenance

    return Provenance.from_plan_dict(src).describe()


# --------------------------------------------------------------------------- deps


class DepsReport:
    """The resolved dependency tree of one target.

    ``kind``: ``installed`` (an installed ref that satisfies the request keeps its
    version), ``requirement`` (resolved over installed packs and registries) or
    ``path`` (a local pack folder or archive).  ``tree`` is the nested document
    (each node: ref, version, action, constraint, source, dependencies, ...);
    ``plan.items`` are the packs in install order."""

    __slots__ = ("kind", "plan", "root", "target", "tree")

    def __init__(self, target: str, kind: str, root: str, plan: Plan) -> None:
        self.target = target
        self.kind = kind
        self.root = root
        self.plan = plan
        self.tree: list[dict[str, Any]] = plan.tree()

    @property
    def total(self) -> int:
        return len(self.plan.items)

    @property
    def changes(self) -> int:
        """How many packs would be installed, upgraded or downgraded."""
        return sum(1 for item in self.plan.items if item.action != "keep")

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind,
            "root": self.root,
            "tree": self.tree,
            "order": [item.to_dict() for item in self.plan.items],
        }

    def __repr__(self) -> str:
        return f"DepsReport(target={self.target!r}, kind={self.kind!r}, packs={self.total})"


def dependency_tree(
    settings: Settings,
    target: str,
    *,
    registry: str | None = None,
    no_registry: bool = False,
    refresh: bool = False,
    bus: EventBus | None = None,
) -> DepsReport:
    """Resolve ``target`` (an installed ref, a requirement like ``ref@^1.2``, or a
    pack folder or archive) as ``attune pack install`` would, without installing."""
    from attune_packs.db import open_database
    from attune_packs.fetch import local, spec
    from attune_packs.pack.model import parse_pack_requirement
    from attune_packs.resolve import planner as planning

    check_registry_options(registry, no_registry)
    db = open_database(settings, readonly=True)
    try:
        planner = planning.Planner(
            settings, db=db, bus=bus, registry=registry, no_registry=no_registry, refresh=refresh
        )
        if spec.looks_like_path(target):
            pack = local.load_local(target, settings, checksum=False)
            root = pack.manifest.ref
            cand = planning.local_candidate(pack.manifest, pack.source)
            return DepsReport(target, "path", root, planner.plan([root], local=[cand]))
        try:
            req = parse_pack_requirement(target)
        except ValueError as exc:
            raise UsageError(str(exc), code="invalid_requirement") from None
        row = db.get_pack(req.ref) if db is not None else None
        from attune_packs.versioning import satisfies

        if row is not None and satisfies(row.version, req.constraint):
            plan = planner.plan([], pinned={req.ref: row.version})
            return DepsReport(target, "installed", req.ref, plan)
        return DepsReport(target, "requirement", req.ref, planner.plan([str(req)]))
    finally:
        if db is not None:
            db.close()


# --------------------------------------------------------------------------- lock


class LockReport:
    """A lock file resolved from requirements: where it is, whether it was written
    (``False`` when it already held these bytes, or with ``check``), whether the
    file on disk matches, and the lock itself."""

    __slots__ = ("check", "file", "lock", "up_to_date", "written")

    def __init__(
        self, file: str, lock: LockFile, *, written: bool, up_to_date: bool, check: bool
    ) -> None:
        self.file = file  # absolute path
        self.lock = lock
        self.written = written
        self.up_to_date = up_to_date
        self.check = check

    def packs(self) -> list[dict[str, Any]]:
        """The locked packs as the lock file states them (sorted by ref)."""
        packs: list[dict[str, Any]] = self.lock.to_dict()["packs"]
        return packs

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "written": self.written,
            "up_to_date": self.up_to_date,
            **self.lock.to_dict(),
        }

    def __repr__(self) -> str:
        return f"LockReport(file={self.file!r}, up_to_date={self.up_to_date!r})"


def lock_to_file(
    settings: Settings,
    requirements: Iterable[str],
    path: str,
    *,
    check: bool = False,
    registry: str | None = None,
    no_registry: bool = False,
    refresh: bool = False,
    bus: EventBus | None = None,
) -> LockReport:
    """Resolve ``requirements`` (from the registries; installed packs play no part)
    and write the lock file ``path`` in its canonical form (untouched when it already
    holds exactly that text).  ``check``: write nothing, only compare."""
    import os

    from attune_packs.resolve import lock as lock_mod
    from attune_packs.resolve import lockfile

    check_registry_options(registry, no_registry)
    lock = lock_mod.lock(
        settings,
        requirements,
        bus=bus,
        registry=registry,
        no_registry=no_registry,
        refresh=refresh,
    )
    file = os.path.abspath(path)
    if check:
        try:
            with open(file, "rb") as fh:
                current: bytes | None = fh.read()
        except OSError:
            current = None
        up_to_date = current == lockfile.dump(lock).encode("ascii")
        return LockReport(file, lock, written=False, up_to_date=up_to_date, check=True)
    written = lockfile.write(file, lock)
    return LockReport(file, lock, written=written, up_to_date=True, check=False)
