"""Resolver data: candidates, resolved items, resolutions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attune_packs.pack.model import PackRequirement
from attune_packs.versioning import (
    VersionKey,
    version_key,
)

__all__ = ["Candidate", "Resolution", "ResolvedItem"]


# --------------------------------------------------------------------------- data


@dataclass(eq=False)
class Candidate:
    """One version of a pack that could be chosen.

    ``requires``: its pack requirements (``PackRequirement`` or ``"ref@constraint"``
    strings); ``origin``: whatever the caller needs to fetch it later (an index entry, a
    registry name, "installed"...), carried through untouched.
    """

    ref: str
    version: str
    requires: list[PackRequirement | str] = field(default_factory=list)
    origin: Any = None

    def __post_init__(self) -> None:
        self._key: VersionKey = version_key(self.version)
        self._reqs: list[Any] | None = None  # the engine's parsed requirements, cached

    @property
    def key(self) -> VersionKey:
        return self._key

    def __str__(self) -> str:
        return f"{self.ref}@{self.version}"

    def __repr__(self) -> str:
        return f"Candidate({self.ref!r}, {self.version!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Candidate) and self.ref == other.ref and self.version == other.version
        )

    def __hash__(self) -> int:
        return hash((self.ref, self.version))


@dataclass
class ResolvedItem:
    """One pack of the plan."""

    ref: str
    version: str
    action: str  # install | upgrade | downgrade | reinstall | keep
    candidate: Candidate
    installed_version: str | None
    requested: bool  # named by the caller (a root requirement)
    required_by: list[str]  # "web@2.0.0", or "(requested)"
    constraints: list[str]  # every constraint applied to it, e.g. "^2 (web@2.0.0)"
    dependencies: list[str]  # refs this version depends on (in the plan)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "action": self.action,
            "installed_version": self.installed_version,
            "requested": self.requested,
            "required_by": list(self.required_by),
            "constraints": list(self.constraints),
            "dependencies": list(self.dependencies),
        }


@dataclass
class Resolution:
    """The outcome: ``order`` is the install order (dependencies first)."""

    order: list[ResolvedItem]
    roots: list[str]

    @property
    def by_ref(self) -> dict[str, ResolvedItem]:
        return {item.ref: item for item in self.order}

    def __getitem__(self, ref: str) -> ResolvedItem:
        return self.by_ref[ref]

    def __contains__(self, ref: object) -> bool:
        return any(item.ref == ref for item in self.order)

    @property
    def changes(self) -> list[ResolvedItem]:
        """The items that need work (everything but ``keep``), in install order."""
        return [item for item in self.order if item.action != "keep"]

    def tree(self, ref: str | None = None) -> list[dict[str, Any]]:
        """A nested ``{ref, version, action, dependencies: [...]}`` tree from the roots
        (or from ``ref``); a pack already shown on the path is marked ``cycle: true``."""
        items = self.by_ref

        def node(r: str, path: tuple[str, ...]) -> dict[str, Any]:
            item = items[r]
            out: dict[str, Any] = {"ref": r, "version": item.version, "action": item.action}
            if r in path:
                out["cycle"] = True
                return out
            out["dependencies"] = [node(d, (*path, r)) for d in item.dependencies]
            return out

        starts = [ref] if ref is not None else self.roots
        return [node(r, ()) for r in starts if r in items]

    def to_dict(self) -> dict[str, Any]:
        return {"roots": list(self.roots), "order": [item.to_dict() for item in self.order]}
