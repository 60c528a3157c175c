"""Private staging folders and their liveness locks."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from attune_packs.fsutil import remove_tree

if TYPE_CHECKING:
    pass
STAGING_PREFIX = ".staging-"
OWNER_FILE = ".owner"

try:  # POSIX advisory locks mark which staging folders have a live owner.
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]


# -- staging folders ---------------------------------------------------------------------

_OWN_STAGING: set[str] = set()


class Staging:
    """A private work folder; an advisory lock on ``.owner`` marks its owner as alive."""

    def __init__(self, base: Path, *, temporary: bool = False) -> None:
        self.base = base
        self.temporary = temporary
        self.path = Path()
        self._owner_fd: int | None = None
        self.kept = False

    def __enter__(self) -> Staging:
        if self.temporary:
            self.path = Path(tempfile.mkdtemp(prefix="attune-dry-run-"))
        else:
            self.base.mkdir(parents=True, exist_ok=True)
            self.path = self.base / f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
            self.path.mkdir(mode=0o755)
        _OWN_STAGING.add(os.fspath(self.path))
        fd = os.open(
            self.path / OWNER_FILE, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644
        )
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._owner_fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owner_fd is not None:
            if self.path.exists() and not self.kept:
                _rmtree(self.path)
            os.close(self._owner_fd)
            self._owner_fd = None
            _OWN_STAGING.discard(os.fspath(self.path))


def _owner_alive(staging: Path) -> bool:
    if os.fspath(staging) in _OWN_STAGING:
        return True
    try:
        fd = os.open(staging / OWNER_FILE, os.O_RDWR)
    except FileNotFoundError:
        # The owner died between mkdir and creating its lock file (or is right there):
        # the folder name carries its pid.
        pid_text = staging.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        return pid_text.isdigit() and _pid_alive(int(pid_text))
    except OSError:
        return True
    try:
        if fcntl is None:  # pragma: no cover
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _rmtree(path: Path) -> None:
    # Iterative and by descriptor: no tree, however deep (or read-only), can make
    # recovery fail, and so stop every later command from taking the lock.
    remove_tree(path, ignore_errors=True)
