"""SHA-256 checksums byte-compatible with Attune (DESIGN.md section 3).

Directory checksum: one SHA-256 over every regular file, ordered by the list of
its path components compared as bytes, each file framed as
``b"attune-pack-file-v1" + u64be(len(path)) + path + u64be(len(content)) + content``.
``.git`` entries are pruned at any depth; symlinks and special files are errors.
Files are streamed in chunks, never read whole.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attune_packs.errors import (
    ChecksumError,
    ChecksumMismatch,
    NotFound,
    SourceError,
    UsageError,
)

ALGORITHM = "sha256"
PREFIX = "sha256:"
FILE_DOMAIN = b"attune-pack-file-v1"
CHUNK = 1 << 20
CHECKSUM_RE = re.compile(r"^sha256:[0-9a-f]{64}\Z")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class ChecksumResult:
    """An immutable result (a plain slotted class: ``dataclasses`` would add ~10 ms to the
    start-up of ``attune pack checksum``)."""

    __slots__ = ("algorithm", "bytes", "checksum", "files", "kind", "path")
    path: str
    kind: str  # "directory" or "file"
    checksum: str
    files: int
    bytes: int
    algorithm: str

    def __init__(
        self,
        path: str,
        kind: str,
        checksum: str,
        files: int,
        bytes: int,
        algorithm: str = ALGORITHM,
    ) -> None:
        for name, value in (
            ("path", path),
            ("kind", kind),
            ("checksum", checksum),
            ("files", files),
            ("bytes", bytes),
            ("algorithm", algorithm),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"ChecksumResult is immutable: cannot set {name!r}")

    def _key(self) -> tuple[object, ...]:
        return (self.path, self.kind, self.checksum, self.files, self.bytes, self.algorithm)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChecksumResult):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"ChecksumResult(path={self.path!r}, kind={self.kind!r}, checksum={self.checksum!r}, "
            f"files={self.files!r}, bytes={self.bytes!r}, algorithm={self.algorithm!r})"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "algorithm": self.algorithm,
            "checksum": self.checksum,
            "files": self.files,
            "bytes": self.bytes,
        }


def is_checksum(value: object) -> bool:
    return isinstance(value, str) and CHECKSUM_RE.match(value) is not None


def parse_checksum(value: str, what: str = "checksum") -> str:
    """Return ``value`` if it is ``sha256:`` + 64 lowercase hex, else a usage error."""
    if not is_checksum(value):
        raise UsageError(
            f"invalid {what} {value!r}: expected 'sha256:' followed by 64 lowercase hex digits",
            code="invalid_checksum",
        )
    return value


def walk_tree(
    root: str, *, strict: bool
) -> tuple[list[tuple[bytes, ...]], list[tuple[bytes, ...]], dict[str, str]]:
    """Files and directories below ``root`` in checksum order, ``.git`` pruned.

    Iterative (a deeply nested tree must not hit the recursion limit); the DirEntry
    type tests use d_type, so no stat(2) per entry on most file systems.

    Returns (files, dirs, odd) as tuples of name components (bytes).  With
    ``strict`` a symlink or special file raises :class:`ChecksumError`; without,
    it is reported in ``odd``.
    """
    files: list[tuple[bytes, ...]] = []
    dirs: list[tuple[bytes, ...]] = []
    odd: dict[str, str] = {}
    stack: list[tuple[str, tuple[bytes, ...]]] = [(root, ())]
    while stack:
        directory, parts = stack.pop()
        try:
            with os.scandir(directory) as it:
                children = list(it)
        except OSError as exc:
            raise ChecksumError(f"cannot read directory {directory}: {exc.strerror}") from None
        for entry in children:
            if entry.name == ".git":
                continue
            try:
                name = entry.name.encode("utf-8")
            except UnicodeEncodeError:
                # AttuneError shows the undecodable bytes as \xNN (errors.readable).
                raise ChecksumError(f"file name is not valid UTF-8: {entry.path}") from None
            here = (*parts, name)
            try:
                # d_type from the directory listing: no stat(2) per entry on Linux.
                if entry.is_dir(follow_symlinks=False):
                    dirs.append(here)
                    stack.append((entry.path, here))
                    continue
                if entry.is_file(follow_symlinks=False):
                    files.append(here)
                    continue
                kind = "symlink" if entry.is_symlink() else "special file"
            except OSError as exc:
                raise ChecksumError(f"cannot stat {entry.path}: {exc.strerror}") from None
            if strict:
                what = "symlinks" if kind == "symlink" else "special files"
                raise ChecksumError(f"{what} are not allowed in a pack: {entry.path}")
            odd[b"/".join(here).decode()] = kind
    files.sort()
    dirs.sort()
    return files, dirs, odd


def list_files(root: Path) -> list[tuple[bytes, str]]:
    """Every regular file below ``root`` as ``(relative path bytes, absolute path)``, in hash order."""
    root_s = os.fspath(root)
    files, _dirs, _odd = walk_tree(root_s, strict=True)
    prefix = root_s if root_s.endswith(os.sep) else root_s + os.sep
    return [(rel, prefix + rel.decode()) for rel in (b"/".join(parts) for parts in files)]


def _feed_file(h: hashlib._Hash, header: bytes, path: str, buf: bytearray, view: memoryview) -> int:
    """Frame one file (``header`` + size + content) into ``h``; return its size.

    Refuses a file whose size changes while it is read.
    """
    try:
        # O_NONBLOCK: a file swapped for a FIFO after the walk must not block the open.
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK)
    except OSError as exc:
        raise ChecksumError(f"cannot read {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ChecksumError(f"not a regular file: {path}")
        size = st.st_size
        h.update(header + size.to_bytes(8, "big"))
        capacity = len(buf)
        done = 0
        while True:
            try:
                n = os.readv(fd, [buf])
            except OSError as exc:
                raise ChecksumError(f"cannot read {path}: {exc.strerror}") from None
            if n == 0:
                break
            done += n
            if done > size:
                break
            h.update(view[:n])
            if done == size and n < capacity:
                break  # a short read of a regular file ends it: skip the extra read(2)
        if done != size:
            raise ChecksumError(f"file changed size while being read: {path}")
    finally:
        os.close(fd)
    return size


def _check_root(root: str, missing: str) -> None:
    """A pack tree's root must be a real directory (DESIGN.md section 3, rule 1)."""
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        raise NotFound(f"{missing}: {root}") from None
    if stat.S_ISLNK(st.st_mode):
        raise ChecksumError(f"the pack root must be a real directory, not a symlink: {root}")
    if not stat.S_ISDIR(st.st_mode):
        raise ChecksumError(f"not a directory: {root}")


def directory_checksum(root: Path | str) -> ChecksumResult:
    root = Path(root)
    _check_root(os.fspath(root), "no such file or directory")
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    files = list_files(root)
    for rel, path in files:
        header = FILE_DOMAIN + len(rel).to_bytes(8, "big") + rel
        total += _feed_file(h, header, path, buf, view)
    return ChecksumResult(os.fspath(root), "directory", PREFIX + h.hexdigest(), len(files), total)


def file_checksum(path: Path | str) -> ChecksumResult:
    path = Path(path)
    try:
        # O_NONBLOCK so that a FIFO is refused instead of blocking the open forever.
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
        with open(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise ChecksumError(f"not a regular file: {path}")
            digest = hashlib.file_digest(fh, "sha256")
            size = fh.tell()
    except FileNotFoundError:
        raise NotFound(f"no such file or directory: {path}") from None
    except IsADirectoryError:
        raise ChecksumError(f"is a directory: {path}") from None
    except OSError as exc:
        raise ChecksumError(f"cannot read {path}: {exc.strerror}") from None
    return ChecksumResult(os.fspath(path), "file", PREFIX + digest.hexdigest(), 1, size)


def checksum_path(path: Path | str) -> ChecksumResult:
    """Directory checksum for a directory, file checksum for anything else."""
    p = Path(path)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        raise NotFound(f"no such file or directory: {p}") from None
    if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and p.is_dir()):
        return directory_checksum(p)
    return file_checksum(p)


def verify(result: ChecksumResult, expected: str) -> None:
    """Raise :class:`ChecksumMismatch` unless ``result`` has the ``expected`` checksum."""
    parse_checksum(expected, "expected checksum")
    if result.checksum != expected:
        raise ChecksumMismatch(
            f"checksum mismatch for {result.path}: expected {expected}, got {result.checksum}",
            details={"path": result.path, "expected": expected, "actual": result.checksum},
        )


def _copy_file_hashing(src: Path, dst: Path) -> str:
    """Copy one file, returning the SHA-256 of exactly the bytes copied."""
    import hashlib

    from attune_packs.errors import ChecksumError
    from attune_packs.fsutil import NotRegularFile, open_regular

    h = hashlib.sha256()
    try:
        # Checked to be a regular file before a byte is read: a FIFO must not block.
        with open(open_regular(src), "rb") as fin, open(dst, "xb") as fout:
            while chunk := fin.read(1 << 20):
                h.update(chunk)
                fout.write(chunk)
    except IsADirectoryError:
        raise ChecksumError(f"is a directory: {src}") from None
    except NotRegularFile as exc:
        if exc.kind == "a directory":
            raise ChecksumError(f"is a directory: {src}") from None
        raise SourceError(f"cannot read {src}: {exc.strerror}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {src}: {exc.strerror}") from None
    return "sha256:" + h.hexdigest()


# -- hashing and copying trees -----------------------------------------------------------


class TreeHash:
    """A tree's directory checksum plus the SHA-256 of every file (for naming changes).

    ``odd`` lists entries that cannot be part of a pack (symlinks, special files):
    relative path -> kind.  A plain slotted class, like :class:`ChecksumResult`.
    """

    __slots__ = ("bytes", "checksum", "files", "odd")

    def __init__(
        self, checksum: str, files: dict[str, str], bytes: int, odd: dict[str, str] | None = None
    ) -> None:
        self.checksum = checksum
        self.files = files
        self.bytes = bytes
        self.odd = {} if odd is None else odd

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TreeHash):
            return NotImplemented
        return (self.checksum, self.files, self.bytes, self.odd) == (
            other.checksum,
            other.files,
            other.bytes,
            other.odd,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TreeHash(checksum={self.checksum!r}, files={len(self.files)}, bytes={self.bytes})"

    @property
    def count(self) -> int:
        return len(self.files)


_RFLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the listing must not block
)
_WFLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _open_regular(path: str) -> tuple[int, int, int]:
    try:
        fd = os.open(path, _RFLAGS)
    except OSError as exc:
        raise ChecksumError(f"cannot read {path}: {exc.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ChecksumError(f"not a regular file: {path}")
    return fd, st.st_size, st.st_mode


def _changed(path: str) -> ChecksumError:
    return ChecksumError(f"file changed size while being read: {path}")


def _stream(
    fd: int, size: int, path: str, feed: Any, fh: Any, out_fd: int | None, buf: bytearray
) -> None:
    """Feed a file of ``size`` bytes to both hashes (and ``out_fd``); refuse size changes."""
    if size < CHUNK:
        # The common case: one read of the whole file (plus one byte to see growth).
        data = os.read(fd, size + 1)
        if len(data) != size:
            raise _changed(path)
        feed(data)
        fh.update(data)
        if out_fd is not None and data:
            written = os.write(out_fd, data)
            while written < size:
                written += os.write(out_fd, data[written:])
        return
    view = memoryview(buf)
    done = 0
    while True:
        n = os.readv(fd, [buf])
        if n == 0:
            break
        done += n
        if done > size:
            break
        chunk = view[:n]
        feed(chunk)
        fh.update(chunk)
        if out_fd is not None:
            written = 0
            while written < n:
                written += os.write(out_fd, chunk[written:])
    if done != size:
        raise _changed(path)


def hash_tree(root: Path | str, *, strict: bool = True) -> TreeHash:
    """Directory checksum (DESIGN.md section 3) and per-file SHA-256 in one read."""
    root_s = os.fspath(root)
    try:
        st = os.lstat(root_s)
    except FileNotFoundError:
        raise NotFound(f"no such directory: {root_s}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ChecksumError(f"not a directory: {root_s}")
    files, _dirs, odd = walk_tree(root_s, strict=strict)
    h = hashlib.sha256()
    feed = h.update
    sha = hashlib.sha256
    out: dict[str, str] = {}
    buf = bytearray(CHUNK)
    total = 0
    prefix = root_s + os.sep
    for parts in files:
        rel = b"/".join(parts)
        rel_s = rel.decode()
        path = prefix + rel_s
        fd, size, _mode = _open_regular(path)
        try:
            feed(FILE_DOMAIN + len(rel).to_bytes(8, "big") + rel + size.to_bytes(8, "big"))
            fh = sha()
            _stream(fd, size, path, feed, fh, None, buf)
        finally:
            os.close(fd)
        out[rel_s] = fh.hexdigest()
        total += size
    return TreeHash(PREFIX + h.hexdigest(), out, total, odd)


def copy_tree_hashing(
    src: Path | str,
    dst: Path | str,
    *,
    progress: Callable[[int, int, int], None] | None = None,
) -> TreeHash:
    """Copy the pack tree ``src`` to the new folder ``dst``, hashing while copying.

    Every byte is read once: the directory checksum and the per-file hashes are
    fed from the same buffer that is written out.  ``.git`` is left behind;
    symlinks and special files are refused.  File modes become 0644 (0755 when
    any execute bit was set).  Nothing is fsynced here (see :func:`sync_tree`);
    ``progress(files_done, files_total, bytes_done)`` is called about a hundred
    times over the copy, and once at the end.
    """
    src_s, dst_s = os.fspath(src), os.fspath(dst)
    _check_root(src_s, "no such directory")
    files, dirs, _ = walk_tree(src_s, strict=True)
    os.mkdir(dst_s, 0o755)
    sprefix, dprefix = src_s + os.sep, dst_s + os.sep
    for parts in dirs:
        os.mkdir(dprefix + b"/".join(parts).decode(), 0o755)
    h = hashlib.sha256()
    feed = h.update
    sha = hashlib.sha256
    out: dict[str, str] = {}
    buf = bytearray(CHUNK)
    total = 0
    count, every = len(files), max(1, len(files) // 100)
    for done, parts in enumerate(files, 1):
        rel = b"/".join(parts)
        rel_s = rel.decode()
        path = sprefix + rel_s
        fd, size, mode = _open_regular(path)
        try:
            out_fd = os.open(dprefix + rel_s, _WFLAGS, 0o755 if mode & 0o111 else 0o644)
            try:
                feed(FILE_DOMAIN + len(rel).to_bytes(8, "big") + rel + size.to_bytes(8, "big"))
                fh = sha()
                _stream(fd, size, path, feed, fh, out_fd, buf)
            finally:
                os.close(out_fd)
        finally:
            os.close(fd)
        out[rel_s] = fh.hexdigest()
        total += size
        if progress is not None and (done % every == 0 or done == count):
            progress(done, count, total)
    return TreeHash(PREFIX + h.hexdigest(), out, total)
