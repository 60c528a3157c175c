"""Versions as node-semver reads them: MAX_LENGTH, MAX_SAFE_INTEGER, a leading ``v``/``=``.

The expected values are node-semver 7.x's (``semver.valid`` and ``semver.validRange``,
checked with node while writing these tables); the tests themselves need no node.
What node's source says (``classes/semver.js``, ``internal/re.js``,
``internal/constants.js``):

* ``new SemVer(v)`` throws when ``v.length > 256`` (before trimming), then trims it and
  matches ``^v?MAJOR.MINOR.PATCH(-PRE)?(+BUILD)?$`` (the non-loose ``FULL`` regex: one
  optional ``v``, never ``=``), then throws for a major/minor/patch above 2**53-1;
* ranges use ``XRANGEPLAIN``, which allows ``[v=\\s]*`` before a version.

One deliberate difference: a numeric pre-release identifier above 2**53-1 is invalid
here; node keeps it as a string (and compares it through an inexact float).
"""

from __future__ import annotations

import pytest

from attune_packs import versioning as V

MAX = "9007199254740991"  # 2**53-1
OVER = "9007199254740992"

# (input, semver.valid(input)) -- node-semver 7.8's answers.
NODE_VALID: list[tuple[str, str | None]] = [
    ("1.2.3", "1.2.3"),
    ("v1.2.3", "1.2.3"),  # one "v" belongs to the strict grammar
    (" v1.2.3", "1.2.3"),
    ("=1.2.3", None),  # "=" only in loose mode and in ranges
    ("vv1.2.3", None),
    ("V1.2.3", None),
    ("v=1.2.3", None),
    ("=v1.2.3", None),
    ("v 1.2.3", None),
    ("= 1.2.3", None),
    ("v", None),
    ("=", None),
    (" 1.2.3 ", "1.2.3"),  # trimmed, as String.prototype.trim does
    ("\t1.2.3\n", "1.2.3"),
    ("\ufeff1.2.3", "1.2.3"),
    ("\u00a01.2.3", "1.2.3"),
    ("\u20031.2.3", "1.2.3"),
    ("\u20281.2.3", "1.2.3"),
    ("\x1c1.2.3", None),  # white space to Python, not to JavaScript
    ("\x851.2.3", None),
    ("1.2.3+build.1", "1.2.3"),
    ("v1.2.3-rc.1+b", "1.2.3-rc.1"),
    (f"1.2.{MAX}", f"1.2.{MAX}"),
    (f"1.2.{OVER}", None),
    (f"{OVER}.0.0", None),
    (f"0.{OVER}.0", None),
    ("1.2.99999999999999999999", None),
    (f"1.2.3-{MAX}", f"1.2.3-{MAX}"),
    ("1.2.3-0a9007199254740993", "1.2.3-0a9007199254740993"),  # not a number
    ("1.2.3-" + "a" * 250, "1.2.3-" + "a" * 250),  # 256 characters
    ("1.2.3-" + "a" * 251, None),  # 257
    ("1.2.3" + " " * 251, "1.2.3"),  # 256 before trimming
    ("1.2.3" + " " * 252, None),  # 257 before trimming
    ("v1.2.3-" + "a" * 249, "1.2.3-" + "a" * 249),  # the "v" counts
    ("v1.2.3-" + "a" * 250, None),
    ("1.2.3+" + "b" * 250, "1.2.3"),
    ("1.2", None),
    ("1.2.3.4", None),
    ("01.2.3", None),
    ("1.2.3-01", None),
    ("", None),
    ("1.2.3-", None),
    ("1.2.3-a..b", None),
    ("1.2.3 4", None),
    ("1.2.3-\u0661", None),
]

# Where node says valid and we say no, on purpose (see the module docstring).
PRERELEASE_OVER = [f"1.2.3-{OVER}", "1.2.3-a.99999999999999999999", f"v1.0.0-rc.{OVER}"]


def _canonical(version: str) -> bool:
    return not version.startswith("v") and version == version.strip(" \t\n\ufeff\u00a0\u2003\u2028")


@pytest.mark.parametrize(("version", "node"), NODE_VALID)
def test_valid_version_is_node_semver_valid(version: str, node: str | None) -> None:
    assert V.valid_version(version) == node


@pytest.mark.parametrize(("version", "node"), NODE_VALID)
def test_parsing_functions_accept_exactly_what_node_accepts(version: str, node: str | None) -> None:
    if node is None:
        with pytest.raises(ValueError, match="invalid version "):
            V.version_key(version)
        with pytest.raises(ValueError, match="invalid version "):
            V.compare_versions(version, "1.0.0")
        with pytest.raises(ValueError, match="invalid version "):
            V.satisfies(version, "*")
        assert V.sort_versions([version, "1.0.0"]) == ["1.0.0"]
        assert V.max_satisfying([version], "*") is None
    else:
        assert V.version_key(version) == V.version_key(node)
        assert V.compare_versions(version, node) == 0
        assert V.satisfies(version, node) is True
        # "*" admits no pre-release (node's default)
        assert V.max_satisfying([version], "*") == (None if "-" in node else version)


@pytest.mark.parametrize(("version", "node"), NODE_VALID)
def test_is_valid_version_is_the_canonical_form_within_the_limits(
    version: str, node: str | None
) -> None:
    assert V.is_valid_version(version) is (node is not None and _canonical(version))


@pytest.mark.parametrize("version", PRERELEASE_OVER)
def test_prerelease_numbers_over_the_limit_are_invalid_everywhere(version: str) -> None:
    assert V.valid_version(version) is None
    assert V.is_valid_version(version) is False
    with pytest.raises(ValueError, match=r"pre-release number \d+ is larger than 9007199254740991"):
        V.version_key(version)
    with pytest.raises(ValueError, match="larger than 9007199254740991"):
        V.parse_constraint(">=" + version)


def test_messages_name_the_limit() -> None:
    with pytest.raises(ValueError) as err:
        V.compare_versions("=1.2.3", "1.2.3")
    assert str(err.value) == (
        "invalid version '=1.2.3': a version cannot start with '=' "
        "(an operator belongs in a constraint)"
    )
    with pytest.raises(ValueError, match=f"the number {OVER} is larger than {MAX}"):
        V.version_key(f"1.{OVER}.0")
    with pytest.raises(ValueError, match="longer than 256 characters") as err:
        V.version_key("1.0.0-" + "x" * 300)
    assert len(str(err.value)) < 200  # the version is shortened in the message
    assert V.version_limit_problem("1.0.0-" + "x" * 300) == "longer than 256 characters"
    assert V.version_limit_problem(f"1.0.{OVER}") == f"the number {OVER} is larger than {MAX}"
    assert V.version_limit_problem("1.0.0") is None
    assert V.version_limit_problem("=1.0") is None  # malformed, but no limit broken


# (constraint, semver.validRange(constraint)) -- node-semver 7.8's answers.
NODE_RANGES: list[tuple[str, str | None]] = [
    ("=1.2.3", "1.2.3"),
    ("v1.2.3", "1.2.3"),
    (">=v1.2.3", ">=1.2.3"),
    ("=v1.2.3", "1.2.3"),
    ("= 1.2.3", "1.2.3"),
    (">= v1.2.3", ">=1.2.3"),
    ("^v1.2", ">=1.2.0 <2.0.0-0"),
    ("v1.2.3 - v2.3.4", ">=1.2.3 <=2.3.4"),
    (f"^1.2.{MAX}", f">=1.2.{MAX} <2.0.0-0"),
    (f"^1.2.{OVER}", None),
    (f">={OVER}", None),
    (f"^{MAX}", None),  # the upper bound would be 2**53
    (f"~1.{MAX}", None),
    (f">=1.2.3-{MAX}", f">=1.2.3-{MAX}"),
    (">=1.2.3-" + "a" * 250, ">=1.2.3-" + "a" * 250),
    (">=1.2.3-" + "a" * 251, None),
    ("1.2.3-" + "a" * 251, None),
    ("^1.2.3-" + "a" * 251, None),
    ("v1.2.3-" + "a" * 249, "1.2.3-" + "a" * 249),
    ("v1.2.3-" + "a" * 250, None),
]


@pytest.mark.parametrize(("constraint", "node"), NODE_RANGES)
def test_constraints_as_node_reads_them(constraint: str, node: str | None) -> None:
    if node is None:
        with pytest.raises(ValueError, match="invalid version constraint"):
            V.parse_constraint(constraint)
    else:
        assert V.parse_constraint(constraint).desugared == node


def test_constraints_keep_accepting_eq_and_v() -> None:
    assert V.satisfies("1.2.3", "=1.2.3") and V.satisfies("1.2.3", "v1.2.3")
    assert V.satisfies("v1.2.3", "=1.2.3")  # the version as node's valid() reads it
    assert not V.satisfies("1.2.4", "=v1.2.3")


# --------------------------------------------------------------------------- callers


LONG = "1.0.0-" + "a" * 251


@pytest.mark.parametrize(
    ("version", "fragment"),
    [
        (f"1.0.{OVER}", f"is not a valid version: the number {OVER} is larger than {MAX}"),
        (f"1.0.0-rc.{OVER}", "is not a valid version: the pre-release number"),
        (LONG, "is not a valid version: longer than 256 characters"),
        ("=1.0.0", "is not a semantic version"),
        ("v1.0.0", "is not a semantic version"),
    ],
)
def test_manifest_index_and_lock_file_refuse_them(version: str, fragment: str) -> None:
    from attune_packs.fetch.provenance import Provenance
    from attune_packs.pack.manifest import parse_manifest_data
    from attune_packs.registry.index_validation import validate_index_data
    from attune_packs.resolve.lockfile import LockedPack, LockFile, LockfileError, parse
    from tests.servers import index_doc, index_entry

    manifest, errors, _ = parse_manifest_data(
        {"ref": "demo", "label": "Demo", "description": "d", "version": version}
    )
    assert manifest is None
    assert [(e.code, e.field) for e in errors] == [("invalid_version", "version")]
    assert fragment in errors[0].message

    source = {"type": "archive", "url": "https://e.org/d.tar.gz", "checksum": "sha256:" + "a" * 64}
    for fmt in ("1.0", "1.1"):
        problems = validate_index_data(index_doc([index_entry("demo", version, [source])], fmt=fmt))
        on_version = [p for p in problems if ".version:" in p]
        assert on_version, problems
        if "valid version" in fragment:  # a malformed one gets the schema's pattern message
            assert any(fragment in p for p in on_version), problems

    doc = LockFile(
        ["demo"],
        [
            LockedPack(
                "demo",
                "1.0.0",
                Provenance("local_directory", "/p/d", checksum="sha256:" + "b" * 64),
            )
        ],
    ).to_dict()
    doc["packs"][0]["version"] = version
    with pytest.raises(LockfileError) as err:
        parse(doc)
    assert "packs[0].version" in err.value.message
    assert fragment in err.value.message
    assert "\n" not in err.value.message and len(err.value.message) < 300


def test_manifest_dependency_constraints_are_checked_the_same_way() -> None:
    from attune_packs.pack.manifest import parse_manifest_data

    base = {"ref": "demo", "label": "Demo", "description": "d", "version": "1.0.0"}
    ok, errors, _ = parse_manifest_data({**base, "dependencies": ["lib@=1.2.3", "web@v2"]})
    assert ok is not None and errors == []
    bad, errors, _ = parse_manifest_data({**base, "dependencies": [f"lib@^1.{OVER}"]})
    assert bad is None and errors
    assert f"larger than {MAX}" in errors[0].message


def test_resolver_candidates_follow_the_same_rules() -> None:
    from attune_packs.resolve.model import Candidate

    assert Candidate("demo", "v1.2.3").key == V.version_key("1.2.3")
    for bad in ("=1.2.3", f"1.2.{OVER}", LONG):
        with pytest.raises(ValueError, match="invalid version "):
            Candidate("demo", bad)
