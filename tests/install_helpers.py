"""Helpers shared by the installer tests: archives, state snapshots, audit rows."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import tarfile
import zipfile
from pathlib import Path
from typing import Any


def make_tar(src: Path, out: Path, *, top: str | None = "pack", mode: str = "w:gz") -> Path:
    """An archive of the folder ``src`` (inside the top folder ``top``, if given)."""
    with tarfile.open(out, mode) as tar:
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(src).as_posix()
                tar.add(full, arcname=f"{top}/{rel}" if top else rel, recursive=False)
    return out


def make_zip(src: Path, out: Path, *, top: str | None = "pack") -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(src).as_posix()
                zf.write(full, f"{top}/{rel}" if top else rel)
    return out


def hostile_tar(out: Path, pack_yaml: str) -> Path:
    """A tar.gz holding a valid pack.yaml and an entry escaping with ``..``."""
    with tarfile.open(out, "w:gz") as tar:
        for name, data in (("pack.yaml", pack_yaml.encode()), ("../escape.txt", b"owned")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def snapshot(home: Path) -> dict[str, Any]:
    """Everything an install may change: the store (files hashed, links read) and the
    ``pack``/``pack_dependency`` tables (the audit trail is compared separately)."""
    store: dict[str, str] = {}
    packs = home / "packs"
    if packs.exists():
        for dirpath, dirnames, filenames in os.walk(packs):
            for name in dirnames + filenames:
                full = Path(dirpath) / name
                rel = full.relative_to(packs).as_posix()
                if full.is_symlink():
                    store[rel] = "-> " + os.readlink(full)
                elif full.is_dir():
                    store[rel] = "dir"
                else:
                    store[rel] = hashlib.sha256(full.read_bytes()).hexdigest()
    tables: dict[str, list[tuple[Any, ...]]] = {}
    db = home / "attune.db"
    if db.exists():
        con = sqlite3.connect(db)
        try:
            for table in ("pack", "pack_dependency"):
                tables[table] = sorted(con.execute(f"select * from {table}").fetchall(), key=str)
        finally:
            con.close()
    return {"store": store, "tables": tables}


def audit_rows(home: Path) -> list[dict[str, Any]]:
    db = home / "attune.db"
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("select * from pack_installation order by id")]
    finally:
        con.close()
