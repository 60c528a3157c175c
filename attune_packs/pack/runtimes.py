"""Runtime requirements of a pack: is ``python3>=3.9``, ``nodejs>=18``, ``curl`` ... available?

Sources of requirements (DESIGN.md sections 2 and 10):

* ``runtime_deps`` strings: a runtime name with an optional constraint (``python3``,
  ``python3>=3.9``, ``nodejs >=18``, ``shell``, ``curl``);
* the top-level ``python`` / ``nodejs`` minimums and ``dependencies.python_version`` /
  ``nodejs_version`` (they arrive as ``Manifest.version_requirements``).  ``attune_version``
  concerns the Attune platform, which attune-packs is not; it is reported as skipped.

Names: ``python3``/``python`` look for ``python3`` then ``python`` on PATH (when the real PATH
has neither, the interpreter running attune-packs is used); ``nodejs``/``node`` look for
``node`` then ``nodejs``; ``shell`` looks for ``bash`` then ``sh``; ``bash`` and ``sh`` are
themselves; any other name must be an executable on PATH.

Constraints use ``packaging``'s version rules (PEP 440), after lenient extraction of the
version from ``NAME --version`` (``v20.1.0`` -> 20.1.0, ``GNU bash, version
5.2.15(1)-release`` -> 5.2.15, ``Python 3.11.7`` -> 3.11.7).  Accepted spellings:

* a bare version is a **minimum**: ``3.9`` means ``>=3.9`` (as the manifest's ``python:``
  field always meant);
* PEP 440 specifiers, separated by commas or spaces: ``>=3.9``, ``>=3.9,<4``, ``>=18 <21``,
  ``==3.11.*``, ``~=3.9``, ``!=3.10.0``; a single ``=`` means ``==``;
* npm-style conveniences: ``3.x`` / ``3.11.*`` (that series), ``^18.2`` (same major, at least
  18.2), ``~3.9`` (same minor, at least 3.9).

Note PEP 440's ``==3.9`` means exactly 3.9.0; write ``==3.9.*`` for the series.

A version is detected only when a constraint needs it, and each executable's version is
detected once per process (cached by resolved path).  The subprocess runs with a timeout
and a scrubbed environment (PATH, HOME, locale, and the pyenv/nvm/asdf locator variables
only), so ``BASH_ENV``, ``PYTHONPATH`` or ``NODE_OPTIONS`` cannot change its behaviour.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from attune_packs.errors import DependencyError

__all__ = [
    "RuntimeCheck",
    "RuntimeRequirementError",
    "check_runtimes",
    "clear_cache",
    "detect_version",
    "ensure_runtimes",
    "extract_version",
    "normalise_constraint",
    "parse_runtime_constraint",
    "parse_runtime_requirement",
]

VERSION_TIMEOUT = 10.0  # seconds for ``NAME --version``

# Canonical runtime -> executables to look for, in order.
_ALIASES: dict[str, tuple[str, ...]] = {
    "python3": ("python3", "python"),
    "python": ("python3", "python"),
    "nodejs": ("node", "nodejs"),
    "node": ("node", "nodejs"),
    "shell": ("bash", "sh"),
    "bash": ("bash",),
    "sh": ("sh",),
}
# Manifest.version_requirements key -> runtime name.
_VERSION_KEYS: dict[str, str] = {
    "python": "python3",
    "python_version": "python3",
    "nodejs": "nodejs",
    "nodejs_version": "nodejs",
    "node": "nodejs",
    "node_version": "nodejs",
}
_SKIPPED_KEYS = {"attune_version", "attune"}
_ENV_KEEP = (
    "HOME",
    "SYSTEMROOT",
    "TMPDIR",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "NVM_DIR",
    "NVM_BIN",
    "ASDF_DIR",
    "ASDF_DATA_DIR",
    "VOLTA_HOME",
)

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_REQ_RE = re.compile(r"\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._+-]*?)\s*(?P<rest>(?:[<>=!~^].*)?)\s*")
_REQ_SPACE_RE = re.compile(r"\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._+-]*)\s+(?P<rest>\S.*?)\s*")
_VERSION_IN_TEXT = re.compile(
    r"(?<![\w.])v?(?P<v>\d+(?:\.\d+)+(?:[-.]?(?:a|b|rc|alpha|beta)\.?\d+)?)", re.IGNORECASE
)
_LONE_NUMBER = re.compile(r"(?<![\w.])v?(?P<v>\d+)(?![\w.])")
_SPEC_OPS = ("===", "==", "!=", "~=", ">=", "<=", ">", "<")
_PLAIN_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)(?:[.-]?(?:a|b|rc)\d+)?", re.IGNORECASE)
_WILDCARD = re.compile(r"v?(\d+(?:\.\d+)*)\.[xX*]")
_CARET_TILDE = re.compile(r"(?P<op>\^|~)\s*v?(?P<v>\d+(?:\.\d+){0,2})")


@dataclass(frozen=True)
class RuntimeCheck:
    """The outcome of one runtime requirement.

    ``status`` is ``ok``, ``missing`` (no executable), ``unsatisfied`` (version outside the
    constraint), ``unknown_version`` (a constraint was given but no version could be read),
    ``invalid_constraint``, ``invalid_requirement`` (a malformed ``runtime_deps`` string) or
    ``skipped`` (not checkable, e.g. ``attune_version``).
    """

    name: str  # as requested: "python3", "nodejs", "curl"
    constraint: str  # as given ("" = presence only)
    specifier: str  # the packaging specifier it means (">=3.9"), "" if none
    source: str  # "runtime_deps", "python", "dependencies.python_version", ...
    status: str
    executable: str | None = None
    version: str | None = None  # the version found, when one was needed and read
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "skipped")

    @property
    def requirement(self) -> str:
        return f"{self.name}{self.specifier}" if self.specifier else self.name

    def message(self) -> str:
        """One line naming the runtime, what was found and the constraint."""
        want = f" (required: {self.constraint.strip() or self.specifier})" if self.specifier else ""
        if self.status == "missing":
            return f"{self.name}: not found on PATH{want}"
        if self.status == "unsatisfied":
            given = self.constraint.strip()
            want = self.specifier if given == self.specifier else f"{given} (i.e. {self.specifier})"
            return (
                f"{self.name}: found version {self.version} at {self.executable}, "
                f"which does not satisfy {want}"
            )
        if self.status == "unknown_version":
            return f"{self.name}: found {self.executable} but could not read its version{want}"
        if self.status == "invalid_constraint":
            return f"{self.name}: invalid version constraint {self.constraint!r}: {self.detail}"
        if self.status == "invalid_requirement":
            return self.detail
        if self.status == "skipped":
            return f"{self.name} {self.constraint}: not checked ({self.detail})"
        found = f" {self.version}" if self.version else ""
        return f"{self.name}{found} at {self.executable}{want}: ok"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "message": self.message()}


# ------------------------------------------------------------------ parsing helpers


class RuntimeRequirementError(ValueError):
    """A malformed runtime requirement; ``reason`` names the bad part (no prefix)."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid runtime requirement {_short(text)}: {reason}")


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def parse_runtime_requirement(text: str) -> tuple[str, str]:
    """``"python3>=3.9"`` -> ``("python3", ">=3.9")``; ``"curl"`` -> ``("curl", "")``.

    ``"python3 3.9"`` (name, space, version) is accepted too.  The constraint is returned as
    written (see :func:`normalise_constraint`).  :class:`RuntimeRequirementError` (a
    ValueError) if malformed.
    """
    if not isinstance(text, str) or not text.strip():
        raise RuntimeRequirementError(str(text), "expected e.g. python3>=3.9")
    m = _REQ_RE.fullmatch(text) or _REQ_SPACE_RE.fullmatch(text)
    if m is None:
        raise RuntimeRequirementError(
            text,
            "expected a runtime name with an optional constraint, "
            "e.g. python3, python3>=3.9, nodejs>=18",
        )
    rest = m["rest"].strip()
    if rest:
        try:
            normalise_constraint(rest)
        except ValueError as exc:
            raise RuntimeRequirementError(text, str(exc)) from None
    return m["name"], rest


def normalise_constraint(constraint: str) -> str:
    """A runtime constraint as a PEP 440 specifier string (``"3.9"`` -> ``">=3.9"``).

    ValueError (naming the bad part) for something that is not a constraint.
    """
    text = str(constraint).strip()
    if not text:
        return ""
    parts = [p for p in re.split(r"[,\s]+", _join_operators(text)) if p]
    out: list[str] = []
    for part in parts:
        out.extend(_normalise_part(part, text))
    return ",".join(out)


def _join_operators(text: str) -> str:
    # ">= 3.9" -> ">=3.9"; "^ 18" -> "^18"
    return re.sub(r"(===|==|!=|~=|>=|<=|>|<|=|\^|~)\s+", r"\1", text)


def _normalise_part(part: str, whole: str) -> list[str]:
    def bad(why: str) -> ValueError:
        where = _short(part) if part == whole else f"{_short(part)} in {_short(whole)}"
        return ValueError(f"{where} {why}")

    m = _CARET_TILDE.fullmatch(part)
    if m:
        nums = [int(n) for n in m["v"].split(".")]
        low = ".".join(str(n) for n in nums)
        if m["op"] == "^":
            i = next((k for k, n in enumerate(nums) if n != 0), len(nums) - 1)
            i = min(i, len(nums) - 1)
            upper = [*nums[:i], nums[i] + 1]
        else:  # ~: same minor when given, else same major
            upper = [nums[0], nums[1] + 1] if len(nums) > 1 else [nums[0] + 1]
        return [f">={low}", f"<{'.'.join(str(n) for n in upper)}"]
    m = _WILDCARD.fullmatch(part)
    if m:
        return [f"=={m[1]}.*"]
    if part in ("*", "x", "X"):
        return []
    if part.startswith(_SPEC_OPS):
        spec = part
    elif part.startswith("=") and not part.startswith("=="):
        spec = "=" + part  # "=3.9" -> "==3.9"
    elif _PLAIN_VERSION.fullmatch(part):
        spec = ">=" + part.lstrip("vV")  # a bare version is a minimum
    else:
        raise bad("is not a version constraint (e.g. >=3.9, 18, >=3.9,<4, 3.x)")
    op = next(o for o in _SPEC_OPS if spec.startswith(o))
    version = spec[len(op) :]
    if version[:1] in ("v", "V") and op != "===":
        version = version[1:]
    if not version:
        raise bad(f"has no version after {op!r}")
    wildcard = _WILDCARD.fullmatch(version)
    if op == "===":
        pass  # arbitrary equality: any text
    elif wildcard or version.endswith("*"):
        if op not in ("==", "!="):
            raise bad("uses a wildcard, which only goes with == or != (e.g. ==3.*, 3.x)")
        if wildcard:
            version = wildcard[1] + ".*"  # "==3.x" -> "==3.*"
    else:
        try:
            Version(version)
        except InvalidVersion:
            raise bad(f"has {version!r}, which is not a version") from None
    spec = op + version
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        if op == "~=":
            raise bad("needs at least two version parts after ~= (e.g. ~=3.9)") from None
        raise bad("is not a valid version specifier") from None
    return [spec]


def parse_runtime_constraint(constraint: str) -> SpecifierSet:
    """The ``packaging`` SpecifierSet for a runtime constraint (see the module doc)."""
    try:
        return SpecifierSet(normalise_constraint(constraint))
    except InvalidSpecifier as exc:  # pragma: no cover - _normalise_part checks each part
        raise ValueError(str(exc)) from None


def extract_version(text: str) -> str | None:
    """The first version-looking token in ``text`` (a ``--version`` output), or None.

    ``v20.1.0`` -> ``20.1.0``; ``GNU bash, version 5.2.15(1)-release`` -> ``5.2.15``;
    ``Python 3.11.7`` -> ``3.11.7``; ``Python 3.13.0rc1`` -> ``3.13.0rc1``.
    """
    for pattern in (_VERSION_IN_TEXT, _LONE_NUMBER):
        for m in pattern.finditer(text):
            candidate = m["v"]
            try:
                return str(Version(candidate))
            except InvalidVersion:
                continue
    return None


# ------------------------------------------------------------------ detection

_version_cache: dict[str, tuple[str | None, str]] = {}


def clear_cache() -> None:
    """Forget detected versions (tests; long-running processes)."""
    _version_cache.clear()


def _clean_env(path: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.update({"PATH": path, "LC_ALL": "C", "LANG": "C"})
    return env


def detect_version(executable: str, *, path: str | None = None) -> tuple[str | None, str]:
    """Run ``EXECUTABLE --version`` once (cached) -> ``(version or None, why-not)``."""
    key = os.path.realpath(executable)
    cached = _version_cache.get(key)
    if cached is not None:
        return cached
    search_path = path if path is not None else os.environ.get("PATH", os.defpath)
    try:
        proc = subprocess.run(
            [executable, "--version"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=VERSION_TIMEOUT,
            env=_clean_env(search_path),
            check=False,
        )
    except subprocess.TimeoutExpired:
        result: tuple[str | None, str] = (
            None,
            f"'{executable} --version' did not finish in {VERSION_TIMEOUT:g} s",
        )
    except OSError as exc:
        result = (None, f"could not run '{executable} --version': {exc.strerror or exc}")
    else:
        out = proc.stdout.decode("utf-8", "replace") + "\n" + proc.stderr.decode("utf-8", "replace")
        first = out.strip().splitlines()[0][:120] if out.strip() else "nothing"
        # A failing "--version" (dash: "sh: 0: Illegal option --") is not trusted.
        version = extract_version(out) if proc.returncode == 0 else None
        if proc.returncode != 0:
            result = (
                None,
                f"'{executable} --version' failed with exit code {proc.returncode} ({first!r})",
            )
        elif version is None:
            result = (None, f"'{executable} --version' printed no version ({first!r})")
        else:
            result = (version, "")
    _version_cache[key] = result
    return result


def _find_executable(name: str, path: str | None) -> tuple[str | None, str]:
    """The executable for a runtime name -> (path or None, note)."""
    candidates = _ALIASES.get(name.lower(), (name,))
    for exe in candidates:
        found = shutil.which(exe, path=path)
        if found:
            return found, ""
    if name.lower() in ("python", "python3") and path is None and sys.executable:
        # No python on PATH: the interpreter running attune-packs is a sensible stand-in.
        return sys.executable, "no python3 on PATH; used the interpreter running attune-packs"
    return None, ""


# ------------------------------------------------------------------ checking


def _requirements(manifest_or_requirements: Any) -> list[tuple[str, str, str]]:
    """-> [(name, constraint, source)] from a Manifest, a mapping or an iterable."""
    out: list[tuple[str, str, str]] = []
    obj = manifest_or_requirements
    if obj is None:
        return out
    if hasattr(obj, "runtime_deps") and hasattr(obj, "version_requirements"):
        for req in obj.runtime_deps or []:
            out.extend(_requirements([req]))
        out.extend(_requirements(dict(obj.version_requirements or {})))
        return out
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            if value is None or str(value).strip() == "":
                continue
            k = str(key)
            source = k if k in ("python", "nodejs") else f"dependencies.{k}"
            if k in _SKIPPED_KEYS:
                out.append((k.removesuffix("_version"), str(value), f"skip:{source}"))
            elif k in _VERSION_KEYS:
                out.append((_VERSION_KEYS[k], str(value), source))
            # Any other key is not a runtime requirement: ignored.
        return out
    if isinstance(obj, str):
        obj = [obj]
    for req in obj:
        if isinstance(req, str):
            try:
                name, constraint = parse_runtime_requirement(req)
            except ValueError as exc:
                # Reported as a failed check instead of raising, named as written.
                out.append((req.strip() or "?", "\0" + str(exc), "runtime_deps"))
                continue
            out.append((name, constraint, "runtime_deps"))
        elif hasattr(req, "name"):
            out.append((str(req.name), str(getattr(req, "constraint", "") or ""), "runtime_deps"))
        else:
            raise TypeError(f"not a runtime requirement: {req!r}")
    return out


def _check_one(name: str, constraint: str, source: str, path: str | None) -> RuntimeCheck:
    if source.startswith("skip:"):
        return RuntimeCheck(
            name,
            constraint,
            "",
            source[5:],
            "skipped",
            detail="the Attune platform version is not checked by attune-packs",
        )
    if constraint.startswith("\0"):
        return RuntimeCheck(name, "", "", source, "invalid_requirement", detail=constraint[1:])
    if not _NAME_RE.fullmatch(name):
        return RuntimeCheck(
            name, constraint, "", source, "invalid_constraint", detail="invalid runtime name"
        )
    try:
        spec_text = normalise_constraint(constraint)
        spec = SpecifierSet(spec_text)
    except (ValueError, InvalidSpecifier) as exc:
        return RuntimeCheck(name, constraint, "", source, "invalid_constraint", detail=str(exc))
    executable, note = _find_executable(name, path)
    if executable is None:
        return RuntimeCheck(name, constraint, spec_text, source, "missing")
    if not spec_text:
        return RuntimeCheck(name, constraint, "", source, "ok", executable, detail=note)
    version, why = detect_version(executable, path=path)
    if version is None:
        return RuntimeCheck(
            name, constraint, spec_text, source, "unknown_version", executable, detail=why
        )
    ok = spec.contains(version, prereleases=True)
    return RuntimeCheck(
        name,
        constraint,
        spec_text,
        source,
        "ok" if ok else "unsatisfied",
        executable,
        version,
        detail=note,
    )


def check_runtimes(manifest_or_requirements: Any, *, path: str | None = None) -> list[RuntimeCheck]:
    """Check every runtime requirement; never raises for a missing runtime.

    ``manifest_or_requirements``: a ``Manifest`` (its ``runtime_deps`` and
    ``version_requirements``), a mapping like ``version_requirements``, or an iterable of
    ``RuntimeRequirement`` objects / requirement strings.  ``path``: the PATH to search
    (default: the process's PATH).
    """
    return [
        _check_one(name, constraint, source, path)
        for name, constraint, source in _requirements(manifest_or_requirements)
    ]


def ensure_runtimes(
    manifest_or_requirements: Any,
    *,
    path: str | None = None,
    pack: str | None = None,
) -> list[RuntimeCheck]:
    """Like :func:`check_runtimes` but raise ``DependencyError`` if any check failed.

    The one-line message names each failing runtime, the version found (or "not found")
    and the constraint; ``details["runtimes"]`` has every check.
    """
    checks = check_runtimes(manifest_or_requirements, path=path)
    failed = [c for c in checks if not c.ok]
    if failed:
        who = f"pack '{pack}'" if pack else "the pack"
        problems = "; ".join(c.message() for c in failed)
        raise DependencyError(
            f"{who} needs runtimes that are missing or unsuitable: {problems}",
            code="runtime_unsatisfied",
            details={"runtimes": [c.to_dict() for c in checks]},
        )
    return checks


def describe(checks: Iterable[RuntimeCheck]) -> list[dict[str, Any]]:
    """Plain dicts for JSON/YAML output."""
    return [c.to_dict() for c in checks]
