"""The index model, validation and canonical form (attune_packs/index.py)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import attune_packs
from attune_packs.errors import IndexError_, NotFound
from attune_packs.registry import index, index_format, index_read, index_validation
from tests.conftest import REFERENCE_INDEX, REFERENCE_SCHEMA
from tests.servers import index_entry

SHA = "sha256:" + "ab" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def entry(ref: str = "demo", version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    git = {"type": "git", "url": f"https://example.org/{ref}.git", "ref": COMMIT, "checksum": SHA}
    defaults = {"label": ref.title(), "description": "A pack", "license": "MIT"}
    return index_entry(ref, version, [git], **{**defaults, **extra})


def doc_of(*packs: dict[str, Any], fmt: str = "1.0") -> dict[str, Any]:
    return {
        "registry_name": "Test Registry",
        "registry_url": "https://example.org/registry",
        "version": fmt,
        "last_updated": "2026-01-02T03:04:05Z",
        "packs": list(packs),
    }


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    return json.loads(REFERENCE_INDEX.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the real index


def test_real_index_is_valid_unchanged(reference: dict[str, Any]) -> None:
    before = copy.deepcopy(reference)
    assert index_validation.validate_index_data(reference, remote=True) == []
    assert index_validation.validate_index_data(reference, remote=False) == []
    assert reference == before


def test_real_index_round_trips_byte_for_byte() -> None:
    text = REFERENCE_INDEX.read_text(encoding="utf-8")
    assert index_format.dump_index(json.loads(text)) == text
    parsed = index_read.load_index_file(REFERENCE_INDEX)
    assert index_format.dump_index(parsed) == text


def test_shipped_schema_is_the_reference_copy() -> None:
    shipped = Path(attune_packs.__file__).parent / "data" / "index.schema.json"
    assert shipped.read_bytes() == REFERENCE_SCHEMA.read_bytes()
    base = json.loads(REFERENCE_SCHEMA.read_text(encoding="utf-8"))
    v11 = index_validation.schema_for("1.1")
    assert v11["properties"]["version"] == {"const": "1.1"}
    # Only the format constant and the install-source URL pattern (checked in code) differ.
    for branch in base["$defs"]["installSource"]["oneOf"]:
        branch["properties"]["url"] = {"type": "string"}
    base["properties"]["version"] = {"const": "1.1"}
    assert v11 == base


def test_parse_index_model(reference: dict[str, Any]) -> None:
    idx = index_read.parse_index(REFERENCE_INDEX.read_bytes(), remote=True, location="ref.json")
    assert idx.registry_name == "Attune Standard Pack Index"
    assert idx.registry_url == "https://github.com/attune-system/index"
    assert idx.version == "1.0" and idx.last_updated == "2026-08-22T01:53:58Z"
    assert len(idx.packs) == 44 and idx.refs[0] == "activedirectory"
    ms = idx.latest("msexchange")
    assert ms is not None and ms.dependencies_packs() == ["core"]
    slack = idx.latest("slack")
    assert slack is not None and slack.ref == "slack" and slack.raw["ref"] == "slack"
    assert slack.label and slack.description and "slack" in slack.keywords
    assert isinstance(slack.runtime_deps, list)
    kinds = [s.type for s in slack.install_sources]
    assert kinds == ["git", "archive"]
    git = slack.install_sources[0]
    assert git.ref and index.COMMIT_RE.fullmatch(git.ref) and git.checksum.startswith("sha256:")
    assert slack.install_sources[1].ref is None
    assert idx.get("slack", slack.version) is slack and idx.get("slack", "9.9.9") is None
    assert idx.entries("nope") == [] and idx.latest("nope") is None
    # validate=False skips jsonschema but still gives the same model.
    fast = index_read.parse_index(reference, remote=True, location="x", validate=False)
    assert [e.ref for e in fast.packs] == idx.refs


def test_parse_without_validation_still_checks_the_shape() -> None:
    with pytest.raises(IndexError_, match="not an Attune pack index"):
        index_read.parse_index({"packs": [{"ref": 1}]}, remote=True, location="x", validate=False)
    with pytest.raises(IndexError_, match="not an Attune pack index"):
        index_read.parse_index([], remote=True, location="x", validate=False)


def test_parse_refuses_invalid_with_every_problem() -> None:
    bad = doc_of(entry(version="one"), entry("alpha", install_sources=[]))
    with pytest.raises(IndexError_) as info:
        index_read.parse_index(bad, remote=True, location="bad.json")
    assert info.value.exit_code == 1
    assert "bad.json" in info.value.message and "3 problems" in info.value.message
    assert info.value.details["problems"] == [
        "packs[0] (demo).version: 'one' is not a semantic version "
        "(MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)",
        "packs[1] (alpha): packs are not sorted by ref: 'alpha' comes after 'demo'",
        "packs[1] (alpha).install_sources: [] should be non-empty",
    ]


def test_load_index_file_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="index file not found"):
        index_read.load_index_file(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(IndexError_, match="not valid JSON"):
        index_read.load_index_file(tmp_path / "broken.json")
    (tmp_path / "nan.json").write_text('{"a": NaN}', encoding="utf-8")
    with pytest.raises(IndexError_, match="NaN"):
        index_read.load_index_file(tmp_path / "nan.json")
    (tmp_path / "latin.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(IndexError_, match="UTF-8"):
        index_read.load_index_file(tmp_path / "latin.json")
    with pytest.raises(IndexError_, match="is a directory"):
        index_read.load_index_file(tmp_path)


# ------------------------------------------------------------------ validation rules


def test_every_problem_is_reported(reference: dict[str, Any]) -> None:
    bad = copy.deepcopy(reference)
    packs = bad["packs"]
    bad["version"] = "2.0"
    bad["last_updated"] = "2026-13-01T00:00:00Z"
    bad["registry_url"] = "https://example.org/index?token=1"
    packs[0]["install_sources"][0]["url"] = "http://user:secret@example.org/a.git"
    packs[0]["install_sources"][1]["checksum"] = "sha256:" + "A" * 64
    packs[1]["install_sources"][1]["checksum"] = "sha256:" + "a" * 64 + "\n"
    packs[1]["install_sources"][0]["type"] = "svn"
    packs[2]["version"] = "01.0.0"
    packs[3]["ref"] = "aws\n"
    packs[4], packs[5] = packs[5], packs[4]
    packs[6] = copy.deepcopy(packs[7])
    packs[8]["install_sources"][0]["ref"] = "--upload-pack=evil"
    packs[9]["dependencies"] = {"packs": ["core@^^1", "Bad"]}
    packs[10]["contents"]["actions"].append(dict(packs[10]["contents"]["actions"][0]))
    del packs[11]["license"]
    packs[12]["label"] = "   "
    packs[13]["repository"] = "http://example.org/x"
    packs[14]["homepage"] = "not a url"
    problems = index_validation.validate_index_data(bad)
    text = "\n".join(problems)
    expected = [
        "version: unsupported index format '2.0'",
        "last_updated: '2026-13-01T00:00:00Z' is not an RFC 3339 date-time",
        # the query may hold a token: messages never show it
        "registry_url: 'https://example.org/index?…' must not carry a query",
        "install_sources[0].url: 'http://***@example.org/a.git' must use https://",
        "install_sources[1].checksum: 'sha256:AAAA",
        "(ansible).install_sources[0].type: must be 'git' or 'archive', not 'svn'",
        "(ansible).install_sources[1].checksum: 'sha256:aaaa",
        "(attune).version: '01.0.0' is not a semantic version",
        "packs[3].ref: 'aws\\n' is not a valid pack ref",
        "packs are not sorted by ref: 'azure' comes after 'cloudflare'",
        "duplicate entry 'datadog' (first at packs[6])",
        "install_sources[0].ref: '--upload-pack=evil' must not start with '-'",
        "dependencies.packs[0]: 'core@^^1' has an invalid constraint",
        "dependencies.packs[1]: 'Bad' is not a pack requirement",
        "duplicate actions name",
        "(freeipa): 'license' is a required property",
        "label: must not be blank",
        "repository: 'http://example.org/x' must use https://",
        "homepage: 'not a url' contains whitespace",
    ]
    for fragment in expected:
        assert fragment in text, fragment
    assert "secret" not in text  # credentials are never echoed
    assert len(problems) == len(set(problems)) == len(expected)  # each place once
    assert problems == index_validation.validate_index_data(bad)  # deterministic order


def test_trailing_newline_values_are_refused() -> None:
    # Python's '$' matches before a final newline; the schema patterns alone miss this.
    bad = entry()
    bad["install_sources"][0]["checksum"] = SHA + "\n"
    problems = index_validation.validate_index_data(doc_of(bad))
    assert any("checksum" in p for p in problems)
    assert index_validation.validate_index_data(doc_of(entry("demo\n")))


@pytest.mark.parametrize(
    ("url", "remote_ok", "local_ok"),
    [
        ("https://example.org/p.tgz", True, True),
        ("http://example.org/p.tgz", False, False),
        ("packs/p-1.0.0.tgz", False, True),
        ("../mirror/p.tgz", False, False),  # leaves the index's folder
        ("/srv/mirror/p.tgz", False, True),
        ("file:///srv/mirror/p.tgz", False, True),
        ("ssh://git@example.org/p.git", False, False),
        ("git@example.org:p.git", False, False),
        ("https://user:pw@example.org/p.tgz", False, False),
        ("https://example.org/p.tgz?sig=1", False, False),
        ("https://example.org/p.tgz#frag", False, False),
        ("packs/p.tgz?x=1", False, False),
        ("https://", False, False),
        ("https://exa mple.org/p", False, False),
    ],
)
def test_install_source_urls(url: str, remote_ok: bool, local_ok: bool) -> None:
    pack = entry(install_sources=[{"type": "archive", "url": url, "checksum": SHA}])
    assert (index_validation.validate_index_data(doc_of(pack), remote=True) == []) is remote_ok
    assert (index_validation.validate_index_data(doc_of(pack), remote=False) == []) is local_ok


def test_allow_http_for_remote_sources() -> None:
    pack = entry(
        install_sources=[{"type": "archive", "url": "http://e.org/p.tgz", "checksum": SHA}]
    )
    assert index_validation.validate_index_data(doc_of(pack), allow_http=True) == []
    assert index_validation.validate_index_data(doc_of(pack)) != []


def test_resolve_url_of_a_local_index(tmp_path: Path) -> None:
    pack = entry(install_sources=[{"type": "archive", "url": "packs/p.tgz", "checksum": SHA}])
    path = tmp_path / "mirror" / "index.json"
    path.parent.mkdir()
    path.write_text(index_format.dump_index(doc_of(pack)), encoding="utf-8")
    idx = index_read.load_index_file(path)
    assert idx.resolve_url("packs/p.tgz") == str(tmp_path / "mirror" / "packs" / "p.tgz")
    with pytest.raises(IndexError_, match=r"'\.\./x\.tgz' leaves the index's folder"):
        idx.resolve_url("../x.tgz")
    assert idx.resolve_url("file:///srv/p.tgz") == "/srv/p.tgz"
    assert idx.resolve_url("https://e.org/p.tgz") == "https://e.org/p.tgz"
    remote = index_read.parse_index(doc_of(entry()), remote=True, location="https://e.org/i.json")
    assert remote.resolve_url("p.tgz") == "p.tgz"


def test_format_1_1_keeps_history_in_semver_order() -> None:
    packs = [entry("demo", "2.9.0"), entry("demo", "2.10.0"), entry("other", "1.0.0")]
    assert index_validation.validate_index_data(doc_of(*packs, fmt="1.1")) == []
    problems = index_validation.validate_index_data(doc_of(*packs, fmt="1.0"))
    assert problems == ["packs[1] (demo): duplicate entry 'demo' (first at packs[0])"]
    swapped = [packs[1], packs[0], packs[2]]
    problems = index_validation.validate_index_data(doc_of(*swapped, fmt="1.1"))
    assert problems == [
        "packs[1] (demo): packs are not sorted by ref, then version: demo 2.9.0 comes after "
        "demo 2.10.0"
    ]
    dup = [packs[0], copy.deepcopy(packs[0])]
    assert (
        "duplicate entry demo 2.9.0"
        in index_validation.validate_index_data(doc_of(*dup, fmt="1.1"))[0]
    )
    # Pre-releases sort before their release; build metadata is a tie broken by text.
    ordered = [entry("x", v) for v in ("1.0.0-rc.1", "1.0.0", "1.0.0+b1", "1.0.0+b2", "1.1.0")]
    assert index_validation.validate_index_data(doc_of(*ordered, fmt="1.1")) == []
    assert index_format.sort_entries(reversed(ordered)) == ordered


def test_format_1_1_round_trip(tmp_path: Path) -> None:
    doc = doc_of(entry("demo", "2.9.0"), entry("demo", "2.10.0"), fmt="1.1")
    path = tmp_path / "history.json"
    path.write_text(index_format.dump_index(doc), encoding="utf-8")
    idx = index_read.load_index_file(path)
    assert idx.version == "1.1"
    assert [e.version for e in idx.entries("demo")] == ["2.9.0", "2.10.0"]
    latest = idx.latest("demo")
    assert latest is not None and latest.version == "2.10.0"
    assert index_format.dump_index(idx) == path.read_text(encoding="utf-8")
    # The 1.1 schema differs from the reference only in the format constant.
    import jsonschema

    schema = json.loads(REFERENCE_SCHEMA.read_text(encoding="utf-8"))
    schema["properties"]["version"] = {"const": "1.1"}
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)


def test_validate_entry_data() -> None:
    assert index_validation.validate_entry_data(entry()) == []
    problems = index_validation.validate_entry_data(entry(version="1.0", homepage="nowhere"))
    assert problems == [
        "homepage: 'nowhere' must be an https:// URL",
        "version: '1.0' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)",
    ]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-01-02T03:04:05Z", True),
        ("2026-01-02t03:04:05.123456789+05:30", True),
        ("2026-01-02T03:04:05-00:00", True),
        ("2026-01-02 03:04:05Z", False),
        ("2026-01-02T03:04:05", False),
        ("2026-02-30T00:00:00Z", False),
        ("2026-01-02T24:00:00Z", False),
        ("2026-01-02T03:04:05+24:00", False),
        ("2026-01-02T03:04:05Z\n", False),
    ],
)
def test_rfc3339(value: str, ok: bool) -> None:
    assert (index_format.parse_rfc3339(value) is not None) is ok


# ------------------------------------------------------------------ canonical form


def test_dump_index_is_canonical() -> None:
    pack = entry(meta={"z": 1, "a": {"y": 2, "b": 3}}, homepage="https://e.org", use_case="u")
    pack["dependencies"] = {"packs": ["core"], "attune_version": ">=1.0"}
    shuffled = {k: pack[k] for k in reversed(list(pack))}
    shuffled["install_sources"] = [dict(reversed(list(s.items()))) for s in pack["install_sources"]]
    doc = doc_of(pack)
    text = index_format.dump_index(doc)
    assert text == index_format.dump_index({k: doc_of(shuffled)[k] for k in reversed(list(doc))})
    assert text.endswith("}\n") and not text.endswith("\n\n")
    out = json.loads(text)
    assert list(out) == list(index.INDEX_KEYS)
    keys = list(out["packs"][0])
    assert keys == [k for k in index.ENTRY_KEYS if k in pack]
    assert list(out["packs"][0]["install_sources"][0]) == ["type", "url", "ref", "checksum"]
    assert list(out["packs"][0]["dependencies"]) == ["attune_version", "packs"]
    assert list(out["packs"][0]["meta"]) == ["z", "a"]  # free-form meta keeps its order
    assert '\n  "registry_name"' in text  # two-space indent


def test_dump_escapes_non_ascii_like_the_published_index() -> None:
    text = index_format.dump_index(doc_of(entry(description="Zürich — 東京")))
    assert text.isascii() and "Z\\u00fcrich \\u2014 \\u6771\\u4eac" in text
    assert json.loads(text)["packs"][0]["description"] == "Zürich — 東京"


def test_unknown_keys_are_kept_after_known_ones() -> None:
    pack = {"extra": 1, **entry()}
    out = json.loads(index_format.dump_index(doc_of(pack)))
    assert list(out["packs"][0])[-1] == "extra"


def test_jsonschema_is_imported_lazily() -> None:
    code = (
        "import sys, attune_packs.registry.index, attune_packs.registry.authoring, attune_packs.cli.app\n"
        "from attune_packs.cli import authoring_cmd\n"
        "print(sorted(m for m in ('jsonschema', 'yaml', 'attune_packs.registry.index') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['attune_packs.registry.index']"
