"""Safe extraction (attune_packs.pack.archive): real zip/tar/tar.gz archives built here.

Every refusal checks the error (one line naming the entry), that ``dest`` was
left empty, and that nothing at all changed outside ``dest``.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import struct
import tarfile
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attune_packs.config import ArchiveLimits
from attune_packs.errors import ArchiveError
from attune_packs.events import EventBus, Extracting
from attune_packs.pack.archive import detect_format, extract_archive, is_archive

PACK_YAML = b"ref: demo\nlabel: Demo\ndescription: d\nversion: 1.0.0\n"
SMALL = ArchiveLimits(max_entries=50, max_entry_bytes=1 << 20, max_total_bytes=3 << 20)


# --------------------------------------------------------------------------- builders

Entry = tuple  # (name, bytes) or (name, bytes, mode) or (name, "dir"/"symlink"/...)


def tar_bytes(entries: Iterable[tarfile.TarInfo | tuple], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tf.addfile(entry, io.BytesIO(b"\0" * entry.size) if entry.size else None)
                continue
            name, data, *rest = entry
            ti = tarfile.TarInfo(name)
            if data == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
                continue
            ti.size = len(data)
            ti.mode = rest[0] if rest else 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = linkname
    return ti


def write_tar(path: Path, entries: Iterable, gz: bool = True) -> Path:
    data = tar_bytes(entries)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_zip(path: Path, entries: Iterable[tuple], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" on purpose
        with zipfile.ZipFile(path, "w", method) as zf:
            for name, data, *rest in entries:
                info = zipfile.ZipInfo(name)
                info.compress_type = method
                info.create_system = 3
                if data == "dir":
                    info.external_attr = (stat.S_IFDIR | 0o755) << 16
                    zf.writestr(info, b"")
                    continue
                mode = rest[0] if rest else stat.S_IFREG | 0o644
                info.external_attr = mode << 16
                zf.writestr(info, data)
    return path


def snapshot(root: Path, exclude: Path) -> dict[str, tuple[int, int]]:
    """Every path below ``root`` outside ``exclude``, with its type and size."""
    out: dict[str, tuple[int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p == exclude or exclude in p.parents:
                continue
            st = p.lstat()
            out[str(p)] = (stat.S_IFMT(st.st_mode), st.st_size)
    return out


class Box:
    """An archive folder, an empty destination, and a record of everything else."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.src = tmp_path / "work" / "archives"
        self.src.mkdir(parents=True)
        self.dest = tmp_path / "work" / "staging" / "dest"
        self.dest.mkdir(parents=True)

    def refuse(
        self, archive: Path, *needles: str, limits: ArchiveLimits | None = None
    ) -> ArchiveError:
        before = snapshot(self.root, self.dest)
        with pytest.raises(ArchiveError) as info:
            extract_archive(archive, self.dest, limits or ArchiveLimits(), None)
        err = info.value
        assert "\n" not in err.message
        for needle in needles:
            assert needle in err.message, err.message
        assert self.dest.is_dir() and list(self.dest.iterdir()) == [], "dest not emptied"
        assert snapshot(self.root, self.dest) == before, "something changed outside dest"
        return err

    def extract(self, archive: Path, limits: ArchiveLimits | None = None, bus=None) -> Path:
        return extract_archive(archive, self.dest, limits or ArchiveLimits(), bus)


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return Box(tmp_path)


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("kind", ["zip", "tar", "tgz", "tar.gz"])
def test_extracts_each_format_with_single_top_folder_unwrapped(box: Box, kind: str) -> None:
    entries = [
        ("demo-1.0.0/", "dir"),
        ("demo-1.0.0/pack.yaml", PACK_YAML),
        ("demo-1.0.0/actions/", "dir"),
        ("demo-1.0.0/actions/run.sh", b"#!/bin/sh\necho hi\n", 0o755),
        ("demo-1.0.0/actions/run.yaml", b"name: run\n"),
        ("demo-1.0.0/lib/deep/er/mod.py", b"X = 1\n"),
    ]
    path = box.src / f"demo.{kind}"
    if kind == "zip":
        write_zip(path, entries)
    else:
        write_tar(path, entries, gz=kind != "tar")
    root = box.extract(path)
    assert root == box.dest / "demo-1.0.0"
    assert files_under(root) == {
        "pack.yaml": PACK_YAML,
        "actions/run.sh": b"#!/bin/sh\necho hi\n",
        "actions/run.yaml": b"name: run\n",
        "lib/deep/er/mod.py": b"X = 1\n",
    }
    assert stat.S_IMODE((root / "actions/run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "pack.yaml").stat().st_mode) == 0o644
    assert stat.S_IMODE((root / "lib/deep").stat().st_mode) == 0o755


def test_pack_yaml_at_root_returns_dest(box: Box) -> None:
    path = write_zip(box.src / "p.zip", [("pack.yaml", PACK_YAML), ("README.md", b"hi")])
    assert box.extract(path) == box.dest
    assert (box.dest / "README.md").read_bytes() == b"hi"


def test_setuid_and_odd_modes_are_normalised(box: Box) -> None:
    path = write_tar(
        box.src / "p.tgz",
        [
            ("pack.yaml", PACK_YAML, 0o6777),
            ("tool", b"x", 0o4750),
            ("private", b"y", 0o600),
            ("group-exec", b"z", 0o010),
        ],
    )
    root = box.extract(path)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in root.iterdir()}
    assert modes == {"pack.yaml": 0o755, "tool": 0o755, "private": 0o644, "group-exec": 0o755}


def test_dot_slash_entries_from_tar_dash_C(box: Box) -> None:
    path = write_tar(box.src / "p.tar.gz", [("./", "dir"), ("./pack.yaml", PACK_YAML)])
    assert box.extract(path) == box.dest
    assert (box.dest / "pack.yaml").read_bytes() == PACK_YAML


def test_zip_without_directory_entries_creates_parents(box: Box) -> None:
    path = write_zip(box.src / "p.zip", [("top/pack.yaml", PACK_YAML), ("top/a/b/c.txt", b"c")])
    root = box.extract(path)
    assert (root / "a" / "b" / "c.txt").read_bytes() == b"c"


def test_macosx_resource_folder_is_skipped(box: Box) -> None:
    path = write_zip(
        box.src / "p.zip",
        [
            ("top/pack.yaml", PACK_YAML),
            ("__MACOSX/", "dir"),
            ("__MACOSX/top/._pack.yaml", b"junk"),
        ],
    )
    assert box.extract(path) == box.dest / "top"
    assert sorted(p.name for p in box.dest.iterdir()) == ["top"]


def test_case_only_differences_are_refused_everywhere(box: Box) -> None:
    """README and readme would be one file on macOS or Windows: refused on every system."""
    path = write_zip(
        box.src / "p.zip", [("pack.yaml", PACK_YAML), ("README", b"a"), ("readme", b"b")]
    )
    with pytest.raises(ArchiveError) as info:
        box.extract(path)
    assert "readme" in info.value.message.lower()
    assert not (box.dest / "README").exists() and not (box.dest / "readme").exists()


def test_format_is_detected_by_magic_bytes_not_name(box: Box) -> None:
    tgz = write_tar(box.src / "really-a-tgz.zip", [("pack.yaml", PACK_YAML)])
    zipped = write_zip(box.src / "download.bin", [("pack.yaml", PACK_YAML)])
    plain = write_tar(box.src / "noext", [("pack.yaml", PACK_YAML)], gz=False)
    text = box.src / "notes.txt"
    text.write_text("hello")
    assert detect_format(tgz) == "tar.gz"
    assert detect_format(zipped) == "zip"
    assert detect_format(plain) == "tar"
    assert is_archive(tgz) and is_archive(zipped) and is_archive(plain)
    assert not is_archive(text)
    assert not is_archive(box.src / "missing.zip")
    assert box.extract(tgz) == box.dest


def test_extracting_events_are_emitted(box: Box) -> None:
    seen: list[str] = []
    bus = EventBus(lambda e: seen.append(e.file) if isinstance(e, Extracting) else None)
    path = write_zip(box.src / "p.zip", [("p/pack.yaml", PACK_YAML), ("p/a.txt", b"a")])
    box.extract(path, bus=bus)
    assert seen == ["p/pack.yaml", "p/a.txt"]


def test_dest_is_created_when_missing_and_must_be_empty(box: Box, tmp_path: Path) -> None:
    path = write_zip(box.src / "p.zip", [("pack.yaml", PACK_YAML)])
    fresh = tmp_path / "new" / "dest"
    assert extract_archive(path, fresh, ArchiveLimits(), None) == fresh
    with pytest.raises(ArchiveError, match="not empty"):
        extract_archive(path, fresh, ArchiveLimits(), None)
    assert (fresh / "pack.yaml").read_bytes() == PACK_YAML  # left untouched
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "new")
    with pytest.raises(ArchiveError, match="not a directory"):
        extract_archive(path, link, ArchiveLimits(), None)


# --------------------------------------------------------------------------- hostile names


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil", "'..'"),
        ("top/../../evil", "'..'"),
        ("top/../pack.yaml", "'..'"),
        ("/ABS/evil", "absolute"),
        ("//server/share/evil", "absolute"),
        ("C:/evil", "drive"),
        ("C:evil", "drive"),
        ("..\\evil", "backslash"),
        ("top\\..\\..\\evil", "backslash"),
        ("bad\nname", "control character"),
    ],
)
@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_hostile_names_are_refused(box: Box, name: str, why: str, kind: str) -> None:
    name = name.replace("/ABS", str(box.root))  # an absolute path we would notice
    entries = [("pack.yaml", PACK_YAML), (name, b"pwned")]
    path = box.src / f"evil.{kind}"
    write_zip(path, entries) if kind == "zip" else write_tar(path, entries)
    err = box.refuse(path, why)
    assert repr(name) in err.message
    assert err.code == "unsafe_archive"
    assert not (box.root / "work" / "evil").exists()
    assert not (box.root / "evil").exists()


def test_symlink_then_write_through_it_is_refused(box: Box) -> None:
    outside = box.root / "outside"
    outside.mkdir()
    path = write_tar(
        box.src / "p.tgz",
        [
            ("pack.yaml", PACK_YAML),
            special("link", tarfile.SYMTYPE, str(outside)),
            ("link/evil", b"pwned"),
        ],
    )
    box.refuse(path, "'link'", "symbolic link")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (special("hard", tarfile.LNKTYPE, "pack.yaml"), "hard link"),
        (special("sym", tarfile.SYMTYPE, "pack.yaml"), "symbolic link"),
        (special("chr", tarfile.CHRTYPE), "device"),
        (special("blk", tarfile.BLKTYPE), "device"),
        (special("fifo", tarfile.FIFOTYPE), "FIFO"),
        (special("contig", b"V"), "unsupported tar entry type"),
    ],
)
def test_tar_special_entries_are_refused(box: Box, entry: tarfile.TarInfo, why: str) -> None:
    path = write_tar(box.src / "p.tar", [("pack.yaml", PACK_YAML), entry], gz=False)
    box.refuse(path, repr(entry.name), why)


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        (stat.S_IFLNK | 0o777, "symbolic link"),
        (stat.S_IFIFO | 0o644, "FIFO"),
        (stat.S_IFCHR | 0o644, "device"),
        (stat.S_IFBLK | 0o644, "device"),
        (stat.S_IFSOCK | 0o644, "socket"),
    ],
)
def test_zip_special_entries_are_refused(box: Box, mode: int, why: str) -> None:
    path = write_zip(box.src / "p.zip", [("pack.yaml", PACK_YAML), ("special", b"/etc", mode)])
    box.refuse(path, "'special'", why)


@pytest.mark.parametrize("kind", ["zip", "tgz"])
@pytest.mark.parametrize(
    ("entries", "culprit", "why"),
    [
        ([("a.txt", b"1"), ("a.txt", b"2")], "a.txt", "duplicate"),
        ([("./a.txt", b"1"), ("a.txt", b"2")], "a.txt", "duplicate"),
        ([("a", b"1"), ("a/b", b"2")], "a/b", "clashes with file 'a'"),
        ([("a/b", b"1"), ("a", b"2")], "a", "a file where the archive has a directory"),
        ([("a/", "dir"), ("a", b"2")], "a", "a file where the archive has a directory"),
        ([("a", b"1"), ("a/", "dir")], "a/", "clashes with file 'a'"),
    ],
)
def test_duplicate_and_clashing_entries_are_refused(
    box: Box, kind: str, entries: list, culprit: str, why: str
) -> None:
    all_entries = [("pack.yaml", PACK_YAML), *entries]
    path = box.src / f"p.{kind}"
    write_zip(path, all_entries) if kind == "zip" else write_tar(path, all_entries)
    name = culprit.rstrip("/") if kind == "tgz" else culprit  # tar strips a dir's slash
    box.refuse(path, repr(name), why)


def test_repeated_directory_entries_are_fine(box: Box) -> None:
    path = write_tar(box.src / "p.tgz", [("d/", "dir"), ("d/", "dir"), ("d/pack.yaml", PACK_YAML)])
    assert box.extract(path) == box.dest / "d"


# --------------------------------------------------------------------------- limits


def _zip_of_zeros(path: Path, mib: int) -> Path:
    """A zip of pack.yaml and ``payload.bin``: ``mib`` MiB of zeros, deflated to almost nothing."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pack.yaml", PACK_YAML)
        with zf.open("payload.bin", "w") as out:
            block = b"\0" * (1 << 20)
            for _ in range(mib):
                out.write(block)
    return path


def test_zip_bomb_is_refused_without_writing_it(box: Box) -> None:
    path = _zip_of_zeros(box.src / "bomb.zip", 200)
    assert path.stat().st_size < 1 << 20  # small compressed, 200 MiB decompressed
    box.refuse(path, "'payload.bin'", "max_entry_bytes")


def _lie_about_size(path: Path, member: str, declared: int) -> None:
    """Rewrite the uncompressed size of ``member`` in its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    central = -1
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        (nlen,) = struct.unpack_from("<H", data, pos + 28)
        if data[pos + 46 : pos + 46 + nlen] == member.encode():
            struct.pack_into("<I", data, pos + 24, declared)
            central = pos
        pos = data.find(b"PK\x01\x02", pos + 4)
    assert central >= 0
    path.write_bytes(bytes(data))


def test_zip_bomb_with_lying_header_sizes_is_refused(box: Box) -> None:
    path = _zip_of_zeros(box.src / "liar.zip", 64)
    _lie_about_size(path, "payload.bin", 1000)  # headers claim 1000 bytes
    with zipfile.ZipFile(path) as zf:
        assert zf.getinfo("payload.bin").file_size == 1000
    err = box.refuse(path, "'payload.bin'", limits=SMALL)
    assert err.code in ("corrupt_archive", "unsafe_archive")


def test_lying_sizes_within_a_stored_zip_are_refused(box: Box) -> None:
    path = write_zip(
        box.src / "stored.zip",
        [("pack.yaml", PACK_YAML), ("data.bin", b"A" * 5000)],
        method=zipfile.ZIP_STORED,
    )
    _lie_about_size(path, "data.bin", 10)
    box.refuse(path, "'data.bin'")


def test_total_decompressed_size_is_limited(box: Box) -> None:
    chunk = os.urandom(900 * 1024)
    entries = [("pack.yaml", PACK_YAML)] + [(f"f{i}.bin", chunk) for i in range(5)]
    for kind in ("zip", "tgz"):
        path = box.src / f"total.{kind}"
        write_zip(path, entries) if kind == "zip" else write_tar(path, entries)
        box.refuse(path, "max_total_bytes", limits=SMALL)


def test_tar_gz_bomb_is_refused_by_declared_size(box: Box) -> None:
    path = write_tar(box.src / "bomb.tgz", [("pack.yaml", PACK_YAML), ("big", b"\0" * (4 << 20))])
    assert path.stat().st_size < 64 * 1024
    box.refuse(path, "'big'", "max_entry_bytes", limits=SMALL)


def test_gzip_bomb_after_the_end_of_the_tar_is_cut_off(box: Box) -> None:
    tar = tar_bytes([("pack.yaml", PACK_YAML)])
    path = box.src / "tail-bomb.tgz"
    with gzip.open(path, "wb") as out:
        out.write(tar)
        block = b"\0" * (1 << 20)
        for _ in range(32):
            out.write(block)
    limits = ArchiveLimits(max_entries=5, max_entry_bytes=1 << 20, max_total_bytes=1 << 20)
    box.refuse(path, "decompresses to more than", limits=limits)


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_archive_with_10050_entries_is_refused(box: Box, kind: str) -> None:
    entries = [("pack.yaml", PACK_YAML)] + [(f"f/{i}.txt", b"") for i in range(10_049)]
    path = box.src / f"many.{kind}"
    write_zip(path, entries) if kind == "zip" else write_tar(path, entries)
    box.refuse(path, "10000", "max_entries")


def test_exactly_max_entries_is_accepted(box: Box) -> None:
    limits = ArchiveLimits(max_entries=20)
    entries = [("pack.yaml", PACK_YAML)] + [(f"{i}.txt", b"x") for i in range(19)]
    assert box.extract(write_zip(box.src / "ok.zip", entries), limits) == box.dest
    entries.append(("one-more.txt", b"x"))
    shutil.rmtree(box.dest)
    box.dest.mkdir()
    box.refuse(write_zip(box.src / "ko.zip", entries), "21 entries", limits=limits)
    box.refuse(write_tar(box.src / "ko.tgz", entries), "'one-more.txt'", limits=limits)


def test_unsupported_zip_compression_and_encryption_are_refused(box: Box) -> None:
    path = write_zip(box.src / "bz.zip", [("pack.yaml", PACK_YAML)], method=zipfile.ZIP_BZIP2)
    box.refuse(path, "'pack.yaml'", "compression method")
    path = write_zip(box.src / "enc.zip", [("pack.yaml", PACK_YAML)])
    data = bytearray(path.read_bytes())
    cd = data.find(b"PK\x01\x02")
    data[cd + 8] |= 0x1  # the "encrypted" flag bit in the central directory
    path.write_bytes(bytes(data))
    box.refuse(path, "'pack.yaml'", "encrypted")


# --------------------------------------------------------------------------- corrupt input


def test_truncated_tar_gz_is_refused(box: Box) -> None:
    whole = write_tar(
        box.src / "whole.tgz", [("pack.yaml", PACK_YAML), ("data", os.urandom(200_000))]
    ).read_bytes()
    path = box.src / "cut.tgz"
    path.write_bytes(whole[: len(whole) // 2])
    err = box.refuse(path, "corrupt or truncated")
    assert err.code == "corrupt_archive"


def test_tar_gz_with_damaged_compressed_data_is_corrupt(box: Box) -> None:
    whole = bytearray(
        write_tar(
            box.src / "whole.tgz", [("pack.yaml", PACK_YAML), ("data", os.urandom(100_000))]
        ).read_bytes()
    )
    for where in (len(whole) // 2, len(whole) - 6):  # inside the data; the CRC trailer
        damaged = bytearray(whole)
        damaged[where] ^= 0xFF
        path = box.src / f"damaged{where}.tgz"
        path.write_bytes(bytes(damaged))
        err = box.refuse(path, "corrupt or truncated")
        assert err.code == "corrupt_archive"


def test_tar_gz_missing_only_its_gzip_trailer_is_refused(box: Box) -> None:
    whole = write_tar(box.src / "whole.tgz", [("pack.yaml", PACK_YAML)]).read_bytes()
    path = box.src / "cut.tgz"
    path.write_bytes(whole[:-4])  # the tar data is complete, the length field is not
    box.refuse(path, "corrupt or truncated")


def test_tar_cut_at_a_header_boundary_is_refused(box: Box) -> None:
    data = tar_bytes([("pack.yaml", PACK_YAML), ("b.txt", b"b" * 600)], fmt=tarfile.USTAR_FORMAT)
    path = box.src / "cut.tar"
    # 512+512 for pack.yaml, 512+1024 for b.txt: cut right after them, no end blocks
    path.write_bytes(data[:2560])
    box.refuse(path, "no end-of-archive marker")
    path.write_bytes(data[:2048])  # ...or inside b.txt's data
    box.refuse(path, "corrupt or truncated")


def test_tar_with_garbage_instead_of_a_header_is_refused(box: Box) -> None:
    data = tar_bytes([("pack.yaml", PACK_YAML)], fmt=tarfile.USTAR_FORMAT)
    path = box.src / "garbage.tar"
    path.write_bytes(data[:1024] + os.urandom(512) + data[1024:])
    box.refuse(path, "corrupt or truncated")


def test_truncated_zip_is_refused(box: Box) -> None:
    whole = write_zip(
        box.src / "whole.zip", [("pack.yaml", PACK_YAML), ("data", os.urandom(50_000))]
    ).read_bytes()
    for cut in (len(whole) // 2, len(whole) - 10):
        path = box.src / f"cut{cut}.zip"
        path.write_bytes(whole[:cut])
        box.refuse(path, "corrupt")


def test_zip_with_damaged_data_is_refused(box: Box) -> None:
    path = write_zip(box.src / "bad.zip", [("pack.yaml", PACK_YAML), ("x", b"hello " * 2000)])
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("x")
    start = info.header_offset + 30 + len(b"x")
    data[start + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    box.refuse(path, "'x'", "corrupt")


def test_gzip_of_garbage_is_refused(box: Box) -> None:
    path = box.src / "garbage.tgz"
    path.write_bytes(gzip.compress(os.urandom(4096)))
    box.refuse(path, "corrupt or truncated")
    path.write_bytes(b"\x1f\x8b" + os.urandom(4096))
    box.refuse(path, "corrupt or truncated")


def test_messages_can_name_the_archive_as_the_user_gave_it(box: Box) -> None:
    staged = box.src / "source.tgz"
    staged.write_bytes(gzip.compress(b"not a tar at all" * 100))
    with pytest.raises(ArchiveError) as info:
        extract_archive(staged, box.dest, ArchiveLimits(), None, name="my-pack-1.0.tgz")
    assert info.value.message.startswith("my-pack-1.0.tgz: corrupt or truncated archive")
    assert info.value.code == "corrupt_archive"


def test_empty_and_random_files_are_refused(box: Box) -> None:
    empty = box.src / "empty.tar.gz"
    empty.write_bytes(b"")
    box.refuse(empty, "corrupt or truncated")
    noise = box.src / "noise.zip"
    noise.write_bytes(os.urandom(2048).replace(b"PK", b"pk"))
    box.refuse(noise, "corrupt")
    text = box.src / "pack.txt"
    text.write_text("hello")
    box.refuse(text, "not a zip, tar or tar.gz")
    bz = box.src / "p.tar.bz2"
    bz.write_bytes(b"BZh91AY&SY" + b"\0" * 100)
    box.refuse(bz, "bzip2")


# --------------------------------------------------------------------------- pack.yaml


@pytest.mark.parametrize(
    "entries",
    [
        [("README.md", b"no manifest")],
        [("a/pack.yaml", PACK_YAML), ("b/pack.yaml", PACK_YAML)],
        [("a/b/pack.yaml", PACK_YAML)],
        [("top/pack.yaml", PACK_YAML), ("stray.txt", b"x")],
        [("pack.yaml/", "dir"), ("pack.yaml/x", b"x")],
    ],
)
def test_archive_without_pack_yaml_is_refused(box: Box, entries: list) -> None:
    path = write_zip(box.src / "nopack.zip", entries)
    err = box.refuse(path, "no pack.yaml")
    assert err.code == "not_a_pack"


# --------------------------------------------------------------------------- internals


class EndlessZeros:
    """A decompressor that never stops, whatever any header declared."""

    def __init__(self) -> None:
        self.handed_out = 0

    def read(self, n: int = -1) -> bytes:
        n = 65536 if n is None or n < 0 else n
        self.handed_out += n
        return b"\0" * n


def test_real_bytes_are_counted_whatever_was_declared(tmp_path: Path) -> None:
    from attune_packs.pack.archive_write import _Writer

    dest = tmp_path / "dest"
    dest.mkdir()
    limits = ArchiveLimits(max_entries=10, max_entry_bytes=1 << 20, max_total_bytes=1 << 30)
    fd = os.open(dest, os.O_RDONLY)
    try:
        writer = _Writer(fd, limits, EventBus())
        src = EndlessZeros()
        with pytest.raises(ArchiveError, match=r"'bomb'.*max_entry_bytes"):
            writer.write_file(("bomb",), src, False, "bomb")  # type: ignore[arg-type]
        writer.close()
    finally:
        os.close(fd)
    assert src.handed_out <= (1 << 20) + 65536  # stopped one chunk past the limit
    assert (dest / "bomb").stat().st_size <= 1 << 20


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b", "/", ".", "..", "\\", ":", "C", " ", "\x00", "\n", "é"]),
        max_size=12,
    ).map("".join)
)
def test_any_accepted_name_stays_inside(name: str) -> None:
    from attune_packs.pack.archive_write import _split_name

    try:
        parts = _split_name(name)
    except ArchiveError as exc:
        assert "\n" not in exc.message
        return
    joined = os.path.normpath(os.path.join("/dest", *parts))
    assert joined == "/dest" or joined.startswith("/dest/")
    assert ".." not in parts and all(p and "/" not in p for p in parts)
