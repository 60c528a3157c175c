"""The pack manifest (``pack.yaml``, DESIGN.md section 2) and pack validation.

OWNER: foundation helper (issue 2). Interface used by the installer, the
resolver and the authoring tools — keep these names and shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMPONENT_KINDS = ("actions", "sensors", "triggers", "rules", "workflows")


@dataclass
class PackRequirement:
    """A pack dependency: ``ref`` or ``ref@<constraint>`` (constraint ``"*"`` when absent)."""

    ref: str
    constraint: str = "*"

    def __str__(self) -> str:
        return self.ref if self.constraint in ("", "*") else f"{self.ref}@{self.constraint}"


@dataclass
class RuntimeRequirement:
    """A runtime dependency: ``python3>=3.9`` -> name ``python3``, constraint ``>=3.9``."""

    name: str
    constraint: str = ""

    def __str__(self) -> str:
        return f"{self.name}{self.constraint}"


@dataclass
class Manifest:
    """A validated ``pack.yaml`` with legacy aliases folded into canonical fields."""

    ref: str
    label: str
    description: str
    version: str
    author: str | None = None
    email: str | None = None
    license: str | None = None
    homepage: str | None = None
    use_case: str | None = None
    tags: list[str] = field(default_factory=list)
    runtime_deps: list[RuntimeRequirement] = field(default_factory=list)
    pack_deps: list[PackRequirement] = field(default_factory=list)
    # {attune_version, python_version, nodejs_version} from the object form, plus
    # top-level python / nodejs minimums, as given.
    version_requirements: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    testing: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # the document as read


def load_manifest(pack_dir: Path) -> Manifest:
    """Read and validate ``pack_dir/pack.yaml``; raise ManifestError (one line) if not valid."""
    raise NotImplementedError


def discover_contents(pack_dir: Path, ref: str) -> dict[str, list[dict[str, str]]]:
    """``{actions, sensors, triggers, rules, workflows}``, each a name-sorted list of
    ``{name, description}`` from the top-level YAML files of the component folders."""
    raise NotImplementedError


def validate_pack(pack_dir: Path) -> Any:
    """Full validation report: ``{path, ref, version, valid, errors, warnings, contents}``."""
    raise NotImplementedError
