"""Messages name what the user gave, never an internal path.

Broken packs are installed in every source form (a folder, its pack.yaml, a
tar.gz, a zip, an archive URL, a git repository by path and over HTTPS, a
registry entry with an archive or a git source) with every kind of breakage (bad
YAML, a missing version, an invalid version, a bad component file, a checksum
mismatch, a failing dependency).  Neither the error line on stderr, nor the
``-o json`` error document, nor any ``--progress json`` event line, nor the
failed audit row may show a staging folder (``.staging-``) or the home folder;
the message names the source as it was given; nothing installed is lost or
half-written.

Real files, real git repositories, a real HTTPS server on 127.0.0.1, the real CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from attune_packs.pack.checksum import directory_checksum
from tests.conftest import CliResult, run_cli, write_pack
from tests.install_helpers import audit_rows, make_tar, make_zip, snapshot
from tests.servers import TestServer, index_doc, index_entry, make_bare_repo, sha, write_config

WRONG = "sha256:" + "0" * 64
HEADER = "label: Broken Pack\ndescription: A broken test pack\nauthor: Tests\n"

#: breakage -> (pack.yaml text, extra files, expected error code)
BREAKAGES: dict[str, tuple[str, dict[str, str], str]] = {
    "bad_yaml": (
        "ref: bad_yaml\n" + HEADER + "version: [1.0.0\n",
        {},
        "invalid_manifest",
    ),
    "missing_version": ("ref: missing_version\n" + HEADER, {}, "invalid_manifest"),
    "invalid_version": (
        "ref: invalid_version\n" + HEADER + "version: one.two\n",
        {},
        "invalid_manifest",
    ),
    "bad_component": (
        "ref: bad_component\n" + HEADER + "version: 1.0.0\n",
        {"actions/run.yaml": "name: run\nparameters: [unclosed\n"},
        "invalid_manifest",
    ),
    "checksum": ("ref: checksum\n" + HEADER + "version: 1.0.0\n", {}, "checksum_mismatch"),
    "dependency": (
        "ref: dependency\n" + HEADER + "version: 1.0.0\ndependencies:\n  - missing_dep@^1.0\n",
        {},
        "",  # whichever code the dependency resolver gives; checked below
    ),
}

SOURCES = [
    "folder",
    "pack_yaml",
    "tar_gz",
    "zip",
    "archive_url",
    "git_path",
    "git_https",
    "registry_archive",
    "registry_git",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("messages")
    srv = base / "srv"
    srv.mkdir()
    server = TestServer(tls=True, static_root=srv).start()
    (base / "archives").mkdir()
    packs: dict[str, dict[str, Any]] = {}
    arch_entries, git_entries = [], []
    for name, (manifest, files, _) in BREAKAGES.items():
        folder = base / "src" / name
        folder.mkdir(parents=True)
        (folder / "pack.yaml").write_text(manifest, encoding="utf-8")
        for rel, text in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text, encoding="utf-8")
        tar = make_tar(folder, base / "archives" / f"{name}.tar.gz", top=name)
        zipped = make_zip(folder, base / "archives" / f"{name}.zip", top=None)
        (srv / f"{name}.tar.gz").write_bytes(tar.read_bytes())
        work = base / "work" / name
        work.mkdir(parents=True)
        for path in folder.rglob("*"):
            if path.is_file():
                dest = work / path.relative_to(folder)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(path.read_bytes())
        make_bare_repo(work, srv / f"{name}.git", tags=["v1.0.0"])
        dirsum = directory_checksum(folder).checksum
        tarsum = sha(tar.read_bytes())
        good = name != "checksum"
        deps = {"dependencies": {"packs": ["missing_dep@^1.0"]}} if name == "dependency" else {}
        arch_src = {
            "type": "archive",
            "url": server.url(f"{name}.tar.gz"),
            "checksum": tarsum if good else WRONG,
        }
        git_src = {
            "type": "git",
            "url": server.url(f"{name}.git"),
            "ref": "v1.0.0",
            "checksum": dirsum if good else WRONG,
        }
        arch_entries.append(index_entry(name, "1.0.0", [arch_src], **deps))
        git_entries.append(index_entry(name, "1.0.0", [git_src], **deps))
        packs[name] = {
            "folder": folder,
            "tar": tar,
            "zip": zipped,
            "bare": srv / f"{name}.git",
            "dirsum": dirsum,
            "tarsum": tarsum,
        }
    for entries, index, registry in (
        (arch_entries, "arch-index.json", "arch"),
        (git_entries, "git-index.json", "gitreg"),
    ):
        entries.sort(key=lambda e: e["ref"])
        (base / index).write_text(json.dumps(index_doc(entries, name=registry)))
    yield {
        "base": base,
        "server": server,
        "packs": packs,
        "env": {"ATTUNE_CA_BUNDLE": str(server.ca_bundle)},
        "registries": [
            {"name": "arch", "url": str(base / "arch-index.json"), "priority": 1},
            {"name": "gitreg", "url": str(base / "git-index.json"), "priority": 2},
        ],
    }
    server.stop()


def source_args(world: dict[str, Any], form: str, name: str) -> tuple[list[str], str]:
    """The install arguments for pack ``name`` in source form ``form``, and how the
    message must name the source (what the user gave)."""
    p = world["packs"][name]
    url = world["server"].url
    checksum_case = name == "checksum"
    if form == "folder":
        given = str(p["folder"])
        return [given] + (["--expect-checksum", WRONG] if checksum_case else []), given
    if form == "pack_yaml":
        given = str(p["folder"] / "pack.yaml")
        extra = ["--expect-checksum", WRONG] if checksum_case else []
        return [given, *extra], str(p["folder"])
    if form in ("tar_gz", "zip"):
        given = str(p["tar"] if form == "tar_gz" else p["zip"])
        return [given] + (["--expect-checksum", WRONG] if checksum_case else []), given
    if form == "archive_url":
        given = url(f"{name}.tar.gz")
        return [given, "--expect-checksum", WRONG if checksum_case else p["tarsum"]], given
    if form == "git_path":
        given = str(p["bare"])
        return [given] + (["--expect-checksum", WRONG] if checksum_case else []), given
    if form == "git_https":
        given = url(f"{name}.git")
        return [given, "--expect-checksum", WRONG if checksum_case else p["dirsum"]], given
    registry = "arch" if form == "registry_archive" else "gitreg"
    if checksum_case:
        return [f"{name}@1.0.0", "--registry", registry], name
    # The entry asked for, and where the registry said it is.
    where = url(f"{name}.tar.gz") if registry == "arch" else url(f"{name}.git")
    return [f"{name}@1.0.0", "--registry", registry], (
        f"{name} 1.0.0 from registry {registry!r}: invalid pack in {where}"
    )


def attempt(world: dict[str, Any], home: Path, args: list[str]) -> CliResult:
    return run_cli(
        "pack",
        "install",
        *args,
        "--skip-tests",
        "--progress",
        "json",
        "-o",
        "json",
        home=home,
        env=world["env"],
    )


def seeded(world: dict[str, Any], home: Path) -> dict[str, Any]:
    """A home with one installed pack (that must survive) and the registries configured."""
    write_config(home, world["registries"])
    keep = world["base"] / "keep"
    if not keep.exists():
        write_pack(keep, "keep", "1.0.0")
    r = run_cli("pack", "install", str(keep), "--progress", "none", home=home)
    assert r.exit_code == 0, r.stderr
    return snapshot(home)


def assert_clean(text: str, home: Path, what: str) -> None:
    assert ".staging-" not in text, f"{what} shows a staging folder: {text}"
    assert str(home) not in text, f"{what} shows the home folder: {text}"
    assert "attune-dry-run-" not in text, f"{what} shows a temporary folder: {text}"


def check_failure(
    world: dict[str, Any], home: Path, args: list[str], code: str, case: str = ""
) -> str:
    """Install ``args`` into a seeded home; every output is checked; return the message.
    (A dry run records nothing, not even its failure.)"""
    if not (home / "config.yaml").exists():
        seeded(world, home)
    before = snapshot(home)
    n_audit = len(audit_rows(home))
    r = attempt(world, home, args)
    assert r.exit_code == 1, (case, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, case
    # stdout: exactly the JSON error document.
    doc = json.loads(r.stdout)
    message = doc["error"]["message"]
    if code:
        assert doc["error"]["code"] == code, (case, doc)
    assert_clean(json.dumps(doc), home, f"{case}: the JSON error document")
    # stderr: JSON event lines and one error line.
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [f"error: {message}"], (case, r.stderr)
    for line in r.stderr.splitlines():
        if line.startswith("error:"):
            continue
        event = json.loads(line)
        assert "event" in event, (case, line)
        assert_clean(line, home, f"{case}: the progress event {event['event']}")
    assert_clean(r.stderr, home, f"{case}: stderr")
    # Nothing lost or half-written; one failed audit row, itself clean.
    assert snapshot(home) == before, case
    rows = audit_rows(home)
    if "--dry-run" in args:
        assert len(rows) == n_audit, case
        return message
    assert len(rows) == n_audit + 1, case
    assert rows[-1]["status"] == "failed", case
    assert_clean(json.dumps(rows[-1], default=str), home, f"{case}: the failed audit row")
    return message


@pytest.mark.parametrize("form", SOURCES)
def test_broken_pack_messages_name_the_source(world: dict[str, Any], home: Path, form: str) -> None:
    """Every breakage in this source form, one after the other, into the same home."""
    for name, (_, _, code) in BREAKAGES.items():
        args, given = source_args(world, form, name)
        case = f"{form} / {name}"
        message = check_failure(world, home, args, code, case)
        if name == "dependency":
            # Named by the pack that needs it (the source was fine), whatever the form.
            assert "missing_dep" in message, (case, message)
        else:
            assert given in message, (case, message)


def test_invalid_pack_yaml_in_an_archive_is_named_inside_the_archive(
    world: dict[str, Any], home: Path
) -> None:
    tar = world["packs"]["missing_version"]["tar"]
    message = check_failure(world, home, [str(tar)], "invalid_manifest")
    assert message == f"invalid pack in {tar}: required field 'version' is missing"
    tar = world["packs"]["bad_yaml"]["tar"]
    message = check_failure(world, home, [str(tar)], "invalid_manifest")
    assert message.startswith(f"invalid pack in {tar}: pack.yaml: ")


def test_bad_component_in_a_zip_is_named_inside_the_zip(world: dict[str, Any], home: Path) -> None:
    zipped = world["packs"]["bad_component"]["zip"]
    message = check_failure(world, home, [str(zipped)], "invalid_manifest")
    assert message.startswith(f"invalid pack in {zipped}: component file {zipped}:actions/run.yaml")


def test_invalid_pack_in_a_git_repository_is_named_by_its_url(
    world: dict[str, Any], home: Path
) -> None:
    url = world["server"].url("invalid_version.git")
    message = check_failure(
        world,
        home,
        [url, "--expect-checksum", world["packs"]["invalid_version"]["dirsum"]],
        "invalid_manifest",
    )
    assert message.startswith(f"invalid pack in {url}: version 'one.two' ")


def test_dry_run_failure_names_the_source(world: dict[str, Any], home: Path) -> None:
    tar = world["packs"]["bad_component"]["tar"]
    message = check_failure(world, home, [str(tar), "--dry-run"], "invalid_manifest")
    assert f"{tar}:bad_component/actions/run.yaml" in message


@pytest.mark.parametrize("form", ["archive_url", "git_path", "git_https", "git_ref_spec"])
def test_successful_install_progress_shows_no_staging_folder(
    world: dict[str, Any], home: Path, tmp_path: Path, form: str
) -> None:
    write_config(home, world["registries"])
    good = write_pack(tmp_path / "good", "good", "1.0.0")
    srv = world["base"] / "srv"
    if not (srv / "good.git").exists():
        make_bare_repo(good, srv / "good.git", tags=["v1.0.0"])
    tar = make_tar(good, tmp_path / "good.tar.gz", top="good")
    (srv / "good.tar.gz").write_bytes(tar.read_bytes())
    url = world["server"].url
    args: dict[str, Callable[[], list[str]]] = {
        "archive_url": lambda: [url("good.tar.gz"), "--expect-checksum", sha(tar.read_bytes())],
        "git_path": lambda: [str(srv / "good.git")],
        "git_https": lambda: [url("good.git")],
        "git_ref_spec": lambda: [url("good.git"), "--ref-spec", "v1.0.0"],
    }
    r = attempt(world, home, args[form]())
    assert r.exit_code == 0, r.stderr
    assert ".staging-" not in r.stderr
    fetched = [
        json.loads(ln)
        for ln in r.stderr.splitlines()
        if ln.startswith("{") and '"fetch"' in ln and "step_completed" in ln
    ]
    assert fetched and all(".staging-" not in e["message"] for e in fetched)
