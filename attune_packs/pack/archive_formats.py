"""Tar and zip readers feeding the extraction writer."""

from __future__ import annotations

import gzip
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from attune_packs.config import ArchiveLimits
from attune_packs.errors import ArchiveError
from attune_packs.fsutil import open_regular
from attune_packs.pack.archive_write import (
    _CHUNK,
    CODE_CORRUPT,
    CODE_UNSAFE,
    _Counter,
    _fmt_bytes,
    _refuse,
    _short,
    _skipped,
    _split_name,
    _Tree,
)

if TYPE_CHECKING:
    from attune_packs.pack.archive_write import _Writer
# Bytes of tar metadata (header, padding, long names, pax records) allowed per
# entry on top of max_total_bytes before the decompressed stream is cut off.
_TAR_OVERHEAD_PER_ENTRY = 8192
_TAR_OVERHEAD_BASE = 1 << 20


# --------------------------------------------------------------------------- tar


class _BoundedReader:
    """A read-only stream that counts the bytes it hands out, refuses to exceed
    ``limit``, and remembers the last ``window`` bytes for the end-of-archive check."""

    def __init__(self, raw: BinaryIO, limit: int, name: str, window: int = 1 << 16) -> None:
        self.raw = raw
        self.limit = limit
        self.name = name
        self.pos = 0
        self.window = window
        self.tail = bytearray()

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = _CHUNK
        data = self.raw.read(min(size, self.limit + 1 - self.pos) or 1)
        self.pos += len(data)
        if self.pos > self.limit:
            raise ArchiveError(
                f"{self.name}: decompresses to more than {_fmt_bytes(self.limit)} "
                "(archive.max_total_bytes plus tar headers)",
                code=CODE_UNSAFE,
            )
        self.tail += data
        if len(self.tail) > self.window:
            del self.tail[: len(self.tail) - self.window]
        return data

    def block_at(self, offset: int, size: int = 512) -> bytes | None:
        start = self.pos - len(self.tail)
        if offset < start or offset + size > self.pos:
            return None
        return bytes(self.tail[offset - start : offset - start + size])

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


def _corrupt(name: str, exc: BaseException) -> ArchiveError:
    detail = str(exc) or type(exc).__name__
    return ArchiveError(f"{name}: corrupt or truncated archive ({detail})", code=CODE_CORRUPT)


def _extract_tar(path: Path, compressed: bool, writer: _Writer, limits: ArchiveLimits) -> None:
    tree = _Tree()
    counter = _Counter(limits)
    limit = (
        limits.max_total_bytes
        + (limits.max_entries + 1) * _TAR_OVERHEAD_PER_ENTRY
        + _TAR_OVERHEAD_BASE
    )
    with open(open_regular(path), "rb") as raw:
        stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
        reader = _BoundedReader(stream, limit, path.name)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tf:  # type: ignore[call-overload]
                for member in tf:
                    name = member.name
                    counter.entry(name)
                    _check_raw_name(reader, member)
                    parts = _split_name(name)
                    if _skipped(parts):
                        if member.isreg():
                            _read_all(tf.extractfile(member))
                        continue
                    if member.issym():
                        raise _refuse(name, f"symbolic link (to {member.linkname!r})")
                    if member.islnk():
                        raise _refuse(name, f"hard link (to {member.linkname!r})")
                    if member.ischr() or member.isblk():
                        raise _refuse(name, "device file")
                    if member.isfifo():
                        raise _refuse(name, "FIFO")
                    if member.issparse():
                        raise _refuse(name, "sparse file")
                    if member.isdir():
                        tree.add_dir(parts, name)
                        writer.make_dir(parts, name)
                        continue
                    if not member.isreg():
                        raise _refuse(name, f"unsupported tar entry type {member.type!r}")
                    if not parts:
                        raise _refuse(name, "a file entry without a name")
                    counter.declare(name, member.size)
                    tree.add_file(parts, name)
                    src = tf.extractfile(member)
                    assert src is not None
                    writer.write_file(parts, src, bool(member.mode & 0o111), name)
                # tarfile treats a stream cut at a header boundary (or garbage where
                # a header should be) as the end: insist on a real end-of-archive block.
                end = reader.block_at(tf.offset)
                if end is None or end.count(0) != len(end):
                    raise ArchiveError(
                        f"{path.name}: corrupt or truncated archive "
                        f"(no end-of-archive marker at byte {tf.offset})",
                        code=CODE_CORRUPT,
                    )
                # Read to the end so gzip checks its CRC and length.
                reader.drain()
        except ArchiveError:
            raise
        except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as exc:
            raise _corrupt(path.name, exc) from None


def _octal(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # base-256: far larger than any header we read
        return 1 << 62
    text = field.replace(b"\x00", b" ").strip()
    try:
        return int(text or b"0", 8)
    except ValueError:
        return 0


def _check_raw_name(reader: _BoundedReader, member: tarfile.TarInfo) -> None:
    """Refuse a name that tarfile cut at a NUL: a GNU long name with more after its
    NUL, or a ustar name (or prefix) field with bytes after its terminating NUL.
    (A pax ``path`` keeps its NUL and is refused by :func:`_split_name`.)"""
    raw = reader.block_at(member.offset, member.offset_data - member.offset)
    if raw is None:
        raise _refuse(member.name, "its tar headers are too large to check")
    pos, named = 0, False
    while pos + 512 <= len(raw):
        header = raw[pos : pos + 512]
        kind = header[156:157]
        size = _octal(header[124:136])
        if kind in (b"x", b"L", b"K", b"g", b"X"):
            if kind == b"L":
                data = raw[pos + 512 : pos + 512 + size]
                if b"\x00" in data.rstrip(b"\x00"):
                    raise _refuse(_shown_raw(data), "NUL character in name")
            named = named or kind in (b"x", b"L", b"X")
            pos += 512 + -(-size // 512) * 512
            continue
        fields = [header[0:100]]
        if header[257:263] == b"ustar\x00":
            fields.append(header[345:500])
        for field in fields if not named else ():
            cut = field.find(b"\x00")
            if cut >= 0 and field[cut:].strip(b"\x00"):
                raise _refuse(_shown_raw(field), "NUL character in name")
        return


def _shown_raw(data: bytes) -> str:
    return _short(data.rstrip(b"\x00").decode("utf-8", "replace"))


def _read_all(src: BinaryIO | None) -> None:
    if src is not None:
        while src.read(_CHUNK):
            pass


# --------------------------------------------------------------------------- zip


def _zip_declared_entries(fh: BinaryIO) -> int | None:
    """The entry count of the end-of-central-directory record, read before zipfile
    loads the whole central directory into memory (``None`` when unknown/zip64)."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    span = min(size, 22 + 0xFFFF)
    fh.seek(size - span)
    data = fh.read(span)
    pos = data.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(data):
        return None
    (total,) = struct.unpack("<H", data[pos + 10 : pos + 12])
    fh.seek(0)
    return None if total == 0xFFFF else total


_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _extract_zip(path: Path, writer: _Writer, limits: ArchiveLimits) -> None:
    tree = _Tree()
    counter = _Counter(limits)
    with open(open_regular(path), "rb") as fh:
        try:
            declared = _zip_declared_entries(fh)
            if declared is not None and declared > limits.max_entries:
                raise ArchiveError(
                    f"{path.name}: the archive has {declared} entries, more than "
                    f"{limits.max_entries} (archive.max_entries)",
                    code=CODE_UNSAFE,
                )
            zf = zipfile.ZipFile(fh)
        except ArchiveError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise _corrupt(path.name, exc) from None
        with zf:
            plan: list[tuple[zipfile.ZipInfo, tuple[str, ...], bool, bool]] = []
            # First pass: every name, type, method and declared size, before writing.
            for info in zf.infolist():
                name = info.filename
                counter.entry(name)
                if "\x00" in info.orig_filename:  # zipfile cut the name at the NUL
                    raise _refuse(info.orig_filename, "NUL character in name")
                parts = _split_name(name)
                if _skipped(parts):
                    continue
                mode = (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else 0
                ftype = stat.S_IFMT(mode)
                if stat.S_ISLNK(mode):
                    raise _refuse(name, "symbolic link")
                if ftype and ftype not in (stat.S_IFREG, stat.S_IFDIR):
                    what = {
                        stat.S_IFCHR: "device file",
                        stat.S_IFBLK: "device file",
                        stat.S_IFIFO: "FIFO",
                        stat.S_IFSOCK: "socket",
                    }.get(ftype, "special file")
                    raise _refuse(name, what)
                is_dir = info.is_dir() or ftype == stat.S_IFDIR
                if is_dir:
                    tree.add_dir(parts, name)
                    plan.append((info, parts, True, False))
                    continue
                if not parts:
                    raise _refuse(name, "a file entry without a name")
                if info.flag_bits & 0x1:
                    raise _refuse(name, "encrypted entry")
                if info.compress_type not in _ZIP_METHODS:
                    raise _refuse(
                        name,
                        f"unsupported compression method {info.compress_type} "
                        "(only stored and deflate)",
                    )
                counter.declare(name, info.file_size)
                tree.add_file(parts, name)
                plan.append((info, parts, False, bool(mode & 0o111)))
            # Second pass: stream each entry, counting the bytes really produced.
            for info, parts, is_dir, executable in plan:
                if is_dir:
                    writer.make_dir(parts, info.filename)
                    continue
                try:
                    with zf.open(info) as src:
                        writer.write_file(parts, src, executable, info.filename)
                except ArchiveError:
                    raise
                except (
                    zipfile.BadZipFile,
                    EOFError,
                    zlib.error,
                    OSError,
                    ValueError,
                    NotImplementedError,
                    RuntimeError,
                ) as exc:
                    raise ArchiveError(
                        f"archive entry {info.filename!r} is corrupt ({exc})", code=CODE_CORRUPT
                    ) from None
