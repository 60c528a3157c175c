"""The versioned pack store on disk (DESIGN.md section 6) and its crash-recovery rule.

Layout below ``packs_dir``::

    <ref>-<version>/            immutable, complete and fsynced before it appears
    <ref> -> <ref>-<version>    relative symlink to the active version
    .attune/<ref>/<version>.json  sidecar: directory checksum, per-file SHA-256,
                                  provenance (outside the pack, so the pack's own
                                  checksum stays verifiable)
    .staging-<token>/           work area of one running command (owner lock inside)
    .trash-<token>/             a folder on its way out (renamed first, deleted after)

The database is the source of truth, and it is always committed first:

1. Everything new is prepared inside a staging folder: the pack tree (fsynced),
   the sidecar, and last ``intent.json`` naming ref, version and checksum.
2. Under the home lock, the database transaction (pack row, dependency rows,
   audit row) commits.  This is the commit point of an install.
3. Then the store is made to match: the tree is renamed to ``<ref>-<version>``
   (a replaced folder goes to ``.trash-*`` first), the sidecar moved into
   ``.attune/``, the link switched (new link + rename over the old one), old
   versions pruned, the staging folder removed.

Recovery (run by :meth:`Store.locked` every time a command takes the home lock,
so before any other change can commit): a staging folder whose owner process is
gone is rolled *forward* when its intent matches what the database says is
active (the owner died after step 2), otherwise it is deleted (the owner died
before step 2, so nothing happened).  Then every link is made to point at the
version the database records; a ref marked ``.attune/<ref>/.removing`` (an
uninstall writes the mark before its commit) that the database no longer knows
is removed from disk (the mark is dropped if the database still has the ref);
``.trash-*`` and stray temporary links are deleted.  A SIGKILL at any instant therefore leaves link and
database agreeing once the next command has started.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs import locking
from attune_packs.errors import StoreError
from attune_packs.fsutil import atomic_write_text, fsync_dir, fsync_tree
from attune_packs.install.staging import STAGING_PREFIX, Staging, _owner_alive, _rmtree

if TYPE_CHECKING:
    from attune_packs.config import Settings
    from attune_packs.db import Database

META_DIR = ".attune"
TRASH_PREFIX = ".trash-"
LINK_PREFIX = ".link-"
INTENT_FILE = "intent.json"
SIDECAR_FILE = "files.json"
REMOVING_FILE = ".removing"
SIDECAR_FORMAT = 1


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


def _syncfs(path: Path) -> bool:
    """Flush the whole file system holding ``path`` with one syncfs(2) (Linux)."""
    libc = _libc()
    fn = getattr(libc, "syncfs", None) if libc is not None else None
    if fn is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return fn(fd) == 0
    finally:
        os.close(fd)


def sync_tree(root: Path) -> None:
    """Make a freshly written tree durable before it becomes visible.

    One ``syncfs`` of its file system where the platform has it (far cheaper
    than an fsync per file for thousands of files), else an fsync of every file
    and directory.
    """
    if not _syncfs(root):
        fsync_tree(root)


# -- the store ---------------------------------------------------------------------------


@dataclass
class Intent:
    ref: str
    version: str
    checksum: str
    root: str  # the pack tree, relative to the staging folder

    @property
    def target(self) -> str:
        return f"{self.ref}-{self.version}"


class Store:
    """The versioned folders, links and sidecars below ``settings.packs_dir``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.packs_dir = Path(settings.packs_dir)
        self.meta_dir = self.packs_dir / META_DIR
        self._depth = 0

    # -- paths ---------------------------------------------------------------------------

    def version_dir(self, ref: str, version: str) -> Path:
        return self.packs_dir / f"{ref}-{version}"

    def link_path(self, ref: str) -> Path:
        return self.packs_dir / ref

    def sidecar_path(self, ref: str, version: str) -> Path:
        return self.meta_dir / ref / f"{version}.json"

    def read_link(self, ref: str) -> str | None:
        try:
            return os.readlink(self.link_path(ref))
        except (FileNotFoundError, OSError):
            return None

    def check_link_slot(self, ref: str) -> None:
        """Refuse early when ``<packs_dir>/<ref>`` is something we must not replace."""
        link = self.link_path(ref)
        if os.path.lexists(link) and not os.path.islink(link):
            raise StoreError(
                f"{link} exists and is not a link managed by attune-packs; move it away first",
                code="store_conflict",
            )

    # -- sidecars ------------------------------------------------------------------------

    def read_sidecar(self, ref: str, version: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.sidecar_path(ref, version).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            return None
        return data

    def versions_on_disk(self, ref: str) -> list[str]:
        """Versions of ``ref`` with both a folder and a sidecar."""
        try:
            names = os.listdir(self.meta_dir / ref)
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            if name.endswith(".json") and not name.startswith("."):
                version = name[: -len(".json")]
                if self.version_dir(ref, version).is_dir():
                    out.append(version)
        return sorted(out)

    # -- staging -------------------------------------------------------------------------

    def staging(self, *, dry_run: bool = False) -> Staging:
        return Staging(self.packs_dir, temporary=dry_run)

    def prepare(
        self, staging: Staging, intent: Intent, sidecar: dict[str, Any], *, sync: bool = True
    ) -> None:
        """Write the sidecar and the intent into ``staging`` (tree already there)."""
        root = staging.path / intent.root
        if sync:
            sync_tree(root)
        atomic_write_text(staging.path / SIDECAR_FILE, json.dumps(sidecar, sort_keys=True))
        atomic_write_text(
            staging.path / INTENT_FILE,
            json.dumps(
                {
                    "ref": intent.ref,
                    "version": intent.version,
                    "checksum": intent.checksum,
                    "root": intent.root,
                }
            ),
        )

    @staticmethod
    def read_intent(staging_path: Path) -> Intent | None:
        try:
            data = json.loads((staging_path / INTENT_FILE).read_text(encoding="utf-8"))
            return Intent(data["ref"], data["version"], data["checksum"], data["root"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- locking and recovery ------------------------------------------------------------

    @contextmanager
    def locked(self, db: Database | None) -> Iterator[list[str]]:
        """Hold the home lock; on the outermost entry, run recovery first.

        Yields the list of recovery actions taken (for logging)."""
        with locking.hold(self.settings.lock_path):
            self._depth += 1
            try:
                actions: list[str] = []
                if self._depth == 1 and db is not None:
                    actions = self.recover(db)
                yield actions
            finally:
                self._depth -= 1

    def recover(self, db: Database) -> list[str]:
        """Make the store agree with the database (see the module docstring)."""
        actions: list[str] = []
        try:
            names = os.listdir(self.packs_dir)
        except FileNotFoundError:
            return actions
        packs = {p.ref: p for p in db.list_packs()}
        for name in sorted(names):
            path = self.packs_dir / name
            if name.startswith(STAGING_PREFIX):
                if _owner_alive(path):
                    continue
                intent = self.read_intent(path)
                row = packs.get(intent.ref) if intent else None
                if (
                    intent is not None
                    and row is not None
                    and row.version == intent.version
                    and row.checksum == intent.checksum
                ):
                    self.materialize(path, intent)
                    actions.append(f"completed the interrupted activation of {intent.target}")
                else:
                    _rmtree(path)
                    actions.append(f"removed the abandoned staging folder {name}")
            elif name.startswith(TRASH_PREFIX):
                _rmtree(path)
                actions.append(f"removed {name}")
            elif name.startswith(LINK_PREFIX):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        for ref, row in packs.items():
            target = f"{ref}-{row.version}"
            if self.read_link(ref) != target and self.version_dir(ref, row.version).is_dir():
                if os.path.lexists(self.link_path(ref)) and not os.path.islink(self.link_path(ref)):
                    continue
                self.switch_link(ref, target)
                actions.append(f"pointed {ref} at {target}")
        try:
            managed = os.listdir(self.meta_dir)
        except FileNotFoundError:
            managed = []
        for ref in sorted(managed):
            marker = self.meta_dir / ref / REMOVING_FILE
            if ref.startswith(".") or not marker.exists():
                continue
            if ref in packs:  # the uninstall never committed
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(marker)
            else:
                self.remove_pack(ref)
                actions.append(f"finished removing {ref}")
        return actions

    def mark_removal(self, ref: str) -> None:
        """Before an uninstall commits: lets recovery finish it if we die after the commit.

        (A ref missing from the database is only removed from disk with this
        marker, so pointing attune at another database never deletes packs.)"""
        atomic_write_text(self.meta_dir / ref / REMOVING_FILE, f"{os.getpid()}\n")

    # -- activation ----------------------------------------------------------------------

    def materialize(self, staging_path: Path, intent: Intent) -> None:
        """Step 3 of the module docstring: make the committed version visible.

        Idempotent: what a previous, interrupted call already did is skipped."""
        target = self.version_dir(intent.ref, intent.version)
        root = staging_path / intent.root
        trash: Path | None = None
        if root.is_dir():
            if os.path.lexists(target):
                trash = self.packs_dir / f"{TRASH_PREFIX}{secrets.token_hex(6)}"
                os.rename(target, trash)
            os.rename(root, target)
            fsync_dir(self.packs_dir)
        side = staging_path / SIDECAR_FILE
        if side.exists():
            dest = self.sidecar_path(intent.ref, intent.version)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(side, dest)
            fsync_dir(dest.parent)
        self.switch_link(intent.ref, intent.target)
        if trash is not None:
            _rmtree(trash)
        _rmtree(staging_path)

    def switch_link(self, ref: str, target_name: str) -> None:
        """Point ``<packs_dir>/<ref>`` at ``target_name`` atomically (new link, rename over)."""
        link = self.link_path(ref)
        if self.read_link(ref) == target_name:
            return
        self.check_link_slot(ref)
        tmp = self.packs_dir / f"{LINK_PREFIX}{ref}-{secrets.token_hex(6)}"
        os.symlink(target_name, tmp)
        try:
            os.replace(tmp, link)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        fsync_dir(self.packs_dir)

    def prune(self, ref: str, keep: list[str]) -> list[str]:
        """Remove every stored version of ``ref`` not in ``keep``; return what went."""
        removed = []
        try:
            names = os.listdir(self.meta_dir / ref)
        except FileNotFoundError:
            names = []
        for name in sorted(names):
            if not name.endswith(".json") or name.startswith("."):
                continue
            version = name[: -len(".json")]
            if version in keep:
                continue
            self._remove_version(ref, version)
            removed.append(version)
        return removed

    def _remove_version(self, ref: str, version: str) -> None:
        folder = self.version_dir(ref, version)
        trash: Path | None = None
        if folder.is_dir() and not folder.is_symlink():
            trash = self.packs_dir / f"{TRASH_PREFIX}{secrets.token_hex(6)}"
            os.rename(folder, trash)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.sidecar_path(ref, version))
        if trash is not None:
            _rmtree(trash)

    def remove_pack(self, ref: str) -> None:
        """Remove the link, every stored version and the sidecars of ``ref``."""
        link = self.link_path(ref)
        if os.path.islink(link):
            os.unlink(link)
            fsync_dir(self.packs_dir)
        self.prune(ref, [])
        with contextlib.suppress(OSError):
            for leftover in os.listdir(self.meta_dir / ref):
                os.unlink(self.meta_dir / ref / leftover)
            os.rmdir(self.meta_dir / ref)
