"""Registry authoring: build an index entry from a pack, update an index, merge indices.

Entry normalisation follows Attune's (``attune pack index-entry`` and the
maintained index builder of the Attune Standard Pack Index):

* ``label``, then ``name`` (both set and different is an invalid pack.yaml);
* ``keywords``: ``tags``, then top-level ``keywords``, then ``meta.keywords``;
  sorted, duplicates removed, finite numbers written as their JSON text;
* ``license``, ``homepage``, ``use_case``, ``repository`` at the top level, then
  ``meta.license``, ``meta.documentation_url``, ``meta.use_case``,
  ``meta.repository_url``; a missing author is ``"Unknown"``, a missing
  license ``"NOASSERTION"`` (the schema requires both);
* ``runtime_deps`` and dependency requirements sorted, duplicates removed; the
  list form of ``dependencies`` becomes ``{"packs": [...]}``;
* ``meta`` is kept as written when it is JSON-compatible.  A value JSON cannot
  hold exactly (a YAML date or timestamp, binary, a set, a non-string key,
  NaN or infinity) is refused, naming the key: quote it to publish a string.
  (Silently converting would publish something the author did not write.)
* ``contents`` from :func:`attune_packs.pack.contents.discover_contents`.

Every write is canonical (:func:`attune_packs.registry.index_format.dump_index`) and atomic;
``last_updated`` changes only when the content does.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attune_packs.errors import AttuneError, ManifestError, NotFound, UsageError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.net import urls
from attune_packs.pack import checksum as checksum_mod
from attune_packs.registry import index as idx
from attune_packs.registry import index_format, index_validation, releases

DEFAULT_AUTHOR = "Unknown"
DEFAULT_LICENSE = "NOASSERTION"


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class SourceOptions:
    """The install sources given on the command line."""

    git_url: str | None = None
    git_ref: str | None = None
    archive_url: str | None = None
    archive_checksum: str | None = None

    def check(self, bus: EventBus | None = None) -> None:
        """Refuse what can never make a publishable source (usage errors, exit 2);
        warn about a git ref that is not a commit (it can move)."""
        if self.git_url is None and self.archive_url is None:
            raise UsageError(
                "no install source: give --git-url with --git-ref, "
                "and/or --archive-url with --archive-checksum"
            )
        if self.git_ref is not None and self.git_url is None:
            raise UsageError("--git-ref needs --git-url")
        if self.archive_checksum is not None and self.archive_url is None:
            raise UsageError("--archive-checksum needs --archive-url")
        if self.git_url is not None:
            _check_url(self.git_url, "--git-url")
            if self.git_ref is None:
                raise UsageError(
                    "--git-url needs --git-ref (a commit SHA; the ref is never guessed)"
                )
            problem = index_validation.git_ref_problem(self.git_ref)
            if problem:
                raise UsageError(f"--git-ref {self.git_ref!r} {problem}")
            if not idx.COMMIT_RE.fullmatch(self.git_ref):
                bus_or_null(bus).warning(
                    f"--git-ref {self.git_ref!r} is not a 40-hex commit SHA: a branch or tag "
                    "can move, so the checksum may stop matching; publish a commit SHA"
                )
        if self.archive_url is not None:
            _check_url(self.archive_url, "--archive-url")
            if self.archive_checksum is None:
                raise UsageError(
                    "--archive-url needs --archive-checksum (the sha256 of the exact archive "
                    "bytes; it is never downloaded or guessed)"
                )
            if not checksum_mod.CHECKSUM_RE.fullmatch(self.archive_checksum):
                raise UsageError(
                    f"--archive-checksum {self.archive_checksum!r} is not 'sha256:' followed by "
                    "64 lowercase hex digits",
                    code="invalid_checksum",
                )

    def sources(self, pack_dir: Path) -> list[dict[str, str]]:
        """The ``install_sources`` items; a git source gets the directory checksum."""
        out: list[dict[str, str]] = []
        if self.git_url is not None and self.git_ref is not None:
            from attune_packs.pack.checksum import directory_checksum

            checksum = directory_checksum(pack_dir).checksum
            out.append(
                {"type": "git", "url": self.git_url, "ref": self.git_ref, "checksum": checksum}
            )
        if self.archive_url is not None and self.archive_checksum is not None:
            out.append(
                {"type": "archive", "url": self.archive_url, "checksum": self.archive_checksum}
            )
        return out


def _check_url(url: str, option: str) -> None:
    problem = index_validation.url_problem(url, remote=True)
    if problem:
        raise UsageError(f"{option} {urls.redact_url(url)!r} {problem}", code="invalid_url")


# --------------------------------------------------------------------------- entry


@dataclass
class BuiltEntry:
    entry: dict[str, Any]
    path: Path
    directory_checksum: str | None


def _pack_dir(path: Path) -> Path:
    path = Path(path)
    if path.name == "pack.yaml" and path.is_file():
        path = path.parent
    if not path.exists():
        raise NotFound(f"no such pack folder: {path}")
    if not path.is_dir():
        raise UsageError(f"not a pack folder: {path}", code="not_a_directory")
    return path


def _bad(field_: str, message: str) -> ManifestError:
    return ManifestError(f"pack.yaml {field_} {message}")


def _text(doc: dict[str, Any], key: str, where: str) -> str | None:
    if key not in doc or doc[key] is None:
        return None
    value = doc[key]
    if not isinstance(value, str):
        raise _bad(where, "must be a string")
    return value


def _first_text(*candidates: tuple[dict[str, Any], str, str]) -> str | None:
    """The first present of (document, key, shown name): top level before ``meta``."""
    for doc, key, where in candidates:
        value = _text(doc, key, where)
        if value is not None:
            return value
    return None


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise _bad(where, "values must be strings or finite numbers")
        return json.dumps(value)  # 2024 -> "2024", 1.5 -> "1.5" (as Attune writes them)
    raise _bad(where, "values must be strings or finite numbers")


def _string_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise _bad(where, "must be a list")
    return sorted({_scalar_text(item, where) for item in value})


def _keywords(doc: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    for source, key, where in ((doc, "tags", "tags"), (doc, "keywords", "keywords")):
        if source.get(key) is not None:
            return _string_list(source[key], where)
    if meta.get("keywords") is not None:
        return _string_list(meta["keywords"], "meta.keywords")
    return []


def _dependencies(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return {"packs": _string_list(value, "dependencies")}
    if not isinstance(value, dict):
        raise _bad("dependencies", "must be a list or a mapping")
    out: dict[str, Any] = {}
    for key in ("attune_version", "python_version", "nodejs_version"):
        if value.get(key) is not None:
            out[key] = _scalar_text(value[key], f"dependencies.{key}")
    out["packs"] = _string_list(value.get("packs") or [], "dependencies.packs")
    return out


def _json_compatible(value: Any, where: str) -> None:
    """Refuse what JSON cannot hold exactly (see the module docstring)."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(where, f"is {value!r}, which JSON cannot hold")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _json_compatible(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _bad(where, f"has the non-string key {key!r}; quote it")
            _json_compatible(item, f"{where}.{key}")
        return
    kinds = {"date": "a YAML date", "datetime": "a YAML timestamp", "bytes": "binary data"}
    kind = kinds.get(type(value).__name__, f"a {type(value).__name__}")
    raise _bad(where, f"is {kind}, which JSON cannot hold exactly; quote it to publish a string")


def _meta(doc: dict[str, Any]) -> dict[str, Any] | None:
    meta = doc.get("meta") if doc.get("meta") is not None else doc.get("metadata")
    if meta is None:
        return None
    if not isinstance(meta, dict):
        raise _bad("meta", "must be a mapping")
    _json_compatible(meta, "meta")
    tested = meta.get("tested_attune_versions")
    if tested is not None:
        if not isinstance(tested, list) or not all(isinstance(v, str) for v in tested):
            raise _bad("meta.tested_attune_versions", "must be a list of strings")
        if len(set(tested)) != len(tested):
            raise _bad("meta.tested_attune_versions", "values must be unique")
    return meta


def entry_from_pack(pack_dir: Path, sources: list[dict[str, str]]) -> dict[str, Any]:
    """The normalised index entry of a valid pack (``sources`` already checked)."""
    from attune_packs.pack.contents import discover_contents
    from attune_packs.pack.manifest import load_manifest
    from attune_packs.yamlio import YamlError, load_yaml_file

    manifest = load_manifest(pack_dir)  # every pack.yaml rule; ManifestError if broken
    try:
        doc = load_yaml_file(pack_dir / "pack.yaml")  # the values as written (dates stay dates)
    except YamlError as exc:  # pragma: no cover - load_manifest read it a moment ago
        raise ManifestError(f"pack.yaml: {exc}") from None
    meta = _meta(doc)
    m = meta or {}
    entry: dict[str, Any] = {
        "ref": manifest.ref,
        "label": manifest.label,
        "description": manifest.description,
        "version": manifest.version,
        "author": _text(doc, "author", "author") or DEFAULT_AUTHOR,
        "license": _first_text((doc, "license", "license"), (m, "license", "meta.license"))
        or DEFAULT_LICENSE,
        "keywords": _keywords(doc, m),
        "runtime_deps": _string_list(doc.get("runtime_deps") or [], "runtime_deps"),
        "install_sources": sources,
        "contents": discover_contents(pack_dir, manifest.ref),
    }
    if meta is not None:
        entry["meta"] = meta
    optional = {
        "repository": _first_text(
            (doc, "repository", "repository"), (m, "repository_url", "meta.repository_url")
        ),
        "email": _text(doc, "email", "email"),
        "homepage": _first_text(
            (doc, "homepage", "homepage"), (m, "documentation_url", "meta.documentation_url")
        ),
        "use_case": _first_text((doc, "use_case", "use_case"), (m, "use_case", "meta.use_case")),
        "dependencies": _dependencies(doc.get("dependencies")),
    }
    entry.update((k, v) for k, v in optional.items() if v is not None)
    return index_format.canonical_entry(entry)


def build_entry(path: Path, options: SourceOptions, bus: EventBus | None = None) -> BuiltEntry:
    """``attune pack index-entry``: check the sources, read the pack, build a valid entry."""
    options.check(bus)
    return _build_checked(_pack_dir(path), options)


def _build_checked(pack_dir: Path, options: SourceOptions) -> BuiltEntry:
    entry = entry_from_pack(pack_dir, [])  # the pack is validated before anything is hashed
    entry["install_sources"] = options.sources(pack_dir)
    problems = index_validation.validate_entry_data(entry, remote=True)
    if problems:
        raise AttuneError(
            f"pack.yaml in {pack_dir} gives an invalid index entry: " + "; ".join(problems),
            code="invalid_entry",
            details={"problems": problems},
        )
    git = [s["checksum"] for s in entry["install_sources"] if s["type"] == "git"]
    return BuiltEntry(entry, pack_dir, git[0] if git else None)


def _differs(a: dict[str, Any], a_top: bool, b: dict[str, Any], b_top: bool) -> bool:
    """Whether two inputs' copies of one release differ: whole entries when both are an
    entry of their index, else what a ``meta.releases`` item records."""
    if a_top and b_top:
        return index_format.dump_entry(a) != index_format.dump_entry(b)
    return index_format.dump_json_canonical(
        releases.release_item(a, {})
    ) != index_format.dump_json_canonical(releases.release_item(b, {}))
