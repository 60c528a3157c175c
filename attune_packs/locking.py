"""The per-home inter-process lock (``$ATTUNE_HOME/.attune.lock``).

One :class:`filelock.FileLock` object per lock file and process, so that code
paths which nest (an install that migrates the database, a dependency install
inside an install) re-enter the lock instead of deadlocking on a second file
descriptor.  ``filelock`` is imported only when a lock is actually needed.

How long to wait is ``$ATTUNE_LOCK_TIMEOUT`` (:func:`attune_packs.config.lock_timeout`,
read when the lock is wanted; ``load_settings`` refuses a bad value up front).  The
bound is for the command, not for each attempt: once a wait for a lock file has
timed out, further attempts on it in this process within the same bound (recording
the failed attempt, a second open of the database) try once without waiting again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from attune_packs.config import DEFAULT_LOCK_TIMEOUT, LOCK_TIMEOUT_VARIABLE, lock_timeout
from attune_packs.errors import StoreError

#: Seconds a command waits for another attune process by default (``$ATTUNE_LOCK_TIMEOUT``).
DEFAULT_TIMEOUT = DEFAULT_LOCK_TIMEOUT

_LOCKS: dict[str, Any] = {}
_GAVE_UP: dict[str, float] = {}  # lock file -> time.monotonic() of a wait that timed out
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


def busy_error(path: Path, waited: float) -> StoreError:
    """The one line for a home another attune command is using."""
    home = Path(os.path.abspath(path)).parent
    return StoreError(
        f"another attune command is using {home} (waited {waited:g} s); try again when it "
        f"has finished, or raise {LOCK_TIMEOUT_VARIABLE}",
        code="locked",
        details={"lock": os.fspath(path), "waited_seconds": waited},
    )


@contextmanager
def hold(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock file at ``path`` (re-entrant within this process)."""
    from filelock import Timeout

    bound = lock_timeout() if timeout is None else timeout
    lock = _lock_for(Path(path))
    key = os.path.abspath(path)
    wait = bound
    gave_up = _GAVE_UP.get(key)
    if gave_up is not None and time.monotonic() - gave_up < bound:
        wait = 0  # this command already waited the whole bound for it moments ago
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        if wait:
            _GAVE_UP[key] = time.monotonic()
        raise busy_error(Path(path), bound) from None
    _GAVE_UP.pop(key, None)
    try:
        yield
    finally:
        lock.release()


def is_held(path: Path) -> bool:
    lock = _LOCKS.get(os.path.abspath(path))
    return bool(lock is not None and lock.is_locked)
