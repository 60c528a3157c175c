"""Compact per-index search data."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from attune_packs.registry.index import pick_version

if TYPE_CHECKING:
    from attune_packs.registry.index import Index


class Summary:
    """What search needs from one index, cheap to load: a lower-case haystack with one
    line per ref (fields separated by tabs) and each ref's display row as JSON text,
    decoded only for the refs a query actually hits."""

    __slots__ = ("hay", "rows", "starts")

    def __init__(self, hay: str, starts: list[int], rows: list[str]) -> None:
        self.hay, self.starts, self.rows = hay, starts, rows

    def candidates(self, word: str) -> list[int]:
        """Row numbers whose line contains ``word`` (str.find, no per-row Python loop)."""
        from bisect import bisect_right

        hay, starts = self.hay, self.starts
        found: list[int] = []
        i = hay.find(word)
        while i >= 0:
            r = bisect_right(starts, i) - 1
            found.append(r)
            i = hay.find(word, starts[r + 1] if r + 1 < len(starts) else len(hay))
        return found

    def line(self, r: int) -> str:
        end = self.starts[r + 1] - 1 if r + 1 < len(self.starts) else len(self.hay)
        return self.hay[self.starts[r] : end]

    def row(self, r: int) -> list[Any]:
        """``[ref, version, label, description, keywords]``."""
        return json.loads(self.rows[r])


def _flat(text: str) -> str:
    return " ".join(text.split())


def _build_summary(index: Index) -> Summary:
    """Per ref, its newest release (as ``ref`` alone would resolve)."""
    lines: list[str] = []
    rows: list[str] = []
    starts: list[int] = []
    at = 0
    for ref in index.refs:
        entry = pick_version(index.entries(ref), None)
        if entry is None:  # pragma: no cover - refs come from entries
            continue
        raw = entry.raw
        keywords = raw.get("keywords") if isinstance(raw.get("keywords"), list) else []
        label = str(raw.get("label") or entry.ref)
        description = str(raw.get("description") or "")
        kw = [str(k) for k in keywords]
        line = "\t".join(_flat(x) for x in [entry.ref, label, description, *kw]).lower()
        starts.append(at)
        at += len(line) + 1
        lines.append(line)
        rows.append(
            json.dumps([entry.ref, entry.version, label, description, kw], ensure_ascii=False)
        )
    return Summary("\n".join(lines), starts, rows)
