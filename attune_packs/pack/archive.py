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
import os
from pathlib import Path

from attune_packs.config import ArchiveLimits
from attune_packs.errors import ArchiveError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fsutil import open_regular, remove_tree
from attune_packs.pack.archive_formats import _extract_tar, _extract_zip
from attune_packs.pack.archive_write import (
    _O_CLOEXEC,
    _O_DIRECTORY,
    _O_NOFOLLOW,
    _SKIPPED_TOP,
    CODE_CORRUPT,
    CODE_NOT_A_PACK,
    CODE_UNSAFE,
    _Writer,
)

__all__ = ["detect_format", "extract_archive", "is_archive"]

ZIP = "zip"
TAR = "tar"
TAR_GZ = "tar.gz"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_GZIP_MAGIC = b"\x1f\x8b"
_UNSUPPORTED_MAGICS = {
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"Rar!": "rar",
}


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
