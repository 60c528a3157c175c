"""Plans: items in install order, their origins; classify_change()."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from attune_packs.fetch.provenance import Provenance

if TYPE_CHECKING:
    from attune_packs.pack.model import Manifest

__all__ = ["Origin", "Plan", "PlanItem"]


@dataclass
class Origin:
    """What the planner knows about a candidate (carried through the resolver)."""

    kind: str  # registry | installed | local
    source: Provenance
    runtime_deps: list[str] = field(default_factory=list)
    manifest: Manifest | None = None


@dataclass
class PlanItem:
    """One pack of a plan, in install order (dependencies first)."""

    ref: str
    version: str
    action: str  # install | upgrade | downgrade | keep
    installed_version: str | None
    requested: bool
    required_by: list[str]
    constraints: list[str]
    dependencies: list[str]
    origin: Origin
    requires: list[str]  # its pack requirements, as declared
    status: str = "planned"  # planned | kept | installed | already_installed
    checksum: str | None = None  # once installed: what was verified (the audit's checksum)
    installation_id: int | None = None

    @property
    def source(self) -> Provenance:
        return self.origin.source

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "action": self.action,
            "status": self.status,
            "installed_version": self.installed_version,
            "requested": self.requested,
            "required_by": list(self.required_by),
            "constraints": list(self.constraints),
            "dependencies": list(self.dependencies),
            "source": self.source.to_plan_dict(),
            "runtime_deps": list(self.origin.runtime_deps),
            "checksum": self.checksum,
            "installation_id": self.installation_id,
        }


@dataclass
class Plan:
    items: list[PlanItem]  # install order
    roots: list[str]

    @property
    def by_ref(self) -> dict[str, PlanItem]:
        return {item.ref: item for item in self.items}

    @property
    def changes(self) -> list[PlanItem]:
        return [item for item in self.items if item.action != "keep"]

    def tree(self, ref: str | None = None) -> list[dict[str, Any]]:
        """Nested ``{ref, version, action, constraint, source, dependencies: [...]}`` from
        the roots (or ``ref``); a pack already on the path is shown once more with
        ``cycle: true`` and no children."""
        from attune_packs.pack.model import parse_pack_requirement

        items = self.by_ref

        def edge(parent: PlanItem, child: str) -> str:
            found = []
            for raw in parent.requires:
                try:
                    req = parse_pack_requirement(raw)
                except ValueError:
                    continue
                if req.ref == child:
                    found.append(req.constraint)
            return ", ".join(found) or "*"

        def node(r: str, constraint: str, path: tuple[str, ...]) -> dict[str, Any]:
            item = items[r]
            out: dict[str, Any] = {
                "ref": r,
                "version": item.version,
                "action": item.action,
                "installed_version": item.installed_version,
                "constraint": constraint,
                "source": item.source.to_plan_dict(),
            }
            if r in path:
                out["cycle"] = True
                return out
            out["dependencies"] = [
                node(d, edge(item, d), (*path, r)) for d in item.dependencies if d in items
            ]
            return out

        starts = [ref] if ref is not None else self.roots
        return [node(r, "(requested)", ()) for r in starts if r in items]

    def to_dict(self) -> dict[str, Any]:
        return {"roots": list(self.roots), "order": [i.to_dict() for i in self.items]}


def classify_change(installed: str | None, new: str) -> str:
    """``install``, ``upgrade``, ``downgrade`` or ``same`` by semver precedence."""
    if installed is None:
        return "install"
    from attune_packs import versioning

    c = versioning.compare_versions(new, installed)
    return "upgrade" if c > 0 else "downgrade" if c < 0 else "same"
