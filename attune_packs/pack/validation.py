"""validate_pack(): the full check behind `attune pack validate`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from attune_packs.pack.contents import _discover
from attune_packs.pack.manifest import _check_manifest_file, _resolve_pack_dir
from attune_packs.pack.model import ValidationReport, _Collector


def _check_tree(pack_dir: Path, col: _Collector, limit: int = 20) -> None:
    """Report what a checksum or an install would refuse: symlinks, special files, non-UTF-8
    names (at most ``limit`` of them; ``.git`` is pruned as the checksum prunes it)."""
    found = 0
    stack: list[tuple[str, str]] = [(os.fspath(pack_dir), "")]
    while stack and found < limit:
        current, prefix = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = list(it)
        except OSError as exc:
            col.error("unreadable_file", prefix or ".", f"cannot read {current}: {exc.strerror}")
            found += 1
            continue
        for entry in entries:
            if entry.name == ".git":
                continue
            rel = prefix + entry.name
            try:
                rel.encode("utf-8")
            except UnicodeEncodeError:
                shown = os.fsencode(rel).decode("utf-8", "backslashreplace")
                col.error("unsupported_file", shown, f"file name is not valid UTF-8: {shown}")
                found += 1
                continue
            try:
                if entry.is_symlink():
                    col.error(
                        "unsupported_file",
                        rel,
                        f"{rel} is a symlink; packs may not contain symlinks",
                    )
                    found += 1
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                elif not entry.is_file(follow_symlinks=False):
                    col.error(
                        "unsupported_file",
                        rel,
                        f"{rel} is a special file; packs may hold only regular files and folders",
                    )
                    found += 1
            except OSError as exc:
                col.error("unreadable_file", rel, f"cannot stat {rel}: {exc.strerror}")
                found += 1


def validate_pack(pack_dir: Path) -> ValidationReport:
    """Full validation report: ``{path, ref, version, valid, errors, warnings, contents}``.

    Never raises for a bad pack: a missing or unreadable pack folder, a missing
    pack.yaml, malformed YAML and bad component files are all errors in the report.
    """
    given = Path(pack_dir)
    pack_dir = _resolve_pack_dir(given)
    report = ValidationReport(path=os.fspath(pack_dir))
    col = _Collector()
    try:
        st = os.lstat(pack_dir)
    except OSError as exc:
        col.error("not_found", "path", f"cannot open {pack_dir}: {exc.strerror}")
        report.errors = col.errors
        return report
    if stat.S_ISLNK(st.st_mode):
        col.error("unsupported_file", "path", f"the pack folder must not be a symlink: {pack_dir}")
    elif not stat.S_ISDIR(st.st_mode):
        col.error("not_a_directory", "path", f"not a pack folder: {pack_dir}")
        report.errors = col.errors
        return report
    manifest, ref, version = _check_manifest_file(pack_dir, col)
    report.ref = ref if isinstance(ref, str) else None
    report.version = version if isinstance(version, str) else None
    report.manifest = manifest
    report.contents = _discover(pack_dir, report.ref, col, check_files=True)
    _check_tree(pack_dir, col)
    report.errors = col.errors
    report.warnings = col.warnings
    return report
