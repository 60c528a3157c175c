#!/usr/bin/env python3
"""Rebuild ``packs-example/archives/*.tar.gz`` and ``packs-example/index.json`` reproducibly.

Every example pack (a folder of ``packs-example`` holding ``pack.yaml``) is
validated, packed into ``archives/<ref>-<version>.tar.gz`` under a single top
folder ``<ref>-<version>/``, and listed in an Attune index (format 1.0) whose
archive sources are relative paths (resolved against the index's folder, see
DESIGN.md section 4), with the SHA-256 of each archive.  Entries come from
:func:`attune_packs.registry.authoring.entry_from_pack` and the file from
:func:`attune_packs.registry.index_format.dump_index`, so the index is byte-for-byte what
``attune pack index-update`` would write for the same packs.

The archives are deterministic: entries sorted, mtime/uid/gid fixed, modes
normalised (0755 for folders and ``*.sh``, 0644 otherwise), gzip header mtime 0
and no file name.  Running the script twice gives byte-identical files.  An
existing archive whose uncompressed tar stream is already identical is kept as
it is, so a different zlib build does not churn the committed bytes.

Usage: python scripts/build_examples.py [--check] [--out DIR]
  --check   build into a temporary folder and exit 1 if the committed files differ
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "packs-example"
ARCHIVES = "archives"
INDEX_NAME = "index.json"
REGISTRY_NAME = "Attune Example Packs"
REGISTRY_URL = "https://packs.example.invalid/attune-examples"
#: Fixed so the index does not change when nothing else did (override: SOURCE_DATE_EPOCH).
DEFAULT_EPOCH = 1735689600  # 2025-01-01T00:00:00Z
SKIP_NAMES = {".git", "__pycache__", ".DS_Store", "node_modules"}

sys.path.insert(0, str(REPO))

from attune_packs.fsutil import atomic_write_bytes, atomic_write_text  # noqa: E402
from attune_packs.pack.checksum import file_checksum  # noqa: E402
from attune_packs.pack.validation import validate_pack  # noqa: E402
from attune_packs.registry import index_format, index_validation  # noqa: E402
from attune_packs.registry.authoring import entry_from_pack  # noqa: E402


def source_epoch() -> int:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    return int(raw) if raw and raw.isdigit() else DEFAULT_EPOCH


def pack_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "pack.yaml").is_file())


def _members(pack_dir: Path) -> list[tuple[str, Path]]:
    """Relative POSIX path and absolute path of every folder and file, sorted by path parts."""
    out: list[tuple[tuple[str, ...], Path]] = []
    for dirpath, dirnames, filenames in os.walk(pack_dir):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_NAMES)
        base = Path(dirpath)
        rel_base = base.relative_to(pack_dir).parts
        for d in dirnames:
            out.append(((*rel_base, d), base / d))
        for f in filenames:
            if f in SKIP_NAMES or f.endswith(".pyc"):
                continue
            path = base / f
            if path.is_symlink() or not path.is_file():
                raise SystemExit(f"refusing {path}: example packs hold only regular files")
            out.append(((*rel_base, f), path))
    out.sort(key=lambda item: [part.encode("utf-8") for part in item[0]])
    return [("/".join(parts), path) for parts, path in out]


def tar_bytes(pack_dir: Path, top: str, mtime: int) -> bytes:
    """The uncompressed, deterministic tar stream of ``pack_dir`` under folder ``top``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, path: Path | None) -> None:
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path is None or path.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
                return
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))

        add(top, None)
        for rel, path in _members(pack_dir):
            add(f"{top}/{rel}", path)
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return out.getvalue()


def _same_tar(existing: Path, tar: bytes) -> bool:
    try:
        return gzip.decompress(existing.read_bytes()) == tar
    except (OSError, EOFError):
        return False


def build(src: Path, out: Path, *, quiet: bool = False) -> dict[str, Any]:
    """Write ``out/archives/*.tar.gz`` and ``out/index.json`` for the packs in ``src``."""
    mtime = source_epoch()
    (out / ARCHIVES).mkdir(parents=True, exist_ok=True)
    entries = []
    wanted: set[str] = set()
    for pack_dir in pack_dirs(src):
        report = validate_pack(pack_dir)
        if not report.valid or report.manifest is None:
            problems = "; ".join(e.message for e in report.errors)
            raise SystemExit(f"{pack_dir.name} is not a valid pack: {problems}")
        manifest = report.manifest
        top = f"{manifest.ref}-{manifest.version}"
        name = f"{top}.tar.gz"
        wanted.add(name)
        target = out / ARCHIVES / name
        tar = tar_bytes(pack_dir, top, mtime)
        if not _same_tar(target, tar):
            atomic_write_bytes(target, gzip_bytes(tar))
        checksum = file_checksum(target).checksum
        source = {"type": "archive", "url": f"{ARCHIVES}/{name}", "checksum": checksum}
        # The entry exactly as ``attune pack index-entry`` / ``index-update`` builds it.
        entries.append(entry_from_pack(pack_dir, [source]))
        if not quiet:
            print(f"{ARCHIVES}/{name}  {checksum}")
    for stale in (out / ARCHIVES).glob("*.tar.gz"):
        if stale.name not in wanted:
            stale.unlink()
    index = {
        "registry_name": REGISTRY_NAME,
        "registry_url": REGISTRY_URL,
        "version": "1.0",
        "last_updated": index_format.format_timestamp(dt.datetime.fromtimestamp(mtime, dt.UTC)),
        "packs": index_format.sort_entries(entries),
    }
    problems = index_validation.validate_index_data(index, remote=False)
    if problems:
        raise SystemExit("the example index would be invalid: " + "; ".join(problems))
    text = index_format.dump_index(index)
    path = out / INDEX_NAME
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        atomic_write_text(path, text)
    if not quiet:
        print(f"{INDEX_NAME}: {len(entries)} packs")
    return index


def check(src: Path) -> list[str]:
    """What a rebuild would change in the committed archives and index (empty: up to date)."""
    import shutil

    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        (fresh / ARCHIVES).mkdir()
        # Seed with the committed archives: build() keeps one whose tar stream is unchanged.
        for archive in (src / ARCHIVES).glob("*.tar.gz"):
            shutil.copyfile(archive, fresh / ARCHIVES / archive.name)
        build(src, fresh, quiet=True)
        committed = {p.name for p in (src / ARCHIVES).glob("*.tar.gz")}
        built = {p.name for p in (fresh / ARCHIVES).glob("*.tar.gz")}
        for name in sorted(built - committed):
            problems.append(f"{ARCHIVES}/{name}: missing")
        for name in sorted(committed - built):
            problems.append(f"{ARCHIVES}/{name}: stale (no example pack has this version)")
        for name in sorted(committed & built):
            if (src / ARCHIVES / name).read_bytes() != (fresh / ARCHIVES / name).read_bytes():
                problems.append(f"{ARCHIVES}/{name}: content differs from a fresh build")
        index = src / INDEX_NAME
        if not index.exists():
            problems.append(f"{INDEX_NAME}: missing")
        elif index.read_bytes() != (fresh / INDEX_NAME).read_bytes():
            problems.append(f"{INDEX_NAME}: differs from a fresh build")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a rebuild would change files"
    )
    parser.add_argument("--src", type=Path, default=EXAMPLES, help="folder of example packs")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: --src)")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.src)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("run: python scripts/build_examples.py", file=sys.stderr)
            return 1
        print("archives and index are up to date")
        return 0
    build(args.src, args.out or args.src)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
