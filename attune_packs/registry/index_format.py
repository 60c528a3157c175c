"""Canonical JSON of indices and entries; RFC 3339 timestamps."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from attune_packs.registry.index import (
    COMPONENT_KEYS,
    CONTENT_KINDS,
    DEPENDENCY_KEYS,
    ENTRY_KEYS,
    INDEX_KEYS,
    SOURCE_KEYS,
    Index,
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
