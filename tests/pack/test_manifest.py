"""pack.yaml validation (DESIGN.md section 2): every malformed input gives a precise
error (code, field, message) and none raises."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune_packs.errors import ManifestError
from attune_packs.pack.contents import discover_contents
from attune_packs.pack.manifest import load_manifest
from attune_packs.pack.model import (
    Manifest,
    PackRequirement,
    RuntimeRequirement,
    parse_pack_requirement,
    parse_runtime_requirement,
)
from attune_packs.pack.validation import validate_pack
from tests.manifest_cases import BASE, BOMB, MALFORMED, make_pack, with_field


def codes(issues: list) -> list[tuple[str, str]]:
    return [(i.code, i.field) for i in issues]


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("data", "code", "field", "fragment"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_manifest(
    tmp_path: Path, data: bytes, code: str, field: str, fragment: str
) -> None:
    pack = make_pack(tmp_path / "pack", data)
    report = validate_pack(pack)  # never raises
    assert not report.valid
    matching = [e for e in report.errors if e.code == code and e.field == field]
    assert matching, f"expected {code} on {field}, got {codes(report.errors)}"
    assert fragment in matching[0].message, matching[0].message
    assert "\n" not in matching[0].message
    doc = report.to_dict()
    assert doc["valid"] is False and doc["errors"][0].keys() == {"code", "field", "message"}
    with pytest.raises(ManifestError) as exc:
        load_manifest(pack)
    assert "\n" not in exc.value.message
    assert exc.value.code == "invalid_manifest"
    assert exc.value.details["errors"] == [e.to_dict() for e in report.errors]


def test_python_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    pack = make_pack(
        tmp_path / "p", BASE + f"meta: !!python/object/apply:os.system ['touch {marker}']\n"
    )
    validate_pack(pack)
    assert not marker.exists()


def test_missing_manifest(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "p", None, {"actions/a.yaml": "name: a\n"})
    report = validate_pack(pack)
    assert codes(report.errors) == [("manifest_missing", "pack.yaml")]
    assert report.contents["actions"] == [{"name": "a", "description": ""}]
    with pytest.raises(ManifestError, match=r"no pack.yaml in"):
        load_manifest(pack)


def test_manifest_is_a_folder_or_symlink_or_huge(tmp_path: Path) -> None:
    a = make_pack(tmp_path / "a", None)
    (a / "pack.yaml").mkdir()
    assert codes(validate_pack(a).errors)[0] == ("unsupported_file", "pack.yaml")
    b = make_pack(tmp_path / "b", None)
    real = make_pack(tmp_path / "real", BASE)
    os.symlink(real / "pack.yaml", b / "pack.yaml")
    assert ("unsupported_file", "pack.yaml") in codes(validate_pack(b).errors)
    c = make_pack(tmp_path / "c", BASE + "# " + "x" * (1 << 20) + "\n")
    errors = validate_pack(c).errors
    assert codes(errors) == [("file_too_large", "pack.yaml")]
    assert "limited to 1048576 bytes" in errors[0].message


def test_pack_path_problems(tmp_path: Path) -> None:
    report = validate_pack(tmp_path / "missing")
    assert codes(report.errors) == [("not_found", "path")]
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert codes(validate_pack(f).errors) == [("not_a_directory", "path")]
    # the path of pack.yaml itself selects its folder
    pack = make_pack(tmp_path / "ok", BASE)
    report = validate_pack(pack / "pack.yaml")
    assert report.valid and report.path == str(pack)


def test_load_manifest_first_error_in_one_line(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "p", "ref: Bad.Ref\nlabel: x\ndescription: d\nversion: 1.0\n")
    with pytest.raises(ManifestError) as exc:
        load_manifest(pack)
    assert exc.value.message.startswith(f"invalid pack in {pack}: ref 'Bad.Ref' is invalid")
    assert exc.value.message.endswith("(and 1 more problem)")
    assert len(exc.value.details["errors"]) == 2


# --------------------------------------------------------------------------- valid forms


def test_full_manifest_fields(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path / "p",
        """
ref: full
label: Full Pack
description: Everything at once
version: 2.1.0-rc.1+build.5
author: Ops
email: ops@example.org
license: MIT
homepage: https://example.org
use_case: testing
tags: [a, b]
runtime_deps: [python3, "python3>=3.9", "nodejs >= v18", shell, curl, "python3 >=3.9 <4", "node=18"]
dependencies:
  attune_version: ">=1.0 <2"
  python_version: ">=3.9"
  nodejs_version: 18
  packs: [core, "slack@>=2.0.0 <3", "x@^1.2 || ^2"]
python: "3.10"
nodejs: "18"
enabled: true
system: false
conf_schema: {token: {type: string, secret: true}}
config: {token: abc}
meta: {released: 2024-01-02, blob: !!binary aGk=, big: 0x1000000000000000000000000}
testing: {enabled: true, runners: {python: {type: unittest}}}
""",
    )
    report = validate_pack(pack)
    assert report.valid, report.errors
    assert report.warnings == []
    m = load_manifest(pack)
    assert isinstance(m, Manifest)
    assert (m.ref, m.label, m.version, m.author, m.email, m.license) == (
        "full",
        "Full Pack",
        "2.1.0-rc.1+build.5",
        "Ops",
        "ops@example.org",
        "MIT",
    )
    assert m.homepage == "https://example.org" and m.use_case == "testing"
    assert m.tags == ["a", "b"]
    assert m.runtime_deps == [
        RuntimeRequirement("python3", ""),
        RuntimeRequirement("python3", ">=3.9"),
        RuntimeRequirement("nodejs", ">=18"),
        RuntimeRequirement("shell", ""),
        RuntimeRequirement("curl", ""),
        RuntimeRequirement("python3", ">=3.9,<4"),
        RuntimeRequirement("node", "==18"),
    ]
    assert m.pack_deps == [
        PackRequirement("core", "*"),
        PackRequirement("slack", ">=2.0.0 <3"),
        PackRequirement("x", "^1.2 || ^2"),
    ]
    assert [str(d) for d in m.pack_deps] == ["core", "slack@>=2.0.0 <3", "x@^1.2 || ^2"]
    # runtime minimums are normalised (a bare version is a minimum); attune_version is not
    assert m.version_requirements == {
        "attune_version": ">=1.0 <2",
        "python_version": ">=3.9",
        "nodejs_version": ">=18",
        "python": ">=3.10",
        "nodejs": ">=18",
    }
    assert m.testing == {"enabled": True, "runners": {"python": {"type": "unittest"}}}
    # raw is the document, JSON-safe (dates as ISO text, binary as base64)
    assert m.raw["meta"]["released"] == "2024-01-02"
    assert m.raw["meta"]["blob"] == "aGk="
    assert m.meta["big"] == 0x1000000000000000000000000
    import json

    json.dumps(m.raw)


def test_minimal_manifest_defaults(tmp_path: Path) -> None:
    m = load_manifest(make_pack(tmp_path / "p", BASE))
    assert (m.ref, m.label, m.description, m.version) == (
        "demo",
        "Demo Pack",
        "A test pack",
        "1.0.0",
    )
    assert m.tags == [] and m.runtime_deps == [] and m.pack_deps == []
    assert m.version_requirements == {} and m.meta == {} and m.testing == {}
    assert m.author is None and m.email is None


def test_null_optional_fields_are_absent(tmp_path: Path) -> None:
    text = BASE + "email:\ntags:\nruntime_deps: ~\ndependencies:\nmeta:\ntesting:\nenabled:\n"
    report = validate_pack(make_pack(tmp_path / "p", text))
    assert report.valid and report.warnings == []


def test_list_form_dependencies(tmp_path: Path) -> None:
    m = load_manifest(
        make_pack(
            tmp_path / "p", BASE + "dependencies: [core_utils@^1.0, 'shell_tools@~2.0', other]\n"
        )
    )
    assert [str(d) for d in m.pack_deps] == ["core_utils@^1.0", "shell_tools@~2.0", "other"]


def test_legacy_aliases_fill_canonical_fields(tmp_path: Path) -> None:
    text = (
        "ref: legacy\nname: Legacy Pack\ndescription: d\nversion: 0.1.0\n"
        "keywords: [old, style]\nmetadata: {category: misc}\nconfig_schema: {a: {type: string}}\n"
    )
    pack = make_pack(tmp_path / "p", text)
    report = validate_pack(pack)
    assert report.valid and report.warnings == []
    m = load_manifest(pack)
    assert (
        m.label == "Legacy Pack" and m.tags == ["old", "style"] and m.meta == {"category": "misc"}
    )


def test_equal_aliases_are_accepted(tmp_path: Path) -> None:
    text = BASE + "name: Demo Pack\ntags: [x]\nkeywords: [x]\nmeta: {a: 1}\nmetadata: {a: 1}\n"
    assert validate_pack(make_pack(tmp_path / "p", text)).valid


def test_warnings_do_not_invalidate(tmp_path: Path) -> None:
    text = (
        with_field("description", '""')
        + "tags: [a, a]\nstackstorm_version: '>=3'\n2: two\non: push\npython: 3.10\n"
    )
    report = validate_pack(make_pack(tmp_path / "p", text))
    assert report.valid, report.errors
    assert codes(report.warnings) == [
        ("empty_field", "description"),
        ("duplicate_item", "tags"),
        ("number_as_version", "python"),
        ("unknown_field", "stackstorm_version"),
        ("unknown_field", "2"),
        ("unknown_field", "true"),
    ]
    assert "quote it" in report.warnings[2].message
    assert (
        report.warnings[3].message == "unknown field 'stackstorm_version' in pack.yaml is ignored"
    )


def test_collects_every_error(tmp_path: Path) -> None:
    text = (
        "ref: Bad\nlabel: 5\nversion: x\ntags: 1\nruntime_deps: [nodejs>=x]\ndependencies: [a@zz]\n"
    )
    report = validate_pack(make_pack(tmp_path / "p", text))
    assert codes(report.errors) == [
        ("invalid_ref", "ref"),
        ("invalid_type", "label"),
        ("missing_field", "description"),
        ("invalid_version", "version"),
        ("invalid_type", "tags"),
        ("invalid_runtime_dep", "runtime_deps[0]"),
        ("invalid_dependency", "dependencies[0]"),
    ]
    assert report.ref is None and report.version is None


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("text", "name", "constraint"),
    [
        ("python3", "python3", ""),
        ("python3>=3.9", "python3", ">=3.9"),
        ("nodejs>=18", "nodejs", ">=18"),
        ("shell", "shell", ""),
        ("curl", "curl", ""),
        ("powershell-remoting", "powershell-remoting", ""),
        ("  python3  ", "python3", ""),
        ("python3 >= 3.9 , < 4", "python3", ">=3.9,<4"),
        ("python3~=3.9", "python3", "~=3.9"),
        ("python3==3.*", "python3", "==3.*"),
        ("python3!=3.10.0", "python3", "!=3.10.0"),
        ("node>v18.1.0", "node", ">18.1.0"),
        ("bash=5", "bash", "==5"),
        # the runtimes grammar: bare version = minimum, npm-style ranges, wildcards
        ("python3 3.9", "python3", ">=3.9"),
        ("python3 >=3.9", "python3", ">=3.9"),
        ("nodejs^18", "nodejs", ">=18,<19"),
        ("nodejs ^18.2", "nodejs", ">=18.2,<19"),
        ("python3^3", "python3", ">=3,<4"),
        ("python3~3.9", "python3", ">=3.9,<3.10"),
        ("python3 3.x", "python3", "==3.*"),
        ("python3==3.x", "python3", "==3.*"),
    ],
)
def test_parse_runtime_requirement(text: str, name: str, constraint: str) -> None:
    assert parse_runtime_requirement(text) == RuntimeRequirement(name, constraint)


@pytest.mark.parametrize(
    "text",
    ["", ">=1", "python3>=", "py thon", "python3 three", "nodejs^", "x>=1.x", "x<>1", "x~=1"],
)
def test_parse_runtime_requirement_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid runtime requirement "):
        parse_runtime_requirement(text)


@pytest.mark.parametrize(
    ("field", "value", "normalised"),
    [
        ("python", '"3.9"', ">=3.9"),
        ("python", "3", ">=3"),
        ("python", '"v3.11"', ">=3.11"),
        ("nodejs", '"^18"', ">=18,<19"),
        ("nodejs", '"~18.2"', ">=18.2,<18.3"),
        ("python", '"3.x"', "==3.*"),
        ("python", '">= 3.9 <4"', ">=3.9,<4"),
        ("python", '"~=3.9"', "~=3.9"),
        ("python", '"=3.11"', "==3.11"),
    ],
)
def test_runtime_minimum_forms(tmp_path: Path, field: str, value: str, normalised: str) -> None:
    """Top-level ``python``/``nodejs`` and ``dependencies.*_version`` share the runtimes grammar."""
    top = load_manifest(make_pack(tmp_path / "top", BASE + f"{field}: {value}\n"))
    assert top.version_requirements == {field: normalised}
    nested = load_manifest(
        make_pack(tmp_path / "nested", BASE + f"dependencies: {{{field}_version: {value}}}\n")
    )
    assert nested.version_requirements == {f"{field}_version": normalised}


@pytest.mark.parametrize(
    ("text", "ref", "constraint"),
    [
        ("core", "core", "*"),
        ("core@^1.2", "core", "^1.2"),
        ("slack@>=2.0.0 <3", "slack", ">=2.0.0 <3"),
        ("a_b-c@1.x", "a_b-c", "1.x"),
        (" core @ ~1.2.3 ", "core", "~1.2.3"),
        ("core@*", "core", "*"),
    ],
)
def test_parse_pack_requirement(text: str, ref: str, constraint: str) -> None:
    assert parse_pack_requirement(text) == PackRequirement(ref, constraint)


@pytest.mark.parametrize("text", ["", "@1", "Core", "core@", "core@nope", "core.x@1", "core@1@2"])
def test_parse_pack_requirement_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_pack_requirement(text)


# --------------------------------------------------------------------------- components


def test_discover_contents(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path / "p",
        BASE,
        {
            "actions/zeta.yaml": "name: zeta\ndescription: Last\nentry_point: zeta.py\n",
            "actions/zeta.py": "",
            "actions/alpha.yml": "ref: demo.alpha\nlabel: Alpha label\n",
            "actions/by_stem.yaml": "description: ''\nlabel: ''\n",
            "actions/foreign.yaml": "ref: other.thing\n",
            "actions/flow.yaml": "name: flow\nworkflow_file: workflows/flow.yaml\ndescription: A workflow\n",
            "actions/workflows/flow.yaml": "version: 1.0\ntasks: {}\n",  # nested: not a component
            "actions/notes.txt": "ignored",
            "actions/data.json": "{}",
            "sensors/watch.yaml": "class_name: Watch\nentry_point: watch.py\ndescription: Watches\n",
            "triggers/changed.yaml": "name: demo.changed\ndescription: Changed\n",
            "rules/r.yaml": "name: r\n",
            "workflows/standalone.yaml": "description: Orquesta definition\n",
            "extras/thing.yaml": "name: not-a-component\n",
        },
    )
    expected = {
        "actions": [
            {"name": "alpha", "description": "Alpha label"},
            {"name": "by_stem", "description": ""},
            {"name": "other.thing", "description": ""},
            {"name": "zeta", "description": "Last"},
        ],
        "sensors": [{"name": "watch", "description": "Watches"}],
        "triggers": [{"name": "changed", "description": "Changed"}],
        "rules": [{"name": "r", "description": ""}],
        "workflows": [
            {"name": "flow", "description": "A workflow"},
            {"name": "standalone", "description": "Orquesta definition"},
        ],
    }
    assert discover_contents(pack, "demo") == expected
    report = validate_pack(pack)
    assert report.valid, report.errors
    assert report.contents == expected
    # the sensor names watch.py, which is missing: a warning, not an error
    assert codes(report.warnings) == [("missing_entry_point", "sensors/watch.yaml")]
    assert "sensors/watch.py, which does not exist" in report.warnings[0].message


@pytest.mark.parametrize(
    ("rel", "content", "code", "fragment"),
    [
        (
            "actions/list.yaml",
            b"- a\n- b\n",
            "invalid_component",
            "must be a YAML mapping, but it is a list",
        ),
        ("actions/empty.yaml", b"", "invalid_component", "but it is empty"),
        ("sensors/bad.yaml", b"name: [unclosed\n", "invalid_yaml", "invalid YAML"),
        (
            "rules/latin1.yaml",
            "name: caf\xe9\n".encode("latin-1"),
            "invalid_yaml",
            "not valid UTF-8",
        ),
        ("triggers/bomb.yaml", BOMB.encode(), "invalid_yaml", "expands to more than"),
        (
            "actions/int_name.yaml",
            b"name: 5\n",
            "invalid_component",
            "'name' must be a string, got an integer",
        ),
        (
            "actions/ref_list.yaml",
            b"ref: [a]\n",
            "invalid_component",
            "'ref' must be a string, got a list",
        ),
        (
            "workflows/desc.yaml",
            b"description: {a: 1}\n",
            "invalid_component",
            "'description' must be a string, got a mapping",
        ),
    ],
)
def test_bad_component_files(
    tmp_path: Path, rel: str, content: bytes, code: str, fragment: str
) -> None:
    pack = make_pack(tmp_path / "p", BASE, {rel: content, "actions/good.yaml": "name: good\n"})
    report = validate_pack(pack)
    assert not report.valid
    assert codes(report.errors) == [(code, rel)]
    assert fragment in report.errors[0].message and rel in report.errors[0].message
    assert {"name": "good", "description": ""} in report.contents["actions"]
    with pytest.raises(ManifestError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        discover_contents(pack, "demo")


def test_component_folder_problems(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "p", BASE, {"actions": "not a folder"})
    report = validate_pack(pack)
    assert codes(report.errors) == [("not_a_directory", "actions")]
    real = make_pack(tmp_path / "elsewhere", None, {"x.yaml": "name: x\n"})
    pack2 = make_pack(tmp_path / "p2", BASE)
    os.symlink(real, pack2 / "rules")
    codes2 = codes(validate_pack(pack2).errors)
    assert ("unsupported_file", "rules") in codes2


def test_duplicate_component_names_warn(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path / "p", BASE, {"actions/a.yaml": "name: x\n", "actions/b.yaml": "name: demo.x\n"}
    )
    report = validate_pack(pack)
    assert report.valid
    assert codes(report.warnings) == [("duplicate_component", "actions")]


def test_entry_point_checks(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path / "p",
        BASE,
        {
            "actions/ok.yaml": "name: ok\nentry_point: ok.sh\n",
            "actions/ok.sh": "#!/bin/sh\n",
            "actions/native.yaml": "name: native\nrunner_type: native\nentry_point: builtin_thing\n",
            "actions/escape.yaml": "name: escape\nentry_point: ../../etc/passwd\n",
            "actions/wf.yaml": "name: wf\nworkflow_file: workflows/missing.yaml\n",
        },
    )
    report = validate_pack(pack)
    assert report.valid
    assert codes(report.warnings) == [
        ("missing_entry_point", "actions/escape.yaml"),
        ("missing_entry_point", "actions/wf.yaml"),
    ]
    assert "relative path inside the pack" in report.warnings[0].message


def test_tree_refusals_are_errors(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "p", BASE, {"lib/x.py": ""})
    os.symlink("x.py", pack / "lib" / "link.py")
    os.mkfifo(pack / "pipe")
    (pack / ".git").mkdir()
    os.symlink("/", pack / ".git" / "ignored")  # .git is pruned, as by the checksum
    report = validate_pack(pack)
    assert sorted(codes(report.errors)) == [
        ("unsupported_file", "lib/link.py"),
        ("unsupported_file", "pipe"),
    ]
    assert "packs may not contain symlinks" in " ".join(e.message for e in report.errors)


def test_report_shape(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "p", BASE, {"rules/r.yaml": "name: r\ndescription: R\n"})
    doc = validate_pack(pack).to_dict()
    assert list(doc) == ["path", "ref", "version", "valid", "errors", "warnings", "contents"]
    assert doc == {
        "path": str(pack),
        "ref": "demo",
        "version": "1.0.0",
        "valid": True,
        "errors": [],
        "warnings": [],
        "contents": {
            "actions": [],
            "sensors": [],
            "triggers": [],
            "rules": [{"name": "r", "description": "R"}],
            "workflows": [],
        },
    }


@pytest.mark.parametrize("name", ["core_utils", "node_notify", "shell_tools", "incident_response"])
def test_example_packs_are_valid(name: str) -> None:
    from tests.conftest import EXAMPLES

    report = validate_pack(EXAMPLES / name)
    assert report.valid, report.errors
    assert report.warnings == []
    assert load_manifest(EXAMPLES / name).ref == name


def test_non_utf8_file_name_is_an_error(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "p", BASE)
    try:
        Path(os.fsdecode(bytes(pack) + b"/bad\xff.txt")).write_bytes(b"x")
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    report = validate_pack(pack)
    assert codes(report.errors) == [("unsupported_file", "bad\\xff.txt")]
    assert "not valid UTF-8" in report.errors[0].message


# --------------------------------------------------------------------------- fuzzing


_FIELDS = sorted(
    {
        "ref",
        "label",
        "description",
        "version",
        "author",
        "email",
        "license",
        "homepage",
        "use_case",
        "tags",
        "keywords",
        "runtime_deps",
        "dependencies",
        "conf_schema",
        "config",
        "meta",
        "system",
        "enabled",
        "testing",
        "python",
        "nodejs",
        "name",
        "config_schema",
        "metadata",
        "packs",
        "attune_version",
        "python_version",
        "nodejs_version",
    }
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["1.0.0", "core@^1", "python3>=3.9", "x@", "@", ">=", "2024-01-01", "~"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(_FIELDS), st.text(max_size=5)), inner, max_size=4
        ),
    ),
    max_leaves=12,
)


def _check_never_raises(pack: Path) -> None:
    import json

    report = validate_pack(pack)
    json.dumps(report.to_dict())
    assert report.valid == (report.errors == [])
    try:
        load_manifest(pack)
    except ManifestError as exc:
        assert "\n" not in exc.message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.dictionaries(st.sampled_from(_FIELDS), _values, max_size=10))
def test_random_documents_never_raise(doc: dict) -> None:
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        pack = make_pack(Path(tmp) / "p", yaml.safe_dump(doc, allow_unicode=True))
        _check_never_raises(pack)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_random_bytes_never_raise(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pack = make_pack(Path(tmp) / "p", data, {"actions/a.yaml": data})
        _check_never_raises(pack)
