"""Entry names, limits and the no-follow writer used by extraction."""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from typing import BinaryIO

from attune_packs.config import ArchiveLimits
from attune_packs.errors import ArchiveError
from attune_packs.events import EventBus, Extracting

#: An entry nested deeper than this many path components is refused.  Real packs
#: stay far below (a node_modules tree rarely passes 30); the limit keeps every
#: later walk of the tree, and its removal, cheap.
MAX_ENTRY_DEPTH = 256
#: An entry whose path (UTF-8, inside the archive) is longer than this is refused.
#: macOS's PATH_MAX; on Linux it leaves room for the home folder in front of the
#: path within PATH_MAX (4096), since the tree is later hashed and copied by path.
MAX_ENTRY_PATH_BYTES = 1024

_CHUNK = 1 << 16
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_SKIPPED_TOP = "__MACOSX"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

CODE_UNSAFE = "unsafe_archive"
CODE_CORRUPT = "corrupt_archive"
CODE_NOT_A_PACK = "not_a_pack"


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


def _skipped(parts: tuple[str, ...]) -> bool:
    """Entries left out of the pack: macOS resource forks (``__MACOSX/``) and anything
    under a ``.git`` folder at any depth (the directory checksum skips ``.git``, so
    installed content there could never be verified)."""
    return bool(parts) and (parts[0] == _SKIPPED_TOP or ".git" in parts)


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
