"""Pack versions (semver 2.0.0) and npm node-semver constraints (DESIGN.md section 10).

Public API (used by the manifest validator, the installer, the registry and the resolver):

  satisfies(version: str, constraint: str) -> bool     # ValueError on a bad constraint or version
  parse_constraint(constraint: str) -> Constraint       # ValueError on a bad constraint (cached)
  Constraint.allows(version: str) -> bool
  is_valid_version(version: str) -> bool                # canonical semver 2.0.0, within limits
  version_limit_problem(version: str) -> str | None     # the node-semver limit it breaks
  valid_version(version: str) -> str | None             # node-semver's valid()
  compare_versions(a: str, b: str) -> int               # semver precedence (build ignored)
  max_satisfying(versions: Iterable[str], constraint: str) -> str | None
  version_key(version: str) -> tuple                    # a sort key with semver precedence

Constraint semantics are node-semver's (npm) without ``includePrerelease``:

* A constraint is one or more comparator *sets* joined by ``||`` (OR).  Inside a set,
  comparators separated by spaces or commas must all hold (AND).
* Comparators: ``=``, ``>``, ``>=``, ``<``, ``<=`` followed by a version (a bare version
  means ``=``).  A leading ``v`` on a version is tolerated (``>=v1.2.0``), and whitespace
  between an operator and its version is allowed (``>= 1.2.0``).
* X-ranges and partial versions: ``*``, ``x``, ``X``, ``""``, ``1``, ``1.x``, ``1.2``,
  ``1.2.*``.  ``1.x`` means ``>=1.0.0 <2.0.0-0``; with an operator the missing parts are
  filled as npm does (``>1.2`` -> ``>=1.3.0``, ``<=1.2`` -> ``<1.3.0-0``).
* Tilde ``~1.2.3`` (also ``~>``) allows patch changes; caret ``^1.2.3`` allows changes
  that do not modify the left-most non-zero part (``^0.2.3`` -> ``<0.3.0-0``,
  ``^0.0.3`` -> ``<0.0.4-0``), partial versions included (``^1.2``, ``~1``, ``^0.0``).
* Hyphen ranges ``A - B`` (spaces around the dash): a partial upper bound is an
  exclusive bound on the next part (``1.2.3 - 2.3`` -> ``>=1.2.3 <2.4.0-0``).  With the
  comma extension a hyphen range may be one comma-separated part of a set.
* Pre-release rule: a version with a pre-release tag (``1.2.3-beta.1``) satisfies a set
  only if the set has a comparator with a pre-release on the same ``MAJOR.MINOR.PATCH``
  (``>=1.2.3-alpha`` admits ``1.2.3-beta`` but not ``1.2.4-beta``).
* Build metadata (``+build.5``) is ignored for precedence and removed from constraints.

Deliberate differences from node-semver (all about malformed input, never about the meaning
of a valid constraint): ``satisfies`` raises ``ValueError`` for an invalid constraint or
version where node returns ``false``; a handful of odd spellings that node accepts by
accident of its regular expressions (``vv1.2``, ``^=1.2``, ``v=1.x``) and a number after a
wildcard (``1.x.3``, which node rejects only outside ``~``/``^``) are rejected; the comma
is an additional AND separator; numbers above 2**53-1 are rejected as in node.

Versions (checked against node-semver 7's source: ``classes/semver.js``, ``internal/re.js``,
``internal/constants.js``, ``functions/valid.js``).  ``valid(v)`` (non-loose, the default)
is ``new SemVer(v)``, which

* refuses a string longer than ``MAX_LENGTH`` = 256 characters (counted *before* trimming);
* trims it (JavaScript's ``String.prototype.trim``: ASCII spaces, tabs and line breaks,
  U+00A0, U+FEFF, the Zs spaces, U+2028/U+2029 -- not U+0085 or U+001C-U+001F);
* matches ``re[FULL]`` = ``^v?MAJOR.MINOR.PATCH(-PRE)?(+BUILD)?$``: ONE optional lowercase
  ``v`` is part of the strict grammar, so ``valid('v1.2.3')`` is ``'1.2.3'``, while
  ``=1.2.3``, ``vv1.2.3``, ``V1.2.3``, ``v=1.2.3`` and ``v 1.2.3`` are ``null``
  (``[v=\\s]*`` belongs only to the loose grammar and to ranges' ``XRANGEPLAIN``);
* refuses a major, minor or patch above ``MAX_SAFE_INTEGER`` = 2**53-1.

Every function here that parses a version (:func:`valid_version`, :func:`version_key`,
:func:`compare_versions`, :func:`sort_versions`, :func:`max_satisfying`, the version given
to :func:`satisfies` and :meth:`Constraint.allows`) accepts exactly those strings, with one
deliberate difference: a numeric pre-release identifier above 2**53-1 is refused too (node
keeps it as a string and compares it through an inexact float).  :func:`is_valid_version`,
the check for the versions a pack, an index entry or a lock file declares, is stricter: the
canonical form only (no ``v``, no surrounding white space), within the same limits.
Constraints keep node's range grammar, so ``=1.2.3``, ``v1.2.3`` and ``>=v1.2.3`` are
accepted there; a version in a constraint longer than 256 characters is refused.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import semver

__all__ = [
    "Comparator",
    "Constraint",
    "compare_versions",
    "is_valid_version",
    "max_satisfying",
    "parse_constraint",
    "satisfies",
    "sort_versions",
    "valid_version",
    "version_key",
    "version_limit_problem",
]

MAX_SAFE_INTEGER = 2**53 - 1  # node-semver's MAX_SAFE_INTEGER (Number.MAX_SAFE_INTEGER)
MAX_VERSION_LENGTH = 256  # node-semver's MAX_LENGTH
MAX_CONSTRAINT_LENGTH = 4096

# What JavaScript's String.prototype.trim() removes (WhiteSpace and LineTerminator).
_JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_NOT_SEMVER = (
    "expected a semantic version MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] such as 1.4.0 or 2.0.0-rc.1"
)

# A version key: (major, minor, patch, is_release, prerelease identifiers).  Releases sort
# after their pre-releases; numeric identifiers sort before alphanumeric ones.
VersionKey = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]

_PRE_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_PRE = rf"{_PRE_IDENT}(?:\.{_PRE_IDENT})*"
_XR = r"(?:0|[1-9]\d*|[xX*])"
# A partial version as node-semver's XRANGEPLAIN (with at most one leading "v"); a
# pre-release is only allowed after all three parts.
_PARTIAL_RE = re.compile(
    rf"v?(?P<M>{_XR})(?:\.(?P<m>{_XR})(?:\.(?P<p>{_XR})(?:-(?P<pre>{_PRE}))?)?)?"
)
_TOKEN_RE = re.compile(r"(?P<op><=|>=|<|>|=|~>|~|\^)?(?P<rest>.*)", re.DOTALL)
_OPERATOR_ONLY_RE = re.compile(r"(?:<=|>=|<|>|=|~>|~|\^)")
# Just enough of a version to find its numbers (for version_limit_problem's message).
_LIMIT_PARTS_RE = re.compile(
    r"v?(?P<M>\d+)\.(?P<m>\d+)\.(?P<p>\d+)(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]*)?",
    re.ASCII,
)
_WORD_SPLIT_RE = re.compile(r"[\s,]+")
_BUILD_RE = re.compile(r"\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*")
_EXAMPLES = "e.g. 1.2.3, >=1.0.0, ^1.2, ~1.2.3, 1.x, 1.2.3 - 2.0.0"

_OPS: dict[str, Callable[[object, object], bool]] = {
    "": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# --------------------------------------------------------------------------- versions


def _pre_key(prerelease: str | None) -> tuple[tuple[int, int | str], ...]:
    if not prerelease:
        return ()
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in prerelease.split("."))


def _show_version(version: str) -> str:
    return repr(version if len(version) <= 60 else version[:57] + "...")


def _too_big(major: int, minor: int, patch: int, pre: str | None) -> str | None:
    for n in (major, minor, patch):
        if n > MAX_SAFE_INTEGER:
            return f"the number {n} is larger than {MAX_SAFE_INTEGER}"
    for part in pre.split(".") if pre else ():
        if part.isdigit() and int(part) > MAX_SAFE_INTEGER:
            return f"the pre-release number {part} is larger than {MAX_SAFE_INTEGER}"
    return None


@lru_cache(maxsize=65536)
def _node_parse(version: str) -> tuple[VersionKey, str] | str:
    """node-semver's ``new SemVer(version)`` (not loose): ``(key, normalised)``, else why not.

    See the module docstring; the one difference is the limit on pre-release numbers."""
    if len(version) > MAX_VERSION_LENGTH:
        return f"longer than {MAX_VERSION_LENGTH} characters"
    text = version.strip(_JS_SPACE)
    if text.startswith("v"):
        text = text[1:]
    try:
        parsed = semver.Version.parse(text)
    except (ValueError, TypeError):
        if text.startswith("="):
            return "a version cannot start with '=' (an operator belongs in a constraint)"
        return _NOT_SEMVER
    pre = parsed.prerelease
    big = _too_big(parsed.major, parsed.minor, parsed.patch, pre)
    if big is not None:
        return big
    key = (parsed.major, parsed.minor, parsed.patch, 0 if pre else 1, _pre_key(pre))
    return key, f"{parsed.major}.{parsed.minor}.{parsed.patch}" + (f"-{pre}" if pre else "")


def _parse_version(version: str) -> VersionKey:
    if not isinstance(version, str):
        raise ValueError(f"invalid version {version!r}: a version must be a string")
    got = _node_parse(version)
    if isinstance(got, str):
        raise ValueError(f"invalid version {_show_version(version)}: {got}")
    return got[0]


def valid_version(version: str) -> str | None:
    """node-semver's ``valid(version)``: the normalised version (build metadata dropped),
    or None.  ``v1.2.3`` -> ``1.2.3``; ``=1.2.3`` -> None (see the module docstring)."""
    if not isinstance(version, str):
        return None
    got = _node_parse(version)
    return None if isinstance(got, str) else got[1]


def version_key(version: str) -> VersionKey:
    """A sort key ordering versions by semver precedence (build metadata ignored).

    Raises ValueError for a string that is not a semantic version.
    """
    return _parse_version(version)


def version_limit_problem(version: object) -> str | None:
    """The node-semver limit a version string breaks (``"longer than 256 characters"``,
    ``"the number N is larger than 9007199254740991"``...), or None.  For messages: a
    version breaking one is invalid however well-formed it is."""
    if not isinstance(version, str):
        return None
    if len(version) > MAX_VERSION_LENGTH:
        return f"longer than {MAX_VERSION_LENGTH} characters"
    m = _LIMIT_PARTS_RE.fullmatch(version.strip(_JS_SPACE))
    if m is None:
        return None
    return _too_big(int(m["M"]), int(m["m"]), int(m["p"]), m["pre"])


def is_valid_version(version: str) -> bool:
    """True for a canonical semver 2.0.0 version within node-semver's limits (no ``v``
    prefix, no surrounding space, at most 256 characters, numbers at most 2**53-1)."""
    if not isinstance(version, str) or version.startswith("v"):
        return False
    return version == version.strip(_JS_SPACE) and not isinstance(_node_parse(version), str)


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 by semver precedence; build metadata is ignored.  ValueError if invalid."""
    ka, kb = _parse_version(a), _parse_version(b)
    return (ka > kb) - (ka < kb)


def sort_versions(versions: Iterable[str], *, reverse: bool = False) -> list[str]:
    """The valid versions of ``versions`` sorted by precedence (invalid ones dropped)."""
    keyed = []
    for v in versions:
        try:
            keyed.append((_parse_version(v), v))
        except ValueError:
            continue
    keyed.sort(key=lambda item: item[0], reverse=reverse)
    return [v for _, v in keyed]


# ------------------------------------------------------------------------ constraints


@dataclass(frozen=True, slots=True)
class Comparator:
    """One primitive comparator: ``op`` in ``"" (=) < <= > >=`` and a full version."""

    op: str
    version: str
    key: VersionKey = field(compare=False, repr=False)

    @property
    def has_prerelease(self) -> bool:
        return bool(self.key[4])

    def test_key(self, key: VersionKey) -> bool:
        return _OPS[self.op](key, self.key)

    def __str__(self) -> str:
        return f"{self.op}{self.version}"


# Sentinels used while desugaring: ANY matches everything (subject to the pre-release rule),
# NULL matches nothing (node's "<0.0.0-0").
_ANY = None


def _cmp(op: str, major: int, minor: int, patch: int, pre: str | None = None) -> Comparator:
    big = _too_big(major, minor, patch, pre)
    if big is not None:
        raise _PartError(big)
    version = f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    if op == "=":
        op = ""
    return Comparator(op, version, (major, minor, patch, 0 if pre else 1, _pre_key(pre)))


def _null() -> Comparator:
    return _cmp("<", 0, 0, 0, "0")


def _is_null(c: Comparator | None) -> bool:
    return c is not None and c.op == "<" and c.version == "0.0.0-0"


class _PartError(ValueError):
    """Raised inside the parser; turned into a ValueError naming the whole constraint."""


@dataclass(frozen=True, slots=True)
class _Partial:
    major: int | None  # None = wildcard / missing
    minor: int | None
    patch: int | None
    pre: str | None

    @property
    def any_x(self) -> bool:
        return self.major is None or self.minor is None or self.patch is None


def _parse_partial(text: str, token: str) -> _Partial:
    m = _PARTIAL_RE.fullmatch(text)
    if m is None:
        raise _PartError(f"{token!r} is not a valid version or comparator ({_EXAMPLES})")

    def num(s: str | None) -> int | None:
        if s is None or s in ("x", "X", "*"):
            return None
        n = int(s)
        if n > MAX_SAFE_INTEGER:
            raise _PartError(f"{token!r}: number {s} is larger than {MAX_SAFE_INTEGER}")
        return n

    major, minor, patch = num(m["M"]), num(m["m"]), num(m["p"])
    big = _too_big(0, 0, 0, m["pre"])
    if big is not None:
        raise _PartError(f"{token!r}: {big}")
    # A number after a wildcard ("1.x.3", "x.2") is rejected, as node-semver does for
    # x-ranges (it silently ignores it after ~ and ^; we reject it everywhere).
    if (major is None and m["m"] is not None and minor is not None) or (
        minor is None and m["p"] is not None and patch is not None
    ):
        raise _PartError(f"{token!r}: a number cannot follow a wildcard (x, X or *)")
    return _Partial(major, minor, patch, m["pre"])


def _tilde(p: _Partial) -> list[Comparator | None]:
    if p.major is None:
        return [_ANY]
    if p.minor is None:
        return [_cmp(">=", p.major, 0, 0), _cmp("<", p.major + 1, 0, 0, "0")]
    upper = _cmp("<", p.major, p.minor + 1, 0, "0")
    if p.patch is None:
        return [_cmp(">=", p.major, p.minor, 0), upper]
    return [_cmp(">=", p.major, p.minor, p.patch, p.pre), upper]


def _caret(p: _Partial) -> list[Comparator | None]:
    if p.major is None:
        return [_ANY]
    if p.minor is None:
        return [_cmp(">=", p.major, 0, 0), _cmp("<", p.major + 1, 0, 0, "0")]
    if p.patch is None:
        lower = _cmp(">=", p.major, p.minor, 0)
        if p.major == 0:
            return [lower, _cmp("<", 0, p.minor + 1, 0, "0")]
        return [lower, _cmp("<", p.major + 1, 0, 0, "0")]
    lower = _cmp(">=", p.major, p.minor, p.patch, p.pre)
    if p.major == 0:
        if p.minor == 0:
            return [lower, _cmp("<", 0, 0, p.patch + 1, "0")]
        return [lower, _cmp("<", 0, p.minor + 1, 0, "0")]
    return [lower, _cmp("<", p.major + 1, 0, 0, "0")]


def _xrange(op: str, p: _Partial) -> list[Comparator | None]:
    if op == "=" and p.any_x:
        op = ""
    if not p.any_x:
        assert p.major is not None and p.minor is not None and p.patch is not None
        return [_cmp(op or "=", p.major, p.minor, p.patch, p.pre)]
    if p.major is None:
        return [_null()] if op in ("<", ">") else [_ANY]
    major, minor = p.major, p.minor
    if op:
        # Fill the missing parts with zeros, then move the bound as npm does.
        if op == ">":
            op = ">="
            if minor is None:
                return [_cmp(op, major + 1, 0, 0)]
            return [_cmp(op, major, minor + 1, 0)]
        if op == "<=":
            if minor is None:
                return [_cmp("<", major + 1, 0, 0, "0")]
            return [_cmp("<", major, minor + 1, 0, "0")]
        if op == "<":
            return [_cmp("<", major, minor or 0, 0, "0")]
        return [_cmp(op, major, minor or 0, 0)]  # ">="
    if minor is None:
        return [_cmp(">=", major, 0, 0), _cmp("<", major + 1, 0, 0, "0")]
    return [_cmp(">=", major, minor, 0), _cmp("<", major, minor + 1, 0, "0")]


def _hyphen(low_text: str, high_text: str) -> list[Comparator | None]:
    low = _parse_partial(low_text.removeprefix("="), low_text)
    high = _parse_partial(high_text.removeprefix("="), high_text)
    out: list[Comparator | None] = []
    if low.major is None:
        pass
    elif low.minor is None:
        out.append(_cmp(">=", low.major, 0, 0))
    elif low.patch is None:
        out.append(_cmp(">=", low.major, low.minor, 0))
    else:
        out.append(_cmp(">=", low.major, low.minor, low.patch, low.pre))
    if high.major is None:
        pass
    elif high.minor is None:
        out.append(_cmp("<", high.major + 1, 0, 0, "0"))
    elif high.patch is None:
        out.append(_cmp("<", high.major, high.minor + 1, 0, "0"))
    else:
        out.append(_cmp("<=", high.major, high.minor, high.patch, high.pre))
    return out or [_ANY]


def _simple(token: str) -> list[Comparator | None]:
    m = _TOKEN_RE.fullmatch(token)
    assert m is not None  # the pattern matches any string
    op, rest = m["op"] or "", m["rest"].lstrip()
    if not rest:
        raise _PartError(f"operator {op!r} has no version after it ({_EXAMPLES})")
    partial = _parse_partial(rest, token)
    if op in ("~", "~>"):
        return _tilde(partial)
    if op == "^":
        return _caret(partial)
    return _xrange(op, partial)


def _tokens(part: str) -> list[str]:
    """Split on whitespace, joining a lone operator with the version that follows it."""
    words = part.split()
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if _OPERATOR_ONLY_RE.fullmatch(word):
            if i + 1 >= len(words):
                raise _PartError(f"operator {word!r} has no version after it ({_EXAMPLES})")
            word = word + words[i + 1]
            i += 1
        out.append(word)
        i += 1
    return out


def _parse_set(text: str) -> tuple[Comparator, ...] | None:
    """One ``||`` alternative -> its comparators (``()`` = any) or None for the null set."""
    for word in _WORD_SPLIT_RE.split(text):
        version = word.lstrip("<>=~^")
        if len(version) > MAX_VERSION_LENGTH:
            raise _PartError(
                f"the version {_show_version(version)} is longer than "
                f"{MAX_VERSION_LENGTH} characters"
            )
    text = _BUILD_RE.sub("", text).strip()
    raw: list[Comparator | None] = []
    if text:
        parts = text.split(",")
        for part in parts:
            words = part.split()
            if not words:
                raise _PartError("empty part between commas")
            if len(words) == 3 and words[1] == "-":
                raw.extend(_hyphen(words[0], words[2]))
                continue
            if "-" in words:
                raise _PartError(
                    f"a hyphen range must be written 'LOW - HIGH' on its own (got {part.strip()!r})"
                )
            for token in _tokens(part):
                raw.extend(_simple(token))
    else:
        raw.append(_ANY)
    comps: dict[str, Comparator | None] = {}
    for c in raw:
        if c is not None and c.op == ">=" and c.version == "0.0.0":
            c = _ANY  # node: ">=0.0.0" is the same as "*"
        if _is_null(c):
            return None
        comps.setdefault("" if c is None else str(c), c)
    if len(comps) > 1:
        comps.pop("", None)
    return tuple(c for c in comps.values() if c is not None)


@dataclass(frozen=True)
class Constraint:
    """A parsed constraint: OR of comparator sets (an empty set matches any release)."""

    raw: str
    sets: tuple[tuple[Comparator, ...], ...]
    # Per set: the (major, minor, patch) triples whose pre-releases it admits.
    _pre_ok: tuple[frozenset[tuple[int, int, int]], ...] = field(repr=False, compare=False)

    @property
    def desugared(self) -> str:
        """node-semver's normalised form (``Range.range``): ``>=1.2.3 <2.0.0-0||...``; ``""`` = any."""
        return "||".join(" ".join(str(c) for c in s) for s in self.sets)

    @property
    def is_any(self) -> bool:
        """True when every release version satisfies the constraint (``*``, ``""``, ``x``...)."""
        return any(not s for s in self.sets)

    def allows(self, version: str) -> bool:
        """Whether ``version`` satisfies this constraint (ValueError if it is not a version)."""
        return self.allows_key(_parse_version(version))

    __contains__ = allows

    def allows_key(self, key: VersionKey) -> bool:
        for comps, pre_ok in zip(self.sets, self._pre_ok, strict=True):
            if all(c.test_key(key) for c in comps) and (
                not key[4] or (key[0], key[1], key[2]) in pre_ok
            ):
                return True
        return False

    def filter(self, versions: Iterable[str]) -> list[str]:
        """The valid versions among ``versions`` that satisfy the constraint, in input order."""
        out = []
        for v in versions:
            try:
                key = _parse_version(v)
            except ValueError:
                continue
            if self.allows_key(key):
                out.append(v)
        return out

    def __str__(self) -> str:
        return self.raw or "*"


def parse_constraint(constraint: str) -> Constraint:
    """Parse a node-semver constraint (cached).  ValueError names the bad part."""
    if not isinstance(constraint, str):
        raise ValueError(
            f"invalid version constraint {constraint!r}: a constraint must be a string"
        )
    return _parse_constraint(constraint)


@lru_cache(maxsize=8192)
def _parse_constraint(constraint: str) -> Constraint:
    if len(constraint) > MAX_CONSTRAINT_LENGTH:
        raise ValueError(
            f"invalid version constraint: longer than {MAX_CONSTRAINT_LENGTH} characters"
        )
    raw = " ".join(constraint.split())
    try:
        parsed = [_parse_set(alt) for alt in raw.split("||")]
    except _PartError as exc:
        raise ValueError(f"invalid version constraint {constraint!r}: {exc}") from None
    # node's Range: with several alternatives, drop the null ones (keep one if all are
    # null); if one alternative matches anything, the whole range is just that one.
    sets: list[tuple[Comparator, ...]]
    if len(parsed) > 1:
        live = [s for s in parsed if s is not None]
        if not live:
            sets = [(_null(),)]
        elif len(live) > 1 and any(not s for s in live):
            sets = [()]
        else:
            sets = live
    else:
        sets = [parsed[0] if parsed[0] is not None else (_null(),)]
    pre_ok = tuple(
        frozenset((c.key[0], c.key[1], c.key[2]) for c in s if c.has_prerelease) for s in sets
    )
    return Constraint(raw, tuple(sets), pre_ok)


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` satisfies the node-semver ``constraint``.

    Raises ValueError when the constraint (or the version) is invalid.
    """
    return parse_constraint(constraint).allows_key(_parse_version(version))


def max_satisfying(versions: Iterable[str], constraint: str) -> str | None:
    """The highest version in ``versions`` satisfying ``constraint`` (invalid versions are
    skipped; the first of equal-precedence versions wins).  ValueError on a bad constraint."""
    c = parse_constraint(constraint)
    best: str | None = None
    best_key: VersionKey | None = None
    for v in versions:
        try:
            key = _parse_version(v)
        except ValueError:
            continue
        if (best_key is None or key > best_key) and c.allows_key(key):
            best, best_key = v, key
    return best
