"""Fetching a resolved registry entry (git first, archive fallback)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import (
    AttuneError,
    ChecksumMismatch,
    SourceError,
    UsageError,
)
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fetch.provenance import FetchedPack, Provenance, from_install_source
from attune_packs.fetch.remote import (
    _client,
    _clone,
    _extract,
    _fresh_dir,
    _get_archive,
    _shown,
    _tree_shown,
)
from attune_packs.fetch.spec import SourceSpec
from attune_packs.pack.naming import Shown

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.registry.index import IndexEntry
    from attune_packs.registry.resolution import Resolved


# --------------------------------------------------------------------------- registry


def _check_identity(
    root: Path, entry: IndexEntry, registry_name: str, shown: Shown | None = None
) -> None:
    """The fetched pack must be valid (``pack.yaml`` and component files) and be the
    pack the index entry describes.  Messages name the entry and where it came from."""
    from attune_packs.errors import ManifestError
    from attune_packs.pack.contents import discover_contents
    from attune_packs.pack.manifest import load_manifest

    try:
        manifest = load_manifest(root, shown=shown)
        discover_contents(root, manifest.ref, shown=shown)
    except ManifestError as exc:
        raise ManifestError(
            f"{entry.ref} {entry.version} from registry {registry_name!r}: {exc.message}",
            code=exc.code,
            details=exc.details,
        ) from None
    if manifest.ref != entry.ref or manifest.version != entry.version:
        raise SourceError(
            f"manifest/index mismatch: registry {registry_name!r} lists {entry.ref} "
            f"{entry.version}, but the downloaded pack.yaml says {manifest.ref} "
            f"{manifest.version}",
            code="manifest_index_mismatch",
            details={
                "index": {"ref": entry.ref, "version": entry.version},
                "manifest": {"ref": manifest.ref, "version": manifest.version},
            },
        )


def resolve_requirement(
    spec: SourceSpec,
    settings: Settings,
    bus: EventBus | None = None,
    *,
    registry: str | None = None,
    no_registry: bool = False,
    refresh: bool = False,
) -> Resolved:
    """The registry entry a requirement (``slack@^1.2``) names: the first registry by
    priority listing the ref, fail-closed (DESIGN section 4)."""
    from attune_packs.registry.resolution import RegistrySet

    if no_registry:
        raise UsageError(
            f"{spec.raw!r} is a registry requirement, but --no-registry forbids "
            "registry look-ups (give a path or a URL instead)",
            code="registry_forbidden",
        )
    bus = bus_or_null(bus)
    rset = RegistrySet(settings, bus, refresh=refresh, only=registry)
    resolved = rset.resolve(spec.location, spec.constraint)
    entry = resolved.entry
    bus.info(f"{entry.ref} {entry.version} from registry {resolved.registry_name!r}")
    return resolved


def fetch_entry(
    resolved: Resolved,
    settings: Settings,
    staging: Path,
    bus: EventBus | None = None,
    *,
    requirement: str | None = None,
    user_expected: str | None = None,
) -> FetchedPack:
    """Fetch a resolved index entry (git first, archive as the fallback) into ``staging``.

    Public so that dependency installation can fetch entries it resolved itself.
    """
    bus = bus_or_null(bus)
    entry = resolved.entry
    index = resolved.index
    sources = entry.install_sources
    git_src = next((s for s in sources if s.type == "git"), None)
    arch_src = next((s for s in sources if s.type == "archive"), None)
    if git_src is None and arch_src is None:
        raise SourceError(
            f"registry {resolved.registry_name!r} lists no usable install source for "
            f"{entry.ref} {entry.version}"
        )

    meta: dict[str, Any] = {
        "registry": resolved.registry_name,
        "index": resolved.index_location,
        "version": entry.version,
        "fallback": False,
    }
    fetched: FetchedPack | None = None
    if git_src is not None:
        try:
            fetched = _registry_git(
                from_install_source(git_src, index, resolved.registry_name), settings, staging, bus
            )
            meta["registry_source"] = "git"
        except AttuneError as exc:
            if arch_src is None:
                raise
            bus.warning(
                f"git source of {entry.ref} {entry.version} failed ({exc.message}); "
                "using the archive source instead"
            )
            meta["fallback"] = True
            meta["fallback_reason"] = exc.message
    if fetched is None:
        assert arch_src is not None
        fetched = _registry_archive(
            from_install_source(arch_src, index, resolved.registry_name),
            settings,
            staging,
            bus,
            resolved,
        )
        meta["registry_source"] = "archive"
    _check_identity(fetched.path, entry, resolved.registry_name, fetched.shown)
    if user_expected and user_expected not in (
        fetched.expected_checksum,
        fetched.archive_checksum,
    ):
        from attune_packs.pack.checksum import directory_checksum

        actual = directory_checksum(fetched.path).checksum
        if actual != user_expected:
            raise ChecksumMismatch(
                f"checksum mismatch for {entry.ref} {entry.version}: expected "
                f"{user_expected}, got {actual}",
                details={"expected": user_expected, "actual": actual},
            )
        subject = fetched.provenance.checksum_subject
        if subject == "directory" and actual != fetched.expected_checksum:
            # The user's value replaces the index's in the installer: check the index's here.
            raise ChecksumMismatch(
                f"checksum mismatch for {entry.ref} {entry.version}: registry "
                f"{resolved.registry_name!r} says {fetched.expected_checksum}, got {actual}",
                details={"expected": fetched.expected_checksum, "actual": actual},
            )
    meta.update(fetched.meta or {})
    fetched.meta = meta
    fetched.provenance = replace(
        fetched.provenance, requirement=requirement or f"{entry.ref}@{entry.version}"
    )
    return fetched


def _registry_git(
    source: Provenance, settings: Settings, staging: Path, bus: EventBus
) -> FetchedPack:
    location = source.url or ""
    checkout = _clone(location, source.git_ref, settings, staging, bus, ref_option=None)
    return FetchedPack(
        path=checkout.path,
        shown=_tree_shown(checkout.path, staging / "git", _shown(location)),
        provenance=source,
        expected_checksum=source.checksum,
        meta={"git_ref": source.git_ref, "commit": checkout.commit, "shallow": checkout.shallow},
    )


def _registry_archive(
    source: Provenance,
    settings: Settings,
    staging: Path,
    bus: EventBus,
    resolved: Resolved,
) -> FetchedPack:
    location = source.url or ""
    if "://" in location:
        from attune_packs.net.urls import check_url

        check_url(location, allow_http=settings.network.allow_http, what="archive URL")
    with _client(settings, bus, resolved.registry) as client:
        got = _get_archive(location, settings, bus, source.checksum, client)
    dest = _fresh_dir(staging, "archive")
    root = _extract(got, location, settings, dest, bus)
    return FetchedPack(
        path=root,
        shown=_tree_shown(root, dest, _shown(location)),
        provenance=replace(source, checksum_verified=True),
        archive_checksum=got.checksum,
        expected_checksum=source.checksum,
        meta={"from_cache": got.from_cache},
    )
