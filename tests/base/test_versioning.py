"""Constraint table for attune_packs.versioning (node-semver semantics, DESIGN.md section 10).

Every expectation below is node-semver's documented behaviour (its README's desugaring of
caret, tilde, x-range and hyphen ranges, and the pre-release rule), checked against
node-semver 7 while writing.  The comma as AND is attune-packs' extension.
"""

from __future__ import annotations

import pytest

from attune_packs import versioning as V

# --------------------------------------------------------------------------- desugaring
# constraint -> node-semver's normalised form (Range.range); "" means "any release".
DESUGAR = [
    # x-ranges and partial versions
    ("*", ""),
    ("x", ""),
    ("X", ""),
    ("", ""),
    ("   ", ""),
    ("1", ">=1.0.0 <2.0.0-0"),
    ("1.x", ">=1.0.0 <2.0.0-0"),
    ("1.X", ">=1.0.0 <2.0.0-0"),
    ("1.x.x", ">=1.0.0 <2.0.0-0"),
    ("1.2", ">=1.2.0 <1.3.0-0"),
    ("1.2.x", ">=1.2.0 <1.3.0-0"),
    ("1.2.*", ">=1.2.0 <1.3.0-0"),
    ("0.x", "<1.0.0-0"),  # >=0.0.0 is dropped as "any"
    ("1.2.x-beta", ">=1.2.0 <1.3.0-0"),
    # primitive comparators and prefixes
    ("1.2.3", "1.2.3"),
    ("=1.2.3", "1.2.3"),
    ("v1.2.3", "1.2.3"),
    ("=v1.2.3", "1.2.3"),
    (">1.2.3", ">1.2.3"),
    (">=1.2.3", ">=1.2.3"),
    ("<1.2.3", "<1.2.3"),
    ("<=1.2.3", "<=1.2.3"),
    ("> 1.2.3", ">1.2.3"),
    (">= 1.2.3 < 2", ">=1.2.3 <2.0.0-0"),
    (">=v1.2.3", ">=1.2.3"),
    # comparators with partial versions
    (">1", ">=2.0.0"),
    (">1.2", ">=1.3.0"),
    ("<1", "<1.0.0-0"),
    ("<1.2", "<1.2.0-0"),
    ("<=1", "<2.0.0-0"),
    ("<=1.2", "<1.3.0-0"),
    (">=1", ">=1.0.0"),
    (">=1.2", ">=1.2.0"),
    ("=1", ">=1.0.0 <2.0.0-0"),
    ("=1.2", ">=1.2.0 <1.3.0-0"),
    (">*", "<0.0.0-0"),
    ("<*", "<0.0.0-0"),
    (">=*", ""),
    ("<=*", ""),
    ("=*", ""),
    (">=0.0.0", ""),
    # tilde
    ("~1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~1.2", ">=1.2.0 <1.3.0-0"),
    ("~1", ">=1.0.0 <2.0.0-0"),
    ("~1.x", ">=1.0.0 <2.0.0-0"),
    ("~0.2.3", ">=0.2.3 <0.3.0-0"),
    ("~0.2", ">=0.2.0 <0.3.0-0"),
    ("~0", "<1.0.0-0"),
    ("~0.0.1", ">=0.0.1 <0.1.0-0"),
    ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"),
    ("~>1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~> 1.2", ">=1.2.0 <1.3.0-0"),
    ("~ 1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~v1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~*", ""),
    ("~x", ""),
    # caret
    ("^1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^0.2.3", ">=0.2.3 <0.3.0-0"),
    ("^0.0.3", ">=0.0.3 <0.0.4-0"),
    ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
    ("^0.0.3-beta", ">=0.0.3-beta <0.0.4-0"),
    ("^0.1.0-alpha", ">=0.1.0-alpha <0.2.0-0"),
    ("^1.2.x", ">=1.2.0 <2.0.0-0"),
    ("^1.2", ">=1.2.0 <2.0.0-0"),
    ("^0.0.x", "<0.1.0-0"),
    ("^0.0", "<0.1.0-0"),
    ("^0.1", ">=0.1.0 <0.2.0-0"),
    ("^1.x", ">=1.0.0 <2.0.0-0"),
    ("^1", ">=1.0.0 <2.0.0-0"),
    ("^0.x", "<1.0.0-0"),
    ("^0", "<1.0.0-0"),
    ("^0.0.0", "<0.0.1-0"),
    ("^0.0.1", ">=0.0.1 <0.0.2-0"),
    ("^*", ""),
    ("^ 1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^v1.2.3", ">=1.2.3 <2.0.0-0"),
    # hyphen ranges
    ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
    ("1.2 - 2.3.4", ">=1.2.0 <=2.3.4"),
    ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
    ("1.2.3 - 2", ">=1.2.3 <3.0.0-0"),
    ("1 - 2", ">=1.0.0 <3.0.0-0"),
    ("1.x - 2.x", ">=1.0.0 <3.0.0-0"),
    ("* - 2", "<3.0.0-0"),
    ("1.2.3 - *", ">=1.2.3"),
    ("1.2.3-pre - 2.3.4", ">=1.2.3-pre <=2.3.4"),
    ("1.2.3 - 2.3.4-pre", ">=1.2.3 <=2.3.4-pre"),
    ("v1.2.3 - v2.3.4", ">=1.2.3 <=2.3.4"),
    ("0.0.1 - 0.0.2", ">=0.0.1 <=0.0.2"),
    # AND, OR, de-duplication, build metadata, null sets
    (">=1.2.3 <2.0.0", ">=1.2.3 <2.0.0"),
    ("1.2.3 || 2.x", "1.2.3||>=2.0.0 <3.0.0-0"),
    (
        "1.x || >=2.5.0 || 5.0.0 - 7.2.3",
        ">=1.0.0 <2.0.0-0||>=2.5.0||>=5.0.0 <=7.2.3",
    ),
    ("<1.0.0 || >=2.0.0", "<1.0.0||>=2.0.0"),
    (">=1.0.0 >=1.0.0", ">=1.0.0"),
    (">=1.0.0 *", ">=1.0.0"),
    ("* *", ""),
    ("* || 1.0.0-beta", ""),
    ("1.2.3 ||", ""),
    ("<0.0.0-0 || 1.0.0", "1.0.0"),
    ("1.2.3+build", "1.2.3"),
    ("^1.2.3+build.5", ">=1.2.3 <2.0.0-0"),
    ("1.2.3-beta+exp.sha.5114f85", "1.2.3-beta"),
    # comma as AND (extension)
    (">=1.2.3, <2", ">=1.2.3 <2.0.0-0"),
    (">=1.2.3,<2", ">=1.2.3 <2.0.0-0"),
    ("1.2.3 - 2, <1.5 || ^3", ">=1.2.3 <3.0.0-0 <1.5.0-0||>=3.0.0 <4.0.0-0"),
]


@pytest.mark.parametrize(("constraint", "expected"), DESUGAR)
def test_desugar(constraint: str, expected: str) -> None:
    assert V.parse_constraint(constraint).desugared == expected


# --------------------------------------------------------------------------- satisfies
# (constraint, version, expected)
SATISFIES = [
    # plain and x-ranges
    ("*", "1.2.3", True),
    ("*", "0.0.0", True),
    ("", "1.0.0", True),
    ("x", "10.20.30", True),
    ("1", "1.9.9", True),
    ("1", "2.0.0", False),
    ("1.x", "0.9.9", False),
    ("1.2", "1.2.9", True),
    ("1.2", "1.3.0", False),
    ("1.2.x", "1.2.0", True),
    ("1.2.3", "1.2.3", True),
    ("1.2.3", "1.2.4", False),
    ("=1.2.3", "1.2.3+build.7", True),  # build metadata is ignored
    ("1.2.3+other", "1.2.3+build", True),
    ("v1.2.3", "1.2.3", True),
    (">1.2.3", "1.2.4", True),
    (">1.2.3", "1.2.3", False),
    (">=1.2.3", "1.2.3", True),
    ("<1.2.3", "1.2.2", True),
    ("<1.2.3", "1.2.3", False),
    ("<=1.2.3", "1.2.3", True),
    (">1", "1.9.9", False),
    (">1", "2.0.0", True),
    (">1.2", "1.2.9", False),
    (">1.2", "1.3.0", True),
    ("<=1.2", "1.2.9", True),
    ("<=1.2", "1.3.0", False),
    ("<1.2", "1.1.9", True),
    ("<1.2", "1.2.0", False),
    (">*", "1.0.0", False),
    ("<*", "0.0.0", False),
    # tilde
    ("~1.2.3", "1.2.3", True),
    ("~1.2.3", "1.2.9", True),
    ("~1.2.3", "1.3.0", False),
    ("~1.2.3", "1.2.2", False),
    ("~1.2", "1.2.0", True),
    ("~1", "1.9.0", True),
    ("~1", "2.0.0", False),
    ("~0.2.3", "0.2.5", True),
    ("~0.2.3", "0.3.0", False),
    ("~0", "0.9.9", True),
    ("~>1.2.3", "1.2.5", True),
    # caret
    ("^1.2.3", "1.2.3", True),
    ("^1.2.3", "1.9.9", True),
    ("^1.2.3", "2.0.0", False),
    ("^1.2.3", "1.2.2", False),
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.3.0", False),
    ("^0.0.3", "0.0.3", True),
    ("^0.0.3", "0.0.4", False),
    ("^1.2", "1.2.0", True),
    ("^1.2", "1.1.9", False),
    ("^0.0", "0.0.9", True),
    ("^0.0", "0.1.0", False),
    ("^0.0.x", "0.0.5", True),
    ("^0.x", "0.9.0", True),
    ("^0.x", "1.0.0", False),
    ("^1.x", "1.0.0", True),
    ("^0", "0.5.0", True),
    ("^0.1", "0.1.9", True),
    ("^0.1", "0.2.0", False),
    # hyphen ranges
    ("1.2.3 - 2.3.4", "1.2.3", True),
    ("1.2.3 - 2.3.4", "2.3.4", True),
    ("1.2.3 - 2.3.4", "2.3.5", False),
    ("1.2.3 - 2.3", "2.3.9", True),
    ("1.2.3 - 2.3", "2.4.0", False),
    ("1.2.3 - 2", "2.9.9", True),
    ("1.2.3 - 2", "3.0.0", False),
    ("1.2 - 2.3.4", "1.2.0", True),
    ("* - 2", "0.0.1", True),
    ("1.2.3 - *", "10.0.0", True),
    # AND / OR
    (">=1.2.3 <2.0.0", "1.5.0", True),
    (">=1.2.3 <2.0.0", "2.0.0", False),
    (">1.0.0 <=1.5.0", "1.5.0", True),
    ("1.2.3 || 2.x", "2.3.4", True),
    ("1.2.3 || 2.x", "1.2.4", False),
    ("1.x || >=2.5.0 || 5.0.0 - 7.2.3", "2.4.0", False),
    ("1.x || >=2.5.0 || 5.0.0 - 7.2.3", "2.5.0", True),
    ("1.x || >=2.5.0 || 5.0.0 - 7.2.3", "7.2.4", True),
    ("<1.0.0 || >=2.0.0", "1.5.0", False),
    ("<1.0.0 || >=2.0.0", "0.9.0", True),
    (">=1.2.3, <2", "1.9.9", True),
    (">=1.2.3, <2", "2.0.0", False),
    (">=1.2.3,<1.2.3", "1.2.3", False),
    # pre-releases: only when a comparator has one on the same major.minor.patch
    ("*", "1.0.0-beta", False),
    ("", "1.0.0-beta", False),
    (">=0.0.0", "0.0.0-alpha", False),
    ("^1.2.3", "1.3.0-beta", False),
    ("^1.2.3", "2.0.0-alpha", False),
    ("^1.2.3-beta.2", "1.2.3-beta.3", True),
    ("^1.2.3-beta.2", "1.2.3-beta.1", False),
    ("^1.2.3-beta.2", "1.2.4-beta.2", False),
    ("^1.2.3-beta.2", "1.2.3", True),
    ("^0.0.3-beta", "0.0.3-pr.2", True),
    ("^0.0.3-beta", "0.0.3-alpha", False),
    ("~1.2.3-beta.2", "1.2.3-beta.4", True),
    ("~1.2.3-beta.2", "1.2.4-beta.2", False),
    (">1.2.3-alpha.3", "1.2.3-alpha.7", True),
    (">1.2.3-alpha.3", "3.4.5-alpha.9", False),
    (">1.2.3-alpha.3", "3.4.5", True),
    (">=1.2.3-alpha.7 <2", "1.2.3-beta", True),
    (">=1.2.3-alpha.7 <2", "1.2.3-alpha.6", False),
    (">=1.0.0-alpha <1.0.0", "1.0.0-beta", True),
    (">=1.0.0-alpha <1.0.0", "1.0.0", False),
    ("1.2.3-beta", "1.2.3-beta", True),
    ("=1.2.3-beta", "1.2.3-beta+build", True),
    ("1.2.3-beta", "1.2.3", False),
    ("<1.2.3-rc.1 >1.2.2", "1.2.3-beta", True),
    ("<1.2.3-rc.1 >1.2.2", "1.2.3-rc.1", False),
    ("1.2.3-pre - 2.3.4", "1.2.3-pre.1", True),
    ("1.2.3 - 2.3.4-pre", "2.3.4-alpha", True),
    ("1.2.3 - 2.3.4-pre", "2.3.4-pre.1", False),
    ("1.2.3 - 2.3.4", "2.3.4-pre", False),
    ("* || 1.0.0-beta", "1.0.0-beta", False),  # node: a "*" alternative swallows the rest
    ("1.x || 1.0.0-beta", "1.0.0-beta", True),
    ("<2.0.0-0", "2.0.0-alpha", False),
    ("<=1.2.3-beta", "1.2.3-alpha", True),
    (">=0.0.0 <=0.0.0-beta", "0.0.0-alpha", True),  # node drops ">=0.0.0"
    # pre-release precedence (semver 2.0.0 section 11)
    (">1.0.0-alpha", "1.0.0-alpha.1", True),
    (">1.0.0-alpha.1", "1.0.0-alpha.beta", True),
    (">1.0.0-alpha.beta", "1.0.0-beta", True),
    (">1.0.0-beta", "1.0.0-beta.2", True),
    (">1.0.0-beta.2", "1.0.0-beta.11", True),
    (">1.0.0-beta.11", "1.0.0-rc.1", True),
    (">1.0.0-rc.1", "1.0.0", True),
    ("<1.0.0-rc.1", "1.0.0-1", True),  # numeric identifiers sort before alphanumeric
    # a leading "v" on the version is tolerated
    ("^1.2.3", "v1.4.0", True),
]


@pytest.mark.parametrize(("constraint", "version", "expected"), SATISFIES)
def test_satisfies(constraint: str, version: str, expected: bool) -> None:
    assert V.satisfies(version, constraint) is expected
    assert V.parse_constraint(constraint).allows(version) is expected


# --------------------------------------------------------------------------- invalid
INVALID = [
    ("foo", "'foo'"),
    ("1.2.3.4", "'1.2.3.4'"),
    ("01.2.3", "'01.2.3'"),
    ("1.02", "'1.02'"),
    (">=", "operator '>='"),
    (">=1.2.3 <", "operator '<'"),
    ("^", "operator '^'"),
    ("~", "operator '~'"),
    ("1.2.3 -", "hyphen range"),
    ("- 1.2.3", "hyphen range"),
    ("1 - 2 - 3", "hyphen range"),
    ("1.2.3 -2", "'-2'"),
    ("1.2-beta", "'1.2-beta'"),
    ("1.x-beta", "'1.x-beta'"),
    ("1.x.3", "wildcard"),
    ("x.2", "wildcard"),
    (">>1", "'>>1'"),
    ("=>1", "'=>1'"),
    ("==1.2.3", "'==1.2.3'"),
    ("!=1.2.3", "'!=1.2.3'"),
    ("1.2.3-", "'1.2.3-'"),
    ("1.2.3-01", "'1.2.3-01'"),
    ("1.2.3-a..b", "'1.2.3-a..b'"),
    ("1.2.3 & 2", "'&'"),
    ("a - b", "'a'"),
    ("1.2.3,", "empty part between commas"),
    (">=1, ,<2", "empty part between commas"),
    ("99999999999999999.0.0", "larger than"),
    ("vv1.2", "'vv1.2'"),
    ("^1.2 | 2", "'|'"),
]


@pytest.mark.parametrize(("constraint", "fragment"), INVALID)
def test_invalid_constraint(constraint: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="invalid version constraint") as info:
        V.parse_constraint(constraint)
    assert fragment in str(info.value)
    with pytest.raises(ValueError):
        V.satisfies("1.2.3", constraint)


@pytest.mark.parametrize("bad", [None, 3, 1.2, ["^1"], {"a": 1}])
def test_non_string_constraint(bad: object) -> None:
    with pytest.raises(ValueError, match="must be a string"):
        V.parse_constraint(bad)  # type: ignore[arg-type]


def test_too_long_constraint() -> None:
    with pytest.raises(ValueError, match="longer than"):
        V.parse_constraint(">=1.0.0 " * 1000)


# --------------------------------------------------------------------------- versions
@pytest.mark.parametrize(
    ("version", "valid"),
    [
        ("1.2.3", True),
        ("0.0.0", True),
        ("1.2.3-alpha.1", True),
        ("1.2.3-0a", True),
        ("1.2.3+build.01", True),
        ("1.0.0-rc.1+build.1", True),
        ("v1.2.3", False),
        ("1.2", False),
        ("01.2.3", False),
        ("1.2.3-01", False),
        ("1.2.3-", False),
        (" 1.2.3", False),
        ("1.2.3\n", False),
        ("", False),
        (None, False),
    ],
)
def test_is_valid_version(version: str, valid: bool) -> None:
    assert V.is_valid_version(version) is valid


@pytest.mark.parametrize("bad", ["1.2", "", "V1.2.3", "1.2.3.4", None, ["1.2.3"]])
def test_satisfies_rejects_a_bad_version(bad: object) -> None:
    with pytest.raises(ValueError, match="invalid version "):
        V.satisfies(bad, "*")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        V.compare_versions(bad, "1.0.0")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0.0", "2.0.0", -1),
        ("2.0.0", "1.9.9", 1),
        ("1.0.0", "1.0.0+build", 0),
        ("1.0.0-alpha", "1.0.0", -1),
        ("1.0.0-alpha", "1.0.0-alpha.1", -1),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
        ("1.0.0-beta.2", "1.0.0-beta.11", -1),
        ("1.0.0-rc.1", "1.0.0-beta.11", 1),
        ("1.10.0", "1.9.0", 1),
    ],
)
def test_compare_versions(a: str, b: str, expected: int) -> None:
    assert V.compare_versions(a, b) == expected
    assert V.compare_versions(b, a) == -expected


def test_sorting_follows_precedence() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
    ]
    shuffled = [ordered[i] for i in (5, 2, 9, 0, 7, 3, 8, 1, 6, 4)]
    assert V.sort_versions([*shuffled, "junk"]) == ordered
    assert sorted(shuffled, key=V.version_key) == ordered


def test_max_satisfying() -> None:
    versions = ["1.0.0", "1.5.0", "1.9.0-beta", "2.0.0", "not-a-version", "1.5.0+b"]
    assert V.max_satisfying(versions, "^1") == "1.5.0"  # first of equal precedence
    assert V.max_satisfying(versions, ">=1.9.0-beta <2") == "1.9.0-beta"
    assert V.max_satisfying(versions, ">2") is None
    assert V.max_satisfying([], "*") is None
    with pytest.raises(ValueError):
        V.max_satisfying(versions, "nope")


def test_constraint_object() -> None:
    c = V.parse_constraint("  ^1.2   ||  ~3 ")
    assert str(c) == "^1.2 || ~3"
    assert str(V.parse_constraint("")) == "*"
    assert c.is_any is False and V.parse_constraint("x").is_any is True
    assert "1.3.0" in c and "3.1.0" in c and "2.0.0" not in c
    assert c.filter(["1.1.0", "1.2.0", "junk", "3.0.9"]) == ["1.2.0", "3.0.9"]
    # parsing is cached: the same object comes back
    assert V.parse_constraint("  ^1.2   ||  ~3 ") is c
