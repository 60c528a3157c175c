"""Input that used to brick a home, hang a command or slip past the archive checks.

* an archive entry nested thousands of folders deep (RecursionError, and a staging
  folder nobody could remove, so every later command failed the same way);
* a staging folder of any depth left by a dead process (recovery removes it);
* archive entries that differ only in case or Unicode normalisation;
* entry names with a NUL (pax, GNU long names, ustar fields, zip);
* a ``pack.yaml`` (or a component file, or a lock file) that is a FIFO.
"""

from __future__ import annotations

import os
import tarfile
import unicodedata
from pathlib import Path

import pytest

from attune_packs.config import ArchiveLimits
from attune_packs.errors import ArchiveError
from attune_packs.fsutil import remove_tree
from attune_packs.pack.archive import extract_archive
from attune_packs.pack.archive_write import MAX_ENTRY_DEPTH, MAX_ENTRY_PATH_BYTES
from tests.conftest import run_cli, write_pack
from tests.install_helpers import (
    audit_rows,
    dead_pid,
    make_deep_tree,
    patch_bytes,
    snapshot,
    tar_of,
    zip_of,
)

PACK_YAML = (
    b"ref: demo\nlabel: Demo\ndescription: A test pack\nversion: 1.0.0\n"
    b"author: Tests\nlicense: Apache-2.0\n"
)
DEEP_NAME = "a/" * 2100 + "f.txt"  # a 4.2 KB path, 2,101 components


def _archive(kind: str, out_dir: Path, entries: list[tuple[str, bytes]]) -> Path:
    if kind == "zip":
        return zip_of(out_dir / "pack.zip", entries)
    return tar_of(out_dir / "pack.tar.gz", entries)


def _refused(archive: Path, dest: Path) -> ArchiveError:
    with pytest.raises(ArchiveError) as err:
        extract_archive(archive, dest, ArchiveLimits())
    assert "\n" not in err.value.message
    assert list(dest.iterdir()) == [], "the destination must be left empty"
    return err.value


def _install_fails(
    home: Path, source: Path, *needles: str, cwd: Path | None = None
) -> dict[str, object]:
    """Install ``source``: exit 1, one line naming what the user gave and the needles,
    nothing changed, a failed audit row; returns that row."""
    before, rows = snapshot(home), audit_rows(home)
    given = source.name if cwd is not None else str(source)
    r = run_cli("pack", "install", given, "--progress", "none", home=home, cwd=cwd, timeout=60)
    assert r.exit_code == 1, r.stderr
    line = r.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, r.stderr
    for needle in needles:
        assert needle in line, line
    assert ".staging-" not in r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert snapshot(home) == before
    assert [p.name for p in (home / "packs").iterdir() if p.name.startswith(".staging-")] == []
    new = audit_rows(home)
    assert len(new) == len(rows) + 1
    assert new[-1]["status"] == "failed"
    return new[-1]


@pytest.fixture
def installed(tmp_path: Path, home: Path) -> Path:
    """A home holding demo 1.0.0 (so the database and store exist)."""
    good = write_pack(tmp_path / "good")
    r = run_cli("pack", "install", str(good), "--progress", "none", home=home)
    assert r.exit_code == 0, r.stderr
    return home


# --------------------------------------------------------------------------- deep entries


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_an_entry_thousands_of_folders_deep_is_refused(tmp_path: Path, kind: str) -> None:
    archive = _archive(kind, tmp_path, [("pack.yaml", PACK_YAML), (DEEP_NAME, b"x")])
    dest = tmp_path / "dest"
    err = _refused(archive, dest)
    assert err.code == "unsafe_archive"
    assert f"nested too deeply (2101 path components, more than {MAX_ENTRY_DEPTH})" in err.message
    assert "a/a/a/" in err.message and "f.txt" in err.message
    assert len(err.message) < 400  # the name is shortened, not printed in full


def test_depth_and_length_limits_are_exact(tmp_path: Path) -> None:
    at_depth = "d/" * (MAX_ENTRY_DEPTH - 1) + "f"
    at_length = "/".join(["x" * 99] * 10) + "/" + "y" * (MAX_ENTRY_PATH_BYTES - 1000)
    assert len(at_length) == MAX_ENTRY_PATH_BYTES
    ok = tar_of(
        tmp_path / "ok.tar", [("pack.yaml", PACK_YAML), (at_depth, b"1"), (at_length, b"2")]
    )
    root = extract_archive(ok, tmp_path / "ok", ArchiveLimits())
    assert (root / at_depth).read_bytes() == b"1" and (root / at_length).read_bytes() == b"2"

    deeper = tar_of(tmp_path / "deep.tar", [("pack.yaml", PACK_YAML), ("d/" + at_depth, b"1")])
    err = _refused(deeper, tmp_path / "d1")
    assert f"({MAX_ENTRY_DEPTH + 1} path components, more than {MAX_ENTRY_DEPTH})" in err.message
    longer = tar_of(tmp_path / "long.tar", [("pack.yaml", PACK_YAML), (at_length + "z", b"2")])
    err = _refused(longer, tmp_path / "d2")
    assert f"path too long ({MAX_ENTRY_PATH_BYTES + 1} bytes" in err.message


def test_installing_a_deep_archive_fails_cleanly_and_the_home_keeps_working(
    tmp_path: Path, installed: Path
) -> None:
    home = installed
    archive = tar_of(tmp_path / "deep.tar.gz", [("pack.yaml", PACK_YAML), (DEEP_NAME, b"x")])
    row = _install_fails(home, archive, "nested too deeply", "f.txt")
    assert "nested too deeply" in str(row["error_message"])
    # The next command takes the lock, recovers, installs and records its attempt.
    newer = write_pack(tmp_path / "newer", version="1.1.0")
    r = run_cli("pack", "install", str(newer), "--progress", "none", home=home)
    assert r.exit_code == 0, r.stderr
    assert audit_rows(home)[-1]["status"] == "succeeded"
    assert os.readlink(home / "packs" / "demo") == "demo-1.1.0"


# --------------------------------------------------------------------------- stale staging


def test_recovery_removes_a_3000_deep_staging_folder_left_by_a_dead_process(
    tmp_path: Path, installed: Path
) -> None:
    home = installed
    rows = audit_rows(home)
    stale = home / "packs" / f".staging-{dead_pid()}-x"
    make_deep_tree(stale / "tree", 3000)
    (stale / "tree").chmod(0o555)  # read-only on the way, too
    newer = write_pack(tmp_path / "newer", version="1.1.0")
    r = run_cli("pack", "install", str(newer), "--progress", "none", home=home, timeout=120)
    assert r.exit_code == 0, r.stderr
    assert not os.path.lexists(stale)
    assert sorted(p.name for p in (home / "packs").iterdir()) == [
        ".attune",
        "demo",
        "demo-1.0.0",
        "demo-1.1.0",
    ]
    new = audit_rows(home)
    assert len(new) == len(rows) + 1
    assert (new[-1]["status"], new[-1]["action"], new[-1]["pack_version"]) == (
        "succeeded",
        "upgrade",
        "1.1.0",
    )


def test_remove_tree_copes_with_any_depth_read_only_folders_and_links(tmp_path: Path) -> None:
    make_deep_tree(tmp_path / "deep", 3000)
    remove_tree(tmp_path / "deep")
    assert not os.path.lexists(tmp_path / "deep")

    ro = tmp_path / "ro"
    (ro / "a" / "b").mkdir(parents=True)
    (ro / "a" / "b" / "f").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    (ro / "a" / "link").symlink_to(outside)
    (ro / "a" / "b").chmod(0o500)
    (ro / "a").chmod(0o000)
    remove_tree(ro)
    assert not os.path.lexists(ro)
    assert (outside / "keep").read_text() == "keep"  # a link is removed, never followed

    link = tmp_path / "link-to-dir"
    link.symlink_to(outside)
    remove_tree(link)
    assert not os.path.lexists(link) and (outside / "keep").exists()
    remove_tree(tmp_path / "missing")  # nothing to do


# --------------------------------------------------------------------------- name clashes

NFC = unicodedata.normalize("NFC", "café.py")
NFD = unicodedata.normalize("NFD", "café.py")


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
@pytest.mark.parametrize(
    ("first", "second", "wording"),
    [
        ("HELLO.py", "hello.py", "clashes with 'HELLO.py' (the names differ only in case)"),
        ("Docs/a.md", "docs/b.md", "clashes with 'Docs' (the names differ only in case)"),
        (
            NFC,
            NFD,
            "clashes with 'caf\\xe9.py', the same name in another Unicode normalisation form "
            "('cafe\\u0301.py' here)",
        ),
        (
            "lib/Ünï.txt",
            "lib/üNÏ.txt",
            "clashes with 'lib/Ünï.txt' (the names differ only in case)",
        ),
    ],
    ids=["case", "folder-case", "nfc-nfd", "unicode-case"],
)
def test_names_differing_only_in_case_or_normalisation_are_refused(
    tmp_path: Path, kind: str, first: str, second: str, wording: str
) -> None:
    archive = _archive(kind, tmp_path, [("pack.yaml", PACK_YAML), (first, b"1"), (second, b"2")])
    err = _refused(archive, tmp_path / "dest")
    assert err.code == "unsafe_archive"
    assert err.message == f"archive entry {second!r} refused: {wording}"


def test_installing_an_archive_with_a_case_clash_changes_nothing(
    tmp_path: Path, installed: Path
) -> None:
    archive = zip_of(
        tmp_path / "clash.zip",
        [
            ("pack.yaml", PACK_YAML.replace(b"1.0.0", b"2.0.0")),
            ("HELLO.py", b"1"),
            ("hello.py", b"2"),
        ],
    )
    row = _install_fails(installed, archive, "'hello.py'", "differ only in case", cwd=tmp_path)
    assert "hello.py" in str(row["error_message"])


def test_the_same_name_twice_in_one_case_is_still_a_duplicate(tmp_path: Path) -> None:
    archive = zip_of(
        tmp_path / "dup.zip", [("pack.yaml", PACK_YAML), ("a.py", b"1"), ("b.py", b"2")]
    )
    patch_bytes(archive, b"b.py", b"a.py")  # zipfile would not write the same name twice
    err = _refused(archive, tmp_path / "dest")
    assert err.message == "archive entry 'a.py' refused: duplicate entry"


# --------------------------------------------------------------------------- NUL in names


def test_pax_path_with_a_nul_is_refused(tmp_path: Path) -> None:
    archive = tar_of(
        tmp_path / "p.tar.gz",
        [("pack.yaml", PACK_YAML), ("shown.txt", b"1")],
        pax={"shown.txt": {"path": "shown.txt\x00.py"}},
    )
    err = _refused(archive, tmp_path / "dest")
    assert err.message == "archive entry 'shown.txt\\x00.py' refused: NUL character in name"


def test_gnu_long_name_with_a_hidden_nul_is_refused(tmp_path: Path) -> None:
    long = "L" * 110 + "/visible.txtXhidden.py"
    archive = tar_of(
        tmp_path / "gnu.tar", [("pack.yaml", PACK_YAML), (long, b"1")], fmt=tarfile.GNU_FORMAT
    )
    patch_bytes(archive, b"visible.txtXhidden.py", b"visible.txt\x00hidden.py")
    err = _refused(archive, tmp_path / "dest")
    assert err.code == "unsafe_archive"
    assert err.message.startswith("archive entry 'LLL")
    assert err.message.endswith("/visible.txt\\x00hidden.py' refused: NUL character in name")


def test_ustar_name_field_with_bytes_after_its_nul_is_refused(tmp_path: Path) -> None:
    archive = tar_of(
        tmp_path / "u.tar",
        [("pack.yaml", PACK_YAML), ("okXhidden.py", b"1")],
        fmt=tarfile.USTAR_FORMAT,
    )
    patch_bytes(archive, b"okXhidden.py", b"ok\x00hidden.py", tar_header=True)
    err = _refused(archive, tmp_path / "dest")
    assert err.message == "archive entry 'ok\\x00hidden.py' refused: NUL character in name"


def test_zip_name_with_a_nul_is_refused(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "z.zip", [("pack.yaml", PACK_YAML), ("readmeXtxt.exe", b"1")])
    patch_bytes(archive, b"readmeXtxt.exe", b"readme\x00txt.exe")  # header and directory
    err = _refused(archive, tmp_path / "dest")
    assert err.message == "archive entry 'readme\\x00txt.exe' refused: NUL character in name"


def test_installing_a_zip_with_a_nul_name_changes_nothing(tmp_path: Path, installed: Path) -> None:
    archive = zip_of(
        tmp_path / "nul.zip",
        [("pack.yaml", PACK_YAML.replace(b"1.0.0", b"2.0.0")), ("goodXexe", b"1")],
    )
    patch_bytes(archive, b"goodXexe", b"good\x00exe")
    _install_fails(installed, archive, "'good\\x00exe'", "NUL character in name")


# --------------------------------------------------------------------------- FIFOs


@pytest.mark.timeout(30)
def test_install_of_a_folder_whose_pack_yaml_is_a_fifo_fails_at_once(
    tmp_path: Path, installed: Path
) -> None:
    src = tmp_path / "fifo-pack"
    src.mkdir()
    os.mkfifo(src / "pack.yaml")
    row = _install_fails(installed, src, "fifo-pack", "pack.yaml", cwd=tmp_path)
    assert "pack.yaml" in str(row["error_message"])


@pytest.mark.timeout(30)
def test_install_of_a_pack_with_a_fifo_component_fails_at_once(
    tmp_path: Path, installed: Path
) -> None:
    src = write_pack(tmp_path / "comp", version="2.0.0")
    (src / "actions").mkdir()
    os.mkfifo(src / "actions" / "run.yaml")
    _install_fails(installed, src, "comp", "run.yaml", cwd=tmp_path)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fifo", ["pack.yaml", "actions/run.yaml"])
def test_validate_refuses_a_fifo_at_once(tmp_path: Path, fifo: str) -> None:
    src = write_pack(tmp_path / "p")
    if fifo == "pack.yaml":
        (src / "pack.yaml").unlink()
    (src / fifo).parent.mkdir(exist_ok=True)
    os.mkfifo(src / fifo)
    r = run_cli("pack", "validate", "p", "-o", "json", cwd=tmp_path, timeout=25)
    assert r.exit_code == 1, r.stderr
    messages = [e["message"] for e in r.json["errors"]]
    assert any(fifo in m and "regular file" in m for m in messages), messages


@pytest.mark.timeout(30)
def test_install_locked_with_a_fifo_lock_file_fails_at_once(
    tmp_path: Path, installed: Path
) -> None:
    os.mkfifo(tmp_path / "team.lock")
    before, rows = snapshot(installed), audit_rows(installed)
    r = run_cli(
        "pack", "install", "--locked", "team.lock", home=installed, cwd=tmp_path, timeout=25
    )
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        "error: cannot read the lock file team.lock: is a FIFO, not a regular file"
    )
    assert snapshot(installed) == before and audit_rows(installed) == rows
