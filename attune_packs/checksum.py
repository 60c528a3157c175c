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
from dataclasses import dataclass
from pathlib import Path

from attune_packs.errors import ChecksumError, ChecksumMismatch, NotFound, UsageError

ALGORITHM = "sha256"
PREFIX = "sha256:"
FILE_DOMAIN = b"attune-pack-file-v1"
CHUNK = 1 << 20
CHECKSUM_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ChecksumResult:
    path: str
    kind: str  # "directory" or "file"
    checksum: str
    files: int
    bytes: int
    algorithm: str = ALGORITHM

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


def list_files(root: Path) -> list[tuple[bytes, str]]:
    """Every regular file below ``root`` as ``(relative path bytes, absolute path)``, in hash order."""
    entries: list[tuple[tuple[bytes, ...], str]] = []

    def walk(directory: str, parts: tuple[bytes, ...]) -> None:
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
                raise ChecksumError(
                    f"file name is not valid UTF-8: {os.fsencode(entry.path)!r}"
                ) from None
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                raise ChecksumError(f"cannot stat {entry.path}: {exc.strerror}") from None
            if stat.S_ISLNK(mode):
                raise ChecksumError(f"symlinks are not allowed in a pack: {entry.path}")
            if stat.S_ISDIR(mode):
                walk(entry.path, (*parts, name))
            elif stat.S_ISREG(mode):
                entries.append(((*parts, name), entry.path))
            else:
                raise ChecksumError(f"special files are not allowed in a pack: {entry.path}")

    walk(os.fspath(root), ())
    entries.sort(key=lambda item: item[0])
    return [(b"/".join(parts), path) for parts, path in entries]


def _feed_file(h: hashlib._Hash, path: str, buf: bytearray, view: memoryview) -> int:
    """Frame one file's content into ``h``; return its size.  Refuses size changes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ChecksumError(f"cannot read {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ChecksumError(f"not a regular file: {path}")
        size = st.st_size
        h.update(size.to_bytes(8, "big"))
        done = 0
        while True:
            n = os.readv(fd, [buf])
            if n == 0:
                break
            done += n
            if done > size:
                break
            h.update(view[:n])
        if done != size:
            raise ChecksumError(f"file changed size while being read: {path}")
    finally:
        os.close(fd)
    return size


def directory_checksum(root: Path | str) -> ChecksumResult:
    root = Path(root)
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        raise NotFound(f"no such file or directory: {root}") from None
    if stat.S_ISLNK(st.st_mode):
        raise ChecksumError(f"the pack root must be a real directory, not a symlink: {root}")
    if not stat.S_ISDIR(st.st_mode):
        raise ChecksumError(f"not a directory: {root}")
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    files = list_files(root)
    for rel, path in files:
        h.update(FILE_DOMAIN)
        h.update(len(rel).to_bytes(8, "big"))
        h.update(rel)
        total += _feed_file(h, path, buf, view)
    return ChecksumResult(os.fspath(root), "directory", PREFIX + h.hexdigest(), len(files), total)


def file_checksum(path: Path | str) -> ChecksumResult:
    path = Path(path)
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
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
    del h
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
