"""RegistrySet: registries in priority order, fail-closed resolution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from attune_packs.errors import AttuneError, NotFound, RegistryError, UsageError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.registry.index import pick_version
from attune_packs.registry.loader import load_registry
from attune_packs.registry.search import SearchHit, _rank

if TYPE_CHECKING:
    from attune_packs.config import RegistryConfig, Settings
    from attune_packs.registry.index import Index, IndexEntry

if TYPE_CHECKING:
    from attune_packs.registry.loader import LoadedRegistry


def why_no_registries(settings: Settings) -> str:
    """Why no registry can be consulted: none configured, or every one disabled (and
    how to enable them).  Shared by every command that needs a registry."""
    disabled = [r.name for r in settings.registries if not r.enabled]
    if not disabled:
        return f"no registries configured: add one under 'registries:' in {settings.config_file}"
    if len(disabled) == 1:
        what, fix = f"the only configured registry, {disabled[0]!r}, is disabled", "on it"
    else:
        names = ", ".join(repr(n) for n in disabled)
        what, fix = f"all {len(disabled)} configured registries are disabled ({names})", "on one"
    return f"no registry is enabled: {what}; set 'enabled: true' {fix} in {settings.config_file}"


def no_registries_error(settings: Settings) -> RegistryError:
    """The error of a registry look-up with no enabled registry (code ``no_registries``)."""
    disabled = [r.name for r in settings.registries if not r.enabled]
    return RegistryError(
        f"{why_no_registries(settings)} (or install from a path or URL)",
        code="no_registries",
        details={"disabled": disabled} if disabled else None,
    )


@dataclass
class Resolved:
    entry: IndexEntry
    registry_name: str
    index_location: str
    index: Index | None = None
    registry: RegistryConfig | None = None


class RegistrySet:
    """The configured registries, in priority order, loaded lazily and once each."""

    def __init__(
        self,
        settings: Settings,
        bus: EventBus | None = None,
        refresh: bool = False,
        only: str | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus_or_null(bus)
        self.refresh = refresh
        if only is not None:
            match = [r for r in settings.registries if r.name == only]
            if not match:
                known = ", ".join(repr(r.name) for r in settings.registries) or "none configured"
                raise UsageError(
                    f"unknown registry {only!r} (configured: {known})", code="unknown_registry"
                )
            if not match[0].enabled:
                raise UsageError(
                    f"registry {only!r} is disabled in {settings.config_file}",
                    code="registry_disabled",
                )
            self.registries = match
        else:
            self.registries = settings.enabled_registries()
        if not self.registries:
            raise no_registries_error(settings)
        self._loaded: dict[str, LoadedRegistry | AttuneError] = {}

    def load(self, reg: RegistryConfig) -> LoadedRegistry:
        got = self._loaded.get(reg.name)
        if got is None:
            try:
                got = load_registry(reg, self.settings, self.bus, refresh=self.refresh)
            except AttuneError as exc:
                got = exc
            self._loaded[reg.name] = got
        if isinstance(got, AttuneError):
            raise got
        return got

    def _fail_closed(self, reg: RegistryConfig, ref: str, exc: AttuneError) -> AttuneError:
        return RegistryError(
            f"cannot resolve {ref!r}: {exc.message} — registry {reg.name!r} "
            f"(priority {reg.priority}) comes first, so lower-priority registries are not "
            "consulted (fail closed); fix it, disable it, or use --registry NAME",
            code="registry_unavailable",
            details={"registry": reg.name, "cause": exc.code},
        )

    def winner(self, ref: str) -> tuple[LoadedRegistry, list[IndexEntry]]:
        """The first registry (by priority) listing ``ref`` and its entries; fail closed."""
        for reg in self.registries:
            try:
                loaded = self.load(reg)
            except AttuneError as exc:
                raise self._fail_closed(reg, ref, exc) from None
            entries = loaded.index.entries(ref)
            if entries:
                return loaded, entries
        names = ", ".join(repr(r.name) for r in self.registries)
        raise NotFound(
            f"pack {ref!r} not found in {'registry' if len(self.registries) == 1 else 'registries'}"
            f" {names}",
            details={"ref": ref},
        )

    def versions(self, ref: str) -> tuple[str, list[IndexEntry]]:
        loaded, entries = self.winner(ref)
        return loaded.name, entries

    def resolve(self, ref: str, constraint: str | None = None) -> Resolved:
        loaded, entries = self.winner(ref)
        entry = pick_version(entries, constraint)
        if entry is None:
            available = ", ".join(e.version for e in entries)
            raise NotFound(
                f"no version of {ref!r} in registry {loaded.name!r} satisfies "
                f"{constraint!r} (available: {available})",
                details={"ref": ref, "constraint": constraint, "registry": loaded.name},
            )
        return Resolved(entry, loaded.name, loaded.location, loaded.index, loaded.config)

    def search(self, query: str) -> list[SearchHit]:
        """Packs matching ``query`` in every registry (unreachable ones are warned about)."""
        q = " ".join(query.lower().split())
        if not q:
            raise UsageError("empty search query", code="usage_error")
        words = q.split()
        hits: list[SearchHit] = []
        failures: list[tuple[RegistryConfig, AttuneError]] = []
        alone = len(self.registries) == 1  # its failure is the error itself, not a skip
        for reg in self.registries:
            try:
                loaded = self.load(reg)
            except AttuneError as exc:
                failures.append((reg, exc))
                if not alone:
                    self.bus.warning(f"skipping {exc.message}")
                continue
            summary = loaded.summary()
            for r in summary.candidates(words[0]):
                if len(words) > 1:
                    line = summary.line(r)
                    if not all(w in line for w in words[1:]):
                        continue
                ref, version, label, description, keywords = summary.row(r)
                found = _rank(q, words, ref, label, description, keywords)
                if found is None:
                    continue
                rank, match = found
                hits.append(
                    SearchHit(
                        ref,
                        version,
                        label,
                        description,
                        list(keywords),
                        reg.name,
                        reg.priority,
                        rank,
                        match,
                    )
                )
        if failures and len(failures) == len(self.registries):
            if alone:
                raise failures[0][1]
            raise RegistryError(
                f"no registry could be searched: all {len(failures)} failed "
                f"({', '.join(repr(reg.name) for reg, _ in failures)})",
                code="registry_unavailable",
                details={
                    "failures": [
                        {"registry": reg.name, "code": exc.code, "message": exc.message}
                        for reg, exc in failures
                    ]
                },
            )
        hits.sort(key=lambda h: (h.rank, h.ref, h.priority))
        return hits
