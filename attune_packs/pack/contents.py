"""Component discovery: actions, sensors, triggers, rules, workflows."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from attune_packs.pack.manifest import _manifest_error, _resolve_pack_dir
from attune_packs.pack.model import (
    _NATIVE_RUNNERS,
    COMPONENT_KINDS,
    _Collector,
    _read_yaml,
    _type_name,
    empty_contents,
)
from attune_packs.pack.naming import Shown

# --------------------------------------------------------------------------- components


def _component_text(
    doc: dict[Any, Any], keys: tuple[str, ...], rel: str, col: _Collector
) -> str | None:
    """The first non-empty string among ``keys``; a present non-string value is an error."""
    for key in keys:
        if key not in doc or doc[key] is None:
            continue
        value = doc[key]
        if not isinstance(value, str):
            col.error(
                "invalid_component",
                rel,
                f"component file {rel}: '{key}' must be a string, got {_type_name(value)}",
            )
            return None
        if value.strip():
            return value
    return None


def _check_entry_point(
    pack_dir: Path, kind_dir: str, doc: dict[Any, Any], rel: str, col: _Collector
) -> None:
    """Warn when an action/sensor names a file that is missing or outside the pack."""
    for key, base in (("workflow_file", kind_dir), ("entry_point", kind_dir)):
        value = doc.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            col.warn("missing_entry_point", rel, f"{rel}: '{key}' should be a non-empty string")
            return
        if key == "entry_point" and str(doc.get("runner_type", "")).lower() in _NATIVE_RUNNERS:
            return
        target = Path(value)
        if target.is_absolute() or ".." in target.parts:
            col.warn(
                "missing_entry_point",
                rel,
                f"{rel}: '{key}' {value!r} must be a relative path inside the pack",
            )
            return
        if not (pack_dir / base / target).is_file():
            col.warn(
                "missing_entry_point",
                rel,
                f"{rel}: '{key}' names {base}/{value}, which does not exist",
            )
        return


def _discover(
    pack_dir: Path, ref: str | None, col: _Collector, check_files: bool = False
) -> dict[str, list[dict[str, str]]]:
    contents = empty_contents()
    prefix = f"{ref}." if ref else None
    for kind in COMPONENT_KINDS:
        folder = pack_dir / kind
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            continue
        except OSError as exc:
            col.error("unreadable_file", kind, f"cannot read {folder}: {exc.strerror}")
            continue
        if stat.S_ISLNK(st.st_mode):
            col.error("unsupported_file", kind, f"{kind}/ must be a real folder, not a symlink")
            continue
        if not stat.S_ISDIR(st.st_mode):
            col.error("not_a_directory", kind, f"{kind} must be a folder of YAML files")
            continue
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(folder)
                if entry.name.endswith((".yaml", ".yml"))
                and not entry.is_dir(follow_symlinks=False)
            )
        except OSError as exc:
            col.error("unreadable_file", kind, f"cannot read {folder}: {exc.strerror}")
            continue
        for name in names:
            rel = f"{kind}/{name}"
            ok, doc = _read_yaml(folder / name, "component file", col, rel)
            if not ok:
                continue
            if not isinstance(doc, dict):
                what = "empty" if doc is None else _type_name(doc)
                col.error(
                    "invalid_component",
                    rel,
                    f"component file {rel}: must be a YAML mapping, but it is {what}",
                )
                continue
            n_errors = len(col.errors)
            comp_name = _component_text(doc, ("ref", "name"), rel, col)
            description = _component_text(doc, ("description", "label"), rel, col)
            if len(col.errors) > n_errors:
                continue
            comp_name = comp_name or Path(name).stem
            if prefix and comp_name.startswith(prefix) and len(comp_name) > len(prefix):
                comp_name = comp_name[len(prefix) :]
            target = kind
            if kind == "actions" and doc.get("workflow_file") not in (None, ""):
                target = "workflows"
            if check_files and kind in ("actions", "sensors"):
                _check_entry_point(pack_dir, kind, doc, rel, col)
            contents[target].append({"name": comp_name, "description": description or ""})
    for kind in COMPONENT_KINDS:
        contents[kind].sort(key=lambda c: c["name"])
        seen: set[str] = set()
        for comp in contents[kind]:
            if comp["name"] in seen:
                col.warn(
                    "duplicate_component",
                    kind,
                    f"{kind}: more than one component is named {comp['name']!r}",
                )
            seen.add(comp["name"])
    return contents


def discover_contents(
    pack_dir: Path, ref: str, *, shown: Shown | None = None
) -> dict[str, list[dict[str, str]]]:
    """``{actions, sensors, triggers, rules, workflows}``, each a name-sorted list of
    ``{name, description}`` from the top-level YAML files of the component folders.

    Raises :class:`ManifestError` when a component file is not a readable YAML mapping.
    """
    pack_dir = _resolve_pack_dir(Path(pack_dir))
    col = _Collector(shown)
    contents = _discover(pack_dir, ref, col)
    if col.errors:
        raise _manifest_error(pack_dir, col.errors, shown)
    return contents
