"""Parsing and reading index documents and files."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from attune_packs.errors import AttuneError, IndexError_, NotFound
from attune_packs.registry.index import (
    DEFAULT_INDEX_MAX_BYTES,
    Index,
    IndexEntry,
    _leaves_folder,
    relative_path_problem,
    shown_url,
)
from attune_packs.registry.index_validation import (
    _path_text,
    _sort_key,
    url_problem,
    validate_index_data,
)
from attune_packs.registry.releases import expand_release, iter_sources, recorded_releases

if TYPE_CHECKING:
    from attune_packs.registry.index import Path_


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
