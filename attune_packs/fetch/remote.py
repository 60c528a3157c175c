"""Fetching non-local sources: archive URLs, git repositories, registry requirements.

:func:`fetch` is what the installer calls for every source that is not a local
directory or a local archive.  It downloads/clones/resolves into the empty
folder ``staging`` and returns a :class:`~attune_packs.fetch.provenance.FetchedPack`
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
from typing import TYPE_CHECKING

from attune_packs.errors import ArchiveError, SourceError
from attune_packs.events import EventBus, Verifying
from attune_packs.fetch.provenance import FetchedPack, Provenance
from attune_packs.fetch.spec import ARCHIVE, GIT, SourceSpec
from attune_packs.pack.naming import Shown

if TYPE_CHECKING:
    from attune_packs.config import RegistryConfig, Settings
    from attune_packs.net.cache import CachedArchive
    from attune_packs.net.git import GitCheckout
    from attune_packs.net.http import HttpClient


# --------------------------------------------------------------------------- helpers


def _shown(url: str) -> str:
    from attune_packs.redaction import display_location

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
    location: str,
    ref: str | None,
    settings: Settings,
    staging: Path,
    bus: EventBus,
    *,
    ref_option: str | None = "--ref-spec",
) -> GitCheckout:
    """Clone ``location`` at ``ref`` into a fresh ``staging/git`` with the network settings.
    ``ref_option`` names where the ref came from in messages (None: an index)."""
    from attune_packs.net.git import clone

    return clone(
        location,
        ref,
        _fresh_dir(staging, "git"),
        allow_http=settings.network.allow_http,
        timeout=settings.network.timeout,
        bus=bus,
        ref_option=ref_option,
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
        provenance=Provenance(
            ARCHIVE, url, checksum_subject="archive", checksum_verified=bool(expected)
        ),
        archive_checksum=got.checksum,
        expected_checksum=expected,
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
        provenance=Provenance(
            GIT,
            spec.location,
            # The ref asked for, else the commit HEAD named: (url, git_ref) always
            # installs the same tree again (``install URL --ref-spec REF``, lock files).
            spec.git_ref or checkout.commit,
            checksum_subject="directory",
        ),
        expected_checksum=expected,
        meta={"commit": checkout.commit, "shallow": checkout.shallow},
    )
