"""Local folders and archives named on the command line."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from attune_packs.errors import UsageError
from attune_packs.fetch import spec as sources
from attune_packs.fetch.provenance import Provenance

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.pack.model import Manifest


# --------------------------------------------------------------------------- local paths


@dataclass
class LocalPack:
    manifest: Manifest
    source: Provenance  # local_directory / local_archive, with the checksum of what it names


def load_local(path: str | Path, settings: Settings, *, checksum: bool = True) -> LocalPack:
    """A pack folder or archive named on the command line (an archive is unpacked into a
    temporary folder to read its manifest)."""
    from attune_packs.pack import naming
    from attune_packs.pack.manifest import load_manifest

    spec = sources.classify(os.fspath(path))
    if spec.kind == sources.LOCAL_DIRECTORY:
        manifest = load_manifest(
            Path(spec.location), shown=naming.Shown.of(spec.location, spec.display)
        )
        digest = None
        if checksum:
            from attune_packs.pack.checksum import directory_checksum

            digest = directory_checksum(spec.location).checksum
        return LocalPack(manifest, Provenance(spec.kind, spec.location, checksum=digest))
    if spec.kind == sources.LOCAL_ARCHIVE:
        from attune_packs.pack.archive import extract_archive
        from attune_packs.pack.checksum import file_checksum

        with tempfile.TemporaryDirectory(prefix="attune-deps-") as tmp:
            root = extract_archive(Path(spec.location), Path(tmp) / "tree", settings.archive, None)
            inner = os.path.relpath(root, Path(tmp) / "tree")
            shown = naming.Shown.of(root, spec.display, "" if inner == "." else inner, sep=":")
            manifest = load_manifest(root, shown=shown)
        digest = file_checksum(spec.location).checksum if checksum else None
        return LocalPack(manifest, Provenance(spec.kind, spec.location, checksum=digest))
    raise UsageError(f"{path!s} is not a pack folder or a local archive")


def _archive_suffix(name: str) -> str:
    lowered = name.lower()
    for suffix in sources.ARCHIVE_SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    return ".archive"
