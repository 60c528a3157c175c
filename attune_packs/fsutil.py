"""File-system helpers: atomic writes (stage, fsync, rename), reading a file that must
be a regular one without ever blocking on a FIFO, and removing a tree of any depth."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def fsync_dir(path: Path) -> None:
    """Flush a directory entry change (rename, link) to disk."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(
    path: Path, *, mode: int | None = 0o644, suffix: str = ".tmp"
) -> Iterator[BinaryIO]:
    """A file (opened ``w+b``) that replaces ``path`` when the ``with`` block ends.

    It is staged next to ``path``, fsynced, given ``mode`` (``None``: keep mkstemp's
    0600) and renamed over ``path``; the folder entry is then fsynced.  If the
    block raises, the staged file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "w+b") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    with atomic_output(path, mode=mode) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def fsync_tree(root: Path) -> None:
    """fsync every file and directory below ``root`` (before it is made visible)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                continue
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


# -- reading user files --------------------------------------------------------------------

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def file_kind(mode: int) -> str:
    """``"a FIFO"``, ``"a directory"``...: what a non-regular file is, for messages."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "a special file"


class NotRegularFile(OSError):
    """A FIFO, socket, device or directory where a regular file is needed."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(errno.EINVAL, f"is {kind}, not a regular file", path)
        self.kind = kind


def open_regular(path: Path | str, *, follow_symlinks: bool = True) -> int:
    """A read-only descriptor of ``path``, which must be a regular file.

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` before anything is read,
    so a FIFO (or socket, device, directory) in its place is refused at once
    instead of blocking the command forever.  Raises ``OSError``
    (``FileNotFoundError`` when missing, :class:`NotRegularFile` for the rest).
    """
    flags = os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | (0 if follow_symlinks else _O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(os.fspath(path), file_kind(st.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular_file(path: Path | str, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of ``path``, which must be a regular file (see :func:`open_regular`)."""
    fd = open_regular(path, follow_symlinks=follow_symlinks)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


# -- removing trees ------------------------------------------------------------------------


def _open_dir(name: str, dir_fd: int | None) -> int:
    flags = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except PermissionError:
        # A folder we may not read or enter (mode 0o000, 0o500...): it is ours to remove.
        os.chmod(name, 0o700, dir_fd=dir_fd)
        fd = os.open(name, flags, dir_fd=dir_fd)
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o700 != 0o700:
            os.fchmod(fd, stat.S_IMODE(mode) | 0o700)  # entries in a read-only folder
    except OSError:
        pass
    return fd


def _drain(fd: int, ignore_errors: bool) -> list[str]:
    """Unlink everything in the open folder ``fd`` but its subfolders; return their names."""
    try:
        with os.scandir(fd) as it:
            entries = list(it)
    except OSError:
        if ignore_errors:
            return []
        raise
    subdirs = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.name)
            else:
                os.unlink(entry.name, dir_fd=fd)
        except FileNotFoundError:
            pass
        except OSError:
            if not ignore_errors:
                raise
    return subdirs


def remove_tree(path: Path | str, *, ignore_errors: bool = False) -> None:
    """Remove ``path`` and everything below it, however deep (no recursion).

    A missing ``path`` is fine; a symlink or file at ``path`` is unlinked (a link is
    never followed).  Folders are walked through descriptors, so no path grows with
    the depth (a tree deeper than ``PATH_MAX`` goes too), and only one descriptor is
    open at a time: the way back up is ``..``, checked to be the folder we came
    from.  Folders without write or search permission are given it first.  With
    ``ignore_errors``, what cannot be removed is left and the rest goes.
    """
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    try:
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(path)
            return
        fd = _open_dir(path, None)
    except FileNotFoundError:
        return
    except OSError:
        if ignore_errors:
            return
        raise
    # One frame per open level: (name in its parent, (st_dev, st_ino), subfolders left).
    try:
        top = os.fstat(fd)
        frames: list[tuple[str, tuple[int, int], list[str]]] = [
            ("", (top.st_dev, top.st_ino), _drain(fd, ignore_errors))
        ]
        while frames:
            name, _ident, pending = frames[-1]
            if pending:
                child = pending.pop()
                try:
                    child_fd = _open_dir(child, fd)
                except FileNotFoundError:
                    continue
                except OSError:
                    if ignore_errors:
                        continue
                    raise
                os.close(fd)
                fd = child_fd
                cst = os.fstat(fd)
                frames.append((child, (cst.st_dev, cst.st_ino), _drain(fd, ignore_errors)))
                continue
            frames.pop()
            if not frames:
                break
            parent_fd = os.open("..", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC, dir_fd=fd)
            pst = os.fstat(parent_fd)
            os.close(fd)
            fd = parent_fd
            if (pst.st_dev, pst.st_ino) != frames[-1][1]:
                if ignore_errors:
                    return
                raise OSError(errno.ESTALE, "the folder was moved while it was being removed", path)
            try:
                os.rmdir(name, dir_fd=fd)
            except FileNotFoundError:
                pass
            except OSError:
                if not ignore_errors:
                    raise
    finally:
        os.close(fd)
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        if not ignore_errors:
            raise
