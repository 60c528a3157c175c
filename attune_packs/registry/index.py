"""The registry index (``index.json``, DESIGN.md section 4): model, validation, canonical form.

Reading:
  :func:`parse_index` turns decoded JSON (or JSON text) into an :class:`Index`;
  :func:`load_index_file` does the same for a local file.  Validation is
  separable (``validate=False``) so a caller holding an already-validated copy
  (e.g. a fresh cache) pays only for ``json.loads`` and a cheap shape check.

Validation (:func:`validate_index_data`) returns every problem, not the first:
  the JSON Schema (draft 2020-12, ``data/index.schema.json``, a copy of the
  Attune schema) plus the rules a schema cannot say.  Format ``1.1`` is the
  same schema with ``version: "1.1"``; it lets a ref repeat with distinct
  versions.  Install-source URLs are checked here rather than by the schema's
  ``^https://`` pattern, because a local index may name relative paths.

Writing:
  :func:`dump_index` is the canonical serialisation: keys in the order of the
  real Attune Standard Pack Index, free-form ``meta`` in its own order, 2-space
  indent, non-ASCII characters as ``\\uXXXX`` escapes (as that index is
  written), one trailing newline.  Same input, same bytes; and re-dumping the
  published index gives it back byte for byte, so an update is a one-entry diff.

``jsonschema`` is imported only inside the validation functions.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from attune_packs.errors import IndexError_, UsageError
from attune_packs.redaction import redact_url

if TYPE_CHECKING:
    pass  # import removed by restructure_move

FORMAT_1_0 = "1.0"
FORMAT_1_1 = "1.1"  # ref may repeat with distinct versions (release history)
FORMATS = (FORMAT_1_0, FORMAT_1_1)

# REF_RE and CHECKSUM_RE (imported) are always applied with ``fullmatch``: their
# ``$`` would also match before a final newline.
COMMIT_RE = re.compile(r"[0-9a-f]{40}")

# Canonical key order: the order of the published Attune Standard Pack Index.
INDEX_KEYS = ("registry_name", "registry_url", "version", "last_updated", "packs")
ENTRY_KEYS = (
    "ref",
    "label",
    "description",
    "version",
    "author",
    "license",
    "keywords",
    "runtime_deps",
    "install_sources",
    "contents",
    "meta",
    "repository",
    "email",
    "homepage",
    "use_case",
    "dependencies",
)
SOURCE_KEYS = ("type", "url", "ref", "checksum")
CONTENT_KINDS = ("actions", "sensors", "triggers", "rules", "workflows")
COMPONENT_KEYS = ("name", "description")
DEPENDENCY_KEYS = ("attune_version", "python_version", "nodejs_version", "packs")

_MAX_MESSAGE = 200

Path_ = tuple[str | int, ...]  # where in an index: ("packs", 3, "install_sources", 0, "url")

# The default of ``network.index_max_bytes``: the largest index read, local or remote.
DEFAULT_INDEX_MAX_BYTES = 10 * 1024 * 1024

# An older release kept under its newest entry's ``meta.releases`` (newest first).
RELEASE_KEYS = ("version", "install_sources", "dependencies", "runtime_deps")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class InstallSource:
    """One ``install_sources`` item: ``git`` (with ``ref``) or ``archive``."""

    type: str
    url: str
    checksum: str
    ref: str | None = None  # git only


@dataclass(slots=True)
class IndexEntry:
    """One pack entry; ``raw`` is the entry exactly as the index holds it."""

    ref: str
    version: str
    raw: dict[str, Any]

    @property
    def label(self) -> str:
        return self.raw.get("label") or self.ref

    @property
    def description(self) -> str:
        return self.raw.get("description") or ""

    @property
    def keywords(self) -> list[str]:
        return list(self.raw.get("keywords") or [])

    @property
    def runtime_deps(self) -> list[str]:
        return list(self.raw.get("runtime_deps") or [])

    @property
    def install_sources(self) -> list[InstallSource]:
        return [
            InstallSource(s["type"], s["url"], s["checksum"], s.get("ref"))
            for s in self.raw.get("install_sources") or []
        ]

    def dependencies_packs(self) -> list[str]:
        """Pack requirements (``ref`` or ``ref@constraint``) from ``dependencies.packs``."""
        deps = self.raw.get("dependencies") or {}
        return list(deps.get("packs") or [])


@dataclass
class Index:
    """A parsed index.  ``packs`` keeps the file's order (sorted by ref, then version)."""

    registry_name: str
    registry_url: str
    version: str
    last_updated: str
    packs: list[IndexEntry]
    location: str = ""
    remote: bool = True
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    _by_ref: dict[str, list[IndexEntry]] | None = field(default=None, init=False, repr=False)

    def _refs(self) -> dict[str, list[IndexEntry]]:
        if self._by_ref is None:
            by_ref: dict[str, list[IndexEntry]] = {}
            for entry in self.packs:
                by_ref.setdefault(entry.ref, []).append(entry)
            self._by_ref = by_ref
        return self._by_ref

    @property
    def refs(self) -> list[str]:
        return list(self._refs())

    def entries(self, ref: str) -> list[IndexEntry]:
        """Every entry for ``ref`` in ascending version order (one for format 1.0)."""
        return list(self._refs().get(ref, ()))

    def latest(self, ref: str) -> IndexEntry | None:
        found = self._refs().get(ref)
        return found[-1] if found else None

    def get(self, ref: str, version: str) -> IndexEntry | None:
        for entry in self._refs().get(ref, ()):
            if entry.version == version:
                return entry
        return None

    def resolve_url(self, url: str) -> str:
        """Where a source ``url`` points: for a local index, a relative path or a
        ``file://`` URL becomes an absolute path (relative to the index's folder);
        anything else is returned unchanged.

        A relative path must stay inside the index's folder, also once symbolic
        links are followed; one that leaves it is refused (:class:`IndexError_`).
        """
        if self.remote:
            return url
        parts = urlsplit(url)
        if parts.scheme.lower() == "file":
            return unquote(parts.path)
        if parts.scheme:
            return url
        path = Path(url)
        if path.is_absolute():
            return os.fspath(path)
        folder = self.folder
        problem = relative_path_problem(url, folder)
        if problem:
            raise IndexError_(
                f"index {self.location}: install source {shown_url(url)!r} {problem}",
                details={"index": self.location, "url": shown_url(url)},
            )
        return os.path.normpath(os.path.join(folder, url))

    @property
    def folder(self) -> str:
        """The folder of a local index (what relative source paths are relative to)."""
        base = self.location
        if base.lower().startswith("file://"):
            base = unquote(urlsplit(base).path)
        return os.path.dirname(os.path.abspath(base))


def shown_url(url: str) -> str:
    """A source URL as the index gives it, unless it carries credentials, a query or a
    fragment (then :func:`redact_url`, which also rewrites ``file:x`` as ``file:///x``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_url(url)
    if "@" in parts.netloc or parts.query or parts.fragment:
        return redact_url(url)
    return url


def _leaves_folder(relative: str) -> bool:
    """Whether a relative path climbs out of its folder (``..`` after normalising)."""
    norm = posixpath.normpath(relative)
    return norm == ".." or norm.startswith("../")


def relative_path_problem(relative: str, folder: str | os.PathLike[str]) -> str | None:
    """Why the relative source path ``relative`` of a local index in ``folder`` may not
    be used: it climbs out with ``..``, or a symbolic link on the way points outside
    the folder.  ``None`` when it stays inside (a missing file is not checked here)."""
    if _leaves_folder(relative):
        return "leaves the index's folder (a relative path must stay inside it)"
    folder = os.fspath(folder)
    target = os.path.join(folder, relative)
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(target)
    if real != real_folder and not real.startswith(real_folder.rstrip(os.sep) + os.sep):
        return "leaves the index's folder through a symbolic link"
    return None


_SOURCE_FIELDS = {"git": ("type", "url", "ref", "checksum"), "archive": ("type", "url", "checksum")}


# --------------------------------------------------------------------------- the set


def split_requirement(text: str) -> tuple[str, str | None]:
    ref, sep, constraint = text.partition("@")
    return ref, (constraint.strip() or None) if sep else None


def _prerelease(version: str) -> bool:
    return "-" in version.split("+", 1)[0]


def pick_version(entries: list[IndexEntry], constraint: str | None) -> IndexEntry | None:
    """The entry ``constraint`` selects: ``None``/``latest`` = newest release (a pre-release
    only when there is nothing else); an exact version; or the highest match of a range."""
    from attune_packs.versioning import compare_versions, max_satisfying, parse_constraint

    if not entries:
        return None
    if constraint is None or constraint == "latest":
        releases = [e for e in entries if not _prerelease(e.version)] or list(entries)
        best = releases[0]
        for e in releases[1:]:
            if compare_versions(e.version, best.version) > 0:
                best = e
        return best
    for e in entries:  # an exact version (build metadata included) wins outright
        if e.version == constraint:
            return e
    try:
        parse_constraint(constraint)
    except ValueError as exc:
        raise UsageError(str(exc), code="invalid_requirement") from None
    chosen = max_satisfying([e.version for e in entries], constraint)
    if chosen is None:
        return None
    return next(e for e in entries if e.version == chosen)
