"""index-entry, index-update and index-merge: normalisation, refusals, canonical atomic writes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from attune_packs.errors import AttuneError, IndexError_, ManifestError, UsageError
from attune_packs.events import EventBus
from attune_packs.pack.checksum import directory_checksum
from attune_packs.registry import (
    authoring,
    index,
    index_edit,
    index_format,
    index_read,
    index_validation,
)
from attune_packs.registry.authoring import SourceOptions
from tests.conftest import REFERENCE_INDEX, REFERENCE_SCHEMA, run_cli, write_pack
from tests.servers import index_entry

SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"
COMMIT2 = "89abcdef0123456789abcdef0123456789abcdef"
GIT = ("--git-url", "https://github.com/acme/demo.git", "--git-ref", COMMIT)
ARCHIVE = {"archive_url": "https://example.org/demo.tgz", "archive_checksum": SHA_A}
EPOCH_1 = {"SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01T00:00:00Z
EPOCH_2 = {"SOURCE_DATE_EPOCH": "1767312000"}  # 2026-01-02T00:00:00Z


def pack_yaml(root: Path, body: str, files: dict[str, str] | None = None) -> Path:
    """A pack whose pack.yaml is exactly ``body``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text(body, encoding="utf-8")
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


BASE = "ref: demo\ndescription: A pack\nversion: 1.0.0\n"


def build(path: Path, **sources: str) -> dict[str, Any]:
    return authoring.build_entry(path, SourceOptions(**(sources or ARCHIVE))).entry


def reference_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(REFERENCE_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------ normalisation rules


def test_label_comes_from_label_then_name(tmp_path: Path) -> None:
    assert build(pack_yaml(tmp_path / "a", BASE + "label: L\n"))["label"] == "L"
    assert build(pack_yaml(tmp_path / "b", BASE + "name: N\n"))["label"] == "N"
    assert build(pack_yaml(tmp_path / "c", BASE + "label: L\nname: L\n"))["label"] == "L"
    # Both set and different: pack.yaml is invalid (DESIGN section 2), nothing is guessed.
    with pytest.raises(ManifestError, match="legacy alias 'name'"):
        build(pack_yaml(tmp_path / "d", BASE + "label: L\nname: N\n"))


@pytest.mark.parametrize(
    ("extra", "keywords"),
    [
        ("tags: [b, a, b]\n", ["a", "b"]),
        ("keywords: [k2, k1]\n", ["k1", "k2"]),
        ("meta:\n  keywords: [m, 2024, 1.5]\n", ["1.5", "2024", "m"]),
        ("tags: [t]\nmeta:\n  keywords: [m]\n", ["t"]),
        ("keywords: [k]\nmeta:\n  keywords: [m]\n", ["k"]),
        ("tags: [t]\nkeywords: [t]\nmeta:\n  keywords: [m]\n", ["t"]),
        ("", []),
    ],
)
def test_keywords_precedence(tmp_path: Path, extra: str, keywords: list[str]) -> None:
    entry = build(pack_yaml(tmp_path / "p", BASE + "label: L\n" + extra))
    assert entry["keywords"] == keywords


def test_keywords_refuse_non_scalars(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"meta\.keywords values must be strings"):
        build(pack_yaml(tmp_path / "p", BASE + "label: L\nmeta:\n  keywords: [true]\n"))
    with pytest.raises(ManifestError, match=r"meta\.keywords must be a list"):
        build(pack_yaml(tmp_path / "q", BASE + "label: L\nmeta:\n  keywords: one\n"))


def test_top_level_metadata_before_meta(tmp_path: Path) -> None:
    meta = (
        "meta:\n  license: MIT\n  documentation_url: https://docs.example.org\n"
        "  use_case: from meta\n  repository_url: https://github.com/acme/meta\n"
    )
    top = (
        "license: Apache-2.0\nhomepage: https://example.org\nuse_case: from top\n"
        "repository: https://github.com/acme/top\n"
    )
    both = build(pack_yaml(tmp_path / "a", BASE + "label: L\n" + top + meta))
    assert (both["license"], both["homepage"], both["use_case"], both["repository"]) == (
        "Apache-2.0",
        "https://example.org",
        "from top",
        "https://github.com/acme/top",
    )
    fallback = build(pack_yaml(tmp_path / "b", BASE + "label: L\n" + meta))
    assert (
        fallback["license"],
        fallback["homepage"],
        fallback["use_case"],
        fallback["repository"],
    ) == ("MIT", "https://docs.example.org", "from meta", "https://github.com/acme/meta")
    assert fallback["meta"]["license"] == "MIT"  # meta itself is kept as written


def test_defaults_and_optional_fields(tmp_path: Path) -> None:
    entry = build(pack_yaml(tmp_path / "p", BASE + "label: L\n"))
    assert entry["author"] == "Unknown" and entry["license"] == "NOASSERTION"
    for key in ("meta", "email", "homepage", "use_case", "repository", "dependencies"):
        assert key not in entry
    entry = build(write_pack(tmp_path / "q", extra="email: team@example.org\n"))
    assert entry["author"] == "Tests" and entry["email"] == "team@example.org"


def test_dependencies_and_runtime_deps(tmp_path: Path) -> None:
    listed = build(
        pack_yaml(
            tmp_path / "a",
            BASE + "label: L\ndependencies: [slack@^2.0, core]\n"
            "runtime_deps: [shell, python3>=3.9, shell]\n",
        )
    )
    assert listed["dependencies"] == {"packs": ["core", "slack@^2.0"]}
    assert listed["runtime_deps"] == ["python3>=3.9", "shell"]
    obj = build(
        pack_yaml(
            tmp_path / "b",
            BASE + "label: L\ndependencies:\n  packs: [core]\n  nodejs_version: '>=18'\n"
            "  attune_version: '>=0.1.0'\n",
        )
    )
    assert obj["dependencies"] == {
        "attune_version": ">=0.1.0",
        "nodejs_version": ">=18",
        "packs": ["core"],
    }
    assert list(obj["dependencies"]) == ["attune_version", "nodejs_version", "packs"]


def test_meta_is_kept_when_json_compatible(tmp_path: Path) -> None:
    body = BASE + (
        "label: L\nmeta:\n  zeta: 1\n  alpha: {nested: [1, 2.5, true, null, x]}\n"
        "  tested_attune_versions: ['0.1', '0.2']\n"
    )
    entry = build(pack_yaml(tmp_path / "p", body))
    assert entry["meta"] == {
        "zeta": 1,
        "alpha": {"nested": [1, 2.5, True, None, "x"]},
        "tested_attune_versions": ["0.1", "0.2"],
    }
    assert list(entry["meta"]) == ["zeta", "alpha", "tested_attune_versions"]
    legacy = build(pack_yaml(tmp_path / "q", BASE + "label: L\nmetadata: {a: b}\n"))
    assert legacy["meta"] == {"a": "b"}


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("released: 2024-01-02", r"meta\.released is a YAML date.*quote it"),
        ("at: 2024-01-02 10:00:00", r"meta\.at is a YAML timestamp"),
        ("blob: !!binary aGk=", r"meta\.blob is binary data"),
        ("n: .nan", r"meta\.n is nan"),
        ("x: [.inf]", r"meta\.x\[0\] is inf"),
        ("1: one", "non-string key 1"),
        ("s: !!set {a: null}", r"meta\.s is a set"),
        ("tested_attune_versions: ['1', '1']", "must be unique"),
        ("tested_attune_versions: [1]", "list of strings"),
    ],
)
def test_meta_refuses_what_json_cannot_hold(tmp_path: Path, meta: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        build(pack_yaml(tmp_path / "p", BASE + f"label: L\nmeta:\n  {meta}\n"))


def test_contents_come_from_component_files(tmp_path: Path) -> None:
    files = {
        "actions/zz.yaml": "name: demo.zeta\ndescription: Last\n",
        "actions/aa.yml": "ref: alpha\nlabel: From label\n",
        "actions/flow.yaml": "name: flow\nworkflow_file: workflows/flow.yaml\ndescription: W\n",
        "actions/stem.yaml": "description: Named by its file\n",
        "actions/nested/skip.yaml": "name: nested\n",
        "sensors/watch.yaml": "name: watch\n",
        "rules/r.yaml": "name: r1\ndescription: R\n",
    }
    entry = build(write_pack(tmp_path / "p", files=files))
    assert entry["contents"] == {
        "actions": [
            {"name": "alpha", "description": "From label"},
            {"name": "stem", "description": "Named by its file"},
            {"name": "zeta", "description": "Last"},
        ],
        "sensors": [{"name": "watch", "description": ""}],
        "triggers": [],
        "rules": [{"name": "r1", "description": "R"}],
        "workflows": [{"name": "flow", "description": "W"}],
    }


def test_sources_and_checksums(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p", files={"actions/a.yaml": "name: a\n"})
    (pack / ".git").mkdir()
    (pack / ".git" / "HEAD").write_text("ignored\n", encoding="utf-8")
    entry = build(pack, git_url="https://github.com/acme/demo.git", git_ref=COMMIT, **ARCHIVE)
    assert entry["install_sources"] == [
        {
            "type": "git",
            "url": "https://github.com/acme/demo.git",
            "ref": COMMIT,
            "checksum": directory_checksum(pack).checksum,
        },
        {"type": "archive", "url": "https://example.org/demo.tgz", "checksum": SHA_A},
    ]
    assert list(entry) == [k for k in index.ENTRY_KEYS if k in entry]
    assert index_validation.validate_entry_data(entry) == []


def test_an_invalid_entry_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AttuneError, match="invalid index entry: homepage") as info:
        build(pack_yaml(tmp_path / "p", BASE + "label: L\nhomepage: docs/index.html\n"))
    assert info.value.code == "invalid_entry" and info.value.exit_code == 1


# ------------------------------------------------------------------ refused sources


@pytest.mark.parametrize(
    ("sources", "msg"),
    [
        ({}, "no install source"),
        ({"git_url": "https://github.com/a/b.git"}, "--git-url needs --git-ref"),
        ({"git_ref": COMMIT, **ARCHIVE}, "--git-ref needs --git-url"),
        ({"archive_url": "https://e.org/p.tgz"}, "--archive-url needs --archive-checksum"),
        ({"archive_checksum": SHA_A, "git_url": "https://e.org/p.git", "git_ref": COMMIT}, "needs"),
        ({"git_url": "http://github.com/a/b.git", "git_ref": COMMIT}, "must use https://"),
        ({"git_url": "ssh://git@github.com/a/b.git", "git_ref": COMMIT}, "https:// URL"),
        ({"git_url": "git@github.com:a/b.git", "git_ref": COMMIT}, "https:// URL"),
        ({"git_url": "https://tok:x@github.com/a.git", "git_ref": COMMIT}, "credentials"),
        ({"archive_url": "https://e.org/p.tgz?X-Sig=1", "archive_checksum": SHA_A}, "query"),
        ({"archive_url": "https://e.org/p.tgz#top", "archive_checksum": SHA_A}, "fragment"),
        ({"archive_url": "https:///p.tgz", "archive_checksum": SHA_A}, "no valid host"),
        ({"archive_url": "https://e.org/p", "archive_checksum": "sha256:" + "A" * 64}, "hex"),
        ({"archive_url": "https://e.org/p", "archive_checksum": "sha256:abc"}, "hex"),
        ({"archive_url": "https://e.org/p", "archive_checksum": "md5:" + "a" * 32}, "hex"),
        ({"archive_url": "https://e.org/p", "archive_checksum": SHA_A + "\n"}, "hex"),
        ({"git_url": "https://e.org/p.git", "git_ref": "--upload-pack=x"}, "start with '-'"),
        ({"git_url": "https://e.org/p.git", "git_ref": "main branch"}, "whitespace"),
    ],
)
def test_bad_sources_are_usage_errors(tmp_path: Path, sources: dict[str, str], msg: str) -> None:
    pack = write_pack(tmp_path / "p")
    with pytest.raises(UsageError, match=msg) as info:
        authoring.build_entry(pack, SourceOptions(**sources))
    assert info.value.exit_code == 2
    assert "tok" not in info.value.message  # credentials are never echoed


def test_mutable_git_ref_warns(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    bus = EventBus()
    authoring.build_entry(pack, SourceOptions("https://e.org/p.git", "v1.0.0"), bus)
    assert len(bus.warnings) == 1 and "not a 40-hex commit" in bus.warnings[0]
    bus = EventBus()
    authoring.build_entry(pack, SourceOptions("https://e.org/p.git", COMMIT), bus)
    assert bus.warnings == []


# ------------------------------------------------------------------ index-entry CLI


def test_index_entry_cli_prints_only_the_entry(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p", files={"actions/a.yaml": "name: a\ndescription: A\n"})
    r = run_cli("pack", "index-entry", str(pack), "--git-url", GIT[1], "--git-ref", "main")
    assert r.exit_code == 0, r.stderr
    entry = json.loads(r.stdout)
    assert r.stdout == index_format.dump_entry(entry)  # canonical text, nothing else on stdout
    assert entry["install_sources"][0]["ref"] == "main"
    assert "warning: --git-ref 'main' is not a 40-hex commit SHA" in r.stderr
    again = run_cli("pack", "index-entry", str(pack), *GIT)
    assert again.exit_code == 0 and again.stderr == ""
    yaml_out = run_cli("pack", "index-entry", str(pack), *GIT, "--format", "yaml")
    alias = run_cli("pack", "index-entry", str(pack), *GIT, "-o", "yaml")
    assert yaml_out.exit_code == alias.exit_code == 0
    assert yaml_out.stdout == alias.stdout and yaml_out.stdout.startswith("ref: demo\n")
    clash = run_cli("pack", "index-entry", str(pack), *GIT, "-o", "json", "--format", "yaml")
    assert clash.exit_code == 2 and "disagree" in clash.stderr
    assert clash.json["error"]["code"] == "usage_error"


def test_index_entry_cli_refusals(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "p")
    before = listing(pack)
    r = run_cli("pack", "index-entry", str(pack))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.strip() == (
        "error: no install source: give --git-url with --git-ref, "
        "and/or --archive-url with --archive-checksum"
    )
    r = run_cli(
        "pack", "index-entry", str(pack), "--git-url", "https://me:hunter2@e.org/p.git",
        "--git-ref", COMMIT, "-o", "json",
    )  # fmt: skip
    assert r.exit_code == 2 and "hunter2" not in r.stdout + r.stderr
    assert r.json["error"]["code"] == "invalid_url"
    r = run_cli("pack", "index-entry", str(tmp_path / "missing"), *GIT)
    assert r.exit_code == 1 and "no such pack folder" in r.stderr
    (pack / "pack.yaml").write_text("ref: Bad.Ref\n", encoding="utf-8")
    r = run_cli("pack", "index-entry", str(pack), *GIT)
    assert (r.exit_code, r.stdout) == (1, "") and "invalid pack" in r.stderr
    assert listing(pack) == before  # nothing written into the pack


# ------------------------------------------------------------------ index-update


def update(index_file: Path, pack: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(
        "pack", "index-update", "--index", str(index_file), str(pack), *GIT, *extra,
        env=env or EPOCH_1,
    )  # fmt: skip


def create(index_file: Path, pack: Path, *extra: str) -> Any:
    return update(
        index_file, pack, "--create", "--registry-name", "Acme Packs",
        "--registry-url", "https://packs.example.org", *extra,
    )  # fmt: skip


GIT_OPTIONS = SourceOptions("https://github.com/acme/demo.git", COMMIT)


def api_create(target: Path, pack: Path, update: bool = False) -> index_edit.UpdateResult:
    """The same operation as :func:`create`, in-process (setup for the CLI checks)."""
    return index_edit.update_index(
        target, pack, GIT_OPTIONS, create=True, registry_name="Acme Packs",
        registry_url="https://packs.example.org", update=update,
    )  # fmt: skip


def test_update_creates_only_when_asked(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "zeta", ref="zeta")
    target = tmp_path / "reg" / "index.json"
    r = update(target, pack)
    assert r.exit_code == 1 and "--create" in r.stderr and not target.exists()  # not_found
    with pytest.raises(UsageError, match="--create needs --registry-name and --registry-url"):
        index_edit.update_index(target, pack, GIT_OPTIONS, create=True, registry_name="Acme")
    with pytest.raises(UsageError, match="https://"):
        index_edit.update_index(target, pack, GIT_OPTIONS, create=True, registry_name="Acme",
                               registry_url="http://packs.example.org")  # fmt: skip
    with pytest.raises(UsageError, match="only used with --create"):
        index_edit.update_index(target, pack, GIT_OPTIONS, registry_name="Acme")
    assert not target.parent.exists()
    r = create(target, pack, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json["action"] == "added" and r.json["written"] is True
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["registry_name"] == "Acme Packs" and doc["version"] == "1.0"
    assert doc["last_updated"] == "2026-01-01T00:00:00Z"
    assert [p["ref"] for p in doc["packs"]] == ["zeta"]
    reference_validator().validate(doc)
    # --create on an existing index is a no-op, unless the registry identity differs.
    assert api_create(target, pack, update=True).action == "unchanged"
    with pytest.raises(AttuneError, match="already has registry_name 'Acme Packs'") as info:
        index_edit.update_index(target, pack, GIT_OPTIONS, create=True, registry_name="Other",
                               registry_url="https://packs.example.org", update=True)  # fmt: skip
    assert info.value.exit_code == 1


def test_update_adds_sorted_and_refuses_duplicates(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    api_create(target, write_pack(tmp_path / "zeta", ref="zeta"))
    alpha = write_pack(tmp_path / "alpha", ref="alpha")
    r = update(target, alpha, env=EPOCH_2)
    assert r.exit_code == 0, r.stderr
    assert "added alpha 1.0.0" in r.stdout
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert [p["ref"] for p in doc["packs"]] == ["alpha", "zeta"]
    assert doc["last_updated"] == "2026-01-02T00:00:00Z"
    before = target.read_bytes()
    r = update(target, alpha, "-o", "json")
    assert r.exit_code == 1 and r.json["error"]["code"] == "entry_exists"
    assert "--update" in r.stderr and target.read_bytes() == before


def test_idempotent_update_leaves_the_file_alone(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    pack = write_pack(tmp_path / "demo")
    assert create(target, pack).exit_code == 0
    before, stat = target.read_bytes(), target.stat()
    r = update(target, pack, "--update", "-o", "json", env=EPOCH_2)
    assert r.exit_code == 0, r.stderr
    assert r.json["action"] == "unchanged" and r.json["written"] is False
    assert target.read_bytes() == before  # byte-identical, timestamp not bumped
    assert (target.stat().st_ino, target.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert listing(tmp_path) == ["demo", "index.json"]


def test_update_with_a_new_version_replaces_and_bumps(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    api_create(target, write_pack(tmp_path / "v1", version="1.0.0"))
    v2 = write_pack(tmp_path / "v2", version="1.1.0")
    r = update(target, v2, "--update", env=EPOCH_2)
    assert r.exit_code == 0, r.stderr
    assert "updated demo 1.1.0 (replaced 1.0.0)" in r.stdout
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert [p["version"] for p in doc["packs"]] == ["1.1.0"]
    assert doc["last_updated"] == "2026-01-02T00:00:00Z"
    bus = EventBus()
    index_edit.update_index(target, write_pack(tmp_path / "v0", version="0.9.0"), GIT_OPTIONS,
                           update=True, bus=bus)  # fmt: skip
    assert bus.warnings == ["replacing demo 1.1.0 with the lower 0.9.0"]


def test_keep_history_writes_releases_under_the_newest_entry(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    api_create(target, write_pack(tmp_path / "a", version="2.10.0"))
    r = update(target, write_pack(tmp_path / "b", version="2.9.0"), "--keep-history")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["version"] == "1.0"  # DESIGN.md section 4: history stays Attune-readable
    assert [p["version"] for p in doc["packs"]] == ["2.10.0"]
    assert [r["version"] for r in doc["packs"][0]["meta"]["releases"]] == ["2.9.0"]
    assert index_validation.validate_index_data(doc) == []
    reference_validator().validate(doc)
    before = target.read_bytes()
    with pytest.raises(AttuneError, match=r"already lists demo 2\.9\.0"):
        index_edit.update_index(target, tmp_path / "b", GIT_OPTIONS, keep_history=True)
    assert target.read_bytes() == before
    result = index_edit.update_index(
        target, tmp_path / "b", GIT_OPTIONS, keep_history=True, update=True
    )
    assert result.action == "unchanged" and target.read_bytes() == before
    loaded = index_read.load_index_file(target)
    assert [e.version for e in loaded.entries("demo")] == ["2.9.0", "2.10.0"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda doc: doc["packs"].reverse(),
        lambda doc: doc["packs"][0]["install_sources"][0].update(checksum="sha256:xyz"),
        lambda doc: doc.update(last_updated="yesterday"),
    ],
)
def test_an_invalid_index_is_refused_untouched(tmp_path: Path, damage: Any) -> None:
    target = tmp_path / "index.json"
    api_create(target, write_pack(tmp_path / "a", ref="alpha"))
    index_edit.update_index(target, write_pack(tmp_path / "b", ref="beta"), GIT_OPTIONS)
    doc = json.loads(target.read_text(encoding="utf-8"))
    damage(doc)
    target.write_text(json.dumps(doc), encoding="utf-8")
    before = target.read_bytes()
    with pytest.raises(IndexError_) as info:
        index_edit.update_index(target, write_pack(tmp_path / "c", ref="gamma"), GIT_OPTIONS)
    assert info.value.exit_code == 1 and info.value.details["problems"]
    assert target.read_bytes() == before
    assert listing(tmp_path) == ["a", "b", "c", "index.json"]


def test_a_failing_update_leaves_no_trace(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    api_create(target, write_pack(tmp_path / "good"))
    before = target.read_bytes()
    broken = pack_yaml(tmp_path / "broken", "ref: demo\nversion: nope\n")
    r = update(target, broken, "--update")
    assert r.exit_code == 1 and target.read_bytes() == before
    target.write_text("{not json", encoding="utf-8")
    r = update(target, tmp_path / "good", "--update", "-o", "json")
    assert r.exit_code == 1 and "not valid JSON" in r.stderr
    assert r.json["error"]["code"] == "invalid_index"
    assert target.read_text(encoding="utf-8") == "{not json"
    assert listing(tmp_path) == ["broken", "good", "index.json"]  # no temp files


def test_a_concurrent_rewrite_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    target.write_text("theirs\n", encoding="utf-8")
    with pytest.raises(AttuneError, match="changed while") as info:
        index_edit._write_if_unchanged_since(target, b"ours\n", "new\n")
    assert info.value.code == "concurrent_update"
    assert target.read_text(encoding="utf-8") == "theirs\n" and listing(tmp_path) == ["index.json"]


def test_update_the_real_index_changes_one_entry(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    shutil.copyfile(REFERENCE_INDEX, target)
    original = REFERENCE_INDEX.read_text(encoding="utf-8")
    pack = write_pack(tmp_path / "newpack", ref="newpack", version="0.1.0")
    r = update(target, pack)
    assert r.exit_code == 0, r.stderr
    text = target.read_text(encoding="utf-8")
    doc = json.loads(text)
    reference_validator().validate(doc)
    assert len(doc["packs"]) == 45 and doc["last_updated"] == "2026-01-01T00:00:00Z"
    old = json.loads(original)
    assert [p for p in doc["packs"] if p["ref"] != "newpack"] == old["packs"]
    added = [line for line in text.splitlines() if line not in original.splitlines()]
    assert any('"ref": "newpack"' in line for line in added)
    assert len(added) < 40  # one entry's lines and the timestamp, not a rewrite


# ------------------------------------------------------------------ index-merge


def write_index(path: Path, *packs: dict[str, Any], stamp: str, name: str = "Reg") -> Path:
    doc = {
        "registry_name": name,
        "registry_url": f"https://{name.lower()}.example.org",
        "version": "1.0",
        "last_updated": stamp,
        "packs": index_format.sort_entries(packs),
    }
    path.write_text(index_format.dump_index(doc), encoding="utf-8")
    return path


def entry(ref: str, version: str, checksum: str = SHA_A) -> dict[str, Any]:
    archive = {"type": "archive", "url": f"https://e.org/{ref}-{version}.tgz", "checksum": checksum}
    return index_entry(
        ref, version, [archive], label=ref.title(), description=f"{ref} {version}", license="MIT"
    )


def merge(*args: str) -> Any:
    return run_cli("pack", "index-merge", *args)


def test_merge_precedence_identity_and_timestamp(tmp_path: Path) -> None:
    a = write_index(tmp_path / "a.json", entry("demo", "2.9.0"), entry("only-a", "1.0.0"),
                    stamp="2026-01-01T00:00:00Z", name="First")  # fmt: skip
    b = write_index(tmp_path / "b.json", entry("demo", "2.10.0"), entry("only-b", "1.0.0"),
                    stamp="2026-03-01T10:00:00+01:00", name="Second")  # fmt: skip
    out = tmp_path / "out.json"
    r = merge("--file", str(out), str(a), str(b), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json["packs"] == 3 and r.json["loaded"] == 4 and r.json["format"] == "1.0"
    for order in ((a, b), (b, a)):
        index_edit.merge_indices(out, order, force=True)
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert [(p["ref"], p["version"]) for p in doc["packs"]] == [
            ("demo", "2.10.0"),
            ("only-a", "1.0.0"),
            ("only-b", "1.0.0"),
        ]
        first = json.loads(order[0].read_text(encoding="utf-8"))
        assert doc["registry_name"] == first["registry_name"]
        assert doc["registry_url"] == first["registry_url"]
        assert doc["last_updated"] == "2026-03-01T10:00:00+01:00"
        reference_validator().validate(doc)
    text = out.read_text(encoding="utf-8")
    index_edit.merge_indices(out, (b, a), force=True)
    assert out.read_text(encoding="utf-8") == text  # canonical: same input, same bytes


def test_merge_keep_history(tmp_path: Path) -> None:
    a = write_index(tmp_path / "a.json", entry("demo", "2.10.0"), stamp="2026-01-01T00:00:00Z")
    b = write_index(tmp_path / "b.json", entry("demo", "2.9.0"), stamp="2026-01-01T00:00:00Z")
    c = tmp_path / "c.json"
    write_index(c, entry("demo", "2.10.0", SHA_B), stamp="2026-01-01T00:00:00Z")
    out = tmp_path / "history.json"
    r = merge("--file", str(out), "--keep-history", str(a), str(b), str(c))
    assert r.exit_code == 0, r.stderr
    assert "demo 2.10.0 differs between" in r.stderr  # first input wins, with a warning
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["version"] == "1.0"  # older releases under the newest entry's meta.releases
    assert [p["version"] for p in doc["packs"]] == ["2.10.0"]
    assert [r["version"] for r in doc["packs"][0]["meta"]["releases"]] == ["2.9.0"]
    assert doc["packs"][0]["install_sources"][0]["checksum"] == SHA_A
    # A 1.1 input merged without --keep-history collapses to the highest version (1.0).
    repeated = tmp_path / "repeated.json"
    repeated.write_text(
        index_format.dump_index(
            {**doc, "version": "1.1", "packs": [entry("demo", "2.9.0"), entry("demo", "2.10.0")]}
        ),
        encoding="utf-8",
    )
    flat = tmp_path / "flat.json"
    index_edit.merge_indices(flat, [repeated])
    flat_doc = json.loads(flat.read_text(encoding="utf-8"))
    assert flat_doc["version"] == "1.0"
    assert [p["version"] for p in flat_doc["packs"]] == ["2.10.0"]


def test_merge_refuses_existing_output_without_force(tmp_path: Path) -> None:
    a = write_index(tmp_path / "a.json", entry("demo", "1.0.0"), stamp="2026-01-01T00:00:00Z")
    out = tmp_path / "out.json"
    out.write_text("keep me\n", encoding="utf-8")
    r = merge("--file", str(out), str(a), "-o", "json")
    assert r.exit_code == 1 and r.json["error"]["code"] == "file_exists"
    assert out.read_text(encoding="utf-8") == "keep me\n"
    with pytest.raises(AttuneError, match="add --force"):
        index_edit.merge_indices(out, [a])
    index_edit.merge_indices(out, [a], force=True)
    assert out.read_text(encoding="utf-8") == a.read_text(encoding="utf-8")


def test_merge_reports_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    good = write_index(tmp_path / "good.json", entry("demo", "1.0.0"), stamp="2026-01-01T00:00:00Z")
    bad1 = tmp_path / "bad1.json"
    doc = json.loads(good.read_text(encoding="utf-8"))
    doc["packs"][0]["version"] = "v1"
    doc["last_updated"] = "soon"
    bad1.write_text(json.dumps(doc), encoding="utf-8")
    bad2 = tmp_path / "bad2.json"
    bad2.write_text("[1, 2", encoding="utf-8")
    out = tmp_path / "out.json"
    out.write_text("old\n", encoding="utf-8")
    r = merge("--file", str(out), "--force", str(good), str(bad1), str(bad2), "-o", "json")
    assert r.exit_code == 1
    problems = r.json["error"]["details"]["problems"]
    assert len(problems) == 3
    assert any(p.startswith(f"{bad1}: last_updated") for p in problems)
    assert any(p.startswith(f"{bad1}: packs[0] (demo).version") for p in problems)
    assert any(str(bad2) in p and "not valid JSON" in p for p in problems)
    assert "3 problems" in r.stderr
    assert out.read_text(encoding="utf-8") == "old\n"
    assert listing(tmp_path) == ["bad1.json", "bad2.json", "good.json", "out.json"]
    r = merge("--file", str(tmp_path / "new.json"), str(good), str(tmp_path / "nope.json"))
    assert r.exit_code == 1 and "nope.json" in r.stderr
    assert not (tmp_path / "new.json").exists()


def test_merge_refuses_to_move_relative_sources(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    local = entry("demo", "1.0.0")
    local["install_sources"][0]["url"] = "packs/demo-1.0.0.tgz"
    src = write_index(mirror / "index.json", local, stamp="2026-01-01T00:00:00Z")
    r = merge("--file", str(tmp_path / "out.json"), str(src))
    assert r.exit_code == 1 and "write OUT next to the input" in r.stderr
    assert index_edit.merge_indices(mirror / "merged.json", [src]).packs == 1


def test_merge_with_the_real_index(tmp_path: Path) -> None:
    mine = write_index(
        tmp_path / "mine.json",
        entry("slack", "99.0.0"),
        entry("zz-extra", "1.0.0"),
        stamp="2020-01-01T00:00:00Z",
    )
    out = tmp_path / "merged.json"
    r = merge("--file", str(out), str(REFERENCE_INDEX), str(mine))
    assert r.exit_code == 0, r.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    reference_validator().validate(doc)
    assert index_validation.validate_index_data(doc) == []
    reference = json.loads(REFERENCE_INDEX.read_text(encoding="utf-8"))
    assert doc["registry_name"] == reference["registry_name"]
    assert doc["last_updated"] == reference["last_updated"]  # the later of the two
    refs = [p["ref"] for p in doc["packs"]]
    assert refs == sorted(refs) and len(refs) == 45 and refs[-1] == "zz-extra"
    slack = next(p for p in doc["packs"] if p["ref"] == "slack")
    assert slack["version"] == "99.0.0"
    # The real index alone merges into itself byte for byte.
    alone = tmp_path / "alone.json"
    index_edit.merge_indices(alone, [REFERENCE_INDEX])
    assert alone.read_bytes() == REFERENCE_INDEX.read_bytes()


def test_merge_in_place(tmp_path: Path) -> None:
    a = write_index(tmp_path / "a.json", entry("demo", "1.0.0"), stamp="2026-01-01T00:00:00Z")
    b = write_index(tmp_path / "b.json", entry("demo", "1.1.0"), stamp="2026-01-01T00:00:00Z")
    r = merge("--file", str(a), "--force", str(a), str(b))
    assert r.exit_code == 0, r.stderr
    assert [p["version"] for p in json.loads(a.read_text(encoding="utf-8"))["packs"]] == ["1.1.0"]
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.json"]
