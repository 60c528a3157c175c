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

import copy
import functools
import json
import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from attune_packs.errors import AttuneError, IndexError_, NotFound
from attune_packs.net.urls import display_location, redact_url
from attune_packs.pack.checksum import CHECKSUM_RE
from attune_packs.pack.model import REF_RE

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


# --------------------------------------------------------------------------- release history


def recorded_releases(entry: Any) -> list[dict[str, Any]]:
    """The older releases an entry records under ``meta.releases`` (newest first)."""
    meta = entry.get("meta") if isinstance(entry, dict) else None
    releases = meta.get("releases") if isinstance(meta, dict) else None
    if not isinstance(releases, list):
        return []
    return [r for r in releases if isinstance(r, dict)]


def _without_releases(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` without ``meta.releases`` (and without ``meta`` if nothing else is left)."""
    meta = entry.get("meta")
    if not isinstance(meta, dict) or "releases" not in meta:
        return entry
    out = dict(entry)
    rest = {k: v for k, v in meta.items() if k != "releases"}
    if rest:
        out["meta"] = rest
    else:
        del out["meta"]
    return out


def expand_release(entry: dict[str, Any], release: dict[str, Any]) -> dict[str, Any]:
    """The full entry of an older release: the newest entry's fields with the release's
    version and install sources, and its dependencies / runtime_deps where it gives them."""
    out = _without_releases(entry)
    out = {**out, "version": release["version"], "install_sources": release["install_sources"]}
    for key in ("dependencies", "runtime_deps"):
        if key in release:
            out[key] = release[key]
    return out


def release_history(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Every release an entry stands for, as full entries, newest first (itself first)."""
    return [
        _without_releases(entry),
        *(expand_release(entry, r) for r in recorded_releases(entry)),
    ]


def _effective(key: str, value: Any) -> Any:
    """A release field's meaning: an absent, empty or ``null`` value means none."""
    if key == "runtime_deps":
        return list(value) if isinstance(value, list) else []
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v not in (None, [], "")}
    return {}


def release_item(full: dict[str, Any], newest: dict[str, Any]) -> dict[str, Any]:
    """An older release as ``meta.releases`` holds it: version and install sources, plus
    dependencies / runtime_deps only where they differ from the newest entry's."""
    sources = full["install_sources"]
    item: dict[str, Any] = {
        "version": full["version"],
        "install_sources": [_ordered(s, SOURCE_KEYS) for s in sources],
    }
    for key in ("dependencies", "runtime_deps"):
        if _effective(key, full.get(key)) != _effective(key, newest.get(key)):
            value = full.get(key)
            if value is None:  # none, while the newest has some: say so explicitly
                value = {"packs": []} if key == "dependencies" else []
            item[key] = value
    return item


def with_history(releases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One entry for the releases of one ref (full entries, any order): the newest, with
    the others under its ``meta.releases``, newest first (none: no ``meta.releases``)."""
    ordered = sorted(releases, key=lambda e: entry_sort_key(e["ref"], e["version"]), reverse=True)
    newest = _without_releases(ordered[0])
    if len(ordered) == 1:
        return newest
    meta = dict(newest.get("meta") or {})
    meta["releases"] = [release_item(e, newest) for e in ordered[1:]]
    return {**newest, "meta": meta}


def histories(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every release of every ref of a decoded index (format 1.0 with ``meta.releases``,
    or 1.1 with repeated refs), as full entries, newest first; refs in index order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for pack in data["packs"]:
        out.setdefault(pack["ref"], []).extend(release_history(pack))
    for ref, entries in out.items():
        entries.sort(key=lambda e: entry_sort_key(ref, e["version"]), reverse=True)
    return out


def has_history(data: dict[str, Any]) -> bool:
    """Whether an index records release history (format 1.1, or any ``meta.releases``)."""
    return data.get("version") == FORMAT_1_1 or any(
        recorded_releases(p) for p in data.get("packs") or []
    )


def iter_sources(data: Any) -> Iterator[tuple[Path_, dict[str, Any]]]:
    """Every install source of a decoded index with where it is (entries and their
    ``meta.releases``), skipping what is not shaped like a source."""
    packs = data.get("packs") if isinstance(data, dict) else None
    for i, pack in enumerate(packs if isinstance(packs, list) else []):
        if not isinstance(pack, dict):
            continue
        places: list[tuple[Path_, Any]] = [(("packs", i), pack)]
        meta = pack.get("meta")
        releases = meta.get("releases") if isinstance(meta, dict) else None
        for k, item in enumerate(releases if isinstance(releases, list) else []):
            places.append((("packs", i, "meta", "releases", k), item))
        for at, holder in places:
            sources = holder.get("install_sources") if isinstance(holder, dict) else None
            for j, source in enumerate(sources if isinstance(sources, list) else []):
                if isinstance(source, dict) and isinstance(source.get("url"), str):
                    yield (*at, "install_sources", j), source


# --------------------------------------------------------------------------- reading


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def decode_json(text: str | bytes, location: str) -> Any:
    """``json.loads`` with NaN/Infinity refused; one-line :class:`IndexError_` on failure."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise IndexError_(f"index {location} is not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise IndexError_(
            f"index {location} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise IndexError_(f"index {location} is not valid JSON: {exc}") from None


def _check_shape(data: Any, location: str) -> None:
    """The minimum the model needs, for ``validate=False`` (no jsonschema)."""
    bad = not isinstance(data, dict) or not isinstance(data.get("packs"), list)
    if not bad:
        bad = not all(
            isinstance(data.get(k), str)
            for k in ("registry_name", "registry_url", "version", "last_updated")
        )
    if not bad:
        for entry in data["packs"]:
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("ref"), str)
                and isinstance(entry.get("version"), str)
                and all(
                    isinstance(r.get("version"), str) and isinstance(r.get("install_sources"), list)
                    for r in recorded_releases(entry)
                )
            ):
                bad = True
                break
    if bad:
        raise IndexError_(f"invalid index {location}: not an Attune pack index")


def invalid_index_error(location: str, problems: Sequence[str], limit: int = 20) -> IndexError_:
    """One error naming every problem (the message lists up to ``limit``; details hold all)."""
    shown = "; ".join(problems[:limit])
    more = (
        f"; and {len(problems) - limit} more (-o json lists all)" if len(problems) > limit else ""
    )
    noun = "problem" if len(problems) == 1 else "problems"
    return IndexError_(
        f"invalid index {location}: {len(problems)} {noun}: {shown}{more}",
        details={"location": location, "problems": list(problems)},
    )


def parse_index(
    data: Any,
    *,
    remote: bool,
    location: str,
    validate: bool = True,
    allow_http: bool = False,
) -> Index:
    """Build an :class:`Index` from decoded JSON (a dict) or JSON text/bytes.

    ``remote``: the index came over the network, so install sources must be
    ``https://`` (``http://`` too with ``allow_http``).  A local index may also
    name relative paths and ``file://`` URLs (see :meth:`Index.resolve_url`).
    ``validate=False`` skips the schema and rules (for a copy validated before).
    """
    if isinstance(data, (str, bytes)):
        data = decode_json(data, location)
    if validate:
        problems = validate_index_data(data, remote=remote, allow_http=allow_http)
        if problems:
            raise invalid_index_error(location, problems)
    else:
        _check_shape(data, location)
    packs: list[IndexEntry] = []
    for p in data["packs"]:
        for older in reversed(recorded_releases(p)):  # oldest first: ascending like 1.1
            packs.append(IndexEntry(p["ref"], older["version"], expand_release(p, older)))
        packs.append(IndexEntry(p["ref"], p["version"], p))
    return Index(
        registry_name=data["registry_name"],
        registry_url=data["registry_url"],
        version=data["version"],
        last_updated=data["last_updated"],
        packs=packs,
        location=location,
        remote=remote,
        raw=data,
    )


def index_too_large(location: str, max_bytes: int, size: int | None = None) -> IndexError_:
    """The error for an index over ``network.index_max_bytes`` (local or remote)."""
    got = f"{size:,} bytes" if size is not None else "more than that"
    return IndexError_(
        f"index {location} is too large: {got}, the limit is {max_bytes:,} bytes "
        "(network.index_max_bytes)",
        code="too_large",
        details={"location": location, "max_bytes": max_bytes, "size": size},
    )


def read_index_bytes(
    path: Path | str,
    *,
    max_bytes: int | None = DEFAULT_INDEX_MAX_BYTES,
    location: str | None = None,
) -> bytes:
    """The bytes of a local index file, refusing one over ``max_bytes`` (0 or ``None``:
    no limit) from its size before reading, and never reading more than the limit
    (a file growing meanwhile, a pipe)."""
    from attune_packs.fsutil import NotRegularFile, open_regular

    shown = location if location is not None else os.fspath(path)
    try:
        with open(open_regular(path), "rb") as fh:  # a FIFO is refused, not waited on
            size = os.fstat(fh.fileno()).st_size
            if max_bytes and size > max_bytes:
                raise index_too_large(shown, max_bytes, size)
            raw = fh.read(max_bytes + 1) if max_bytes else fh.read()
    except FileNotFoundError:
        raise NotFound(f"index file not found: {shown}") from None
    except IsADirectoryError:
        raise IndexError_(f"cannot read index {shown}: is a directory") from None
    except NotRegularFile as exc:
        what = "is a directory" if exc.kind == "a directory" else exc.strerror
        raise IndexError_(f"cannot read index {shown}: {what}") from None
    except OSError as exc:
        raise IndexError_(f"cannot read index {shown}: {exc.strerror}") from None
    if max_bytes and len(raw) > max_bytes:
        raise index_too_large(shown, max_bytes)
    return raw


def read_index_file(
    path: Path | str, *, max_bytes: int | None = DEFAULT_INDEX_MAX_BYTES
) -> tuple[bytes, Any]:
    """The bytes of a local index file and its decoded JSON (not validated)."""
    raw = read_index_bytes(path, max_bytes=max_bytes)
    return raw, decode_json(raw, os.fspath(path))


def load_index_file(
    path: Path | str,
    *,
    validate: bool = True,
    allow_http: bool = False,
    max_bytes: int | None = DEFAULT_INDEX_MAX_BYTES,
) -> Index:
    """Read a local index (relative source URLs allowed; see :meth:`Index.resolve_url`)."""
    _raw, data = read_index_file(path, max_bytes=max_bytes)
    return parse_index(
        data, remote=False, location=os.fspath(path), validate=validate, allow_http=allow_http
    )


# --------------------------------------------------------------------------- canonical form


def _ordered(doc: Any, keys: Sequence[str]) -> Any:
    if not isinstance(doc, dict):
        return doc
    out = {k: doc[k] for k in keys if k in doc}
    out.update((k, v) for k, v in doc.items() if k not in out)
    return out


def canonical_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` with every known object's keys in canonical order (values unchanged)."""
    out = _ordered(entry, ENTRY_KEYS)
    if not isinstance(out, dict):
        return out
    sources = out.get("install_sources")
    if isinstance(sources, list):
        out["install_sources"] = [_ordered(s, SOURCE_KEYS) for s in sources]
    contents = out.get("contents")
    if isinstance(contents, dict):
        contents = _ordered(contents, CONTENT_KINDS)
        for kind in CONTENT_KINDS:
            items = contents.get(kind)
            if isinstance(items, list):
                contents[kind] = [_ordered(c, COMPONENT_KEYS) for c in items]
        out["contents"] = contents
    if isinstance(out.get("dependencies"), dict):
        out["dependencies"] = _ordered(out["dependencies"], DEPENDENCY_KEYS)
    return out


def canonical_index(data: dict[str, Any] | Index) -> dict[str, Any]:
    doc = data.raw if isinstance(data, Index) else data
    out = _ordered(doc, INDEX_KEYS)
    if isinstance(out, dict) and isinstance(out.get("packs"), list):
        out["packs"] = [canonical_entry(p) for p in out["packs"]]
    return out


def dump_json_canonical(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=True, allow_nan=False) + "\n"


def dump_index(data: dict[str, Any] | Index) -> str:
    """Canonical text of an index: same input, byte-identical output."""
    return dump_json_canonical(canonical_index(data))


def dump_entry(entry: dict[str, Any], fmt: str = "json") -> str:
    """Canonical text of one entry, as JSON (default) or YAML."""
    doc = canonical_entry(entry)
    if fmt == "yaml":
        from attune_packs.yamlio import dump_yaml

        return dump_yaml(doc)
    return dump_json_canonical(doc)


def entry_sort_key(ref: str, version: str) -> tuple[Any, ...]:
    """Index order: ref (code points), then semver precedence, then the version text
    (so versions differing only in build metadata still have one fixed order)."""
    from attune_packs.versioning import version_key

    return (ref, version_key(version), version)


def sort_entries(packs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(packs, key=lambda p: entry_sort_key(p["ref"], p["version"]))


# --------------------------------------------------------------------------- URLs and times


def url_problem(
    url: str, *, remote: bool = True, allow_http: bool = False, query_ok: bool = False
) -> str | None:
    """Why ``url`` may not name an index or an install source, or ``None`` if it may.

    Always: no credentials, no query, no fragment, no whitespace or control
    characters.  ``https://`` with a host is always fine; ``http://`` only with
    ``allow_http``; a relative path, an absolute path or ``file://`` only when
    ``remote`` is false (a local index).  ``query_ok`` relaxes the query and
    fragment rule (for homepages).
    """
    if not url:
        return "is empty"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        return "is not a valid URL"
    if not query_ok and ("?" in url or "#" in url):
        return "must not carry a query or a fragment"
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):
        if scheme == "http" and not allow_http:
            return "must use https://"
        if "@" in parts.netloc:
            return "must not carry credentials"
        if not parts.hostname or not port_ok:
            return "has no valid host"
        return None
    if remote:
        return "must be an https:// URL"
    if scheme == "file":
        if "@" in parts.netloc:
            return "must not carry credentials"
        if parts.netloc not in ("", "localhost"):
            return "must be a local file:// URL (file:///absolute/path)"
        if not parts.path.startswith("/"):
            return "must name an absolute path (file:///absolute/path)"
        return None
    if scheme == "" and not url.startswith("//"):
        if ":" in url.split("/", 1)[0]:
            return "looks like an scp-style address; use an https:// URL"
        if not url.startswith("/") and _leaves_folder(url):
            return "leaves the index's folder (a relative path must stay inside it)"
        return None
    return f"uses an unsupported scheme {scheme!r} (https://, file:// or a path)"


_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def parse_rfc3339(value: str) -> datetime | None:
    """An RFC 3339 date-time as an aware datetime, or ``None`` if it is not one."""
    m = _RFC3339_RE.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    tz = UTC
    if not m.group(8):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        delta = timedelta(hours=oh, minutes=om)
        tz = timezone(-delta if m.group(9) == "-" else delta)
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC, whole seconds, ``Z``: ``2026-01-02T03:04:05Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- validation


@functools.cache
def _base_schema() -> dict[str, Any]:
    text = resources.files("attune_packs").joinpath("data/index.schema.json").read_text("utf-8")
    return json.loads(text)


def schema_for(fmt: str) -> dict[str, Any]:
    """The JSON Schema for index format ``fmt`` (``1.0`` is the Attune schema as shipped).

    Adjusted in code, not kept as second files: ``1.1`` accepts ``version: "1.1"``.
    Install-source URLs lose the schema's ``^https://`` pattern and ``uri``
    format here because :func:`validate_index_data` checks them itself (a
    local index may use relative paths; ``allow_http`` may permit ``http://``).
    """
    schema = copy.deepcopy(_base_schema())
    if fmt == FORMAT_1_1:
        schema["properties"]["version"] = {"const": FORMAT_1_1}
    for branch in schema["$defs"]["installSource"]["oneOf"]:
        url = branch["properties"]["url"]
        url.pop("pattern", None)
        url.pop("format", None)
    return schema


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with its local ``#/$defs/...`` references substituted: the same
    meaning, about a third faster to evaluate (no reference resolution per node)."""
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items() if k not in ("$ref", "$defs")}
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return {**walk(defs[ref.removeprefix("#/$defs/")]), **out}
        if ref is not None:
            out["$ref"] = ref
        return out

    return walk(schema)


@functools.cache
def _validator(fmt: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_inline_refs(schema_for(fmt)))


def _path_text(path: Path_, data: Any) -> str:
    """``packs[3] (slack).install_sources[0].url``: the ref makes long indices readable."""
    text = ""
    for i, part in enumerate(path):
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        if i == 1 and path[0] == "packs" and isinstance(part, int):
            ref = _ref_at(data, part)
            if ref is not None:
                text += f" ({ref})"
    return text or "index"


def _ref_at(data: Any, i: int) -> str | None:
    packs = data.get("packs") if isinstance(data, dict) else None
    if isinstance(packs, list) and 0 <= i < len(packs) and isinstance(packs[i], dict):
        ref = packs[i].get("ref")
        return ref if isinstance(ref, str) and REF_RE.fullmatch(ref) else None
    return None


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _schema_errors(error: Any) -> Iterator[tuple[Path_, str]]:
    """Flatten one jsonschema error; for ``oneOf`` report the branch the ``type`` chose."""
    if error.validator == "oneOf" and error.context is not None:
        branches = error.validator_value
        kind = error.instance.get("type") if isinstance(error.instance, dict) else None
        consts = [b.get("properties", {}).get("type", {}).get("const") for b in branches]
        if kind in consts:
            chosen = consts.index(kind)
            for sub in error.context:
                if sub.relative_schema_path and sub.relative_schema_path[0] == chosen:
                    yield from _schema_errors(sub)
            return
        if isinstance(error.instance, dict):
            names = " or ".join(repr(c) for c in consts if c)
            yield (*error.absolute_path, "type"), f"must be {names}, not {kind!r}"
            return
    path = tuple(error.absolute_path)
    message = error.message
    if path == ("version",) and error.validator == "const":
        message = f"unsupported index format {error.instance!r} (expected '1.0' or '1.1')"
    elif error.validator == "pattern":
        message = f"{_display(error.instance)!r} does not match {error.validator_value}"
    yield path, _short(message)


def _display(value: Any) -> Any:
    return display_location(value) if isinstance(value, str) else value


def _rule_problems(data: Any, *, remote: bool, allow_http: bool) -> Iterator[tuple[Path_, str]]:
    """The rules beyond the schema.  Robust to any shape (the schema reports shapes)."""
    if not isinstance(data, dict):
        return
    fmt = data.get("version")
    stamp = data.get("last_updated")
    if isinstance(stamp, str) and parse_rfc3339(stamp) is None:
        yield ("last_updated",), f"{stamp!r} is not an RFC 3339 date-time"
    registry_url = data.get("registry_url")
    if isinstance(registry_url, str):
        problem = url_problem(registry_url, remote=True)
        if problem:
            yield ("registry_url",), f"{redact_url(registry_url)!r} {problem}"
    packs = data.get("packs")
    if not isinstance(packs, list):
        return
    seen: dict[Any, int] = {}
    previous: tuple[Any, ...] | None = None
    previous_what = ""
    for i, pack in enumerate(packs):
        if not isinstance(pack, dict):
            continue
        yield from _entry_problems(
            pack, ("packs", i), fmt=fmt, remote=remote, allow_http=allow_http
        )
        ref, version = pack.get("ref"), pack.get("version")
        if not (isinstance(ref, str) and REF_RE.fullmatch(ref)):
            continue
        version_ok = isinstance(version, str) and _valid_version(version)
        if fmt == FORMAT_1_1:
            if not version_ok:
                continue
            identity: Any = (ref, version)
            key = entry_sort_key(ref, version)
            what = f"{ref} {version}"
        else:
            identity, key, what = ref, (ref,), repr(ref)
        if identity in seen:
            yield ("packs", i), f"duplicate entry {what} (first at packs[{seen[identity]}])"
            continue
        seen[identity] = i
        if previous is not None and key < previous:
            order = "ref, then version" if fmt == FORMAT_1_1 else "ref"
            yield (
                ("packs", i),
                f"packs are not sorted by {order}: {what} comes after {previous_what}",
            )
        previous, previous_what = key, what


def _valid_version(version: str) -> bool:
    from attune_packs.versioning import is_valid_version

    return is_valid_version(version)


def _entry_problems(
    pack: dict[str, Any], at: Path_, *, fmt: Any = FORMAT_1_0, remote: bool, allow_http: bool
) -> Iterator[tuple[Path_, str]]:
    ref = pack.get("ref")
    if isinstance(ref, str) and not REF_RE.fullmatch(ref):
        yield (*at, "ref"), f"{ref!r} is not a valid pack ref (^[a-z][a-z0-9_-]*$)"
    version = pack.get("version")
    if isinstance(version, str) and not _valid_version(version):
        from attune_packs.versioning import version_limit_problem

        limit = version_limit_problem(version)
        shown = repr(version if len(version) <= 60 else version[:57] + "...")
        yield (
            (*at, "version"),
            f"{shown} is not a semantic version (semver 2.0.0)"
            if limit is None
            else f"{shown} is not a valid version: {limit}",
        )
    for key in ("label", "author", "license"):
        value = pack.get(key)
        if isinstance(value, str) and value and not value.strip():
            yield (*at, key), "must not be blank"
    homepage = pack.get("homepage")
    if isinstance(homepage, str):
        problem = url_problem(homepage, remote=True, allow_http=True, query_ok=True)
        if problem:
            yield (*at, "homepage"), f"{redact_url(homepage)!r} {problem}"
    repository = pack.get("repository")
    if isinstance(repository, str):
        problem = url_problem(repository, remote=True)
        if problem:
            yield (*at, "repository"), f"{redact_url(repository)!r} {problem}"
    sources = pack.get("install_sources")
    for j, source in enumerate(sources if isinstance(sources, list) else []):
        if isinstance(source, dict):
            yield from _source_rules(
                source, (*at, "install_sources", j), remote=remote, allow_http=allow_http
            )
    yield from _release_problems(pack, at, fmt=fmt, remote=remote, allow_http=allow_http)
    contents = pack.get("contents")
    for kind in CONTENT_KINDS:
        items = contents.get(kind) if isinstance(contents, dict) else None
        names: set[str] = set()
        for k, item in enumerate(items if isinstance(items, list) else []):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name:
                continue
            if not name.strip():
                yield (*at, "contents", kind, k, "name"), "must not be blank"
            elif name in names:
                yield (*at, "contents", kind, k, "name"), f"duplicate {kind} name {name!r}"
            names.add(name)
    deps = pack.get("dependencies")
    requirements = deps.get("packs") if isinstance(deps, dict) else None
    for k, requirement in enumerate(requirements if isinstance(requirements, list) else []):
        if isinstance(requirement, str):
            problem = requirement_problem(requirement)
            if problem:
                yield (*at, "dependencies", "packs", k), f"{requirement!r} {problem}"


def _source_rules(
    source: dict[str, Any], where: Path_, *, remote: bool, allow_http: bool
) -> Iterator[tuple[Path_, str]]:
    """The rules of one install source beyond its shape: URL, checksum, git ref."""
    url = source.get("url")
    if isinstance(url, str):
        problem = url_problem(url, remote=remote, allow_http=allow_http)
        if problem:
            yield (*where, "url"), f"{shown_url(url)!r} {problem}"
    checksum = source.get("checksum")
    if isinstance(checksum, str) and not CHECKSUM_RE.fullmatch(checksum):
        yield (
            (*where, "checksum"),
            f"{checksum!r} is not 'sha256:' followed by 64 lowercase hex digits",
        )
    git_ref = source.get("ref")
    if source.get("type") == "git" and isinstance(git_ref, str) and git_ref:
        problem = git_ref_problem(git_ref)
        if problem:
            yield (*where, "ref"), f"{git_ref!r} {problem}"


_SOURCE_FIELDS = {"git": ("type", "url", "ref", "checksum"), "archive": ("type", "url", "checksum")}


def _source_shape(source: Any, where: Path_) -> Iterator[tuple[Path_, str]]:
    """What the schema says of an install source, for the ones in ``meta.releases``
    (free-form to the schema): ``{type: git, url, ref, checksum}`` or
    ``{type: archive, url, checksum}``, all strings."""
    if not isinstance(source, dict):
        yield where, "must be an install source object"
        return
    kind = source.get("type")
    if kind not in _SOURCE_FIELDS:
        yield (*where, "type"), f"must be 'git' or 'archive', not {kind!r}"
        return
    allowed = _SOURCE_FIELDS[kind]
    for key in allowed:
        value = source.get(key)
        if key not in source:
            yield where, f"{key!r} is a required property"
        elif not isinstance(value, str) or (key in ("url", "ref") and not value):
            yield (*where, key), "must be a non-empty string"
    for key in source:
        if key not in allowed:
            yield (*where, key), f"is not a field of a {kind} source"


def _release_problems(
    pack: dict[str, Any], at: Path_, *, fmt: Any, remote: bool, allow_http: bool
) -> Iterator[tuple[Path_, str]]:
    """``meta.releases`` (DESIGN.md section 4): older releases of the entry, newest
    first, each ``{version, install_sources, dependencies?, runtime_deps?}``."""
    meta = pack.get("meta")
    if not isinstance(meta, dict) or "releases" not in meta:
        return
    where = (*at, "meta", "releases")
    releases = meta["releases"]
    if fmt == FORMAT_1_1:
        yield where, "is not used in format 1.1, where each version is an entry of its own"
        return
    if not isinstance(releases, list):
        yield where, "must be a list of older releases, newest first"
        return
    top = pack.get("version")
    ref = pack.get("ref") if isinstance(pack.get("ref"), str) else ""
    top_key = entry_sort_key(ref, top) if isinstance(top, str) and _valid_version(top) else None
    seen: dict[str, int] = {}
    previous: tuple[tuple[Any, ...], str] | None = None
    for k, item in enumerate(releases):
        here = (*where, k)
        if not isinstance(item, dict):
            yield here, "must be an object {version, install_sources, dependencies?, runtime_deps?}"
            continue
        for key in item:
            if key not in RELEASE_KEYS:
                yield (*here, key), "is not a release field (" + ", ".join(RELEASE_KEYS) + ")"
        version = item.get("version")
        if not isinstance(version, str):
            yield (*here, "version"), "is required: a semantic version"
        elif not _valid_version(version):
            yield (*here, "version"), f"{version!r} is not a semantic version (semver 2.0.0)"
        elif version in seen:
            yield (
                (*here, "version"),
                f"duplicate release {version} (first at meta.releases[{seen[version]}])",
            )
        else:
            seen[version] = k
            key = entry_sort_key(ref, version)
            if top_key is not None and key >= top_key:
                yield (*here, "version"), f"{version} is not older than the entry's {top}"
            elif previous is not None and key > previous[0]:
                yield (
                    (*here, "version"),
                    f"releases are not newest first: {version} comes after {previous[1]}",
                )
            previous = (key, version)
        sources = item.get("install_sources")
        if not isinstance(sources, list) or not sources:
            yield (*here, "install_sources"), "must be a non-empty list of install sources"
        else:
            for j, source in enumerate(sources):
                shape = list(_source_shape(source, (*here, "install_sources", j)))
                yield from shape
                if not shape:
                    yield from _source_rules(
                        source,
                        (*here, "install_sources", j),
                        remote=remote,
                        allow_http=allow_http,
                    )
        if "runtime_deps" in item:
            deps = item["runtime_deps"]
            if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
                yield (*here, "runtime_deps"), "must be a list of strings"
            elif len(set(deps)) != len(deps):
                yield (*here, "runtime_deps"), "must not repeat a runtime"
        if "dependencies" in item:
            yield from _release_dependencies(item["dependencies"], (*here, "dependencies"))


def _release_dependencies(deps: Any, where: Path_) -> Iterator[tuple[Path_, str]]:
    if not isinstance(deps, dict):
        yield where, "must be an object {attune_version?, python_version?, nodejs_version?, packs?}"
        return
    for key, value in deps.items():
        if key not in DEPENDENCY_KEYS:
            yield (*where, key), "is not a dependencies field"
        elif key != "packs" and not isinstance(value, str):
            yield (*where, key), "must be a string"
    packs = deps.get("packs", [])
    if not isinstance(packs, list) or not all(isinstance(p, str) for p in packs):
        yield (*where, "packs"), "must be a list of pack requirements"
        return
    for k, requirement in enumerate(packs):
        problem = requirement_problem(requirement)
        if problem:
            yield (*where, "packs", k), f"{requirement!r} {problem}"


def git_ref_problem(git_ref: str) -> str | None:
    """Why a git ref may not be used (it is passed to git, so no options, no spaces)."""
    if not git_ref:
        return "is empty"
    if git_ref.startswith("-"):
        return "must not start with '-'"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in git_ref):
        return "contains whitespace or control characters"
    return None


def requirement_problem(requirement: str) -> str | None:
    """Why ``ref`` / ``ref@constraint`` is not a valid pack requirement."""
    ref, sep, constraint = requirement.partition("@")
    if not REF_RE.fullmatch(ref):
        return "is not a pack requirement ('ref' or 'ref@constraint')"
    if sep:
        from attune_packs.versioning import parse_constraint

        try:
            parse_constraint(constraint)
        except ValueError as exc:
            return f"has an invalid constraint: {exc}"
    return None


def _sort_key(item: tuple[Path_, str]) -> tuple[Any, ...]:
    path, message = item
    return (tuple((isinstance(p, str), p) for p in path), message)


def _problems(data: Any, *, remote: bool, allow_http: bool) -> list[tuple[Path_, str]]:
    fmt = data.get("version") if isinstance(data, dict) else None
    validator = _validator(FORMAT_1_1 if fmt == FORMAT_1_1 else FORMAT_1_0)
    found: set[tuple[Path_, str]] = set()
    for error in validator.iter_errors(data):
        found.update(_schema_errors(error))
    schema_paths = {path for path, _ in found}
    for path, message in _rule_problems(data, remote=remote, allow_http=allow_http):
        # One report per place: a value the schema already refused is not repeated.
        if path not in schema_paths:
            found.add((path, message))
    return sorted(found, key=_sort_key)


def validate_index_data(data: Any, *, remote: bool = True, allow_http: bool = False) -> list[str]:
    """Every problem of a decoded index, as ``"<where>: <what>"`` lines (empty: valid).

    JSON Schema draft 2020-12 (format ``1.0``, or ``1.1`` with repeated refs)
    plus: refs unique and sorted (1.1: ref+version unique, sorted by ref then
    semver precedence); versions valid semver; checksums exactly ``sha256:`` +
    64 lowercase hex; ``last_updated`` RFC 3339; URLs without credentials,
    query or fragment; install sources ``https://`` when ``remote`` (a local
    index may also use paths and ``file://``); git refs usable; component names
    unique; dependency requirements parseable.
    """
    return [
        f"{_path_text(path, data)}: {message}"
        for path, message in _problems(data, remote=remote, allow_http=allow_http)
    ]


def validate_entry_data(entry: Any, *, remote: bool = True) -> list[str]:
    """Problems of one entry, checked as the single pack of a minimal index."""
    probe = {
        "registry_name": "entry",
        "registry_url": "https://example.invalid",
        "version": FORMAT_1_0,
        "last_updated": "1970-01-01T00:00:00Z",
        "packs": [entry],
    }
    return [
        f"{_path_text(path[2:], entry) if len(path) > 2 else 'entry'}: {message}"
        for path, message in _problems(probe, remote=remote, allow_http=False)
    ]


# --------------------------------------------------------------------------- index files


@dataclass
class IndexValidation:
    """The result of :func:`validate_index_file` (``attune pack index validate``)."""

    path: str
    valid: bool
    format: str | None
    packs: int | None  # entries in the file (older releases under meta.releases not counted)
    errors: list[str]
    warnings: list[str]
    strict: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "valid": self.valid,
            "format": self.format,
            "packs": self.packs,
            "strict": self.strict,
            "errors": self.errors,
            "warnings": self.warnings,
        }


def _source_kind(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "http":
        return "is plain http://"
    if scheme == "file":
        return "is a file:// URL"
    return "is a local path" if url.startswith("/") else "is a relative path"


def remote_refusals(data: Any, *, allow_http: bool = False) -> list[str]:
    """Install sources a local index may name but an Attune host reading the index
    remotely refuses (relative paths, absolute paths, ``file://``, ``http://``).

    Only sources valid in a local index are listed (the others are errors anyway).
    """
    out: list[tuple[Path_, str]] = []
    for where, source in iter_sources(data):
        url = source["url"]
        if url_problem(url, remote=False, allow_http=allow_http):
            continue
        if url_problem(url, remote=True):
            out.append(
                (
                    (*where, "url"),
                    f"{shown_url(url)!r} {_source_kind(url)}: accepted in a local index, "
                    "refused by a remote Attune host (https:// only)",
                )
            )
    return [f"{_path_text(path, data)}: {message}" for path, message in sorted(out, key=_sort_key)]


def local_path_problems(data: Any, folder: str | os.PathLike[str]) -> list[str]:
    """Relative source paths of a local index in ``folder`` that leave it once symbolic
    links are followed (climbing out with ``..`` is a rule of :func:`validate_index_data`)."""
    out: list[tuple[Path_, str]] = []
    for where, source in iter_sources(data):
        url = source["url"]
        if urlsplit(url).scheme or url.startswith("/") or _leaves_folder(url):
            continue
        if url_problem(url, remote=False, allow_http=True):
            continue
        problem = relative_path_problem(url, folder)
        if problem:
            out.append(((*where, "url"), f"{shown_url(url)!r} {problem}"))
    return [f"{_path_text(path, data)}: {message}" for path, message in sorted(out, key=_sort_key)]


def validate_index_file(
    path: Path | str,
    *,
    strict: bool = False,
    allow_http: bool = False,
    max_bytes: int | None = DEFAULT_INDEX_MAX_BYTES,
) -> IndexValidation:
    """Validate a local index file by the rules every command reading it applies.

    A local index may name install sources by a path relative to its folder
    (staying inside it), an absolute path or ``file://`` (DESIGN.md section 4),
    as ``install`` and ``index-merge`` accept.  What a remote Attune host would
    refuse (relative paths, non-``https://`` sources) is listed in ``warnings``;
    with ``strict`` those are errors.  A missing file raises :class:`NotFound`;
    any other unreadable, oversized or non-JSON file is an invalid result.
    """
    location = os.fspath(path)
    try:
        _raw, data = read_index_file(path, max_bytes=max_bytes)
    except NotFound:
        raise
    except AttuneError as exc:
        return IndexValidation(location, False, None, None, [exc.message], [], strict)
    errors = validate_index_data(data, remote=False, allow_http=allow_http)
    folder = os.path.dirname(os.path.abspath(location))
    errors += [e for e in local_path_problems(data, folder) if e not in errors]
    warnings = remote_refusals(data, allow_http=allow_http)
    if strict:
        errors, warnings = errors + warnings, []
    packs = data.get("packs") if isinstance(data, dict) else None
    fmt = data.get("version") if isinstance(data, dict) else None
    return IndexValidation(
        path=location,
        valid=not errors,
        format=fmt if isinstance(fmt, str) else None,
        packs=len(packs) if isinstance(packs, list) else None,
        errors=errors,
        warnings=warnings,
        strict=strict,
    )
