"""Helpers shared by the installer tests: archives, state snapshots, audit rows."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sqlite3
import subprocess
import sys
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


# -- hand-made hostile material ---------------------------------------------------------


def tar_of(
    out: Path,
    entries: list[tuple[str, bytes]],
    *,
    fmt: int = tarfile.PAX_FORMAT,
    pax: dict[str, dict[str, str]] | None = None,
) -> Path:
    """A tar (``.tar.gz`` when ``out`` says so) of regular files ``(name, data)``;
    ``pax`` adds pax header records to the entries it names."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if pax and name in pax:
                info.pax_headers = dict(pax[name])
            tar.addfile(info, io.BytesIO(data))
    raw = bio.getvalue()
    out.write_bytes(gzip.compress(raw) if out.name.endswith((".tar.gz", ".tgz")) else raw)
    return out


def zip_of(out: Path, entries: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return out


def patch_bytes(path: Path, old: bytes, new: bytes, *, tar_header: bool = False) -> Path:
    """Replace every ``old`` in the (uncompressed) file with ``new`` of the same length;
    with ``tar_header``, the checksums of the ustar headers holding it are fixed."""
    assert len(old) == len(new)
    raw = bytearray(path.read_bytes())
    assert old in raw
    starts = []
    at = raw.find(old)
    while at >= 0:
        starts.append(at)
        at = raw.find(old, at + 1)
    raw[:] = raw.replace(old, new)
    if tar_header:
        for start in starts:
            head = start - start % 512
            block = raw[head : head + 512]
            block[148:156] = b" " * 8
            raw[head + 148 : head + 156] = b"%06o\x00 " % sum(block)
    path.write_bytes(bytes(raw))
    return path


def make_deep_tree(root: Path, depth: int, name: str = "a") -> None:
    """``root/a/a/.../a/f.txt``, ``depth`` folders deep: built through descriptors,
    since its path is longer than the system allows in one piece."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
        leaf = os.open("f.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"deep\n")
        os.close(leaf)
    finally:
        os.close(fd)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def install_json(home: Path, *args: str, cwd: Path | None = None, env: dict | None = None) -> Any:
    """``attune pack install ARGS --skip-tests --progress none -o json`` in ``home``."""
    from tests.conftest import run_cli

    return run_cli(
        "pack",
        "install",
        *args,
        "--skip-tests",
        "--progress",
        "none",
        "-o",
        "json",
        home=home,
        cwd=cwd,
        env=env,
    )
