"""SIGTERM and SIGHUP stop a command the way Ctrl-C does.

The handler raises :class:`~attune_packs.errors.Terminated` (a
``KeyboardInterrupt``), so every ``finally`` and the installer's failure path
run exactly as for Ctrl-C: the attempt is recorded as ``failed``, the staging
folder is removed, the lock released.  The exit status is 128 + the signal's
number (143 for SIGTERM, 129 for SIGHUP), as shells report it.
"""

from __future__ import annotations

import signal
from typing import Any

from attune_packs.errors import Terminated


def _raise(signum: int, _frame: Any) -> None:
    # Once is enough: a second signal during clean-up must not cut the clean-up short.
    signal.signal(signum, signal.SIG_IGN)
    raise Terminated(signum)


def handle_termination() -> None:
    """Install the handlers (main thread only; a no-op elsewhere)."""
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            try:
                signal.signal(signum, _raise)
            except ValueError:  # not the main thread (embedded use)
                return
