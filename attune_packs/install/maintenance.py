"""uninstall, rollback and verify of installed packs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

if TYPE_CHECKING:
    from attune_packs.pack.checksum import TreeHash


@dataclass
class TreeDiff:
    changed: list[str]
    added: list[str]
    missing: list[str]

    @property
    def clean(self) -> bool:
        return not (self.changed or self.added or self.missing)


def diff_files(recorded: dict[str, str], actual: TreeHash) -> TreeDiff:
    changed = sorted(
        rel for rel, digest in actual.files.items() if rel in recorded and recorded[rel] != digest
    )
    changed += sorted(rel for rel in actual.odd if rel in recorded)
    added = sorted(rel for rel in actual.files if rel not in recorded)
    added += sorted(rel for rel in actual.odd if rel not in recorded)
    missing = sorted(rel for rel in recorded if rel not in actual.files and rel not in actual.odd)
    return TreeDiff(sorted(changed), sorted(added), missing)
