"""The pack model: Manifest, requirements, issues, reports, pack refs."""

from __future__ import annotations

import base64
import datetime as _dt
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attune_packs.pack.naming import Shown

REF_RE = re.compile(r"^[a-z][a-z0-9_-]*\Z")

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


def _got(value: Any) -> str:
    """What a wrong value was, for ``..., got X``: its kind, and the value itself when it
    is a scalar (``a number 1.5``; a mapping is just ``a mapping``)."""
    if isinstance(value, (dict, list, set, frozenset, bytes)):
        return _type_name(value)
    return f"{_type_name(value)} {_show(value)}"


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
    """Read one metadata YAML file; on failure record an error and return ``(False, None)``.

    Every message has one shape, ``LABEL: problem``: ``pack.yaml: ...`` (its folder is
    named by the message around it) or ``component file PATH: ...``.
    """
    from attune_packs.fsutil import read_regular_file
    from attune_packs.yamlio import YamlError, load_yaml

    label = what if what == MANIFEST_NAME else f"{what} {path}"

    def fail(code: str, problem: str) -> tuple[bool, Any]:
        col.error(code, field_, f"{label}: {problem}")
        return False, None

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return fail("file_missing", "not found")
    except OSError as exc:
        return fail("unreadable_file", f"cannot be read ({exc.strerror})")
    if stat.S_ISLNK(st.st_mode):
        return fail("unsupported_file", "must not be a symlink")
    if not stat.S_ISREG(st.st_mode):
        return fail("unsupported_file", "is not a regular file")
    if st.st_size > MAX_METADATA_BYTES:
        return fail(
            "file_too_large",
            f"{st.st_size} bytes; metadata files are limited to {MAX_METADATA_BYTES} bytes",
        )
    try:
        # Opened without blocking and checked again: a FIFO swapped in must not hang us.
        raw = read_regular_file(path, follow_symlinks=False)
    except OSError as exc:
        return fail("unreadable_file", f"cannot be read ({exc.strerror})")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return fail("invalid_yaml", f"not valid UTF-8 (byte {exc.start})")
    try:
        return True, load_yaml(text)
    except YamlError as exc:
        return fail("invalid_yaml", str(exc))


# --------------------------------------------------------------------------- runtime deps


def parse_runtime_requirement(text: str) -> RuntimeRequirement:
    """``'python3>=3.9'`` -> ``RuntimeRequirement('python3', '>=3.9')``; ValueError if malformed.

    The grammar is :mod:`attune_packs.pack.runtimes`' (the one the install checks with);
    the constraint is kept in its normalised PEP 440 form.
    """
    from attune_packs.pack import runtimes

    name, rest = runtimes.parse_runtime_requirement(text)
    return RuntimeRequirement(name, runtimes.normalise_constraint(rest))


def _runtime_version_value(text: str) -> str:
    """A runtime minimum/constraint (``3.9`` means ``>=3.9``), normalised; ValueError if bad."""
    from attune_packs.pack import runtimes

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
