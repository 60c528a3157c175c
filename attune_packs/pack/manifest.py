"""The pack manifest (``pack.yaml``, DESIGN.md section 2) and pack validation.

OWNER: foundation helper (issue 2). Interface used by the installer, the
resolver and the authoring tools — keep these names and shapes:

* :func:`load_manifest` reads and validates ``pack.yaml`` and returns a
  :class:`Manifest`, or raises :class:`~attune_packs.errors.ManifestError`
  carrying the first problem in one line (every problem in ``details``).
* :func:`discover_contents` summarises the components of a pack folder.
* :func:`validate_pack` never raises for a bad pack: every problem is an
  :class:`Issue` (``code``, ``field``, ``message``) in the returned
  :class:`ValidationReport`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import ManifestError
from attune_packs.pack.model import (
    BOOL_FIELDS,
    DEPENDENCY_OBJECT_FIELDS,
    KNOWN_FIELDS,
    LEGACY_ALIASES,
    MANIFEST_NAME,
    MAPPING_FIELDS,
    REF_RE,
    RUNTIME_MINIMUM_FIELDS,
    STRING_FIELDS,
    Issue,
    Manifest,
    _Collector,
    _got,
    _read_yaml,
    _runtime_version_value,
    _scalar_text,
    _show,
    _type_name,
    json_safe,
    parse_pack_requirement,
    parse_runtime_requirement,
)
from attune_packs.pack.naming import Shown

if TYPE_CHECKING:
    from attune_packs.pack.model import PackRequirement, RuntimeRequirement


# --------------------------------------------------------------------------- manifest


def _fold_aliases(doc: dict[Any, Any], col: _Collector) -> dict[Any, Any]:
    folded = dict(doc)
    for legacy, canonical in LEGACY_ALIASES.items():
        if legacy not in doc:
            continue
        if canonical not in doc:
            folded[canonical] = doc[legacy]
        elif doc[canonical] != doc[legacy]:
            col.error(
                "alias_conflict",
                legacy,
                f"'{canonical}' and its legacy alias '{legacy}' are both set with different "
                f"values; remove '{legacy}' or make them equal",
            )
    return folded


def _check_string_list(
    value: Any, field_: str, col: _Collector, what: str = "strings"
) -> list[str | None] | None:
    """The items of a list of strings, each non-string one reported and given as None
    (so callers keep every item's index and check the others too); None when
    ``value`` is not a list at all."""
    if not isinstance(value, list):
        hint = f" (write it as a list: [{value}])" if isinstance(value, str) else ""
        col.error(
            "invalid_type",
            field_,
            f"'{field_}' must be a list of {what}, got {_type_name(value)}{hint}",
        )
        return None
    out: list[str | None] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
            continue
        col.error(
            "invalid_type", f"{field_}[{i}]", f"'{field_}[{i}]' must be a string, got {_got(item)}"
        )
        out.append(None)
    seen: set[str] = set()
    for item in out:
        if item is None:
            continue
        if item in seen:
            col.warn("duplicate_item", field_, f"'{field_}' lists {item!r} more than once")
        seen.add(item)
    return out


def _check_required(doc: dict[Any, Any], name: str, col: _Collector) -> str | None:
    if name not in doc or doc[name] is None:
        col.error("missing_field", name, f"required field '{name}' is missing")
        return None
    value = doc[name]
    if name == "version" and isinstance(value, (int, float)) and not isinstance(value, bool):
        col.error(
            "invalid_version",
            name,
            f"version {_show(value)} was read as a number and is not a semantic version: "
            f"write MAJOR.MINOR.PATCH, e.g. version: 1.0.0",
        )
        return None
    if not isinstance(value, str):
        col.error("invalid_type", name, f"'{name}' must be a string, got {_type_name(value)}")
        return None
    if name == "description":
        if not value.strip():
            col.warn("empty_field", name, "'description' is empty")
        return value
    if not value.strip():
        col.error("missing_field", name, f"required field '{name}' is empty")
        return None
    return value


def _runtime_minimum(value: Any, field_: str, col: _Collector) -> str | None:
    """A python/nodejs version or constraint given as a string (or an integer, or a float with a warning)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        col.error(
            "invalid_type", field_, f"'{field_}' must be a version string, got {_type_name(value)}"
        )
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            col.error("invalid_version_requirement", field_, f"'{field_}' is not a version")
            return None
        col.warn(
            "number_as_version",
            field_,
            f"'{field_}' was read as the number {value!r}; quote it (e.g. \"3.10\") so no "
            f"digits are lost",
        )
    if isinstance(value, int) and value.bit_length() > 64:
        col.error("invalid_version_requirement", field_, f"'{field_}' is not a version")
        return None
    text = (
        value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    )
    try:
        return _runtime_version_value(text)
    except ValueError as exc:
        col.error("invalid_version_requirement", field_, f"'{field_}': {exc}")
        return None


def _check_pack_requirements(
    value: Any, field_: str, own_ref: str | None, col: _Collector
) -> list[PackRequirement]:
    items = _check_string_list(value, field_, col, "pack requirements (REF or REF@CONSTRAINT)")
    if items is None:
        return []
    reqs: list[PackRequirement] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(items):
        if item is None:  # reported already
            continue
        where = f"{field_}[{i}]"
        try:
            req = parse_pack_requirement(item)
        except ValueError as exc:
            col.error("invalid_dependency", where, f"dependency {exc}")
            continue
        if own_ref is not None and req.ref == own_ref:
            col.error("self_dependency", where, f"pack '{own_ref}' cannot depend on itself")
            continue
        if req.ref in seen:
            col.error(
                "duplicate_dependency",
                where,
                f"pack '{req.ref}' is required twice ({seen[req.ref]!r} and {item!r}); "
                f"combine the constraints in one requirement",
            )
            continue
        seen[req.ref] = item
        reqs.append(req)
    return reqs


def _check_dependencies(
    value: Any, own_ref: str | None, col: _Collector
) -> tuple[list[PackRequirement], dict[str, str]]:
    if isinstance(value, list):
        return _check_pack_requirements(value, "dependencies", own_ref, col), {}
    if not isinstance(value, dict):
        col.error(
            "invalid_type",
            "dependencies",
            "'dependencies' must be a list of pack requirements or a mapping with "
            f"attune_version, python_version, nodejs_version and packs; got {_type_name(value)}",
        )
        return [], {}
    from attune_packs import versioning

    reqs: list[PackRequirement] = []
    versions: dict[str, str] = {}
    for key, item in value.items():
        where = f"dependencies.{_scalar_text(key)}"
        if key not in DEPENDENCY_OBJECT_FIELDS:
            col.error(
                "unknown_field",
                where,
                f"unknown key {_scalar_text(key)!r} in 'dependencies' (allowed: "
                + ", ".join(DEPENDENCY_OBJECT_FIELDS)
                + ")",
            )
            continue
        if item is None:
            continue
        if key == "packs":
            reqs = _check_pack_requirements(item, "dependencies.packs", own_ref, col)
        elif key == "attune_version":
            if not isinstance(item, str):
                col.error(
                    "invalid_type",
                    where,
                    f"'{where}' must be a version constraint string (e.g. \">=1.0\"), "
                    f"got {_type_name(item)}",
                )
                continue
            try:
                versioning.parse_constraint(item)
            except ValueError as exc:
                col.error("invalid_version_requirement", where, f"'{where}': {exc}")
                continue
            versions[key] = item
        else:
            parsed = _runtime_minimum(item, where, col)
            if parsed is not None:
                versions[key] = parsed
    return reqs, versions


def _check_manifest_doc(
    data: Any, col: _Collector
) -> tuple[Manifest | None, str | None, str | None]:
    """Validate a loaded ``pack.yaml`` document.  Returns (manifest or None, ref, version)."""
    if not isinstance(data, dict):
        what = "empty" if data is None else _type_name(data)
        col.error(
            "not_a_mapping",
            MANIFEST_NAME,
            f"pack.yaml must be a mapping of fields (ref, label, ...), but the document is {what}",
        )
        return None, None, None

    doc = _fold_aliases(data, col)
    ref = _check_required(doc, "ref", col)
    if ref is not None and not REF_RE.match(ref):
        col.error(
            "invalid_ref",
            "ref",
            f"ref {_show(ref)} is invalid: use lowercase letters, digits, '_' and '-', "
            f"starting with a letter (no dots or spaces)",
        )
        ref = None
    label = _check_required(doc, "label", col)
    description = _check_required(doc, "description", col)
    version = _check_required(doc, "version", col)
    if version is not None:
        from attune_packs.versioning import is_valid_version, version_limit_problem

        if not is_valid_version(version):
            limit = version_limit_problem(version)
            col.error(
                "invalid_version",
                "version",
                f"version {_show(version)} is not a semantic version (MAJOR.MINOR.PATCH with "
                f"optional -prerelease and +build, e.g. 1.0.0 or 2.1.0-rc.1)"
                if limit is None
                else f"version {_show(version)} is not a valid version: {limit}",
            )
            version = None

    strings: dict[str, str | None] = {}
    for name in STRING_FIELDS:
        value = doc.get(name)
        if value is None:
            strings[name] = None
        elif isinstance(value, str):
            strings[name] = value
        else:
            col.error("invalid_type", name, f"'{name}' must be a string, got {_type_name(value)}")
            strings[name] = None

    for name in BOOL_FIELDS:
        value = doc.get(name)
        if value is not None and not isinstance(value, bool):
            col.error(
                "invalid_type",
                name,
                f"'{name}' must be true or false, got {_got(value)}",
            )

    mappings: dict[str, dict[str, Any]] = {}
    for name in MAPPING_FIELDS:
        value = doc.get(name)
        if value is None:
            mappings[name] = {}
        elif isinstance(value, dict):
            mappings[name] = value
        else:
            col.error("invalid_type", name, f"'{name}' must be a mapping, got {_type_name(value)}")
            mappings[name] = {}

    tags: list[str] = []
    if doc.get("tags") is not None:
        tags = [t for t in _check_string_list(doc["tags"], "tags", col) or [] if t is not None]

    runtime_deps: list[RuntimeRequirement] = []
    if doc.get("runtime_deps") is not None:
        items = _check_string_list(doc["runtime_deps"], "runtime_deps", col, "runtime names")
        for i, item in enumerate(items or []):
            if item is None:  # reported already
                continue
            try:
                runtime_deps.append(parse_runtime_requirement(item))
            except ValueError as exc:
                why = getattr(exc, "reason", str(exc))  # runtimes.RuntimeRequirementError
                col.error(
                    "invalid_runtime_dep",
                    f"runtime_deps[{i}]",
                    f"runtime dependency {_show(item)} is invalid: {why}",
                )

    pack_deps: list[PackRequirement] = []
    version_requirements: dict[str, str] = {}
    if doc.get("dependencies") is not None:
        pack_deps, version_requirements = _check_dependencies(doc["dependencies"], ref, col)
    for name in RUNTIME_MINIMUM_FIELDS:
        if doc.get(name) is not None:
            parsed = _runtime_minimum(doc[name], name, col)
            if parsed is not None:
                version_requirements[name] = parsed

    for key in data:
        if key not in KNOWN_FIELDS:
            col.warn(
                "unknown_field",
                _scalar_text(key),
                f"unknown field {_scalar_text(key)!r} in pack.yaml is ignored",
            )

    if col.errors or ref is None or label is None or description is None or version is None:
        return None, ref, version
    manifest = Manifest(
        ref=ref,
        label=label,
        description=description,
        version=version,
        author=strings["author"],
        email=strings["email"],
        license=strings["license"],
        homepage=strings["homepage"],
        use_case=strings["use_case"],
        tags=tags,
        runtime_deps=runtime_deps,
        pack_deps=pack_deps,
        version_requirements=version_requirements,
        meta=json_safe(mappings["meta"]),
        testing=json_safe(mappings["testing"]),
        raw=json_safe(data),
    )
    return manifest, ref, version


def _resolve_pack_dir(path: Path) -> Path:
    """A pack folder, or the folder of a ``pack.yaml`` given directly."""
    path = Path(path)
    if path.name == MANIFEST_NAME and not path.is_dir():
        return path.parent
    return path


def _check_manifest_file(pack_dir: Path, col: _Collector) -> tuple[Manifest | None, Any, Any]:
    path = pack_dir / MANIFEST_NAME
    if not os.path.lexists(path):
        col.error("manifest_missing", MANIFEST_NAME, f"no pack.yaml in {pack_dir}")
        return None, None, None
    ok, data = _read_yaml(path, "pack.yaml", col, MANIFEST_NAME)
    if not ok:
        return None, None, None
    return _check_manifest_doc(data, col)


def parse_manifest_data(data: Any) -> tuple[Manifest | None, list[Issue], list[Issue]]:
    """Validate an already-loaded ``pack.yaml`` document: ``(manifest or None, errors, warnings)``."""
    col = _Collector()
    manifest, _, _ = _check_manifest_doc(data, col)
    return manifest, col.errors, col.warnings


def load_manifest(pack_dir: Path, *, shown: Shown | None = None) -> Manifest:
    """Read and validate ``pack_dir/pack.yaml``; raise ManifestError (one line) if not valid.

    ``shown`` names the folder in messages by what the user gave (for a staged copy)."""
    pack_dir = _resolve_pack_dir(Path(pack_dir))
    col = _Collector(shown)
    manifest, _, _ = _check_manifest_file(pack_dir, col)
    if manifest is None or col.errors:
        raise _manifest_error(pack_dir, col.errors, shown)
    return manifest


def _manifest_error(
    pack_dir: Path, errors: list[Issue], shown: Shown | None = None
) -> ManifestError:
    first = errors[0] if errors else Issue("invalid_manifest", MANIFEST_NAME, "invalid pack.yaml")
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    where = shown.path(pack_dir) if shown is not None else pack_dir
    message = f"invalid pack in {where}: {first.message}" + (more if len(errors) > 1 else "")
    return ManifestError(message, details={"errors": [e.to_dict() for e in errors]})
