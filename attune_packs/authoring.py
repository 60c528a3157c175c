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

Every write is canonical (:func:`attune_packs.index.dump_index`) and atomic;
``last_updated`` changes only when the content does.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attune_packs import index as idx
from attune_packs.errors import AttuneError, IndexError_, ManifestError, NotFound, UsageError
from attune_packs.events import EventBus, bus_or_null

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
            problem = idx.git_ref_problem(self.git_ref)
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
            if not idx.CHECKSUM_RE.fullmatch(self.archive_checksum):
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
    problem = idx.url_problem(url, remote=True)
    if problem:
        raise UsageError(f"{option} {idx.redact_url(url)!r} {problem}", code="invalid_url")


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
    return idx.canonical_entry(entry)


def build_entry(path: Path, options: SourceOptions, bus: EventBus | None = None) -> BuiltEntry:
    """``attune pack index-entry``: check the sources, read the pack, build a valid entry."""
    options.check(bus)
    return _build_checked(_pack_dir(path), options)


def _build_checked(pack_dir: Path, options: SourceOptions) -> BuiltEntry:
    entry = entry_from_pack(pack_dir, [])  # the pack is validated before anything is hashed
    entry["install_sources"] = options.sources(pack_dir)
    problems = idx.validate_entry_data(entry, remote=True)
    if problems:
        raise AttuneError(
            f"pack.yaml in {pack_dir} gives an invalid index entry: " + "; ".join(problems),
            code="invalid_entry",
            details={"problems": problems},
        )
    git = [s["checksum"] for s in entry["install_sources"] if s["type"] == "git"]
    return BuiltEntry(entry, pack_dir, git[0] if git else None)


# --------------------------------------------------------------------------- timestamps


def now_utc() -> datetime:
    """The time stamped into ``last_updated``: now, or ``$SOURCE_DATE_EPOCH`` when set
    (reproducible builds: the same inputs then give the same bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise UsageError(
                f"SOURCE_DATE_EPOCH must be a number of seconds, not {epoch!r}"
            ) from None
    return datetime.now(UTC)


def _without_stamp(doc: dict[str, Any]) -> str:
    return idx.dump_index({**doc, "last_updated": ""})


# --------------------------------------------------------------------------- update


@dataclass
class UpdateResult:
    index: str
    ref: str
    version: str
    action: str  # added | updated | unchanged
    written: bool
    format: str
    last_updated: str
    packs: int
    directory_checksum: str | None
    replaced: list[str] = field(default_factory=list)  # versions replaced or dropped
    history: list[str] = field(default_factory=list)  # the ref's other releases, newest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "ref": self.ref,
            "version": self.version,
            "action": self.action,
            "written": self.written,
            "format": self.format,
            "last_updated": self.last_updated,
            "packs": self.packs,
            "directory_checksum": self.directory_checksum,
            "replaced": self.replaced,
            "history": self.history,
        }


def _read_valid_index(path: Path, max_bytes: int | None) -> tuple[bytes, dict[str, Any]]:
    raw, data = idx.read_index_file(path, max_bytes=max_bytes)
    problems = idx.validate_index_data(data, remote=False)
    if problems:
        raise idx.invalid_index_error(os.fspath(path), problems)
    return raw, data


def _write_if_unchanged_since(path: Path, original: bytes | None, text: str) -> None:
    """Atomic replace, refusing if someone else rewrote ``path`` since we read it."""
    from attune_packs.fsutil import atomic_write_text

    try:
        current: bytes | None = path.read_bytes()
    except FileNotFoundError:
        current = None
    if current != original:
        raise AttuneError(
            f"{path} changed while it was being updated; nothing was written, run again",
            code="concurrent_update",
        )
    atomic_write_text(path, text)


def update_index(
    index_path: Path,
    pack_path: Path,
    options: SourceOptions,
    *,
    update: bool = False,
    keep_history: bool = False,
    create: bool = False,
    registry_name: str | None = None,
    registry_url: str | None = None,
    bus: EventBus | None = None,
    max_bytes: int | None = idx.DEFAULT_INDEX_MAX_BYTES,
) -> UpdateResult:
    """``attune pack index-update``: add (or with ``update`` replace) one pack's entry.

    Release history (DESIGN.md section 4) is kept when asked (``keep_history``) and
    whenever the index already records some (``meta.releases``, or format 1.1, which
    is converted): a new version becomes the ref's entry and the older releases go
    under its ``meta.releases``, newest first; the same version replaces that release.
    Without history, ``update`` replaces the ref's entry.  A ref already listed needs
    ``update`` (with ``keep_history``: only the same version does); the refusal names
    every listed version.  ``max_bytes``: ``network.index_max_bytes``.
    """
    index_path = Path(index_path)
    if not create and (registry_name is not None or registry_url is not None):
        raise UsageError("--registry-name and --registry-url are only used with --create")
    options.check(bus)
    pack_dir = _pack_dir(pack_path)
    exists = os.path.lexists(index_path)
    if create and not exists:
        if not registry_name or not registry_name.strip() or not registry_url:
            raise UsageError("--create needs --registry-name and --registry-url")
        problem = idx.url_problem(registry_url, remote=True)
        if problem:
            raise UsageError(
                f"--registry-url {idx.redact_url(registry_url)!r} {problem}", code="invalid_url"
            )
    elif not exists:
        raise UsageError(
            f"index file not found: {index_path} (to start one, add --create "
            "--registry-name NAME --registry-url https://...)",
            code="not_found",
        )
    original: bytes | None = None
    if exists:
        original, old = _read_valid_index(index_path, max_bytes)  # refused before building
        for given, key in ((registry_name, "registry_name"), (registry_url, "registry_url")):
            if given is not None and given != old[key]:
                raise AttuneError(
                    f"{index_path} already has {key} {old[key]!r}, not {given!r}",
                    code="registry_mismatch",
                )
    else:
        old = {
            "registry_name": registry_name,
            "registry_url": registry_url,
            "version": idx.FORMAT_1_0,
            "last_updated": "",
            "packs": [],
        }
    built = _build_checked(pack_dir, options)
    entry = built.entry
    ref, version = entry["ref"], entry["version"]

    packs: list[dict[str, Any]] = old["packs"]
    history = keep_history or idx.has_history(old)
    if history:
        by_ref = idx.histories(old)
        listed = [p["version"] for p in by_ref.get(ref, [])]  # newest first
        clashing = [v for v in listed if v == version]
        needs_update = bool(clashing) or (bool(listed) and not keep_history)
    else:
        same_ref = [p for p in packs if p["ref"] == ref]
        listed = [p["version"] for p in same_ref]
        clashing = listed
        needs_update = bool(listed)
    if needs_update and not update:
        versions = ", ".join(listed)
        if history and clashing:
            what = f"{ref} {version} (listed: {versions}); add --update to replace it"
        elif history:
            what = (
                f"{ref!r} ({versions}); add --update to add {version} "
                "(the listed releases are kept)"
            )
        else:
            what = f"{ref!r} ({versions}); add --update to replace it"
        raise AttuneError(
            f"{index_path} already lists {what}",
            code="entry_exists",
            details={"ref": ref, "version": version, "listed": listed},
        )
    if history:
        by_ref[ref] = [p for p in by_ref.get(ref, []) if p["version"] != version] + [entry]
        # Format 1.0 is kept as written except the one ref; 1.1 is converted throughout.
        rebuild = by_ref if old["version"] == idx.FORMAT_1_1 else {ref: by_ref[ref]}
        new_packs = [p for p in packs if p["ref"] not in rebuild]
        new_packs += [idx.with_history(releases) for releases in rebuild.values()]
    else:
        from attune_packs.versioning import compare_versions

        for p in same_ref:
            if compare_versions(p["version"], version) > 0:
                bus_or_null(bus).warning(f"replacing {ref} {p['version']} with the lower {version}")
        new_packs = [p for p in packs if p["ref"] != ref] + [entry]
    fmt = idx.FORMAT_1_0 if history else old["version"]
    new = {
        "registry_name": old["registry_name"],
        "registry_url": old["registry_url"],
        "version": fmt,
        "last_updated": old["last_updated"],
        "packs": idx.sort_entries(new_packs),
    }
    changed = not exists or _without_stamp(new) != _without_stamp(old)
    if changed:
        new["last_updated"] = idx.format_timestamp(now_utc())
    problems = idx.validate_index_data(new, remote=False)
    if problems:
        raise idx.invalid_index_error(f"{index_path} (as updated)", problems)
    text = idx.dump_index(new)
    written = original is None or text.encode("utf-8") != original
    if written:
        _write_if_unchanged_since(index_path, original, text)
    action = ("updated" if clashing else "added") if changed else "unchanged"
    return UpdateResult(
        index=os.fspath(index_path),
        ref=ref,
        version=version,
        action=action,
        written=written,
        format=fmt,
        last_updated=new["last_updated"],
        packs=len(new["packs"]),
        directory_checksum=built.directory_checksum,
        replaced=list(clashing),
        history=[p["version"] for p in idx.histories(new).get(ref, []) if p["version"] != version],
    )


# --------------------------------------------------------------------------- merge


@dataclass
class MergeResult:
    file: str
    inputs: list[str]
    format: str
    last_updated: str
    packs: int
    refs: int
    loaded: int
    chosen: dict[str, str] = field(default_factory=dict)  # "ref version" -> input it came from

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "inputs": self.inputs,
            "format": self.format,
            "last_updated": self.last_updated,
            "packs": self.packs,
            "refs": self.refs,
            "loaded": self.loaded,
        }


def _relative_source_problems(
    data: dict[str, Any], input_path: Path, out: Path, name: str
) -> list[str]:
    """A relative source URL is relative to its index's folder: refuse moving it."""
    if input_path.resolve().parent == out.resolve().parent:
        return []
    problems = []
    for where, source in idx.iter_sources(data):  # entries and their meta.releases
        url = source["url"]
        if "://" not in url and not os.path.isabs(url):
            pack = data["packs"][where[1]]
            version = pack["version"]
            if where[2:4] == ("meta", "releases"):
                version = pack["meta"]["releases"][where[4]]["version"]
            problems.append(
                f"{name}: {pack['ref']} {version}: relative source url {url!r} would "
                f"point elsewhere from {out.parent}; merge into the inputs' folder instead"
            )
    return problems


def merge_indices(
    out: Path,
    inputs: Sequence[Path],
    *,
    force: bool = False,
    keep_history: bool = False,
    bus: EventBus | None = None,
    max_bytes: int | None = idx.DEFAULT_INDEX_MAX_BYTES,
) -> MergeResult:
    """``attune pack index-merge``: validate every input, merge, write ``out`` once.

    Without ``keep_history``, each ref's entry is the highest version among the
    inputs (as that input records it).  With ``keep_history``, every release of
    every input is kept (entries, ``meta.releases``, format 1.1 repeats) and
    written as format 1.0 with the older releases under ``meta.releases``.
    ``max_bytes``: ``network.index_max_bytes`` for each input.
    """
    from attune_packs.versioning import compare_versions

    out = Path(out)
    if not inputs:
        raise UsageError("give at least one input index")
    missing = [os.fspath(p) for p in inputs if not Path(p).exists()]
    if missing:
        raise NotFound("input index not found: " + ", ".join(missing))
    if os.path.lexists(out) and not force:
        raise AttuneError(f"{out} exists; add --force to replace it", code="file_exists")
    problems: list[str] = []
    loaded: list[tuple[str, dict[str, Any]]] = []
    for path in map(Path, inputs):
        name = os.fspath(path)
        try:
            _raw, data = idx.read_index_file(path, max_bytes=max_bytes)
        except AttuneError as exc:
            problems.append(exc.message)
            continue
        found = idx.validate_index_data(data, remote=False)
        problems.extend(f"{name}: {p}" for p in found)
        if not found:
            problems.extend(_relative_source_problems(data, path, out, name))
            loaded.append((name, data))
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        shown = "; ".join(problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise IndexError_(
            f"nothing merged: {len(problems)} {noun} in the inputs: {shown}{more}",
            details={"problems": problems},
        )

    first = loaded[0][1]
    latest, latest_at = first["last_updated"], idx.parse_rfc3339(first["last_updated"])
    chosen: dict[Any, tuple[str, dict[str, Any], bool]] = {}
    count = 0
    warn = bus_or_null(bus).warning
    for name, data in loaded:
        stamp = idx.parse_rfc3339(data["last_updated"])
        if stamp is not None and latest_at is not None and stamp > latest_at:
            latest, latest_at = data["last_updated"], stamp
        for pack in data["packs"]:
            # With history, each release of an entry counts; the entry itself is the first.
            releases = idx.release_history(pack) if keep_history else [pack]
            for n, p in enumerate(releases):
                count += 1
                key = (p["ref"], p["version"]) if keep_history else p["ref"]
                top = n == 0
                if key not in chosen:
                    chosen[key] = (name, p, top)
                    continue
                prior_name, prior, prior_top = chosen[key]
                order = compare_versions(p["version"], prior["version"])
                if order > 0:
                    chosen[key] = (name, p, top)
                elif order == 0 and _differs(p, top, prior, prior_top):
                    warn(
                        f"{p['ref']} {p['version']} differs between {prior_name} and {name}; "
                        f"keeping the one from {prior_name}"
                    )
    if keep_history:
        by_ref: dict[str, list[dict[str, Any]]] = {}
        for _name, p, _top in chosen.values():
            by_ref.setdefault(p["ref"], []).append(p)
        packs = [idx.with_history(releases) for releases in by_ref.values()]
    else:
        packs = [p for _, p, _top in chosen.values()]
    fmt = idx.FORMAT_1_0
    merged = {
        "registry_name": first["registry_name"],
        "registry_url": first["registry_url"],
        "version": fmt,
        "last_updated": latest,
        "packs": idx.sort_entries(packs),
    }
    found = idx.validate_index_data(merged, remote=False)
    if found:
        raise idx.invalid_index_error(f"{out} (merged)", found)
    text = idx.dump_index(merged)
    from attune_packs.fsutil import atomic_write_text

    atomic_write_text(out, text)
    return MergeResult(
        file=os.fspath(out),
        inputs=[name for name, _ in loaded],
        format=fmt,
        last_updated=latest,
        packs=len(merged["packs"]),
        refs=len({p["ref"] for p in merged["packs"]}),
        loaded=count,
        chosen={f"{p['ref']} {p['version']}": n for n, p, _top in chosen.values()},
    )


def _differs(a: dict[str, Any], a_top: bool, b: dict[str, Any], b_top: bool) -> bool:
    """Whether two inputs' copies of one release differ: whole entries when both are an
    entry of their index, else what a ``meta.releases`` item records."""
    if a_top and b_top:
        return idx.dump_entry(a) != idx.dump_entry(b)
    return idx.dump_json_canonical(idx.release_item(a, {})) != idx.dump_json_canonical(
        idx.release_item(b, {})
    )
