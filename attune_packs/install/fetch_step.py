"""The ``fetch`` and ``extract`` steps: bring the SOURCE into the private staging folder.

A local folder is copied while it is hashed; a local archive is copied (hashed) and
extracted; everything else (archive URL, git, registry) goes through
:func:`attune_packs.fetch.fetcher.fetch`, whose provenance becomes the attempt's.
Each staged path is registered in ``attempt.names`` so messages name it by what the
user gave, never by the staging path.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from attune_packs.events import Copying
from attune_packs.fetch import spec as sources
from attune_packs.fetch.local import _archive_suffix
from attune_packs.install.record import stored_json
from attune_packs.pack import naming
from attune_packs.pack.checksum import _copy_file_hashing, copy_tree_hashing

if TYPE_CHECKING:
    from attune_packs.fetch.provenance import FetchedPack
    from attune_packs.install.attempt import Attempt, InstallerParts
    from attune_packs.install.staging import Staging
    from attune_packs.pack.checksum import TreeHash


class Staged(NamedTuple):
    """The staged pack: its root folder, and what fetching it already measured."""

    root: Path
    tree: TreeHash | None  # the directory checksum, when copying computed it
    archive_checksum: str | None  # the archive's bytes, when it came as an archive
    fetched: FetchedPack | None  # a remote fetch's result (None for local sources)


def fetch_step(
    installer: InstallerParts, attempt: Attempt, spec: sources.SourceSpec, staging: Staging
) -> Staged:
    if spec.kind == sources.LOCAL_DIRECTORY:
        return _copy_folder(installer, attempt, spec, staging)
    if spec.kind == sources.LOCAL_ARCHIVE:
        return _copy_archive(installer, attempt, spec, staging)
    return _fetch_remote(installer, attempt, spec, staging)


def _copy_folder(
    installer: InstallerParts, attempt: Attempt, spec: sources.SourceSpec, staging: Staging
) -> Staged:
    bus = installer.bus
    attempt.begin(bus, "fetch", f"copying {spec.location}")
    attempt.names.insert(0, naming.Shown.of(staging.path / "pack", spec.display))
    tree = copy_tree_hashing(
        spec.location,
        staging.path / "pack",
        progress=lambda done, total, size: bus.emit(Copying(done, total, size)),
    )
    bus.step_completed("fetch", f"{tree.count} files, {tree.bytes} bytes")
    return Staged(staging.path / "pack", tree, None, None)


def _copy_archive(
    installer: InstallerParts, attempt: Attempt, spec: sources.SourceSpec, staging: Staging
) -> Staged:
    from attune_packs.pack import archive

    bus, names = installer.bus, attempt.names
    attempt.begin(bus, "fetch", f"reading {spec.location}")
    copy = staging.path / ("source" + _archive_suffix(spec.location))
    names.insert(0, naming.Shown.of(copy, spec.display))
    archive_sum = _copy_file_hashing(Path(spec.location), copy)
    attempt.meta["archive_checksum"] = archive_sum
    bus.step_completed("fetch", archive_sum)
    attempt.begin(bus, "extract", Path(spec.location).name)
    dest = staging.path / "tree"
    names.insert(0, naming.Shown.of(dest, spec.display, sep=":"))
    root = archive.extract_archive(
        copy,
        dest,
        installer.settings.archive,
        bus,
        name=Path(spec.location).name,
    )
    inner = os.path.relpath(root, dest)
    if inner != ".":
        names.insert(0, naming.Shown.of(root, spec.display, inner, sep=":"))
    with contextlib.suppress(OSError):
        os.unlink(copy)
    bus.step_completed("extract", root.name)
    return Staged(root, None, archive_sum, None)


def _fetch_remote(
    installer: InstallerParts, attempt: Attempt, spec: sources.SourceSpec, staging: Staging
) -> Staged:
    from attune_packs.fetch import fetcher

    bus, names, options = installer.bus, attempt.names, attempt.options
    attempt.begin(bus, "fetch", spec.display)
    for part in ("git", "archive"):
        names.insert(0, naming.Shown.of(staging.path / "fetch" / part, spec.display, sep=":"))
    fetched = fetcher.fetch(
        spec,
        installer.settings,
        staging.path / "fetch",
        bus,
        expected_checksum=options.expect_checksum,
        registry=options.registry,
        no_registry=options.no_registry,
        refresh=options.refresh,
        resolved=attempt.resolved,
    )
    # Where it came from is known now; what was verified, after the verify step.
    attempt.provenance = fetched.provenance.without_checksum()
    if fetched.archive_checksum:
        attempt.meta["archive_checksum"] = fetched.archive_checksum
    if fetched.meta:
        attempt.meta["fetch"] = stored_json(fetched.meta)
    shown = fetched.shown or naming.Shown.of(fetched.path, spec.display, sep=":")
    names.insert(0, shown)
    bus.step_completed("fetch", shown.path(fetched.path))
    return Staged(Path(fetched.path), None, fetched.archive_checksum, fetched)
