"""Fetching non-local sources: archive URLs, git repositories, registry requirements.

:func:`fetch` is what the installer calls for every source that is not a local
directory or a local archive.  It downloads/clones/resolves into the empty
folder ``staging`` and returns a :class:`~attune_packs.sources.FetchedPack`
holding the pack root and the provenance.  It never writes outside ``staging``
and the download cache.

Checksums: archive bytes are verified here (against the user's
``--expect-checksum`` or the index's source checksum) before anything is
extracted.  For git, the expected value is a directory checksum which the
installer computes on the tree (``.git`` already removed).

Registry installs: the first ``git`` source is tried first; if fetching it
fails, the first ``archive`` source (with its own checksum) is used and the
fallback is recorded in ``meta``.  The fetched manifest's ref and version must
equal the index entry's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import (
    ArchiveError,
    AttuneError,
    ChecksumMismatch,
    SourceError,
    UsageError,
)
from attune_packs.events import EventBus, Verifying, bus_or_null
from attune_packs.pack.naming import Shown
from attune_packs.sources import ARCHIVE, GIT, REGISTRY, FetchedPack, SourceSpec

if TYPE_CHECKING:
    from attune_packs.config import RegistryConfig, Settings
    from attune_packs.net.cache import CachedArchive
    from attune_packs.net.git import GitCheckout
    from attune_packs.net.http import HttpClient
    from attune_packs.registry.index import IndexEntry, InstallSource
    from attune_packs.registry.resolution import Resolved


def fetch(
    spec: SourceSpec,
    settings: Settings,
    staging: Path,
    bus: EventBus | None = None,
    *,
    expected_checksum: str | None = None,
    registry: str | None = None,
    no_registry: bool = False,
    refresh: bool = False,
    resolved: Resolved | None = None,
) -> FetchedPack:
    """Bring the pack named by ``spec`` (archive URL, git URL, registry requirement)
    into ``staging``; see the module docstring for the checks made.  A registry
    requirement already resolved (:func:`resolve_requirement`) is passed as
    ``resolved``."""
    bus = bus_or_null(bus)
    staging = Path(staging)
    staging.mkdir(parents=True, exist_ok=True)
    if expected_checksum is not None:
        from attune_packs.pack.checksum import parse_checksum

        parse_checksum(expected_checksum, "expected checksum")
    if spec.kind == ARCHIVE:
        return _fetch_archive_url(spec, settings, staging, bus, expected_checksum)
    if spec.kind == GIT:
        return _fetch_git_url(spec, settings, staging, bus, expected_checksum)
    if spec.kind == REGISTRY:
        if resolved is None:
            resolved = resolve_requirement(
                spec, settings, bus, registry=registry, no_registry=no_registry, refresh=refresh
            )
        return fetch_entry(
            resolved, settings, staging, bus, requirement=spec.raw, user_expected=expected_checksum
        )
    raise UsageError(f"not a remote source: {spec.raw!r} ({spec.kind})")


# --------------------------------------------------------------------------- helpers


def _shown(url: str) -> str:
    from attune_packs.net.urls import display_location

    return display_location(url)


def _unverified(settings: Settings, bus: EventBus, shown: str) -> None:
    """A direct remote install without an expected checksum: refuse or warn."""
    if settings.require_checksums:
        raise SourceError(
            f"refusing to install {shown} without an expected checksum "
            "(require_checksums is on): pass --expect-checksum sha256:...",
            code="checksum_required",
        )
    bus.warning(
        f"no expected checksum for {shown}: its content cannot be verified "
        "(pass --expect-checksum sha256:..., or set require_checksums: true to refuse this)"
    )


def _client(settings: Settings, bus: EventBus, reg: RegistryConfig | None = None) -> HttpClient:
    from attune_packs.net.http import HttpClient

    if reg is not None and reg.headers and "://" in reg.url:
        return HttpClient(settings.network, bus, headers=reg.headers, headers_origin=reg.url)
    return HttpClient(settings.network, bus)


def _get_archive(
    location: str,
    settings: Settings,
    bus: EventBus,
    expected: str | None,
    client: HttpClient | None,
) -> CachedArchive:
    """The archive at ``location`` (URL or local path) in the cache, bytes verified."""
    from attune_packs.net.cache import DownloadCache

    cache = DownloadCache(settings.cache_dir)
    if "://" in location:
        assert client is not None
        got = cache.fetch_url(
            client, location, expected=expected, max_bytes=settings.network.archive_max_bytes
        )
    else:
        got = cache.add_local(Path(location), expected=expected)
    if got.from_cache:
        bus.info(f"using the cached copy of {_shown(location)} ({got.checksum})")
    if expected:
        bus.emit(Verifying(f"archive checksum of {_shown(location)} matches {expected}"))
    return got


def _extract(
    got: CachedArchive, location: str, settings: Settings, dest: Path, bus: EventBus
) -> Path:
    from attune_packs.pack.archive import extract_archive

    try:
        return extract_archive(got.path, dest, settings.archive, bus)
    except ArchiveError as exc:
        shown = _shown(location)
        msg = exc.message.replace(str(got.path), shown).replace(got.path.name, shown)
        raise ArchiveError(msg, code=exc.code, details=exc.details) from None


def _tree_shown(root: Path, base: Path, name: str) -> Shown:
    """How messages name the tree ``root`` fetched into ``base`` from ``name`` (a URL or
    a path the user or the index gave): ``name:inner/path``, never the staging path."""
    inner = os.path.relpath(root, base)
    return Shown.of(root, name, "" if inner == "." else inner, sep=":")


def _fresh_dir(staging: Path, name: str) -> Path:
    from attune_packs.fsutil import remove_tree

    d = staging / name
    if d.exists():
        remove_tree(d)
    d.mkdir(parents=True)
    return d


def _clone(
    location: str, ref: str | None, settings: Settings, staging: Path, bus: EventBus
) -> GitCheckout:
    """Clone ``location`` at ``ref`` into a fresh ``staging/git`` with the network settings."""
    from attune_packs.net.git import clone

    return clone(
        location,
        ref,
        _fresh_dir(staging, "git"),
        allow_http=settings.network.allow_http,
        timeout=settings.network.timeout,
        bus=bus,
    )


# --------------------------------------------------------------------------- direct sources


def _fetch_archive_url(
    spec: SourceSpec,
    settings: Settings,
    staging: Path,
    bus: EventBus,
    expected: str | None,
) -> FetchedPack:
    from attune_packs.net.urls import check_url

    url = spec.location
    check_url(url, allow_http=settings.network.allow_http, what="archive URL")
    if not expected:
        _unverified(settings, bus, _shown(url))
    with _client(settings, bus) as client:
        got = _get_archive(url, settings, bus, expected, client)
    dest = _fresh_dir(staging, "archive")
    root = _extract(got, url, settings, dest, bus)
    return FetchedPack(
        path=root,
        shown=_tree_shown(root, dest, spec.display),
        source_type=ARCHIVE,
        source_url=url,
        checksum_subject="archive",
        archive_checksum=got.checksum,
        expected_checksum=expected,
        checksum_verified=bool(expected),
        meta={"from_cache": got.from_cache, "archive_bytes": got.size},
    )


def _fetch_git_url(
    spec: SourceSpec,
    settings: Settings,
    staging: Path,
    bus: EventBus,
    expected: str | None,
) -> FetchedPack:
    from attune_packs.net.git import check_git_ref, check_git_url

    # Refuse bad URLs and refs before warning about checksums.
    check_git_ref(spec.git_ref)
    check_git_url(spec.location, allow_http=settings.network.allow_http)
    if not expected and "://" in spec.location:  # a repository on this machine is local
        _unverified(settings, bus, _shown(spec.location))
    checkout = _clone(spec.location, spec.git_ref, settings, staging, bus)
    return FetchedPack(
        path=checkout.path,
        shown=_tree_shown(checkout.path, staging / "git", spec.display),
        source_type=GIT,
        source_url=spec.location,
        # The ref asked for, else the commit HEAD named: (source_url, source_ref) always
        # installs the same tree again (``install URL --ref-spec REF``, lock files).
        source_ref=spec.git_ref or checkout.commit,
        checksum_subject="directory",
        expected_checksum=expected,
        checksum_verified=False,
        meta={"commit": checkout.commit, "shallow": checkout.shallow},
    )


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

    def where(src: InstallSource) -> str:
        return index.resolve_url(src.url) if index is not None else src.url

    meta: dict[str, Any] = {
        "registry": resolved.registry_name,
        "index": resolved.index_location,
        "version": entry.version,
        "fallback": False,
    }
    fetched: FetchedPack | None = None
    if git_src is not None:
        try:
            fetched = _registry_git(git_src, where(git_src), settings, staging, bus)
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
        fetched = _registry_archive(arch_src, where(arch_src), settings, staging, bus, resolved)
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
        if fetched.checksum_subject == "directory" and actual != fetched.expected_checksum:
            # The user's value replaces the index's in the installer: check the index's here.
            raise ChecksumMismatch(
                f"checksum mismatch for {entry.ref} {entry.version}: registry "
                f"{resolved.registry_name!r} says {fetched.expected_checksum}, got {actual}",
                details={"expected": fetched.expected_checksum, "actual": actual},
            )
    meta.update(fetched.meta or {})
    fetched.meta = meta
    fetched.source_type = REGISTRY
    fetched.source_ref = requirement or f"{entry.ref}@{entry.version}"
    fetched.registry_name = resolved.registry_name
    return fetched


def _registry_git(
    src: InstallSource, location: str, settings: Settings, staging: Path, bus: EventBus
) -> FetchedPack:
    checkout = _clone(location, src.ref, settings, staging, bus)
    return FetchedPack(
        path=checkout.path,
        shown=_tree_shown(checkout.path, staging / "git", _shown(location)),
        source_type=REGISTRY,
        source_url=location if "://" in location else os.fspath(location),
        checksum_subject="directory",
        expected_checksum=src.checksum,
        checksum_verified=False,
        meta={"git_ref": src.ref, "commit": checkout.commit, "shallow": checkout.shallow},
    )


def _registry_archive(
    src: InstallSource,
    location: str,
    settings: Settings,
    staging: Path,
    bus: EventBus,
    resolved: Resolved,
) -> FetchedPack:
    if "://" in location:
        from attune_packs.net.urls import check_url

        check_url(location, allow_http=settings.network.allow_http, what="archive URL")
    with _client(settings, bus, resolved.registry) as client:
        got = _get_archive(location, settings, bus, src.checksum, client)
    dest = _fresh_dir(staging, "archive")
    root = _extract(got, location, settings, dest, bus)
    return FetchedPack(
        path=root,
        shown=_tree_shown(root, dest, _shown(location)),
        source_type=REGISTRY,
        source_url=location,
        checksum_subject="archive",
        archive_checksum=got.checksum,
        expected_checksum=src.checksum,
        checksum_verified=True,
        meta={"from_cache": got.from_cache},
    )
