"""The per-home inter-process lock (``$ATTUNE_HOME/.attune.lock``).

One :class:`filelock.FileLock` object per lock file and process, so that code
paths which nest (an install that migrates the database, a dependency install
inside an install) re-enter the lock instead of deadlocking on a second file
descriptor.  ``filelock`` is imported only when a lock is actually needed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from attune_packs.errors import StoreError

#: Seconds a command waits for another attune process before giving up.
DEFAULT_TIMEOUT = float(os.environ.get("ATTUNE_LOCK_TIMEOUT", "600"))

_LOCKS: dict[str, Any] = {}
_GUARD = threading.Lock()


def _lock_for(path: Path) -> Any:
    from filelock import FileLock

    key = os.path.abspath(path)
    with _GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = _LOCKS[key] = FileLock(key, thread_local=False)
        return lock


@contextmanager
def hold(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock file at ``path`` (re-entrant within this process)."""
    from filelock import Timeout

    lock = _lock_for(Path(path))
    try:
        lock.acquire(timeout=DEFAULT_TIMEOUT if timeout is None else timeout)
    except Timeout:
        raise StoreError(
            f"timed out after {DEFAULT_TIMEOUT:g}s waiting for another attune process "
            f"(lock {path})",
            code="locked",
        ) from None
    try:
        yield
    finally:
        lock.release()


def is_held(path: Path) -> bool:
    lock = _LOCKS.get(os.path.abspath(path))
    return bool(lock is not None and lock.is_locked)
