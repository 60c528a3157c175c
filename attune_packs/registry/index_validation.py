"""Schema and rule validation of index documents."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from attune_packs.pack.checksum import CHECKSUM_RE
from attune_packs.pack.model import REF_RE
from attune_packs.redaction import display_location, redact_url
from attune_packs.registry.index import (
    _MAX_MESSAGE,
    _SOURCE_FIELDS,
    CONTENT_KINDS,
    DEPENDENCY_KEYS,
    FORMAT_1_0,
    FORMAT_1_1,
    RELEASE_KEYS,
    _leaves_folder,
    shown_url,
)
from attune_packs.registry.index_format import entry_sort_key, parse_rfc3339

if TYPE_CHECKING:
    from attune_packs.registry.index import Path_


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


#: What each ``pattern`` of the index schema means, in words (never the regex).
CHECKSUM_WORDS = "is not a checksum (sha256: followed by 64 lowercase hex digits)"
REF_WORDS = (
    "is not a valid pack ref (a lowercase letter, then lowercase letters, digits, '_' or '-')"
)
SEMVER_WORDS = "is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)"
PATTERN_WORDS: dict[str, str] = {
    "^sha256:[0-9a-f]{64}$": CHECKSUM_WORDS,
    "^[a-z][a-z0-9_-]*$": REF_WORDS,
    "^[0-9]+\\.[0-9]+\\.[0-9]+(?:[-+][0-9A-Za-z.-]+)?$": SEMVER_WORDS,
    "^https://": "must be an https:// URL",
}
#: What each ``format`` of the index schema means, in words.
FORMAT_WORDS: dict[str, str] = {
    "uri": "is not a valid URL",
    "date-time": "is not an RFC 3339 date-time (e.g. 2024-01-01T00:00:00Z)",
}


def _worded(error: Any) -> str | None:
    """A pattern or format failure in words: ``'sha256:ABC' is not a checksum (...)``."""
    if error.validator == "pattern":
        words = PATTERN_WORDS.get(error.validator_value, "is not in the form this field needs")
    elif error.validator == "format":
        words = FORMAT_WORDS.get(error.validator_value, f"is not a valid {error.validator_value}")
    else:
        return None
    return f"{_display(error.instance)!r} {words}"


def _schema_errors(error: Any) -> Iterator[tuple[Path_, str, bool]]:
    """Flatten one jsonschema error; for ``oneOf`` report the branch the ``type`` chose.

    Each item is ``(path, message, worded)``: ``worded`` marks a pattern or format
    failure, for which a rule's more specific message at the same place is preferred."""
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
            yield (*error.absolute_path, "type"), f"must be {names}, not {kind!r}", False
            return
    path = tuple(error.absolute_path)
    message = error.message
    worded = _worded(error)
    if path == ("version",) and error.validator == "const":
        message = f"unsupported index format {error.instance!r} (expected '1.0' or '1.1')"
    elif worded is not None:
        message = worded
    yield path, _short(message), worded is not None


def _display(value: Any) -> Any:
    return display_location(value) if isinstance(value, str) else value


def _rule_problems(data: Any, *, remote: bool, allow_http: bool) -> Iterator[tuple[Path_, str]]:
    """The rules beyond the schema.  Robust to any shape (the schema reports shapes)."""
    if not isinstance(data, dict):
        return
    fmt = data.get("version")
    stamp = data.get("last_updated")
    if isinstance(stamp, str) and parse_rfc3339(stamp) is None:
        yield ("last_updated",), f"{stamp!r} {FORMAT_WORDS['date-time']}"
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
        yield (*at, "ref"), f"{ref!r} {REF_WORDS}"
    version = pack.get("version")
    if isinstance(version, str) and not _valid_version(version):
        from attune_packs.versioning import version_limit_problem

        limit = version_limit_problem(version)
        shown = repr(version if len(version) <= 60 else version[:57] + "...")
        yield (
            (*at, "version"),
            f"{shown} {SEMVER_WORDS}"
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
        yield (*where, "checksum"), f"{checksum!r} {CHECKSUM_WORDS}"
    git_ref = source.get("ref")
    if source.get("type") == "git" and isinstance(git_ref, str) and git_ref:
        problem = git_ref_problem(git_ref)
        if problem:
            yield (*where, "ref"), f"{git_ref!r} {problem}"


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
            yield (*here, "version"), f"{version!r} {SEMVER_WORDS}"
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
    schema: set[tuple[Path_, str]] = set()
    plain: set[Path_] = set()  # places with a schema problem other than a pattern or format
    for error in validator.iter_errors(data):
        for path, message, worded in _schema_errors(error):
            schema.add((path, message))
            if not worded:
                plain.add(path)
    rules: dict[Path_, list[str]] = {}
    for path, message in _rule_problems(data, remote=remote, allow_http=allow_http):
        rules.setdefault(path, []).append(message)
    # One report per place: a value the schema already refused is not repeated, except
    # that a rule's message beats a pattern's (it says more: a version limit, http://).
    found = {(path, m) for path, m in schema if path in plain or path not in rules}
    reported = {path for path, _ in found}
    for path, messages in rules.items():
        if path not in reported:
            found.update((path, message) for message in messages)
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
