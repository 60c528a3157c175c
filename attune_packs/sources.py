"""What a SOURCE argument of ``attune pack install`` names (DESIGN.md section 8).

Classification only: no I/O beyond a stat of local paths.  The installer turns
a :class:`SourceSpec` into files through the fetchers (local, archive URL, git,
registry).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from attune_packs.errors import NotFound, UsageError

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
REF_RE = re.compile(r"^[a-z][a-z0-9_-]*\Z")

LOCAL_DIRECTORY = "local_directory"
LOCAL_ARCHIVE = "local_archive"
ARCHIVE = "archive"
GIT = "git"
REGISTRY = "registry"


@dataclass(frozen=True)
class SourceSpec:
    raw: str
    kind: str  # one of the five constants above (the audit's source_type)
    location: str  # path, URL, or the pack ref for a registry requirement
    constraint: str | None = None  # registry: "1.2.3", "^1.2", "latest", or None (any)
    git_ref: str | None = None  # git: branch, tag or commit


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def classify(raw: str, ref_spec: str | None = None) -> SourceSpec:
    """Decide what ``raw`` is: local directory/archive, archive URL, git URL or registry requirement."""
    if not raw or raw != raw.strip():
        raise UsageError(f"invalid source {raw!r}")
    lowered = raw.lower()
    if "://" in raw:
        scheme = lowered.split("://", 1)[0]
        if scheme == "file":
            path = raw[len("file://") :]
            return classify(path, ref_spec)
        if scheme not in ("http", "https"):
            raise UsageError(
                f"unsupported URL scheme {scheme!r} in {raw!r}: use https:// (or a local path)"
            )
        path_part = raw.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        if path_part.lower().endswith(".git") or ref_spec is not None:
            return SourceSpec(raw, GIT, raw, git_ref=ref_spec)
        return SourceSpec(raw, ARCHIVE, raw)
    looks_like_path = raw.startswith((".", "/", "~")) or os.sep in raw or os.path.exists(raw)
    if looks_like_path:
        path = Path(raw).expanduser()
        if ref_spec is not None:
            return SourceSpec(raw, GIT, os.fspath(path.resolve()), git_ref=ref_spec)
        if path.is_dir():
            return SourceSpec(raw, LOCAL_DIRECTORY, os.fspath(path.resolve()))
        if path.is_file():
            return SourceSpec(raw, LOCAL_ARCHIVE, os.fspath(path.resolve()))
        raise NotFound(f"no such file or directory: {raw}")
    ref, sep, constraint = raw.partition("@")
    if not REF_RE.match(ref):
        raise UsageError(
            f"invalid source {raw!r}: not a path, a URL or a pack requirement like 'slack@^1.2'"
        )
    if sep and not constraint.strip():
        raise UsageError(f"invalid requirement {raw!r}: nothing after '@'")
    return SourceSpec(raw, REGISTRY, ref, constraint=constraint.strip() if sep else None)


@dataclass
class FetchedPack:
    """What a fetcher hands the installer: an unpacked pack folder plus its provenance.

    ``path`` is a directory holding ``pack.yaml``, inside the staging area the
    installer gave the fetcher.  The installer validates, hashes and activates it.
    """

    path: Path
    source_type: str  # git | archive | local_directory | local_archive | registry
    source_url: str | None = None
    source_ref: str | None = None  # git ref, or the requirement for a registry install
    registry_name: str | None = None
    checksum_subject: str = "directory"  # "directory" or "archive"
    archive_checksum: str | None = None  # sha256 of the archive bytes, when an archive was used
    expected_checksum: str | None = None  # what the index / the user said it must be
    checksum_verified: bool = False  # the fetcher already compared archive bytes to expected
    meta: dict[str, object] | None = None  # extra provenance (e.g. {"fallback": "git failed: ..."})
