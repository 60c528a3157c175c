"""On-disk cache of registry indices, validation markers, summaries."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, NotFound, RegistryError
from attune_packs.registry.summary import Summary

if TYPE_CHECKING:
    from attune_packs.config import Settings

SUMMARY_FORMAT = 3


def atomic_write_bytes(path: Path, data: bytes) -> None:
    from attune_packs.fsutil import atomic_write_bytes as write

    write(path, data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- cache files

RACY_SECONDS = 2.0


def _read_index_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a registry's local index file (:func:`index_read.read_index_bytes`:
    refused over ``max_bytes`` before it is read); a file that cannot be read is the
    registry's error, one over the limit stays ``too_large``."""
    from attune_packs.errors import IndexError_
    from attune_packs.registry.index_read import read_index_bytes

    try:
        return read_index_bytes(path, max_bytes=max_bytes)
    except IndexError_ as exc:
        if exc.code == "too_large":
            raise
        raise RegistryError(exc.message) from None


def _too_large(path: Path, max_bytes: int, size: int | None = None) -> AttuneError:
    from attune_packs.registry.index_read import index_too_large

    return index_too_large(os.fspath(path), max_bytes, size)


class _IndexCache:
    """``cache/indices``: remote copies and their metadata, content hashes by file
    signature, validation markers and search summaries (all keyed by content hash)."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.cache_dir / "indices"

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def data_path(self, url: str) -> Path:
        return self.root / f"{self.key(url)}.json"

    def meta_path(self, url: str) -> Path:
        return self.root / f"{self.key(url)}.meta.json"

    # -- content hash of a file, remembered by (size, mtime, inode, device)
    def content_sha(self, path: Path, max_bytes: int | None = None) -> tuple[str, bytes | None]:
        """SHA-256 of ``path``'s bytes, and the bytes if they had to be read.

        A file whose signature matches the one recorded with its hash is not read
        again.  Like git's index, a signature is recorded only once the file's
        mtime is a few seconds old, so a same-size rewrite within one timestamp
        tick cannot be mistaken for the old content.  With ``max_bytes``, a larger
        file is refused from its size, before anything is read.
        """
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise NotFound(f"index file not found: {path}") from None
        except OSError as exc:
            raise RegistryError(f"cannot read index {path}: {exc.strerror}") from None
        if max_bytes and st.st_size > max_bytes:
            raise _too_large(path, max_bytes, st.st_size)
        sig = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]
        record = self.root / "stat" / f"{self.key(os.fspath(path))}.json"
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            doc = json.loads(record.read_bytes())
            if doc["sig"] == sig and doc["path"] == os.fspath(path):
                return str(doc["sha256"]), None
        raw = _read_index_bytes(path, max_bytes)
        sha = hashlib.sha256(raw).hexdigest()
        if len(raw) == st.st_size and time.time() - st.st_mtime > RACY_SECONDS:
            with contextlib.suppress(OSError):
                atomic_write_text(
                    record, json.dumps({"path": os.fspath(path), "sig": sig, "sha256": sha})
                )
        return sha, raw

    # -- remote copies
    def read(self, url: str) -> tuple[dict[str, Any], Path, bytes | None] | None:
        """``(meta, data path, bytes or None)`` of the cached copy of ``url``, if intact."""
        try:
            meta = json.loads(self.meta_path(url).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("url") != url:
            return None
        try:
            sha, raw = self.content_sha(self.data_path(url))
        except AttuneError:
            return None
        if meta.get("sha256") != sha:
            return None
        return meta, self.data_path(url), raw

    def write(self, url: str, data: bytes, meta: dict[str, Any]) -> None:
        try:
            atomic_write_bytes(self.data_path(url), data)
            atomic_write_text(self.meta_path(url), json.dumps(meta, indent=1) + "\n")
        except OSError:
            pass  # a cache we cannot write is only slower

    def touch(self, url: str, meta: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            atomic_write_text(self.meta_path(url), json.dumps(meta, indent=1) + "\n")

    # -- validation markers: "this content passed validation under these rules"
    def _marker(self, sha: str, rules: str) -> Path:
        return self.root / "validated" / f"{sha}.{rules}"

    def is_validated(self, sha: str, rules: str) -> bool:
        return self._marker(sha, rules).exists()

    def mark_validated(self, sha: str, rules: str) -> None:
        with contextlib.suppress(OSError):
            atomic_write_bytes(self._marker(sha, rules), b"")

    # -- search summaries (marshal: a few big objects load in well under a millisecond)
    def _summary_path(self, sha: str) -> Path:
        v = sys.version_info
        return self.root / "summaries" / f"{sha}.py{v.major}{v.minor}.v{SUMMARY_FORMAT}"

    def read_summary(self, sha: str) -> Summary | None:
        import marshal

        try:
            fmt, hay, starts, rows = marshal.loads(self._summary_path(sha).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None
        if fmt != SUMMARY_FORMAT or not isinstance(hay, str) or len(starts) != len(rows):
            return None
        return Summary(hay, starts, rows)

    def write_summary(self, sha: str, summary: Summary) -> None:
        import marshal

        doc = (SUMMARY_FORMAT, summary.hay, summary.starts, summary.rows)
        with contextlib.suppress(OSError, ValueError):
            atomic_write_bytes(self._summary_path(sha), marshal.dumps(doc))


RULES_VERSION = 2  # bumped when validation gets stricter (2: local paths stay inside)


def _rules_tag(remote: bool, allow_http: bool) -> str:
    return f"{'remote' if remote else 'local'}{'-http' if allow_http else ''}.r{RULES_VERSION}"
