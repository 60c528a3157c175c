"""packs-example/: the example packs, their archives and the example registry index."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from attune_packs.pack.checksum import directory_checksum
from attune_packs.pack.contents import discover_contents
from attune_packs.pack.manifest import load_manifest
from attune_packs.versioning import satisfies
from tests.conftest import EXAMPLES, REFERENCE_SCHEMA, REPO

INDEX = EXAMPLES / "index.json"


@pytest.fixture(scope="module")
def build_examples() -> ModuleType:
    path = REPO / "scripts" / "build_examples.py"
    spec = importlib.util.spec_from_file_location("build_examples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_examples"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def index() -> dict:
    return json.loads(INDEX.read_text(encoding="utf-8"))


def test_committed_archives_and_index_match_a_fresh_build(build_examples: ModuleType) -> None:
    assert build_examples.check(EXAMPLES) == []


def test_build_is_reproducible(build_examples: ModuleType, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    build_examples.build(EXAMPLES, a, quiet=True)
    build_examples.build(EXAMPLES, b, quiet=True)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 5
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    # and the tar streams are the committed ones (gzip bytes may differ with another zlib)
    import gzip

    for rel in files_a:
        if rel.suffix == ".gz":
            assert gzip.decompress((a / rel).read_bytes()) == gzip.decompress(
                (EXAMPLES / rel).read_bytes()
            )


def test_index_is_schema_valid_apart_from_relative_urls(index: dict) -> None:
    import jsonschema

    schema = json.loads(REFERENCE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = list(validator.iter_errors(index))
    # the only complaint: the archive URLs are relative (allowed for a local index)
    assert errors and all("install_sources" in list(e.absolute_path) for e in errors)
    remote = copy.deepcopy(index)
    for entry in remote["packs"]:
        for source in entry["install_sources"]:
            assert not source["url"].startswith(("/", "http")), source["url"]
            source["url"] = "https://packs.example.invalid/" + source["url"]
    assert list(validator.iter_errors(remote)) == []


def test_index_entries_match_the_packs_and_archives(index: dict) -> None:
    refs = [entry["ref"] for entry in index["packs"]]
    assert refs == sorted(refs) and len(set(refs)) == len(refs) >= 4
    assert index["version"] == "1.0"
    for entry in index["packs"]:
        pack_dir = EXAMPLES / entry["ref"]
        manifest = load_manifest(pack_dir)
        assert (entry["version"], entry["label"]) == (manifest.version, manifest.label)
        assert entry["contents"] == discover_contents(pack_dir, manifest.ref)
        (source,) = entry["install_sources"]
        assert source["type"] == "archive"
        assert source["url"] == f"archives/{entry['ref']}-{entry['version']}.tar.gz"
        archive = EXAMPLES / source["url"]
        assert source["checksum"] == "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()


def test_archives_hold_exactly_the_pack_folders(index: dict, tmp_path: Path) -> None:
    for entry in index["packs"]:
        archive = EXAMPLES / entry["install_sources"][0]["url"]
        top = f"{entry['ref']}-{entry['version']}"
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for m in members:
                assert m.name == top or m.name.startswith(top + "/"), m.name
                assert m.isfile() or m.isdir()
                assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (1735689600, 0, 0, "", "")
                assert m.mode == (0o755 if m.isdir() or m.name.endswith(".sh") else 0o644)
            assert [m.name for m in members] == sorted(
                (m.name for m in members), key=lambda n: n.encode().split(b"/")
            )
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                tar.extractall(tmp_path, filter="data")
            else:  # pragma: no cover
                tar.extractall(tmp_path)
        assert (
            directory_checksum(tmp_path / top).checksum
            == directory_checksum(EXAMPLES / entry["ref"]).checksum
        )


def test_dependencies_resolve_inside_the_example_index(index: dict) -> None:
    by_ref = {entry["ref"]: entry for entry in index["packs"]}
    dependents = [e for e in index["packs"] if e.get("dependencies", {}).get("packs")]
    assert dependents, "one example pack must depend on another"
    for entry in dependents:
        for requirement in entry["dependencies"]["packs"]:
            ref, _, constraint = requirement.partition("@")
            assert ref in by_ref, requirement
            assert satisfies(by_ref[ref]["version"], constraint or "*"), requirement
    assert by_ref["incident_response"]["dependencies"] == {
        "python_version": ">=3.9",
        "packs": ["core_utils@^1.0", "shell_tools@~2.0"],
    }


def test_index_is_what_the_authoring_tools_write(index: dict) -> None:
    """Canonical bytes (``attune pack index-update``'s) and entries from ``index-entry``'s code."""
    from attune_packs.registry.authoring import entry_from_pack
    from attune_packs.registry.index_format import dump_index
    from attune_packs.registry.index_validation import validate_index_data

    assert INDEX.read_text(encoding="utf-8") == dump_index(index)
    assert validate_index_data(index, remote=False) == []
    for entry in index["packs"]:
        assert entry == entry_from_pack(EXAMPLES / entry["ref"], entry["install_sources"])


def test_example_runtimes_and_kinds() -> None:
    runtimes = {
        p.name: [str(r) for r in load_manifest(p).runtime_deps]
        for p in EXAMPLES.iterdir()
        if (p / "pack.yaml").exists()
    }
    assert runtimes["core_utils"] == ["python3>=3.9"]
    assert runtimes["node_notify"] == ["nodejs>=18"]
    assert runtimes["shell_tools"] == ["shell"]
    contents = discover_contents(EXAMPLES / "core_utils", "core_utils")
    assert all(contents[kind] for kind in ("actions", "sensors", "triggers", "rules", "workflows"))
