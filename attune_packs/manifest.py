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

import base64
import datetime as _dt
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attune_packs.errors import ManifestError
from attune_packs.sources import REF_RE, Shown

COMPONENT_KINDS = ("actions", "sensors", "triggers", "rules", "workflows")

MANIFEST_NAME = "pack.yaml"
#: Metadata files (pack.yaml, component files) larger than this are refused.
MAX_METADATA_BYTES = 1024 * 1024

#: Legacy field -> canonical field.  The legacy value fills a missing canonical one.
LEGACY_ALIASES = {
    "name": "label",
    "config_schema": "conf_schema",
    "metadata": "meta",
    "keywords": "tags",
}
REQUIRED_FIELDS = ("ref", "label", "description", "version")
STRING_FIELDS = ("author", "email", "license", "homepage", "use_case")
BOOL_FIELDS = ("enabled", "system")
MAPPING_FIELDS = ("conf_schema", "config", "meta", "testing")
RUNTIME_MINIMUM_FIELDS = ("python", "nodejs")
KNOWN_FIELDS = frozenset(
    (
        *REQUIRED_FIELDS,
        *STRING_FIELDS,
        *BOOL_FIELDS,
        *MAPPING_FIELDS,
        *RUNTIME_MINIMUM_FIELDS,
        *LEGACY_ALIASES,
        "tags",
        "runtime_deps",
        "dependencies",
    )
)
DEPENDENCY_OBJECT_FIELDS = ("attune_version", "python_version", "nodejs_version", "packs")
#: Runners whose ``entry_point`` is not a file of the pack.
_NATIVE_RUNNERS = frozenset(("native", "builtin", "standalone"))

# --------------------------------------------------------------------------- model


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
    raw: dict[str, Any] = field(default_factory=dict)  # the document as read (JSON-safe)


@dataclass(frozen=True)
class Issue:
    """One validation problem: a stable snake_case ``code``, the ``field`` and a message."""

    code: str
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


def empty_contents() -> dict[str, list[dict[str, str]]]:
    return {kind: [] for kind in COMPONENT_KINDS}


@dataclass
class ValidationReport:
    """What ``attune pack validate`` prints: ``{path, ref, version, valid, errors, warnings, contents}``."""

    path: str
    ref: str | None = None
    version: str | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    contents: dict[str, list[dict[str, str]]] = field(default_factory=empty_contents)
    manifest: Manifest | None = None  # set when pack.yaml itself is valid

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ref": self.ref,
            "version": self.version,
            "valid": self.valid,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "contents": self.contents,
        }


class _Collector:
    """Accumulates errors and warnings; with ``shown``, every message names the pack
    by what the user gave (never a staging or temporary path)."""

    def __init__(self, shown: Shown | None = None) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.shown = shown

    def _text(self, message: str) -> str:
        return self.shown.scrub(message) if self.shown is not None else message

    def error(self, code: str, field_: str, message: str) -> None:
        self.errors.append(Issue(code, field_, self._text(message)))

    def warn(self, code: str, field_: str, message: str) -> None:
        self.warnings.append(Issue(code, field_, self._text(message)))


# --------------------------------------------------------------------------- helpers


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (set, frozenset)):
        return "a set"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "a date"
    return type(value).__name__


def _show(value: Any, limit: int = 80) -> str:
    """A short, always printable rendering of a YAML scalar for messages."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 3] + "..."
        return repr(text)
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "null"
    if isinstance(value, int):
        if value.bit_length() > 256:
            return f"an integer of {value.bit_length()} bits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return _type_name(value)


def json_safe(value: Any) -> Any:
    """``value`` made JSON-serialisable: dates as ISO strings, binary as base64, sets as lists,
    non-finite floats and enormous integers as strings, mapping keys as strings."""
    if isinstance(value, dict):
        return {
            (k if isinstance(k, str) else _scalar_text(k)): json_safe(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((json_safe(v) for v in value), key=repr)
    return _json_scalar(value)


def _json_scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 1024 else _show(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _scalar_text(value: Any) -> str:
    out = _json_scalar(value)
    if isinstance(out, str):
        return out
    if isinstance(out, bool) or out is None:
        return "null" if out is None else str(out).lower()
    return str(out)


def _read_yaml(path: Path, what: str, col: _Collector, field_: str) -> tuple[bool, Any]:
    """Read one metadata YAML file; on failure record an error and return ``(False, None)``."""
    from attune_packs.fsutil import read_regular_file
    from attune_packs.yamlio import YamlError, load_yaml

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        col.error("file_missing", field_, f"{what} not found: {path}")
        return False, None
    except OSError as exc:
        col.error("unreadable_file", field_, f"cannot read {what} {path}: {exc.strerror}")
        return False, None
    if stat.S_ISLNK(st.st_mode):
        col.error("unsupported_file", field_, f"{what} must not be a symlink: {path}")
        return False, None
    if not stat.S_ISREG(st.st_mode):
        col.error("unsupported_file", field_, f"{what} is not a regular file: {path}")
        return False, None
    if st.st_size > MAX_METADATA_BYTES:
        col.error(
            "file_too_large",
            field_,
            f"{what} is {st.st_size} bytes; metadata files are limited to "
            f"{MAX_METADATA_BYTES} bytes: {path}",
        )
        return False, None
    try:
        # Opened without blocking and checked again: a FIFO swapped in must not hang us.
        raw = read_regular_file(path, follow_symlinks=False)
    except OSError as exc:
        col.error("unreadable_file", field_, f"cannot read {what} {path}: {exc.strerror}")
        return False, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        col.error("invalid_yaml", field_, f"{what} is not valid UTF-8 (byte {exc.start}): {path}")
        return False, None
    try:
        return True, load_yaml(text)
    except YamlError as exc:
        # pack.yaml's folder is named by the message around this one; a component's
        # own path says which of them it is.
        where = what if what == MANIFEST_NAME else f"{what} {path}"
        col.error("invalid_yaml", field_, f"{where}: {exc}")
        return False, None


# --------------------------------------------------------------------------- runtime deps


def parse_runtime_requirement(text: str) -> RuntimeRequirement:
    """``'python3>=3.9'`` -> ``RuntimeRequirement('python3', '>=3.9')``; ValueError if malformed.

    The grammar is :mod:`attune_packs.runtimes`' (the one the install checks with);
    the constraint is kept in its normalised PEP 440 form.
    """
    from attune_packs import runtimes

    name, rest = runtimes.parse_runtime_requirement(text)
    return RuntimeRequirement(name, runtimes.normalise_constraint(rest))


def _runtime_version_value(text: str) -> str:
    """A runtime minimum/constraint (``3.9`` means ``>=3.9``), normalised; ValueError if bad."""
    from attune_packs import runtimes

    if not text.strip():
        raise ValueError("empty value")
    return runtimes.normalise_constraint(text)


# --------------------------------------------------------------------------- pack deps


def parse_pack_requirement(text: str | PackRequirement) -> PackRequirement:
    """``'core'`` / ``'core@^1.2'`` -> :class:`PackRequirement`; ValueError if malformed.

    The one parser of pack requirements (pack.yaml, the command line, lock files,
    the resolver).  The constraint must be a node-semver range understood by
    :func:`attune_packs.versioning.parse_constraint`; ``latest`` and a missing
    constraint both mean the newest release (``*``).
    """
    from attune_packs import versioning

    if isinstance(text, PackRequirement):
        ref, constraint = text.ref, (text.constraint or "*").strip()
    elif not isinstance(text, str):
        raise ValueError(f"{text!r} is not REF or REF@CONSTRAINT (e.g. core or core@^1.2)")
    elif "@" in text:
        ref, constraint = (part.strip() for part in text.split("@", 1))
        if not constraint:
            raise ValueError(f"{text!r} has an empty constraint after '@' (e.g. {ref}@^1.2)")
    else:
        ref, constraint = text.strip(), "*"
    if not REF_RE.match(ref):
        raise ValueError(
            f"{str(text)!r} is not REF or REF@CONSTRAINT (e.g. core or core@^1.2): "
            f"pack refs are lowercase letters, digits, '_' and '-', starting with a letter"
        )
    if constraint.lower() == "latest":
        constraint = "*"
    try:
        versioning.parse_constraint(constraint)
    except ValueError as exc:
        raise ValueError(f"{str(text)!r}: {exc}") from None
    return PackRequirement(ref, constraint)


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
) -> list[str] | None:
    if not isinstance(value, list):
        hint = f" (write it as a list: [{value}])" if isinstance(value, str) else ""
        col.error(
            "invalid_type",
            field_,
            f"'{field_}' must be a list of {what}, got {_type_name(value)}{hint}",
        )
        return None
    out: list[str] = []
    ok = True
    for i, item in enumerate(value):
        if not isinstance(item, str):
            col.error(
                "invalid_type",
                f"{field_}[{i}]",
                f"'{field_}[{i}]' must be a string, got {_type_name(item)} {_show(item)}".rstrip(),
            )
            ok = False
        else:
            out.append(item)
    if not ok:
        return None
    seen: set[str] = set()
    for item in out:
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
                f"'{name}' must be true or false, got {_type_name(value)} {_show(value)}".rstrip(),
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
        tags = _check_string_list(doc["tags"], "tags", col) or []

    runtime_deps: list[RuntimeRequirement] = []
    if doc.get("runtime_deps") is not None:
        items = _check_string_list(doc["runtime_deps"], "runtime_deps", col, "runtime names")
        for i, item in enumerate(items or []):
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
                f"{rel}: '{key}' must be a string, got {_type_name(value)}",
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
                    "invalid_component", rel, f"{rel} must be a YAML mapping, but it is {what}"
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


def _check_tree(pack_dir: Path, col: _Collector, limit: int = 20) -> None:
    """Report what a checksum or an install would refuse: symlinks, special files, non-UTF-8
    names (at most ``limit`` of them; ``.git`` is pruned as the checksum prunes it)."""
    found = 0
    stack: list[tuple[str, str]] = [(os.fspath(pack_dir), "")]
    while stack and found < limit:
        current, prefix = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except OSError as exc:
            col.error("unreadable_file", prefix or ".", f"cannot read {current}: {exc.strerror}")
            found += 1
            continue
        for entry in entries:
            if entry.name == ".git":
                continue
            rel = prefix + entry.name
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
                col.error("unsupported_file", shown, f"file name is not valid UTF-8: {shown}")
                found += 1
                continue
            try:
                if entry.is_symlink():
                    col.error(
                        "unsupported_file",
                        rel,
                        f"{rel} is a symlink; packs may not contain symlinks",
                    )
                    found += 1
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                elif not entry.is_file(follow_symlinks=False):
                    col.error(
                        "unsupported_file",
                        rel,
                        f"{rel} is a special file; packs may hold only regular files and folders",
                    )
                    found += 1
            except OSError as exc:
                col.error("unreadable_file", rel, f"cannot stat {rel}: {exc.strerror}")
                found += 1


def validate_pack(pack_dir: Path) -> ValidationReport:
    """Full validation report: ``{path, ref, version, valid, errors, warnings, contents}``.

    Never raises for a bad pack: a missing or unreadable pack folder, a missing
    pack.yaml, malformed YAML and bad component files are all errors in the report.
    """
    given = Path(pack_dir)
    pack_dir = _resolve_pack_dir(given)
    report = ValidationReport(path=os.fspath(pack_dir))
    col = _Collector()
    try:
        st = os.lstat(pack_dir)
    except OSError as exc:
        col.error("not_found", "path", f"cannot open {pack_dir}: {exc.strerror}")
        report.errors = col.errors
        return report
    if stat.S_ISLNK(st.st_mode):
        col.error("unsupported_file", "path", f"the pack folder must not be a symlink: {pack_dir}")
    elif not stat.S_ISDIR(st.st_mode):
        col.error("not_a_directory", "path", f"not a pack folder: {pack_dir}")
        report.errors = col.errors
        return report
    manifest, ref, version = _check_manifest_file(pack_dir, col)
    report.ref = ref if isinstance(ref, str) else None
    report.version = version if isinstance(version, str) else None
    report.manifest = manifest
    report.contents = _discover(pack_dir, report.ref, col, check_files=True)
    _check_tree(pack_dir, col)
    report.errors = col.errors
    report.warnings = col.warnings
    return report
