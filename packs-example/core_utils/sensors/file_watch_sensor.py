"""core_utils.file_watch_sensor: emit file_changed when a watched file's size or mtime changes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

Dispatch = Callable[[str, dict], None]


class FileWatchSensor:
    def __init__(self, paths: Iterable[str], dispatch: Dispatch) -> None:
        self.paths = list(paths)
        self.dispatch = dispatch
        self.seen: dict[str, tuple[int, int] | None] = {p: self._stamp(p) for p in self.paths}

    @staticmethod
    def _stamp(path: str) -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def poll(self) -> int:
        """Check every file once; dispatch one trigger per change; return how many changed."""
        changed = 0
        for path in self.paths:
            stamp = self._stamp(path)
            if stamp != self.seen.get(path):
                self.seen[path] = stamp
                change = "deleted" if stamp is None else "modified"
                self.dispatch("core_utils.file_changed", {"path": path, "change": change})
                changed += 1
        return changed
