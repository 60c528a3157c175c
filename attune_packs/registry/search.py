"""Ranking search hits across registries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


@dataclass
class SearchHit:
    ref: str
    version: str
    label: str
    description: str
    keywords: list[str]
    registry: str
    priority: int
    rank: int
    match: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "label": self.label,
            "description": self.description,
            "keywords": self.keywords,
            "registry": self.registry,
            "priority": self.priority,
            "match": self.match,
        }


_MATCH_NAMES = (
    "ref",
    "ref prefix",
    "keyword",
    "ref contains",
    "keyword contains",
    "label",
    "description",
    "all words",
)


def _rank(
    q: str, words: list[str], ref: str, label: str, description: str, keywords: list[str]
) -> tuple[int, str] | None:
    """Tier of a match: exact ref, ref prefix, keyword, then label and description."""
    if ref == q:
        rank = 0
    elif ref.startswith(q):
        rank = 1
    else:
        kw = [k.lower() for k in keywords]
        if q in kw:
            rank = 2
        elif q in ref:
            rank = 3
        elif any(q in k for k in kw):
            rank = 4
        elif q in label.lower():
            rank = 5
        elif q in description.lower():
            rank = 6
        elif len(words) > 1:
            text = " ".join([ref, label.lower(), description.lower(), *kw])
            if not all(w in text for w in words):
                return None
            rank = 7
        else:
            return None
    return rank, _MATCH_NAMES[rank]
