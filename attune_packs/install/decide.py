"""Deciding what an install is: the resolve step (what the SOURCE names, whether it may be
installed at all), and against what is installed, an ``install``, ``upgrade``,
``downgrade``, ``reinstall`` or nothing (:func:`decide`, :func:`quick_noop`); whether the
new version breaks installed dependents (:func:`check_dependents`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from attune_packs.errors import AlreadyInstalled, AttuneError, DependencyError, UsageError
from attune_packs.fetch import spec as sources
from attune_packs.fetch.provenance import Provenance, public_url
from attune_packs.install import record
from attune_packs.install.verify_source import verify_checksum
from attune_packs.pack import model
from attune_packs.pack.checksum import hash_tree, parse_checksum
from attune_packs.resolve.plan import classify_change

if TYPE_CHECKING:
    from attune_packs.db import Database, PackRecord
    from attune_packs.install.attempt import Attempt, InstallerParts
    from attune_packs.install.options import InstallResult
    from attune_packs.install.store import Store
    from attune_packs.pack.checksum import TreeHash
    from attune_packs.pack.model import Manifest


def resolve_source(installer: InstallerParts, attempt: Attempt) -> sources.SourceSpec:
    """The ``resolve`` step: classify the SOURCE, refuse what the options or the settings
    forbid, and for a registry requirement pick the entry (a pack no registry lists
    fails here)."""
    options = attempt.options
    bus = installer.bus
    attempt.begin(bus, "resolve", public_url(attempt.source) or attempt.source)
    if options.expect_checksum is not None:
        parse_checksum(options.expect_checksum, "--expect-checksum value")
    spec = sources.classify(attempt.source, options.ref_spec)
    attempt.spec = spec
    attempt.provenance = Provenance.from_spec(spec)
    if spec.kind == sources.REGISTRY:
        attempt.ref = spec.location
        if options.no_registry:
            raise UsageError(
                f"{spec.raw!r} is a registry requirement, but --no-registry was given",
                code="registry_disabled",
            )
    if (
        spec.kind in (sources.ARCHIVE, sources.GIT)
        and installer.settings.require_checksums
        and options.expect_checksum is None
    ):
        raise AttuneError(
            f"refusing to install {spec.raw} without an expected checksum "
            "(require_checksums is on); pass --expect-checksum sha256:...",
            code="checksum_required",
        )
    note = spec.kind.replace("_", " ") + f": {public_url(spec.location)}"
    if spec.kind == sources.REGISTRY:
        from attune_packs.fetch import registry_entry

        attempt.resolved = registry_entry.resolve_requirement(
            spec,
            installer.settings,
            bus,
            registry=options.registry,
            no_registry=options.no_registry,
            refresh=options.refresh,
        )
        entry = attempt.resolved.entry
        note = f"{entry.ref} {entry.version} from registry {attempt.resolved.registry_name!r}"
    bus.step_completed("resolve", note)
    return spec


def claim(attempt: Attempt, pack_dir: Path) -> None:
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


def preclassify(installer: InstallerParts, attempt: Attempt, ref: str, version: str) -> None:
    """Set the action/previous version an attempt would have (never raises)."""
    try:
        db = installer.database.read(attempt.options.dry_run)
        row = db.get_pack(ref) if db is not None else None
        change = classify_change(row.version if row else None, version)
    except Exception:
        return
    attempt.previous_version = row.version if row else None
    attempt.action = "reinstall" if change == "same" else change


def quick_noop(installer: InstallerParts, attempt: Attempt, src: Path) -> InstallResult | None:
    """A local folder whose version is active: hash it in place, skip staging if equal.

    The store (link + sidecar) says cheaply whether that is worth trying, while
    the database is still being opened in the background; the database has
    the final word."""
    from attune_packs.pack.manifest import load_manifest

    store, bus = installer.store, installer.bus
    try:
        manifest = load_manifest(src)
    except AttuneError:
        return None  # the full pipeline reports it, on the staged copy
    ref, version = manifest.ref, manifest.version
    if store.read_link(ref) != f"{ref}-{version}":
        return None
    if not store.version_dir(ref, version).is_dir():
        return None
    side = store.read_sidecar(ref, version)
    if side is None:
        return None
    attempt.begin(bus, "fetch", f"hashing {src}")
    tree = hash_tree(src)
    bus.step_completed("fetch", f"{tree.count} files")
    if tree.checksum != side.get("checksum"):
        return None
    db = installer.database.read(attempt.options.dry_run)
    row = db.get_pack(ref) if db is not None else None
    if row is None or row.version != version or row.checksum != tree.checksum:
        return None
    attempt.ref, attempt.version = ref, version
    attempt.begin(bus, "verify", "checksum")
    verify_checksum(installer, attempt, attempt.spec, tree, None, None)
    bus.step_completed("verify", tree.checksum)
    return record.noop_result(installer, attempt, manifest, tree, row)


def decide(
    store: Store, attempt: Attempt, manifest: Manifest, tree: TreeHash, row: PackRecord | None
) -> str:
    """The action against the installed ``row``: ``install``, ``upgrade``, ``downgrade``,
    ``reinstall`` or ``noop`` (same version, same content, folder intact); the same
    version with other content is refused unless ``--force``."""
    change = classify_change(row.version if row else None, manifest.version)
    attempt.previous_version = row.version if row else None
    if change != "same":
        attempt.action = change
        return change
    assert row is not None
    intact = (
        store.version_dir(row.ref, row.version).is_dir()
        and store.read_link(row.ref) == f"{row.ref}-{row.version}"
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


def check_dependents(
    installer: InstallerParts,
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
        installer.bus.warning("this breaks installed packs: " + "; ".join(broken))
        return
    raise DependencyError(
        f"installing {manifest.ref} {manifest.version} would break installed packs: "
        + "; ".join(broken)
        + " (use --force to install anyway)",
        code="dependents_broken",
        details={"broken": broken},
    )
