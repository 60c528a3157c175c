"""Index rules shared by every command: release history kept by index-update, local
indices (relative sources inside the index's folder, size limit) and ``index validate``.

Real index files on disk, the project's own example registry and the reference index.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from attune_packs.config import load_settings
from attune_packs.errors import AttuneError, IndexError_, NotFound
from attune_packs.install.options import InstallOptions
from attune_packs.install.pipeline import Installer
from attune_packs.registry import index_edit, index_format, index_read, index_validation
from attune_packs.registry.authoring import SourceOptions
from attune_packs.registry.loader import load_registry
from attune_packs.registry.resolution import RegistrySet
from tests.conftest import EXAMPLES, REFERENCE_INDEX, REFERENCE_SCHEMA, write_pack
from tests.install_helpers import audit_rows, snapshot
from tests.servers import index_doc, index_entry, pack_tarball, sha, write_config

SHA_A = "sha256:" + "a" * 64
SHA_B = "sha256:" + "b" * 64
SHA_C = "sha256:" + "c" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"
GIT = SourceOptions("https://github.com/acme/demo.git", COMMIT)
EPOCH_1 = "1767225600"  # 2026-01-01T00:00:00Z
EPOCH_2 = "1767312000"  # 2026-01-02T00:00:00Z


def archive(url: str, checksum: str = SHA_A) -> list[dict[str, str]]:
    return [{"type": "archive", "url": url, "checksum": checksum}]


def write_doc(path: Path, doc: dict[str, Any]) -> bytes:
    """Write ``doc`` canonically (as our writers do) and return the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = index_format.dump_index(doc)
    path.write_text(text, encoding="utf-8")
    return text.encode("utf-8")


def reference_validate(doc: dict[str, Any]) -> None:
    schema = json.loads(REFERENCE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)


def history_doc() -> dict[str, Any]:
    """demo 2.0.0 with two older releases (1.1.0 needs no runtime), and another ref."""
    demo = index_entry(
        "demo",
        "2.0.0",
        archive("https://e.org/demo-2.0.0.tgz", SHA_A),
        runtime_deps=["python3"],
        meta={
            "category": "examples",
            "releases": [
                {
                    "version": "1.1.0",
                    "install_sources": archive("https://e.org/demo-1.1.0.tgz", SHA_B),
                    "runtime_deps": [],
                },
                {
                    "version": "1.0.0",
                    "install_sources": archive("https://e.org/demo-1.0.0.tgz", SHA_C),
                },
            ],
        },
    )
    other = index_entry("other", "1.0.0", archive("https://e.org/other-1.0.0.tgz"))
    return index_doc([demo, other])


def releases_of(doc: dict[str, Any], ref: str) -> list[str]:
    (entry,) = [p for p in doc["packs"] if p["ref"] == ref]
    return [entry["version"]] + [r["version"] for r in entry.get("meta", {}).get("releases", [])]


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_epoch(value: str) -> None:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", value)

    set_epoch(EPOCH_1)
    return set_epoch


# ------------------------------------------------------------------ 1. index-update keeps history


def test_update_keeps_meta_releases_newest_first(tmp_path: Path, epoch: Any) -> None:
    target = tmp_path / "index.json"
    before = write_doc(target, history_doc())
    other_before = next(p for p in read(target)["packs"] if p["ref"] == "other")
    pack = write_pack(tmp_path / "v21", version="2.1.0", extra="runtime_deps:\n  - python3\n")

    epoch(EPOCH_2)
    result = index_edit.update_index(target, pack, GIT, update=True)
    assert (result.action, result.written, result.format) == ("added", True, "1.0")
    assert result.history == ["2.0.0", "1.1.0", "1.0.0"] and result.replaced == []
    doc = read(target)
    assert doc["version"] == "1.0" and doc["last_updated"] == "2026-01-02T00:00:00Z"
    assert [p["ref"] for p in doc["packs"]] == ["demo", "other"]  # one entry per ref
    assert releases_of(doc, "demo") == ["2.1.0", "2.0.0", "1.1.0", "1.0.0"]
    demo = doc["packs"][0]
    assert demo["install_sources"][0]["url"] == "https://github.com/acme/demo.git"
    assert list(demo["meta"]) == ["releases"]  # the new pack.yaml has no meta of its own
    assert demo["meta"]["releases"] == [
        # The previous newest keeps its sources; same runtime_deps as 2.1.0: not repeated.
        {"version": "2.0.0", "install_sources": archive("https://e.org/demo-2.0.0.tgz", SHA_A)},
        {
            "version": "1.1.0",
            "install_sources": archive("https://e.org/demo-1.1.0.tgz", SHA_B),
            "runtime_deps": [],
        },
        {"version": "1.0.0", "install_sources": archive("https://e.org/demo-1.0.0.tgz", SHA_C)},
    ]
    assert doc["packs"][1] == other_before  # the other ref is untouched
    reference_validate(doc)  # still the Attune format, readable by an Attune client
    assert target.read_bytes() != before

    # The same update again: byte-identical, timestamp kept, nothing written.
    written = target.read_bytes()
    stat = target.stat()
    again = index_edit.update_index(target, pack, GIT, update=True)
    assert (again.action, again.written) == ("unchanged", False)
    assert target.read_bytes() == written
    assert (target.stat().st_ino, target.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert sorted(os.listdir(tmp_path)) == ["index.json", "v21"]


def test_update_keeps_history_of_a_format_1_1_index(tmp_path: Path, epoch: Any) -> None:
    target = tmp_path / "index.json"
    doc = index_doc(
        [
            index_entry("demo", "1.0.0", archive("https://e.org/demo-1.0.0.tgz", SHA_C)),
            index_entry("demo", "1.1.0", archive("https://e.org/demo-1.1.0.tgz", SHA_B)),
            index_entry("other", "0.9.0", archive("https://e.org/other-0.9.0.tgz")),
            index_entry("other", "1.0.0", archive("https://e.org/other-1.0.0.tgz")),
        ],
        fmt="1.1",
    )
    write_doc(target, doc)
    result = index_edit.update_index(
        target, write_pack(tmp_path / "v12", version="1.2.0"), GIT, update=True
    )
    assert result.format == "1.0" and result.written
    out = read(target)
    assert out["version"] == "1.0"  # writers convert 1.1 (DESIGN.md section 4)
    assert releases_of(out, "demo") == ["1.2.0", "1.1.0", "1.0.0"]
    assert releases_of(out, "other") == ["1.0.0", "0.9.0"]
    assert out["packs"][0]["meta"]["releases"][1] == {
        "version": "1.0.0",
        "install_sources": archive("https://e.org/demo-1.0.0.tgz", SHA_C),
    }
    reference_validate(out)
    written = target.read_bytes()
    again = index_edit.update_index(target, tmp_path / "v12", GIT, update=True)
    assert again.action == "unchanged" and not again.written and target.read_bytes() == written
    # Every release is still installable: readers see all of them.
    loaded = index_read.load_index_file(target)
    assert [e.version for e in loaded.entries("demo")] == ["1.0.0", "1.1.0", "1.2.0"]
    assert [e.version for e in loaded.entries("other")] == ["0.9.0", "1.0.0"]


def test_update_of_a_listed_release_replaces_only_that_one(tmp_path: Path, epoch: Any) -> None:
    target = tmp_path / "index.json"
    write_doc(target, history_doc())
    pack = write_pack(tmp_path / "v11", version="1.1.0")
    result = index_edit.update_index(target, pack, GIT, update=True)
    assert (result.action, result.replaced) == ("updated", ["1.1.0"])
    doc = read(target)
    assert releases_of(doc, "demo") == ["2.0.0", "1.1.0", "1.0.0"]
    demo = doc["packs"][0]
    assert demo["install_sources"] == archive("https://e.org/demo-2.0.0.tgz", SHA_A)
    assert demo["meta"]["releases"][0]["install_sources"][0]["url"] == (
        "https://github.com/acme/demo.git"
    )
    # A lower new version goes into its place in the history, the newest entry stays.
    index_edit.update_index(target, write_pack(tmp_path / "v15", version="1.5.0"), GIT, update=True)
    assert releases_of(read(target), "demo") == ["2.0.0", "1.5.0", "1.1.0", "1.0.0"]
    assert index_validation.validate_index_data(read(target)) == []


def test_refusal_names_every_listed_version(tmp_path: Path, epoch: Any) -> None:
    target = tmp_path / "index.json"
    before = write_doc(target, history_doc())
    pack = write_pack(tmp_path / "v3", version="3.0.0")
    with pytest.raises(AttuneError) as info:
        index_edit.update_index(target, pack, GIT)
    assert info.value.code == "entry_exists" and info.value.exit_code == 1
    assert f"{target} already lists 'demo' (2.0.0, 1.1.0, 1.0.0)" in info.value.message
    assert "--update" in info.value.message
    same = write_pack(tmp_path / "same", version="1.1.0")
    with pytest.raises(AttuneError) as info:
        index_edit.update_index(target, same, GIT, keep_history=True)
    assert "already lists demo 1.1.0 (listed: 2.0.0, 1.1.0, 1.0.0)" in info.value.message
    assert target.read_bytes() == before
    # Format 1.1: every repeated entry of the ref is named, newest first.
    repeated = tmp_path / "repeated.json"
    old = write_doc(
        repeated,
        index_doc(
            [index_entry("demo", v, archive(f"https://e.org/{v}.tgz")) for v in ("1.0.0", "1.1.0")],
            fmt="1.1",
        ),
    )
    with pytest.raises(AttuneError, match=r"already lists 'demo' \(1\.1\.0, 1\.0\.0\)"):
        index_edit.update_index(repeated, pack, GIT)
    assert repeated.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["index.json", "repeated.json", "same", "v3"]


def test_keep_history_on_a_plain_index_starts_meta_releases(tmp_path: Path, epoch: Any) -> None:
    target = tmp_path / "index.json"
    write_doc(target, index_doc([index_entry("demo", "1.0.0", archive("https://e.org/1.tgz"))]))
    index_edit.update_index(target, write_pack(tmp_path / "v2", version="2.0.0"), GIT,
                           keep_history=True)  # fmt: skip
    doc = read(target)
    assert releases_of(doc, "demo") == ["2.0.0", "1.0.0"]
    reference_validate(doc)
    # Without history, --update still replaces (the documented plain behaviour).
    plain = tmp_path / "plain.json"
    write_doc(plain, index_doc([index_entry("demo", "1.0.0", archive("https://e.org/1.tgz"))]))
    index_edit.update_index(plain, tmp_path / "v2", GIT, update=True)
    assert releases_of(read(plain), "demo") == ["2.0.0"]


def test_merge_keep_history_writes_meta_releases(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    write_doc(a, history_doc())
    b = tmp_path / "b.json"
    write_doc(b, index_doc([index_entry("demo", "1.5.0", archive("https://e.org/demo-1.5.tgz"))]))
    out = tmp_path / "out.json"
    result = index_edit.merge_indices(out, [a, b], keep_history=True)
    assert result.format == "1.0"
    doc = read(out)
    assert releases_of(doc, "demo") == ["2.0.0", "1.5.0", "1.1.0", "1.0.0"]
    reference_validate(doc)


def test_readers_resolve_every_release(home: Path, tmp_path: Path) -> None:
    path = home / "index.json"
    write_doc(path, history_doc())
    write_config(home, [{"name": "h", "url": str(path)}])
    rs = RegistrySet(load_settings(home=home, env={}))
    assert rs.resolve("demo").entry.version == "2.0.0"
    old = rs.resolve("demo", "1.1.0").entry
    assert old.install_sources[0].url == "https://e.org/demo-1.1.0.tgz"
    assert old.runtime_deps == []  # given by the release
    assert rs.resolve("demo", "1.0.0").entry.runtime_deps == ["python3"]  # inherited
    assert rs.resolve("demo", "<1.1").entry.version == "1.0.0"
    _name, entries = rs.versions("demo")
    assert [e.version for e in entries] == ["1.0.0", "1.1.0", "2.0.0"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda rel: rel.reverse(),
            "packs[0] (demo).meta.releases[1].version: releases are not newest first: "
            "1.1.0 comes after 1.0.0",
        ),
        (
            lambda rel: rel[0].update(version="2.0.0"),
            "packs[0] (demo).meta.releases[0].version: 2.0.0 is not older than the entry's 2.0.0",
        ),
        (
            lambda rel: rel[0]["install_sources"][0].update(checksum="sha256:xyz"),
            "packs[0] (demo).meta.releases[0].install_sources[0].checksum: 'sha256:xyz' is not "
            "a checksum (sha256: followed by 64 lowercase hex digits)",
        ),
        (
            lambda rel: rel[1].update(label="x"),
            "packs[0] (demo).meta.releases[1].label: is not a release field",
        ),
        (
            lambda rel: rel[1].pop("install_sources"),
            "packs[0] (demo).meta.releases[1].install_sources: must be a non-empty list",
        ),
    ],
)
def test_bad_release_history_is_refused_untouched(
    tmp_path: Path, epoch: Any, damage: Any, message: str
) -> None:
    doc = history_doc()
    damage(doc["packs"][0]["meta"]["releases"])
    assert any(p.startswith(message) for p in index_validation.validate_index_data(doc)), message
    target = tmp_path / "index.json"
    before = write_doc(target, doc)
    with pytest.raises(IndexError_) as info:
        index_edit.update_index(target, write_pack(tmp_path / "p", version="3.0.0"), GIT,
                               update=True)  # fmt: skip
    assert info.value.code == "invalid_index" and str(target) in info.value.message
    assert target.read_bytes() == before


def test_meta_releases_are_not_used_in_format_1_1() -> None:
    doc = history_doc()
    doc["version"] = "1.1"
    assert index_validation.validate_index_data(doc) == [
        "packs[0] (demo).meta.releases: is not used in format 1.1, where each version is an "
        "entry of its own"
    ]


# ------------------------------------------------------------------ 2. index validate: one rule


def test_validate_accepts_the_example_registry_with_warnings() -> None:
    path = EXAMPLES / "index.json"
    before = path.read_bytes()
    result = index_read.validate_index_file(path)
    assert result.valid and result.errors == [] and result.format == "1.0" and result.packs == 4
    doc = json.loads(before)
    expected = [
        f"packs[{i}] ({p['ref']}).install_sources[0].url: {p['install_sources'][0]['url']!r} "
        "is a relative path: accepted in a local index, refused by a remote Attune host "
        "(https:// only)"
        for i, p in enumerate(doc["packs"])
    ]
    assert result.warnings == expected
    assert result.to_dict()["warnings"] == expected
    strict = index_read.validate_index_file(path, strict=True)
    assert not strict.valid and strict.errors == expected and strict.warnings == []
    assert path.read_bytes() == before


def test_install_accepts_what_validate_accepts(home: Path) -> None:
    """The example registry, configured as a local registry, resolves and installs."""
    mirror = home.parent / "mirror"
    shutil.copytree(EXAMPLES, mirror, ignore=shutil.ignore_patterns("__pycache__"))
    write_config(home, [{"name": "examples", "url": str(mirror / "index.json")}])
    settings = load_settings(home=home, env={})
    assert index_read.validate_index_file(mirror / "index.json").valid
    inst = Installer(settings)
    try:
        result = inst.install("shell_tools", InstallOptions(skip_tests=True))
    finally:
        inst.close()
    assert (result.ref, result.version) == ("shell_tools", "2.0.1")


def test_validate_the_reference_index() -> None:
    result = index_read.validate_index_file(REFERENCE_INDEX, strict=True)
    assert result.valid and result.errors == [] and result.warnings == []
    assert result.packs == 44 and result.format == "1.0"


def test_validate_warns_about_every_source_a_remote_host_refuses(tmp_path: Path) -> None:
    demo = index_entry(
        "demo",
        "2.0.0",
        archive("http://mirror.example.org/demo-2.0.0.tgz"),
        meta={"releases": [{"version": "1.0.0", "install_sources": archive("old/demo.tgz")}]},
    )
    abs_entry = index_entry("local", "1.0.0", archive("/srv/packs/local.tgz"))
    file_entry = index_entry("viafile", "1.0.0", archive("file:///srv/packs/f.tgz"))
    path = tmp_path / "index.json"
    before = write_doc(path, index_doc([demo, abs_entry, file_entry]))
    plain = index_read.validate_index_file(path)  # http:// is not allowed without allow_http
    assert plain.errors == [
        "packs[0] (demo).install_sources[0].url: 'http://mirror.example.org/demo-2.0.0.tgz' "
        "must use https://"
    ]
    result = index_read.validate_index_file(path, allow_http=True)
    assert result.valid
    assert result.warnings == [
        "packs[0] (demo).install_sources[0].url: 'http://mirror.example.org/demo-2.0.0.tgz' "
        "is plain http://: accepted in a local index, refused by a remote Attune host "
        "(https:// only)",
        "packs[0] (demo).meta.releases[0].install_sources[0].url: 'old/demo.tgz' is a "
        "relative path: accepted in a local index, refused by a remote Attune host "
        "(https:// only)",
        "packs[1] (local).install_sources[0].url: '/srv/packs/local.tgz' is a local path: "
        "accepted in a local index, refused by a remote Attune host (https:// only)",
        "packs[2] (viafile).install_sources[0].url: 'file:///srv/packs/f.tgz' is a file:// "
        "URL: accepted in a local index, refused by a remote Attune host (https:// only)",
    ]
    strict = index_read.validate_index_file(path, allow_http=True, strict=True)
    assert not strict.valid and strict.errors == result.warnings
    assert path.read_bytes() == before


def test_validate_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"index file not found: .*missing\.json"):
        index_read.validate_index_file(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{broken", encoding="utf-8")
    result = index_read.validate_index_file(broken)
    assert not result.valid and result.format is None
    assert result.errors[0].startswith(f"index {broken} is not valid JSON")
    assert broken.read_text(encoding="utf-8") == "{broken"


# ------------------------------------------------------------------ 3. relative sources stay inside


@pytest.mark.parametrize(
    "url",
    ["../outside/demo.tgz", "archives/../../outside/demo.tgz", "./..", "file:outside/demo.tgz"],
)
def test_relative_source_leaving_the_folder_is_refused(tmp_path: Path, url: str) -> None:
    path = tmp_path / "mirror" / "index.json"
    before = write_doc(path, index_doc([index_entry("demo", "1.0.0", archive(url))]))
    result = index_read.validate_index_file(path)
    assert not result.valid and result.warnings == []
    (error,) = result.errors
    assert error.startswith(f"packs[0] (demo).install_sources[0].url: {url!r} ")
    assert ("leaves the index's folder" in error) or ("absolute path" in error)
    with pytest.raises(IndexError_) as info:
        index_read.load_index_file(path)
    assert url in info.value.message and str(path) in info.value.message
    assert path.read_bytes() == before


def setup_escape(tmp_path: Path, home: Path, *, via_link: bool) -> tuple[Path, Path, str]:
    """A local registry whose demo archive really exists outside the index's folder."""
    outside = tmp_path / "outside"
    outside.mkdir()
    data = pack_tarball(write_pack(tmp_path / "src"))
    (outside / "demo-1.0.0.tar.gz").write_bytes(data)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    if via_link:
        os.symlink(outside, mirror / "archives")
        url = "archives/demo-1.0.0.tar.gz"
    else:
        url = "../outside/demo-1.0.0.tar.gz"
    path = mirror / "index.json"
    write_doc(path, index_doc([index_entry("demo", "1.0.0", archive(url, sha(data)))]))
    write_config(home, [{"name": "mirror", "url": str(path)}])
    return path, outside / "demo-1.0.0.tar.gz", url


@pytest.mark.parametrize("via_link", [False, True])
def test_install_refuses_a_source_outside_the_index_folder(
    tmp_path: Path, home: Path, via_link: bool
) -> None:
    path, outside, url = setup_escape(tmp_path, home, via_link=via_link)
    index_before, archive_before = path.read_bytes(), outside.read_bytes()
    result = index_read.validate_index_file(path)
    assert not result.valid
    reason = "through a symbolic link" if via_link else "(a relative path must stay inside it)"
    assert result.errors == [
        f"packs[0] (demo).install_sources[0].url: {url!r} leaves the index's folder {reason}"
    ]
    inst = Installer(load_settings(home=home, env={}))
    try:
        with pytest.raises(AttuneError) as info:
            inst.install("demo", InstallOptions(skip_tests=True))
    finally:
        inst.close()
    # ``..`` makes the index invalid, so the registry fails closed; a link is caught
    # where the path is resolved, before anything is read from it.
    code = "invalid_index" if via_link else "registry_unavailable"
    assert info.value.exit_code == 1 and info.value.code == code
    assert f"{url!r} leaves the index's folder" in info.value.message
    assert str(outside) not in info.value.message  # what the index says, not where it led
    state = snapshot(home)
    assert state["store"] == {} and state["tables"].get("pack", []) == []  # nothing installed
    assert [row["status"] for row in audit_rows(home)] in ([], ["failed"])
    assert path.read_bytes() == index_before and outside.read_bytes() == archive_before


def test_resolve_url_checks_links_at_install_time(tmp_path: Path) -> None:
    """A link created after validation is still caught where the path is used."""
    mirror = tmp_path / "mirror"
    path = mirror / "index.json"
    write_doc(path, index_doc([index_entry("demo", "1.0.0", archive("archives/d.tgz"))]))
    loaded = index_read.load_index_file(path)
    assert loaded.resolve_url("archives/d.tgz") == str(mirror / "archives" / "d.tgz")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", mirror / "archives")
    with pytest.raises(IndexError_, match="leaves the index's folder through a symbolic link"):
        loaded.resolve_url("archives/d.tgz")
    inside = mirror / "real"
    inside.mkdir()
    os.symlink(inside, mirror / "alias")  # a link that stays inside is fine
    assert loaded.resolve_url("alias/d.tgz") == str(mirror / "alias" / "d.tgz")


def test_local_index_over_the_size_limit(tmp_path: Path, home: Path) -> None:
    path = home / "index.json"
    doc = index_doc([index_entry("demo", "1.0.0", archive("https://e.org/d.tgz"))])
    write_doc(path, doc)
    size = path.stat().st_size
    write_config(home, [{"name": "big", "url": str(path)}], network={"index_max_bytes": 100})
    before = path.read_bytes()
    settings = load_settings(home=home, env={})
    with pytest.raises(AttuneError) as info:
        load_registry(settings.registries[0], settings)
    assert info.value.code == "too_large" and info.value.exit_code == 1
    assert info.value.message == (
        f"registry 'big': index {path} is too large: {size:,} bytes, the limit is 100 bytes "
        "(network.index_max_bytes)"
    )
    with pytest.raises(AttuneError, match="fail closed"):
        RegistrySet(settings).resolve("demo")
    result = index_read.validate_index_file(path, max_bytes=100)
    assert not result.valid and result.errors == [
        f"index {path} is too large: {size:,} bytes, the limit is 100 bytes "
        "(network.index_max_bytes)"
    ]
    assert path.read_bytes() == before
    # Within the limit (0 = no limit), the same file loads.
    assert index_read.validate_index_file(path, max_bytes=size).valid
    assert index_read.validate_index_file(path, max_bytes=0).valid


def test_a_huge_local_index_is_refused_without_reading_it(tmp_path: Path, home: Path) -> None:
    """A sparse 4 GiB file: refused from its size, never read into memory."""
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:
        fh.truncate(4 * 1024**3)
    write_config(home, [{"name": "huge", "url": str(path)}])
    settings = load_settings(home=home, env={})
    with pytest.raises(AttuneError) as info:
        load_registry(settings.registries[0], settings)
    assert info.value.code == "too_large"
    assert f"index {path} is too large: 4,294,967,296 bytes" in info.value.message
    assert "the limit is 10,485,760 bytes (network.index_max_bytes)" in info.value.message
    result = index_read.validate_index_file(path)  # the default limit applies to validate too
    assert not result.valid and "is too large" in result.errors[0]
    with pytest.raises(IndexError_, match="too large"):
        index_edit.update_index(path, write_pack(tmp_path / "p"), GIT, update=True)
    assert path.stat().st_size == 4 * 1024**3
