"""Audit rows, pack rows, dependency rows and the installing OS user."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attune_packs.db import DependencyRecord
    from attune_packs.pack.model import Manifest


# -- small helpers ---------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC)


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def dependency_rows(manifest: Manifest) -> list[DependencyRecord]:
    """``pack_dependency`` rows for a manifest (duplicates merged: their constraints AND)."""
    from attune_packs.db import DependencyRecord

    merged: dict[tuple[str, str], list[str]] = {}
    for req in manifest.pack_deps:
        merged.setdefault(("pack", req.ref), [])
        if req.constraint and req.constraint != "*":
            merged[("pack", req.ref)].append(req.constraint)
    for rt in manifest.runtime_deps:
        merged.setdefault(("runtime", rt.name), [])
        if rt.constraint:
            merged[("runtime", rt.name)].append(rt.constraint.strip())
    aliases = {
        "attune_version": "attune",
        "python_version": "python",
        "python": "python",
        "nodejs_version": "nodejs",
        "nodejs": "nodejs",
    }
    for key, value in (manifest.version_requirements or {}).items():
        name = aliases.get(key, key)
        merged.setdefault(("runtime", name), [])
        if value:
            merged[("runtime", name)].append(str(value).strip())
    rows = []
    for (kind, name), constraints in sorted(merged.items()):
        unique = list(dict.fromkeys(constraints))
        constraint = ", ".join(unique) if unique else ("*" if kind == "pack" else "")
        rows.append(
            DependencyRecord(pack_ref=manifest.ref, kind=kind, name=name, constraint=constraint)
        )
    return rows


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
