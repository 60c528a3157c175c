"""index-update and index-merge: editing index files atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, IndexError_, NotFound, UsageError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.net import urls
from attune_packs.registry import index as idx
from attune_packs.registry import index_format, index_read, index_validation
from attune_packs.registry import releases as releases_mod
from attune_packs.registry.authoring import _build_checked, _differs, _pack_dir

if TYPE_CHECKING:
    from attune_packs.registry.authoring import SourceOptions


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
    return index_format.dump_index({**doc, "last_updated": ""})


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
    raw, data = index_read.read_index_file(path, max_bytes=max_bytes)
    problems = index_validation.validate_index_data(data, remote=False)
    if problems:
        raise index_read.invalid_index_error(os.fspath(path), problems)
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
        problem = index_validation.url_problem(registry_url, remote=True)
        if problem:
            raise UsageError(
                f"--registry-url {urls.redact_url(registry_url)!r} {problem}", code="invalid_url"
            )
    elif not exists:
        raise NotFound(  # a missing file is not_found, exit 1, as everywhere
            f"index file not found: {index_path} (to start one, add --create "
            "--registry-name NAME --registry-url https://...)",
            details={"path": os.fspath(index_path)},
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
    history = keep_history or releases_mod.has_history(old)
    if history:
        by_ref = releases_mod.histories(old)
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
        new_packs += [releases_mod.with_history(releases) for releases in rebuild.values()]
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
        "packs": index_format.sort_entries(new_packs),
    }
    changed = not exists or _without_stamp(new) != _without_stamp(old)
    if changed:
        new["last_updated"] = index_format.format_timestamp(now_utc())
    problems = index_validation.validate_index_data(new, remote=False)
    if problems:
        raise index_read.invalid_index_error(f"{index_path} (as updated)", problems)
    text = index_format.dump_index(new)
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
        history=[
            p["version"]
            for p in releases_mod.histories(new).get(ref, [])
            if p["version"] != version
        ],
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


def _suggested_out(input_path: Path, out: Path, inputs: Sequence[Path]) -> str:
    """Where OUT could go instead: beside ``input_path``, under OUT's name (another name
    if that is an input itself)."""
    taken = {os.path.abspath(p) for p in inputs}
    there = input_path.parent / out.name
    if os.path.abspath(there) in taken:
        there = input_path.parent / f"merged-{out.name}"
    return os.fspath(there)


def _relative_source_problems(
    data: dict[str, Any], input_path: Path, out: Path, name: str, inputs: Sequence[Path]
) -> list[tuple[str, str, str]]:
    """A relative source URL is relative to its index's folder: refuse moving it.  One
    item per source: ``(entry, url, problem line naming the input, the entry and the fix)``."""
    if input_path.resolve().parent == out.resolve().parent:
        return []
    folder = os.path.dirname(name) or "."
    out_folder = os.path.dirname(os.path.abspath(out))
    suggest = _suggested_out(input_path, out, inputs)
    problems = []
    for where, source in releases_mod.iter_sources(data):  # entries and their meta.releases
        url = source["url"]
        if "://" not in url and not os.path.isabs(url):
            pack = data["packs"][where[1]]
            version = pack["version"]
            if where[2:4] == ("meta", "releases"):
                version = pack["meta"]["releases"][where[4]]["version"]
            entry, shown = f"{pack['ref']} {version}", idx.shown_url(url)
            problems.append(
                (
                    entry,
                    shown,
                    f"{name}: {entry}: install source {shown!r} is relative to the input's "
                    f"folder {folder}, not to {out_folder} where OUT is written; write OUT "
                    f"next to the input (e.g. --file {suggest})",
                )
            )
    return problems


def _merge_refusal(
    problems: list[str],
    relative: dict[str, list[tuple[str, str, str]]],
    out: Path,
    inputs: Sequence[Path],
    counts: dict[str, int],
) -> IndexError_:
    """The one-line refusal of a merge (every problem, one per item, in the details)."""
    details = {"problems": problems}
    if len(problems) == 1:
        return IndexError_(f"nothing merged: {problems[0]}", details=details)
    n_relative = sum(len(v) for v in relative.values())
    out_folder = os.path.dirname(os.path.abspath(out))
    if n_relative == len(problems) and len(relative) == 1:
        ((name, items),) = relative.items()
        entry, url, _line = items[0]
        suggest = _suggested_out(Path(name), out, inputs)
        return IndexError_(
            f"nothing merged: {name} names {len(items)} install sources by paths relative "
            f"to its folder {os.path.dirname(name) or '.'} (first: {entry}, {url!r}); from "
            f"{out.name} in {out_folder} they would point elsewhere; write OUT next to the "
            f"input (e.g. --file {suggest}); -o json lists each",
            details=details,
        )
    if n_relative == len(problems):
        names = ", ".join(relative)
        return IndexError_(
            f"nothing merged: {n_relative} install sources in {names} are paths relative "
            f"to their input's folder and would not resolve from {out_folder}; write OUT "
            "next to the inputs (merge inputs of one folder into that folder); -o json "
            "lists each",
            details=details,
        )
    per_input = ", ".join(f"{n} in {name}" for name, n in counts.items())
    return IndexError_(
        f"nothing merged: {len(problems)} problems in the inputs ({per_input}); the first: "
        f"{problems[0]} (-o json lists each; `attune pack index validate FILE` checks one "
        "input)",
        details=details,
    )


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
    counts: dict[str, int] = {}  # input -> problems found in it
    relative: dict[str, list[tuple[str, str, str]]] = {}
    loaded: list[tuple[str, dict[str, Any]]] = []
    paths = [Path(p) for p in inputs]
    for path in paths:
        name = os.fspath(path)
        before = len(problems)
        try:
            _raw, data = index_read.read_index_file(path, max_bytes=max_bytes)
        except AttuneError as exc:
            problems.append(exc.message)
            counts[name] = 1
            continue
        found = index_validation.validate_index_data(data, remote=False)
        problems.extend(f"{name}: {p}" for p in found)
        if not found:
            moved = _relative_source_problems(data, path, out, name, paths)
            if moved:
                relative[name] = moved
                problems.extend(line for _entry, _url, line in moved)
            loaded.append((name, data))
        if len(problems) > before:
            counts[name] = len(problems) - before
    if problems:
        raise _merge_refusal(problems, relative, out, paths, counts)

    first = loaded[0][1]
    latest, latest_at = first["last_updated"], index_format.parse_rfc3339(first["last_updated"])
    chosen: dict[Any, tuple[str, dict[str, Any], bool]] = {}
    count = 0
    warn = bus_or_null(bus).warning
    for name, data in loaded:
        stamp = index_format.parse_rfc3339(data["last_updated"])
        if stamp is not None and latest_at is not None and stamp > latest_at:
            latest, latest_at = data["last_updated"], stamp
        for pack in data["packs"]:
            # With history, each release of an entry counts; the entry itself is the first.
            releases = releases_mod.release_history(pack) if keep_history else [pack]
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
        packs = [releases_mod.with_history(releases) for releases in by_ref.values()]
    else:
        packs = [p for _, p, _top in chosen.values()]
    fmt = idx.FORMAT_1_0
    merged = {
        "registry_name": first["registry_name"],
        "registry_url": first["registry_url"],
        "version": fmt,
        "last_updated": latest,
        "packs": index_format.sort_entries(packs),
    }
    found = index_validation.validate_index_data(merged, remote=False)
    if found:
        raise index_read.invalid_index_error(f"{out} (merged)", found)
    text = index_format.dump_index(merged)
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
