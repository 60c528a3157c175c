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
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from attune_packs.checksum import CHECKSUM_RE
from attune_packs.errors import IndexError_, NotFound
from attune_packs.http import display_location, redact_url
from attune_packs.sources import REF_RE

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
        anything else is returned unchanged."""
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
        base = self.location
        if base.lower().startswith("file://"):
            base = unquote(urlsplit(base).path)
        return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base)), url))


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
    packs = [IndexEntry(p["ref"], p["version"], p) for p in data["packs"]]
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


def read_index_file(path: Path | str) -> tuple[bytes, Any]:
    """The bytes of a local index file and its decoded JSON (not validated)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"index file not found: {path}") from None
    except IsADirectoryError:
        raise IndexError_(f"cannot read index {path}: is a directory") from None
    except OSError as exc:
        raise IndexError_(f"cannot read index {path}: {exc.strerror}") from None
    return raw, decode_json(raw, os.fspath(path))


def load_index_file(path: Path | str, *, validate: bool = True, allow_http: bool = False) -> Index:
    """Read a local index (relative source URLs allowed; see :meth:`Index.resolve_url`)."""
    _raw, data = read_index_file(path)
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
        return "must not carry credentials" if "@" in parts.netloc else None
    if scheme == "" and not url.startswith("//"):
        if ":" in url.split("/", 1)[0]:
            return "looks like an scp-style address; use an https:// URL"
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


Path_ = tuple[str | int, ...]


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
        yield from _entry_problems(pack, ("packs", i), remote=remote, allow_http=allow_http)
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
    pack: dict[str, Any], at: Path_, *, remote: bool, allow_http: bool
) -> Iterator[tuple[Path_, str]]:
    ref = pack.get("ref")
    if isinstance(ref, str) and not REF_RE.fullmatch(ref):
        yield (*at, "ref"), f"{ref!r} is not a valid pack ref (^[a-z][a-z0-9_-]*$)"
    version = pack.get("version")
    if isinstance(version, str) and not _valid_version(version):
        yield (*at, "version"), f"{version!r} is not a semantic version (semver 2.0.0)"
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
        if not isinstance(source, dict):
            continue
        where = (*at, "install_sources", j)
        url = source.get("url")
        if isinstance(url, str):
            problem = url_problem(url, remote=remote, allow_http=allow_http)
            if problem:
                yield (*where, "url"), f"{redact_url(url)!r} {problem}"
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
