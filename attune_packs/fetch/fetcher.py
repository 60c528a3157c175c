"""fetch_pack(): the one entry point from SOURCE to staged folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from attune_packs.errors import (
    UsageError,
)
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fetch.provenance import FetchedPack
from attune_packs.fetch.registry_entry import fetch_entry, resolve_requirement
from attune_packs.fetch.remote import _fetch_archive_url, _fetch_git_url
from attune_packs.fetch.spec import ARCHIVE, GIT, REGISTRY, SourceSpec

if TYPE_CHECKING:
    from attune_packs.config import Settings
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
