"""YAML the library refuses in its own way: bad tag values, deep nesting.

Whatever the YAML library raises (a ``ValueError``, ``KeyError`` or
``AttributeError`` out of a tag's constructor, or its own nesting refusal), every
loader (pack.yaml, config.yaml, lock files) reports it in our words, naming the
file as the user gave it and the line, and nothing is written.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
import yaml

from attune_packs.errors import AttuneError
from attune_packs.resolve import lockfile
from attune_packs.yamlio import MAX_NESTING, YamlError, load_yaml, load_yaml_file, nesting_depth
from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows, make_tar, snapshot

# (tag and value, our wording): each one made PyYAML raise something other than a
# YAMLError (AttributeError, KeyError, ValueError, binascii.Error) or, for !!binary,
# silently decode garbage.
BAD_TAGS = [
    ("!!timestamp nope", "'nope' is not a valid !!timestamp"),
    ("!!timestamp 2024-13-45", "'2024-13-45' is not a valid !!timestamp"),
    ("!!bool maybe", "'maybe' is not a valid !!bool"),
    ("!!int abc", "'abc' is not a valid !!int"),
    ("!!int 0x", "'0x' is not a valid !!int"),
    ("!!float abc", "'abc' is not a valid !!float"),
    ("!!binary '%%%'", "'%%%' is not valid base64 (!!binary)"),
    ("!!binary abc", "'abc' is not valid base64 (!!binary)"),
    ("!<tag:yaml.org,2002:bool> perhaps", "'perhaps' is not a valid !!bool"),
]
IDS = [re.sub(r"\W+", "-", tag).strip("-") for tag, _ in BAD_TAGS]


def _no_internal_words(text: str) -> None:
    for word in ("internal error", "Traceback", "AttributeError", "KeyError", "groupdict"):
        assert word not in text


# --------------------------------------------------------------------------- the loader


@pytest.mark.parametrize(("tag", "wording"), BAD_TAGS, ids=IDS)
def test_bad_tag_values_are_our_error_with_the_line(tag: str, wording: str) -> None:
    with pytest.raises(YamlError) as err:
        load_yaml(f"ref: demo\nmeta:\n  when: {tag}\n")
    # (A date out of range also says which part: "... (month must be in 1..12)".)
    assert str(err.value).startswith(f"invalid YAML value at line 3, column 9: {wording}")


def test_a_bad_value_deep_inside_flow_collections_names_its_own_line() -> None:
    with pytest.raises(YamlError, match=r"^invalid YAML value at line 4, column 8: 'x' is not"):
        load_yaml("a:\n  - [1, 2]\n  - {b: [\n    3, !!int x]}\n")


def test_good_tag_values_still_load() -> None:
    doc = load_yaml("a: !!bool yes\nb: !!int 0x10\nc: !!binary aGk=\nd: !!timestamp 2024-01-02\n")
    assert doc["a"] is True and doc["b"] == 16 and doc["c"] == b"hi"
    assert str(doc["d"]) == "2024-01-02"


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 600 + "]" * 600,
        "a: " + "{b: " * 600 + "c" + "}" * 600,
        "a: " + "[k: " * 300 + "v" + "]" * 300,  # one-pair mappings count as levels too
        "a:\n" + "- " * 600 + "x\n",
        "".join(" " * i + "k:\n" for i in range(600)) + " " * 600 + "v\n",
        "a: " + "[" * 200_000 + "]" * 200_000,
        # After text our count could mistake for a quoted scalar or a block scalar:
        "a: plain\n  'continued\nb: " + "[" * 1200 + "]" * 1200,
        "a: |\n  text\nb: " + "[" * 1200 + "]" * 1200,
        "--- >\n" + "[" * 1200 + "]" * 1200,
        "[" * MAX_NESTING + "]" * MAX_NESTING + ": v",  # as a key, one level deeper
    ],
    ids=[
        "flow-seq",
        "flow-map",
        "flow-pairs",
        "block-seq",
        "block-map",
        "huge",
        "after-plain",
        "after-literal",
        "after-folded",
        "flow-key",
    ],
)
def test_deep_nesting_is_refused_in_our_words_before_the_library_speaks(text: str) -> None:
    with pytest.raises(YamlError) as err:
        load_yaml(text)
    assert str(err.value) == f"invalid YAML: nested more than {MAX_NESTING} levels deep"


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 400 + "]" * 400,
        # Brackets the YAML library does not see as nesting: quoted, commented, in a
        # block scalar, inside plain text.
        "a: '" + "[" * 2000 + "'\nb: \"" + "{" * 2000 + '"\n',
        "# " + "[" * 2000 + "\na: 1\n",
        "a: |\n  " + "[" * 2000 + "\n  - - - -\nb: 1\n",
        "a: text" + " [" * 2000 + "\n",
    ],
    ids=["400-levels", "quoted", "comment", "block-scalar", "plain"],
)
def test_what_is_not_that_deep_loads(text: str) -> None:
    load_yaml(text)


def _library_depth(text: str) -> int:
    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):  # the pure-Python parser
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return deepest


def test_the_nesting_count_agrees_with_the_parser_on_random_documents() -> None:
    pieces = [
        "[", "]", "{", "}", ",", ": ", ":", "- ", "? ", "a", "b c", "'", '"', "\\", "#",
        " ", "\n", "\n  ", "\n    ", "|", ">", "|2", "&x ", "*x", "!t ", "--- ", "\n---\n",
        "''", "x:y", "k: ", "\n- ", "\n  k: ", "[a: b]", "{a: [", " #[",
    ]  # fmt: skip
    rng = random.Random(20240607)
    checked = 0
    for _ in range(6000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 20)))
        try:
            expected = _library_depth(text)
        except yaml.YAMLError:
            continue
        assert nesting_depth(text, 10**6) == expected, text
        checked += 1
    assert checked > 500


def test_the_nesting_count_matches_the_library_on_real_documents() -> None:
    doc = (
        "ref: demo\n"
        "meta:\n"
        "  list:\n"
        "  - name: x\n"
        "    deps: [a, {b: [c, d: e]}]\n"
        "  - ? complex\n"
        "    : value\n"
        "  text: |\n"
        "    [[[[\n"
        "[k]: v\n"
    )
    # meta(1) > meta mapping(2) > list(3) > item(4) > deps(5) > {b}(6) > [c..](7) > {d: e}(8)
    assert nesting_depth(doc, 100) == 8


@pytest.mark.timeout(30)
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    with pytest.raises(YamlError, match="is a FIFO, not a regular file"):
        load_yaml_file(fifo)


# --------------------------------------------------------------------------- pack.yaml


@pytest.mark.parametrize(("tag", "wording"), BAD_TAGS[:6], ids=IDS[:6])
def test_validate_reports_a_bad_tag_in_pack_yaml(tmp_path: Path, tag: str, wording: str) -> None:
    pack = write_pack(tmp_path / "mypack", extra=f"enabled: {tag}\n")
    r = run_cli("pack", "validate", "mypack", "-o", "json", cwd=tmp_path)
    assert r.exit_code == 1, r.stderr
    (issue,) = r.json["errors"]
    assert issue["code"] == "invalid_yaml" and issue["field"] == "pack.yaml"
    assert issue["message"].startswith(
        f"pack.yaml: invalid YAML value at line 7, column 10: {wording}"
    )
    _no_internal_words(r.stdout + r.stderr)
    assert pack.joinpath("pack.yaml").read_text().endswith(f"enabled: {tag}\n")


@pytest.mark.parametrize(("tag", "wording"), BAD_TAGS[:4], ids=IDS[:4])
def test_install_refuses_a_bad_tag_and_changes_nothing(
    tmp_path: Path, home: Path, tag: str, wording: str
) -> None:
    good = write_pack(tmp_path / "good")
    assert run_cli("pack", "install", str(good), home=home).exit_code == 0
    write_pack(tmp_path / "bad", version="1.1.0", extra=f"description_html: {tag}\n")
    before, rows = snapshot(home), audit_rows(home)
    r = run_cli("pack", "install", "bad", "-o", "json", home=home, cwd=tmp_path)
    assert r.exit_code == 1, r.stderr
    error = r.json["error"]
    assert error["code"] == "invalid_manifest"
    assert "pack.yaml" in error["message"] and "bad" in error["message"]
    assert f"invalid YAML value at line 7, column 19: {wording}" in error["message"]
    assert ".staging-" not in r.stdout + r.stderr
    _no_internal_words(r.stdout + r.stderr)
    assert snapshot(home) == before
    failed = audit_rows(home)
    assert len(failed) == len(rows) + 1
    assert failed[-1]["status"] == "failed"
    assert wording in failed[-1]["error_message"]


def test_install_of_an_archive_with_a_bad_tag_names_the_archive(tmp_path: Path, home: Path) -> None:
    assert run_cli("pack", "install", str(write_pack(tmp_path / "good")), home=home).exit_code == 0
    src = write_pack(tmp_path / "src", "demo", "2.0.0", "meta: {released: !!timestamp nope}\n")
    archive = make_tar(src, tmp_path / "demo.tar.gz")
    before = snapshot(home)
    r = run_cli("pack", "install", str(archive), home=home)
    assert r.exit_code == 1
    line = r.stderr.strip().splitlines()[-1]
    assert "demo.tar.gz" in line and "'nope' is not a valid !!timestamp" in line
    assert "line 7" in line and ".staging-" not in r.stderr
    assert snapshot(home) == before
    assert audit_rows(home)[-1]["status"] == "failed"


# --------------------------------------------------------------------------- config.yaml


@pytest.mark.parametrize(
    ("text", "line", "wording"),
    [
        ("verify_checksums: !!bool maybe\n", 1, "'maybe' is not a valid !!bool"),
        ("keep_versions: !!int abc\n", 1, "'abc' is not a valid !!int"),
        ("network:\n  timeout: !!float soon\n", 2, "'soon' is not a valid !!float"),
        ("packs_dir: !!timestamp nope\n", 1, "'nope' is not a valid !!timestamp"),
        ("registries: !!binary '%%%'\n", 1, "'%%%' is not valid base64 (!!binary)"),
    ],
    ids=["bool", "int", "float", "timestamp", "binary"],
)
def test_config_with_a_bad_tag_is_a_config_error(
    home: Path, text: str, line: int, wording: str
) -> None:
    (home / "config.yaml").write_text(text)
    before = snapshot(home)
    r = run_cli("pack", "list", "-o", "json", home=home)
    assert r.exit_code == 1, r.stderr
    error = r.json["error"]
    assert error["code"] == "config_error"
    assert error["message"].startswith(f"{home / 'config.yaml'}: invalid YAML value at line {line}")
    assert error["message"].endswith(wording)
    _no_internal_words(r.stdout + r.stderr)
    assert snapshot(home) == before
    assert sorted(p.name for p in home.iterdir()) == ["config.yaml"]


def test_config_nested_too_deeply_is_our_message(home: Path) -> None:
    (home / "config.yaml").write_text("network: " + "[" * 5000 + "]" * 5000 + "\n")
    r = run_cli("pack", "list", home=home)
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        f"error: {home / 'config.yaml'}: invalid YAML: nested more than {MAX_NESTING} levels deep"
    )


# --------------------------------------------------------------------------- lock files


def _lock_text(tag: str) -> str:
    return (
        "version: 1\n"
        "packs:\n"
        "  - ref: demo\n"
        f"    version: {tag}\n"
        "    source: {type: local_directory, path: ./demo}\n"
        "    checksum: sha256:" + "0" * 64 + "\n"
    )


@pytest.mark.parametrize(("tag", "wording"), BAD_TAGS, ids=IDS)
def test_lockfile_load_reports_a_bad_tag(tmp_path: Path, tag: str, wording: str) -> None:
    path = tmp_path / "attune.lock"
    path.write_text(_lock_text(tag))
    with pytest.raises(AttuneError) as err:
        lockfile.load(path)
    assert err.value.exit_code == 1
    assert err.value.message.startswith(
        f"invalid lock file {path}: invalid YAML value at line 4, column 14: {wording}"
    )


@pytest.mark.parametrize(("tag", "wording"), BAD_TAGS[:5], ids=IDS[:5])
def test_install_locked_reports_a_bad_tag(
    tmp_path: Path, home: Path, tag: str, wording: str
) -> None:
    (tmp_path / "team.lock").write_text(_lock_text(tag))
    before, rows = snapshot(home), audit_rows(home)
    r = run_cli("pack", "install", "--locked", "team.lock", "-o", "json", home=home, cwd=tmp_path)
    assert r.exit_code == 1, r.stderr
    error = r.json["error"]
    assert error["message"].startswith(
        f"invalid lock file team.lock: invalid YAML value at line 4, column 14: {wording}"
    )
    _no_internal_words(r.stdout + r.stderr)
    assert snapshot(home) == before and audit_rows(home) == rows
    assert json.loads(r.stdout) == r.json
