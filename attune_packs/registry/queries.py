"""Registry look-ups as result objects: the configured registries' status, search,
and one pack's entry.

Each ``to_dict()`` is the JSON document of the matching command
(``attune pack registries|search|index show -o json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune_packs.errors import UsageError

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.events import EventBus
    from attune_packs.registry.index import IndexEntry
    from attune_packs.registry.search import SearchHit

__all__ = [
    "SEARCH_LIMIT",
    "EntryView",
    "RegistryStatus",
    "SearchResults",
    "check_entry_ref",
    "registry_status",
    "search",
    "show_entry",
]

#: How many search hits are shown unless asked otherwise (``pack search --limit``).
SEARCH_LIMIT = 100


# --------------------------------------------------------------------------- registries


class RegistryStatus:
    """The configured registries in priority order (enabled first), credentials never
    included.  Each row: ``priority``, ``name``, ``url`` (redacted), ``enabled``; after
    a check also ``reachable``, ``packs`` (entries in its index) and ``error``."""

    __slots__ = ("checked", "config_file", "failed", "rows")

    def __init__(
        self, config_file: str, rows: list[dict[str, Any]], *, checked: bool, failed: int
    ) -> None:
        self.config_file = config_file
        self.rows = rows
        self.checked = checked
        self.failed = failed  # enabled registries that could not be fetched or were invalid

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {"config_file": self.config_file, "registries": self.rows}

    def __repr__(self) -> str:
        return f"RegistryStatus(registries={len(self.rows)}, failed={self.failed})"


def registry_status(
    settings: Settings, *, check: bool = False, bus: EventBus | None = None
) -> RegistryStatus:
    """The configured registries; with ``check``, fetch and validate each enabled
    registry's index now (never a cached copy) and report what failed."""
    from attune_packs.errors import AttuneError
    from attune_packs.registry.loader import display_url, load_registry

    ordered = sorted(settings.registries, key=lambda r: (not r.enabled, r.priority))
    rows: list[dict[str, Any]] = []
    failed = 0
    for reg in ordered:
        row: dict[str, Any] = {
            "priority": reg.priority,
            "name": reg.name,
            "url": display_url(reg.url),
            "enabled": reg.enabled,
        }
        if check:
            row.update({"reachable": None, "packs": None, "error": None})
            if reg.enabled:
                try:
                    loaded = load_registry(reg, settings, bus, refresh=True)
                    row["reachable"] = True
                    row["packs"] = len(loaded.index.packs)
                except AttuneError as exc:
                    row["reachable"] = False
                    row["error"] = exc.message
                    failed += 1
        rows.append(row)
    return RegistryStatus(str(settings.config_file), rows, checked=check, failed=failed)


# --------------------------------------------------------------------------- search


class SearchResults:
    """Search hits, best first (exact ref, ref prefix, keyword, label, description);
    ``shown`` are the first ``limit`` of them."""

    __slots__ = ("hits", "limit", "query")

    def __init__(self, query: str, hits: list[SearchHit], limit: int | None = SEARCH_LIMIT) -> None:
        self.query = query
        self.hits = hits
        self.limit = limit

    @property
    def total(self) -> int:
        return len(self.hits)

    @property
    def shown(self) -> list[SearchHit]:
        return self.hits if self.limit is None else self.hits[: self.limit]

    @property
    def hidden(self) -> int:
        """How many hits ``limit`` left out."""
        return self.total - len(self.shown)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "results": [h.to_dict() for h in self.shown],
        }

    def __repr__(self) -> str:
        return f"SearchResults(query={self.query!r}, total={self.total})"


def search(
    settings: Settings,
    query: str,
    *,
    registry: str | None = None,
    refresh: bool = False,
    limit: int | None = SEARCH_LIMIT,
    bus: EventBus | None = None,
) -> SearchResults:
    """Packs matching ``query`` in the enabled registries (or only ``registry``);
    a registry that cannot be loaded is skipped with a warning unless all fail."""
    from attune_packs.registry.resolution import RegistrySet

    rset = RegistrySet(settings, bus, refresh=refresh, only=registry)
    return SearchResults(query, rset.search(query), limit)


# --------------------------------------------------------------------------- index show


class EntryView:
    """One pack's registry entry: the version picked, every version the winning
    registry lists, and where the index is."""

    __slots__ = ("entry", "index", "registry", "versions")

    def __init__(self, registry: str, index: str, entry: IndexEntry, versions: list[str]) -> None:
        self.registry = registry  # the registry's name
        self.index = index  # its index location (URL, redacted, or path)
        self.entry = entry
        self.versions = versions

    @property
    def ref(self) -> str:
        return self.entry.ref

    @property
    def version(self) -> str:
        return self.entry.version

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "index": self.index,
            "ref": self.entry.ref,
            "version": self.entry.version,
            "versions": self.versions,
            "entry": self.entry.raw,
        }

    def __repr__(self) -> str:
        return f"EntryView(ref={self.ref!r}, version={self.version!r}, registry={self.registry!r})"


def check_entry_ref(requirement: str) -> tuple[str, str | None]:
    """``slack@^1.2`` -> ``("slack", "^1.2")``; :class:`UsageError` for an invalid ref."""
    from attune_packs.pack.model import REF_RE
    from attune_packs.registry.index import split_requirement

    name, constraint = split_requirement(requirement)
    if not REF_RE.match(name):
        raise UsageError(f"invalid pack ref {requirement!r}")
    return name, constraint


def show_entry(
    settings: Settings,
    requirement: str,
    *,
    registry: str | None = None,
    refresh: bool = False,
    bus: EventBus | None = None,
) -> EntryView:
    """The entry ``requirement`` (``ref``, ``ref@1.2.0``, ``ref@^1.2``) selects in the
    first registry, by priority, that lists the ref (fail closed before it)."""
    from attune_packs.registry.resolution import RegistrySet

    name, constraint = check_entry_ref(requirement)
    resolved = RegistrySet(settings, bus, refresh=refresh, only=registry).resolve(name, constraint)
    entry = resolved.entry
    versions = (
        [e.version for e in resolved.index.entries(name)] if resolved.index else [entry.version]
    )
    return EntryView(resolved.registry_name, resolved.index_location, entry, versions)
