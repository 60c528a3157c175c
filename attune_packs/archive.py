"""Safe extraction of pack archives: zip, tar, tar.gz and tgz.

Everything in an archive is treated as hostile until proven otherwise:

* formats are detected by their magic bytes (the file name is only a fallback);
* entry names are checked before anything is written: no absolute paths, no
  ``..`` components, no Windows drive letters or backslashes, no control
  characters, no NUL (not even one a tar name field or GNU long name hides
  after its end, or one zipfile would cut the name at), no more than
  :data:`MAX_ENTRY_DEPTH` folders deep and no longer than
  :data:`MAX_ENTRY_PATH_BYTES`;
* only regular files and directories are extracted; symlinks, hard links,
  devices, FIFOs, sockets, sparse and unknown tar entry types are refused;
* the same path twice, or a file where a directory is needed (or the other way
  round) is refused, and so are names that differ only in case or in Unicode
  normalisation (``HELLO.py``/``hello.py``, NFC/NFD ``café``): they would be
  one file on macOS and Windows, and which one wins would depend on the order;
* limits (:class:`~attune_packs.config.ArchiveLimits`) are enforced on the
  number of entries and on the bytes actually produced by decompression while
  streaming, never on declared sizes alone (declared sizes are checked too, so
  an honest bomb is refused before any byte is written);
* files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` relative to
  directory file descriptors opened with ``O_NOFOLLOW`` below ``dest``, and
  directories are created one component at a time, so nothing can ever be
  written outside ``dest`` (``extractall`` is never used);
* modes are normalised: ``0755`` for directories and files that had any
  executable bit, ``0644`` for other files; setuid/setgid/sticky are dropped;
* corrupt or truncated archives are refused (gzip CRCs and lengths are checked
  by reading the stream to its end; a tar without its end-of-archive block is
  truncated);
* a ``pack.yaml`` must sit at the archive root or inside a single top folder,
  which is then returned as the pack root.  Entries under a top-level
  ``__MACOSX/`` folder (macOS Finder resource forks) are skipped.

On any refusal :class:`~attune_packs.errors.ArchiveError` is raised with a
one-line message naming the entry, and everything written into ``dest`` is
removed again (``dest`` itself is left, empty; the removal does not recurse, so
no tree can stop it).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import stat
import struct
import tarfile
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from attune_packs.config import ArchiveLimits
from attune_packs.errors import ArchiveError
from attune_packs.events import EventBus, Extracting, bus_or_null
from attune_packs.fsutil import open_regular, remove_tree

__all__ = ["ArchiveError", "detect_format", "extract_archive", "is_archive"]

ZIP = "zip"
TAR = "tar"
TAR_GZ = "tar.gz"

#: An entry nested deeper than this many path components is refused.  Real packs
#: stay far below (a node_modules tree rarely passes 30); the limit keeps every
#: later walk of the tree, and its removal, cheap.
MAX_ENTRY_DEPTH = 256
#: An entry whose path (UTF-8, inside the archive) is longer than this is refused.
#: macOS's PATH_MAX; on Linux it leaves room for the home folder in front of the
#: path within PATH_MAX (4096), since the tree is later hashed and copied by path.
MAX_ENTRY_PATH_BYTES = 1024

_CHUNK = 1 << 16
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_GZIP_MAGIC = b"\x1f\x8b"
_UNSUPPORTED_MAGICS = {
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"Rar!": "rar",
}
# Bytes of tar metadata (header, padding, long names, pax records) allowed per
# entry on top of max_total_bytes before the decompressed stream is cut off.
_TAR_OVERHEAD_PER_ENTRY = 8192
_TAR_OVERHEAD_BASE = 1 << 20
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_SKIPPED_TOP = "__MACOSX"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

CODE_UNSAFE = "unsafe_archive"
CODE_CORRUPT = "corrupt_archive"
CODE_NOT_A_PACK = "not_a_pack"


# --------------------------------------------------------------------------- detection


def _head(path: Path, size: int = 512) -> bytes:
    try:  # checked to be a regular file first: a FIFO must not block us
        with open(open_regular(path), "rb") as fh:
            return fh.read(size)
    except OSError:
        return b""


def _sniff(head: bytes) -> str | None:
    if head.startswith(_ZIP_MAGICS):
        return ZIP
    if head.startswith(_GZIP_MAGIC):
        return TAR_GZ
    if len(head) >= 262 and head[257:262] == b"ustar":
        return TAR
    return None


def _by_name(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(".zip"):
        return ZIP
    if lowered.endswith((".tar.gz", ".tgz")):
        return TAR_GZ
    if lowered.endswith(".tar"):
        return TAR
    return None


def is_archive(path: Path | str) -> bool:
    """True when ``path`` is a file that looks like a zip, tar or tar.gz (magic bytes or name)."""
    path = Path(path)
    if not path.is_file():
        return False
    return _sniff(_head(path)) is not None or _by_name(path.name) is not None


def detect_format(path: Path | str) -> str:
    """``"zip"``, ``"tar"`` or ``"tar.gz"``, by magic bytes first and the name second."""
    path = Path(path)
    head = _head(path)
    kind = _sniff(head)
    if kind is not None:
        return kind
    for magic, what in _UNSUPPORTED_MAGICS.items():
        if head.startswith(magic):
            raise ArchiveError(
                f"{path.name}: {what} archives are not supported (use zip, tar or tar.gz)",
                code=CODE_CORRUPT,
            )
    kind = _by_name(path.name)
    if kind is not None:
        return kind
    raise ArchiveError(f"{path.name}: not a zip, tar or tar.gz archive", code=CODE_CORRUPT)


# --------------------------------------------------------------------------- names


def _refuse(entry: str, why: str, code: str = CODE_UNSAFE) -> ArchiveError:
    return ArchiveError(f"archive entry {entry!r} refused: {why}", code=code)


def _split_name(name: str) -> tuple[str, ...]:
    """The safe relative components of an entry name, or ArchiveError."""
    if not name:
        raise _refuse(name, "empty name")
    if "\x00" in name:
        raise _refuse(name, "NUL character in name")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise _refuse(name, "control character in name")
    if "\\" in name:
        raise _refuse(name, "backslash in name (Windows path)")
    if name.startswith("/"):
        raise _refuse(name, "absolute path")
    if _DRIVE_RE.match(name):
        raise _refuse(name, "Windows drive path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _refuse(name, "'..' component escapes the destination")
    if len(parts) > MAX_ENTRY_DEPTH:
        raise _refuse(
            _short(name),
            f"nested too deeply ({len(parts)} path components, more than {MAX_ENTRY_DEPTH})",
        )
    size = len("/".join(parts).encode("utf-8", "surrogateescape"))
    if size > MAX_ENTRY_PATH_BYTES:
        raise _refuse(
            _short(name), f"path too long ({size} bytes, more than {MAX_ENTRY_PATH_BYTES})"
        )
    return parts


def _short(name: str) -> str:
    """An over-long entry name, shortened for a one-line message."""
    return name if len(name) <= 120 else f"{name[:60]}...{name[-40:]}"


def _fold(name: str) -> str:
    """The key under which case-insensitive, normalisation-insensitive file systems
    (macOS, Windows) store ``name``: canonical caseless matching."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


class _Node:
    __slots__ = ("children", "is_file", "name")

    def __init__(self, name: str, is_file: bool) -> None:
        self.name = name
        self.is_file = is_file
        self.children: dict[str, _Node] = {}


class _Tree:
    """What the archive has declared so far: every path is a file or a directory, and
    no two names in a folder differ only in case or Unicode normalisation."""

    def __init__(self) -> None:
        self.root = _Node("", False)

    def _add(self, parts: tuple[str, ...], entry: str, is_file: bool) -> None:
        node = self.root
        last = len(parts) - 1
        for i, comp in enumerate(parts):
            key = _fold(comp)
            child = node.children.get(key)
            if child is None:
                child = _Node(comp, is_file and i == last)
                node.children[key] = child
            elif child.name != comp:
                here = "/".join(parts[: i + 1])
                other = "/".join((*parts[:i], child.name))
                if unicodedata.normalize("NFC", comp) == unicodedata.normalize("NFC", child.name):
                    why = (
                        f"clashes with {other!a}, the same name in another Unicode "
                        f"normalisation form ({here!a} here)"
                    )
                else:
                    why = f"clashes with {other!r} (the names differ only in case)"
                raise _refuse(entry, why)
            elif child.is_file:
                if i == last and is_file:
                    raise _refuse(entry, "duplicate entry")
                what = "a directory" if i == last else "a parent directory"
                here = "/".join(parts[: i + 1])
                raise _refuse(entry, f"clashes with file {here!r} ({what} is needed)")
            elif i == last and is_file:
                raise _refuse(entry, "a file where the archive has a directory")
            node = child

    def add_dir(self, parts: tuple[str, ...], entry: str) -> None:
        self._add(parts, entry, False)

    def add_file(self, parts: tuple[str, ...], entry: str) -> None:
        self._add(parts, entry, True)


# --------------------------------------------------------------------------- writing


def _fmt_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"


class _Writer:
    """Creates directories and files strictly below an open directory descriptor."""

    def __init__(self, dest_fd: int, limits: ArchiveLimits, bus: EventBus) -> None:
        self.dest_fd = dest_fd
        self.limits = limits
        self.bus = bus
        self.total = 0
        self.files = 0
        self._cached: tuple[tuple[str, ...], int] | None = None

    def close(self) -> None:
        if self._cached is not None:
            with contextlib.suppress(OSError):
                os.close(self._cached[1])
            self._cached = None

    def _open_dir(self, parts: tuple[str, ...], entry: str) -> int:
        """A descriptor for ``dest/parts`` (created as needed); owned by the cache."""
        if not parts:
            return self.dest_fd
        if self._cached is not None and self._cached[0] == parts:
            return self._cached[1]
        self.close()
        cur = self.dest_fd
        try:
            for comp in parts:
                created = False
                try:
                    os.mkdir(comp, 0o755, dir_fd=cur)
                    created = True
                except FileExistsError:
                    pass
                nxt = os.open(
                    comp, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=cur
                )
                if created:
                    os.fchmod(nxt, 0o755)
                if cur != self.dest_fd:
                    os.close(cur)
                cur = nxt
        except OSError as exc:
            if cur != self.dest_fd:
                os.close(cur)
            raise _refuse(entry, f"cannot create its directory: {exc.strerror or exc}") from None
        self._cached = (parts, cur)
        return cur

    def make_dir(self, parts: tuple[str, ...], entry: str) -> None:
        self._open_dir(parts, entry)

    def write_file(
        self, parts: tuple[str, ...], src: BinaryIO, executable: bool, entry: str
    ) -> None:
        parent = self._open_dir(parts[:-1], entry)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
        try:
            fd = os.open(parts[-1], flags, 0o600, dir_fd=parent)
        except FileExistsError:
            raise _refuse(entry, "clashes with an entry already extracted") from None
        except OSError as exc:
            raise _refuse(entry, f"cannot create file: {exc.strerror or exc}") from None
        limits = self.limits
        written = 0
        out = os.fdopen(fd, "wb")
        try:
            while True:
                chunk = src.read(_CHUNK)  # reader errors (corrupt data) propagate as they are
                if not chunk:
                    break
                written += len(chunk)
                self.total += len(chunk)
                if written > limits.max_entry_bytes:
                    raise _refuse(
                        entry,
                        f"larger than {_fmt_bytes(limits.max_entry_bytes)} "
                        "when decompressed (archive.max_entry_bytes)",
                    )
                if self.total > limits.max_total_bytes:
                    raise _refuse(
                        entry,
                        f"archive holds more than {_fmt_bytes(limits.max_total_bytes)} "
                        "when decompressed (archive.max_total_bytes)",
                    )
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise _refuse(entry, f"cannot write file: {exc.strerror or exc}") from None
            try:
                out.flush()
                os.fchmod(out.fileno(), 0o755 if executable else 0o644)
            except OSError as exc:
                raise _refuse(entry, f"cannot write file: {exc.strerror or exc}") from None
        finally:
            with contextlib.suppress(OSError):
                out.close()
        self.files += 1
        self.bus.emit(Extracting("/".join(parts)))


class _Counter:
    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.declared = 0

    def entry(self, name: str) -> None:
        self.entries += 1
        if self.entries > self.limits.max_entries:
            raise _refuse(
                name,
                f"the archive has more than {self.limits.max_entries} entries "
                "(archive.max_entries)",
            )

    def declare(self, name: str, size: int) -> None:
        if size > self.limits.max_entry_bytes:
            raise _refuse(
                name,
                f"declares {_fmt_bytes(size)}, more than "
                f"{_fmt_bytes(self.limits.max_entry_bytes)} (archive.max_entry_bytes)",
            )
        self.declared += size
        if self.declared > self.limits.max_total_bytes:
            raise _refuse(
                name,
                f"the archive declares more than {_fmt_bytes(self.limits.max_total_bytes)} "
                "in total (archive.max_total_bytes)",
            )


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
                    if parts and parts[0] == _SKIPPED_TOP:
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
                if parts and parts[0] == _SKIPPED_TOP:
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


# --------------------------------------------------------------------------- entry point


def _clear(dest: Path) -> None:
    """Remove everything below ``dest`` (which holds only what we created)."""
    with contextlib.suppress(FileNotFoundError):
        for child in os.scandir(dest):
            if child.is_dir(follow_symlinks=False):
                remove_tree(child.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(child.path)


def _pack_root(dest: Path, archive_name: str) -> Path:
    manifest = dest / "pack.yaml"
    if manifest.is_file() and not manifest.is_symlink():
        return dest
    children = [c for c in dest.iterdir() if c.name != _SKIPPED_TOP]
    if len(children) == 1 and children[0].is_dir() and not children[0].is_symlink():
        top = children[0]
        inner = top / "pack.yaml"
        if inner.is_file() and not inner.is_symlink():
            return top
    raise ArchiveError(
        f"{archive_name}: no pack.yaml at the archive root or in a single top folder",
        code=CODE_NOT_A_PACK,
    )


def extract_archive(
    archive_path: Path | str,
    dest: Path | str,
    limits: ArchiveLimits | None = None,
    bus: EventBus | None = None,
    *,
    name: str | None = None,
) -> Path:
    """Extract ``archive_path`` safely into the empty folder ``dest`` and return the
    pack root: ``dest`` itself or its single top folder holding ``pack.yaml``.

    Raises :class:`ArchiveError` (one line naming the offending entry) on any
    hostile, oversized, corrupt or truncated archive, or one without a pack.yaml;
    ``dest`` is then left empty.  ``name`` is how messages about the archive as a
    whole refer to it (default: the file name of ``archive_path``), for callers
    that extract a staged copy of what the user named.
    """
    archive_path = Path(archive_path)
    try:
        return _extract(archive_path, Path(dest), limits or ArchiveLimits(), bus_or_null(bus))
    except ArchiveError as exc:
        prefix = archive_path.name + ":"
        if name is None or not exc.message.startswith(prefix):
            raise
        raise ArchiveError(
            name + exc.message[len(archive_path.name) :], code=exc.code, details=exc.details
        ) from None


def _extract(archive_path: Path, dest: Path, limits: ArchiveLimits, events: EventBus) -> Path:
    if not archive_path.is_file():
        raise ArchiveError(f"archive not found: {archive_path}", code=CODE_CORRUPT)
    fmt = detect_format(archive_path)
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ArchiveError(f"extraction folder is not a directory: {dest}", code=CODE_UNSAFE)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ArchiveError(f"extraction folder is not empty: {dest}", code=CODE_UNSAFE)
    dest_fd = os.open(dest, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC)
    writer = _Writer(dest_fd, limits, events)
    try:
        if fmt == ZIP:
            _extract_zip(archive_path, writer, limits)
        else:
            _extract_tar(archive_path, fmt == TAR_GZ, writer, limits)
        writer.close()
        return _pack_root(dest, archive_path.name)
    except BaseException:
        writer.close()
        _clear(dest)
        raise
    finally:
        writer.close()
        os.close(dest_fd)
