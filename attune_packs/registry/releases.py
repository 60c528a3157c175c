"""Release history of a ref: meta.releases under the newest entry."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from attune_packs.registry.index import FORMAT_1_1, SOURCE_KEYS
from attune_packs.registry.index_format import _ordered, entry_sort_key

if TYPE_CHECKING:
    from attune_packs.registry.index import Path_


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
