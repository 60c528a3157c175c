"""The content-addressed download cache and the index cache folders.

Layout under ``$ATTUNE_HOME/cache``::

    archives/sha256/<hex[:2]>/<hex>   archive bytes, named by their SHA-256
    indices/                          registry indices (see registry.py)
    tmp/                              downloads in progress (never read as cache)

An archive enters ``archives/`` only complete and only under the hash of its
actual bytes (a download is written to ``tmp/``, fsynced, hashed, then renamed
into place).  A cached file is re-hashed every time it is used; a corrupt one
is dropped and downloaded again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import ChecksumMismatch, SourceError
from attune_packs.fsutil import fsync_dir

if TYPE_CHECKING:
    from attune_packs.net.http import HttpClient

STALE_TMP_SECONDS = 3600


@dataclass
class CachedArchive:
    path: Path
    checksum: str
    size: int
    from_cache: bool


def _hex(checksum: str) -> str:
    from attune_packs.pack.checksum import parse_checksum

    return parse_checksum(checksum, "checksum")[len("sha256:") :]


def _tree_usage(root: Path) -> tuple[int, int, list[Path]]:
    files: list[Path] = []
    total = 0
    if not root.is_dir():
        return 0, 0, files
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            with contextlib.suppress(OSError):
                total += p.lstat().st_size
                files.append(p)
    return len(files), total, files


class DownloadCache:
    """``$ATTUNE_HOME/cache``: archives by checksum, indices, temporary downloads."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = Path(cache_dir)
        self.archives = self.root / "archives" / "sha256"
        self.indices = self.root / "indices"
        self.tmp = self.root / "tmp"

    # -- archives
    def path_for(self, checksum: str) -> Path:
        h = _hex(checksum)
        return self.archives / h[:2] / h

    def lookup(self, checksum: str) -> Path | None:
        """The cached file for ``checksum`` after re-hashing it, or None (a bad copy is removed)."""
        from attune_packs.pack.checksum import file_checksum

        path = self.path_for(checksum)
        if not path.is_file():
            return None
        try:
            actual = file_checksum(path).checksum
        except Exception:
            actual = None
        if actual != checksum:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # "last used", for clean --older-than
        return path

    def new_tmp_path(self, hint: str = "download") -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"{hint}-{uuid.uuid4().hex}"

    def adopt(self, complete_file: Path, checksum: str) -> Path:
        """Move a complete, already hashed file from ``tmp/`` into the cache under ``checksum``."""
        dest = self.path_for(checksum)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(complete_file, 0o644)
        os.replace(complete_file, dest)
        fsync_dir(dest.parent)
        return dest

    def fetch_url(
        self,
        client: HttpClient,
        url: str,
        *,
        expected: str | None,
        max_bytes: int,
        what: str = "archive URL",
    ) -> CachedArchive:
        """The archive at ``url``: from the cache when ``expected`` is cached, else downloaded.

        With ``expected``, a download whose bytes differ raises :class:`ChecksumMismatch`
        and is discarded.  Without it, the download is cached under its own hash.
        """
        if expected:
            hit = self.lookup(expected)
            if hit is not None:
                return CachedArchive(hit, expected, hit.stat().st_size, True)
        tmp = self.new_tmp_path()
        try:
            dl = client.download(url, tmp, max_bytes=max_bytes, what=what)
            if expected and dl.checksum != expected:
                from attune_packs.redaction import redact_url

                raise ChecksumMismatch(
                    f"checksum mismatch for {redact_url(url)}: expected {expected}, "
                    f"got {dl.checksum}",
                    details={"url": redact_url(url), "expected": expected, "actual": dl.checksum},
                )
            path = self.adopt(tmp, dl.checksum)
            return CachedArchive(path, dl.checksum, dl.size, False)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def add_local(self, source: Path, *, expected: str | None) -> CachedArchive:
        """Copy a local archive (a mirror's file) into the cache, verifying ``expected``."""
        from attune_packs.pack.checksum import file_checksum

        if expected:
            hit = self.lookup(expected)
            if hit is not None:
                return CachedArchive(hit, expected, hit.stat().st_size, True)
        if not source.is_file():
            raise SourceError(f"archive not found: {source}", code="not_found")
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="local-", dir=self.tmp)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            actual = file_checksum(tmp).checksum
            if expected and actual != expected:
                raise ChecksumMismatch(
                    f"checksum mismatch for {source}: expected {expected}, got {actual}",
                    details={"path": str(source), "expected": expected, "actual": actual},
                )
            path = self.adopt(tmp, actual)
            return CachedArchive(path, actual, path.stat().st_size, False)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    # -- maintenance
    def stats(self) -> dict[str, Any]:
        a_n, a_bytes, _ = _tree_usage(self.archives)
        i_n, i_bytes, _ = _tree_usage(self.indices)
        t_n, t_bytes, _ = _tree_usage(self.tmp)
        return {
            "path": str(self.root),
            "archives": {"entries": a_n, "bytes": a_bytes},
            "indices": {"entries": i_n, "bytes": i_bytes},
            "temporary": {"entries": t_n, "bytes": t_bytes},
            "total_bytes": a_bytes + i_bytes + t_bytes,
        }

    def clean(self, older_than_days: float | None = None) -> dict[str, Any]:
        """Remove cached archives and indices (only those unused for ``older_than_days``).

        Leftover temporary downloads older than an hour are always removed;
        younger ones may belong to a download in progress.
        """
        if older_than_days is not None and older_than_days < 0:
            raise SourceError("--older-than must not be negative", code="usage_error")
        now = time.time()
        cutoff = None if older_than_days is None else now - older_than_days * 86400
        removed = 0
        freed = 0
        for area in (self.archives, self.indices):
            _, _, files = _tree_usage(area)
            for f in files:
                try:
                    st = f.lstat()
                    if cutoff is not None and st.st_mtime >= cutoff:
                        continue
                    f.unlink()
                    removed += 1
                    freed += st.st_size
                except OSError:
                    continue
        _, _, tmp_files = _tree_usage(self.tmp)
        for f in tmp_files:
            try:
                st = f.lstat()
                if now - st.st_mtime < STALE_TMP_SECONDS:
                    continue
                f.unlink()
                removed += 1
                freed += st.st_size
            except OSError:
                continue
        for area in (self.archives, self.indices):
            if area.is_dir():
                for dirpath, _dirnames, _filenames in os.walk(area, topdown=False):
                    if Path(dirpath) != area:
                        with contextlib.suppress(OSError):
                            os.rmdir(dirpath)  # only succeeds once empty
        return {
            "path": str(self.root),
            "removed": removed,
            "freed_bytes": freed,
            "older_than_days": older_than_days,
        }
