"""Attune checksums (DESIGN.md section 3): a property test against an independent
reference implementation, the ordering and pruning rules, refusals, and the CLI."""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune_packs.errors import ChecksumError, NotFound
from attune_packs.pack.checksum import directory_checksum, file_checksum
from tests.conftest import run_cli

EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
KNOWN_TREE = "sha256:e9837162383488cb9b187ea585ce8963634d7d04f75abeb0c43d5456de0d6b13"
KNOWN_FILE = "sha256:315f5bdb76d078c43b8ac0064e4a0164612b1fce77c869345bfc94c75894edd3"


# --------------------------------------------------------------------------- reference


def reference_checksum(root: str) -> tuple[str, int, int]:
    """An independent, deliberately plain implementation: os.walk, whole-file reads, struct."""
    found: list[tuple[list[bytes], str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        rel_dir = os.path.relpath(dirpath, root)
        prefix = [] if rel_dir == "." else rel_dir.split(os.sep)
        for name in filenames:
            if name == ".git":
                continue
            found.append(
                ([p.encode("utf-8") for p in [*prefix, name]], os.path.join(dirpath, name))
            )
    found.sort(key=lambda item: item[0])
    digest = hashlib.sha256()
    total = 0
    for parts, full in found:
        rel = b"/".join(parts)
        with open(full, "rb") as fh:
            data = fh.read()
        total += len(data)
        digest.update(b"attune-pack-file-v1")
        digest.update(struct.pack(">Q", len(rel)) + rel)
        digest.update(struct.pack(">Q", len(data)) + data)
    return "sha256:" + digest.hexdigest(), len(found), total


# --------------------------------------------------------------------------- trees

_name_chars = st.characters(codec="utf-8", exclude_characters="/\x00", exclude_categories=("Cs",))
names = st.one_of(
    st.text(_name_chars, min_size=1, max_size=10).filter(lambda s: s not in (".", "..")),
    st.sampled_from(
        [".git", "a", "b", "a-b", "a.b", "lib", "lib.py", "x.py", "é", "e\u0301", "日本", "Z"]
    ),
)
contents = st.one_of(st.just(b""), st.binary(max_size=300))
trees = st.recursive(
    st.dictionaries(names, contents, max_size=4),
    lambda children: st.dictionaries(names, st.one_of(contents, children), max_size=4),
    max_leaves=25,
)


def materialise(root: Path, tree: dict) -> None:
    root.mkdir(exist_ok=True)
    for name, value in tree.items():
        path = root / name
        if isinstance(value, dict):
            materialise(path, value)
        else:
            path.write_bytes(value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees)
def test_matches_reference_on_arbitrary_trees(tree: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pack"
        materialise(root, tree)
        ours = directory_checksum(root)
        assert (ours.checksum, ours.files, ours.bytes) == reference_checksum(str(root))


def test_cli_matches_reference(tmp_path: Path) -> None:
    root = tmp_path / "pack"
    materialise(
        root,
        {
            "pack.yaml": b"ref: x\n",
            "ünïcode": {"日本.txt": b"\xe6\x97\xa5", "empty": b""},
            ".git": {"HEAD": b"ref: refs/heads/main\n"},
            "sub": {".git": b"gitdir: ../elsewhere\n", "a.b": b"1", "a": {"b": b"2"}},
        },
    )
    r = run_cli("pack", "checksum", str(root), "-o", "json")
    assert r.exit_code == 0, r.stderr
    expected, files, size = reference_checksum(str(root))
    assert r.json == {
        "path": str(root),
        "kind": "directory",
        "algorithm": "sha256",
        "checksum": expected,
        "files": files,
        "bytes": size,
    }
    assert files == 5


# --------------------------------------------------------------------------- rules


def framed(entries: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for rel, data in entries:
        p = rel.encode()
        h.update(b"attune-pack-file-v1" + len(p).to_bytes(8, "big") + p)
        h.update(len(data).to_bytes(8, "big") + data)
    return "sha256:" + h.hexdigest()


def test_known_answers(tmp_path: Path) -> None:
    (tmp_path / "t" / "nested").mkdir(parents=True)
    (tmp_path / "t" / "nested" / "file.txt").write_bytes(b"fixture\n")
    assert directory_checksum(tmp_path / "t").checksum == KNOWN_TREE
    (tmp_path / "hello").write_bytes(b"Hello, world!")
    assert file_checksum(tmp_path / "hello").checksum == KNOWN_FILE


@pytest.mark.parametrize(
    "order",
    [
        ["a/b", "a-b/x", "a.b"],  # '/' is not a byte in the comparison: components are
        ["lib/x.py", "lib.py"],  # compared one by one, so a folder sorts by its own name
        ["A", "B", "a", "b", "é"],  # bytes, not locale: upper case first, UTF-8 last
        ["x/y/z", "x/y0", "x0"],
    ],
)
def test_componentwise_order(tmp_path: Path, order: list[str]) -> None:
    root = tmp_path / "pack"
    for i, rel in enumerate(reversed(order)):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(str(i).encode())
    entries = [(rel, (root / rel).read_bytes()) for rel in order]
    assert directory_checksum(root).checksum == framed(entries)


def test_git_pruned_at_any_depth(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    materialise(clean, {"a": {"b": {"f": b"x"}}, "top": b"y"})
    dirty = tmp_path / "dirty"
    materialise(
        dirty,
        {
            "a": {"b": {"f": b"x", ".git": {"objects": {"x": b"z"}}}, ".git": b"gitdir: x"},
            "top": b"y",
            ".git": {"config": b"[core]"},
        },
    )
    # a symlink or FIFO inside a pruned .git is never looked at
    os.symlink("/etc/passwd", dirty / ".git" / "link")
    os.mkfifo(dirty / "a" / "b" / ".git" / "fifo")
    ours, theirs = directory_checksum(dirty), directory_checksum(clean)
    assert (ours.checksum, ours.files, ours.bytes) == (theirs.checksum, 2, 2)
    # names that only start with .git are ordinary files
    (dirty / ".gitignore").write_bytes(b"*.pyc\n")
    assert directory_checksum(dirty).files == 3


def test_empty_dirs_and_zero_files(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    result = directory_checksum(root)
    assert (result.checksum, result.files, result.bytes) == (EMPTY_SHA256, 0, 0)
    (root / "a" / "b").mkdir(parents=True)
    (root / "c").mkdir()
    assert directory_checksum(root).checksum == EMPTY_SHA256
    r = run_cli("pack", "checksum", str(root), "-o", "json")
    assert r.exit_code == 0
    assert (r.json["files"], r.json["bytes"], r.json["checksum"]) == (0, 0, EMPTY_SHA256)


def test_empty_files_count(tmp_path: Path) -> None:
    root = tmp_path / "p"
    materialise(root, {"e1": b"", "d": {"e2": b""}})
    assert directory_checksum(root).checksum == framed([("d/e2", b""), ("e1", b"")])


def test_modes_and_times_not_hashed(tmp_path: Path) -> None:
    root = tmp_path / "p"
    materialise(root, {"run.sh": b"#!/bin/sh\n", "d": {"f": b"1"}})
    before = directory_checksum(root).checksum
    os.chmod(root / "run.sh", 0o755)
    os.utime(root / "d" / "f", (0, 0))
    assert directory_checksum(root).checksum == before


# --------------------------------------------------------------------------- refusals


def test_symlinked_root_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    materialise(real, {"f": b"1"})
    link = tmp_path / "link"
    os.symlink(real, link)
    with pytest.raises(ChecksumError, match="symlink"):
        directory_checksum(link)
    r = run_cli("pack", "checksum", str(link), "-o", "json")
    assert r.exit_code == 1
    assert r.json["error"]["code"] == "checksum_error"
    assert "symlink" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("target", ["file", "dir", "dangling"])
def test_inner_symlink_refused(tmp_path: Path, target: str) -> None:
    root = tmp_path / "p"
    materialise(root, {"f": b"1", "d": {"g": b"2"}})
    dest = {"file": root / "f", "dir": root / "d", "dangling": tmp_path / "missing"}[target]
    os.symlink(dest, root / "d" / "link")
    with pytest.raises(ChecksumError, match="symlinks are not allowed"):
        directory_checksum(root)
    r = run_cli("pack", "checksum", str(root))
    assert r.exit_code == 1
    assert r.stderr.startswith("error: symlinks are not allowed in a pack:")
    assert r.stdout == ""


def test_fifo_refused_inside_and_as_path(tmp_path: Path) -> None:
    root = tmp_path / "p"
    materialise(root, {"f": b"1"})
    os.mkfifo(root / "pipe")
    with pytest.raises(ChecksumError, match="special files"):
        directory_checksum(root)
    r = run_cli("pack", "checksum", str(root / "pipe"), timeout=30)  # must not block
    assert r.exit_code == 1
    assert "not a regular file" in r.stderr


def test_non_utf8_name_refused(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    try:
        (Path(os.fsdecode(bytes(root) + b"/\xff\xfe"))).write_bytes(b"x")
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    with pytest.raises(ChecksumError, match="UTF-8"):
        directory_checksum(root)
    r = run_cli("pack", "checksum", str(root))
    assert r.exit_code == 1 and "UTF-8" in r.stderr and "Traceback" not in r.stderr


_GROWER = """
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
chunk = b"x" * 4096
sys.stdout.write("ready\\n"); sys.stdout.flush()
while True:
    os.write(fd, chunk)
    if os.fstat(fd).st_size > 64 << 20:
        os.ftruncate(fd, 4 << 20)
"""


def test_file_changing_size_while_read_is_refused(tmp_path: Path) -> None:
    """A separate process keeps appending to a file while it is hashed."""
    root = tmp_path / "p"
    root.mkdir()
    target = root / "growing.log"
    target.write_bytes(b"\0" * (4 << 20))
    writer = subprocess.Popen(
        [sys.executable, "-c", _GROWER, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        error = None
        deadline = time.monotonic() + 60
        while error is None and time.monotonic() < deadline:
            try:
                directory_checksum(root)
            except ChecksumError as exc:
                error = exc
        assert error is not None, "the size change was never observed"
        assert "changed size while being read" in error.message
        assert str(target) in error.message
    finally:
        writer.kill()
        writer.wait()


def test_nonexistent_path(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        directory_checksum(tmp_path / "nope")
    r = run_cli("pack", "checksum", str(tmp_path / "nope"), "-o", "json")
    assert r.exit_code == 1
    assert r.json == {
        "error": {"code": "not_found", "message": f"no such file or directory: {tmp_path / 'nope'}"}
    }
    assert r.stderr.strip() == f"error: no such file or directory: {tmp_path / 'nope'}"


# --------------------------------------------------------------------------- --expect


@pytest.fixture
def known_tree(tmp_path: Path) -> Path:
    root = tmp_path / "t"
    (root / "nested").mkdir(parents=True)
    (root / "nested" / "file.txt").write_bytes(b"fixture\n")
    return root


def test_expect_match(known_tree: Path) -> None:
    r = run_cli("pack", "checksum", str(known_tree), "--expect", KNOWN_TREE, "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json["checksum"] == KNOWN_TREE
    assert r.json["matches"] is True
    r = run_cli("pack", "checksum", str(known_tree), "--expect", KNOWN_TREE)
    assert r.exit_code == 0 and "matches" in r.stdout


def test_expect_mismatch(known_tree: Path) -> None:
    wrong = "sha256:" + "0" * 64
    r = run_cli("pack", "checksum", str(known_tree), "--expect", wrong)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.strip() == (
        f"error: checksum mismatch for {known_tree}: expected {wrong}, got {KNOWN_TREE}"
    )
    r = run_cli("pack", "checksum", str(known_tree), "--expect", wrong, "-o", "json")
    assert r.exit_code == 1
    err = r.json["error"]
    assert err["code"] == "checksum_mismatch"
    assert err["details"] == {"path": str(known_tree), "expected": wrong, "actual": KNOWN_TREE}
    r = run_cli("pack", "checksum", str(known_tree), "--expect", wrong, "-o", "yaml")
    assert r.exit_code == 1 and "checksum_mismatch" in r.stdout


@pytest.mark.parametrize(
    "bad",
    [
        KNOWN_TREE.upper().replace("SHA256", "sha256"),  # upper-case hex
        KNOWN_TREE[:-1],  # 63 digits
        KNOWN_TREE + "0",  # 65 digits
        KNOWN_TREE.removeprefix("sha256:"),  # no prefix
        "sha512:" + "0" * 64,
        "md5:d41d8cd98f00b204e9800998ecf8427e",
        "",
        " " + KNOWN_TREE,
    ],
)
def test_expect_malformed(known_tree: Path, bad: str) -> None:
    r = run_cli("pack", "checksum", str(known_tree), "--expect", bad, "-o", "json")
    assert r.exit_code == 2
    assert r.json["error"]["code"] == "invalid_checksum"
    assert "64 lowercase hex" in r.json["error"]["message"]
    assert "Traceback" not in r.stderr


def test_file_checksum_cli(tmp_path: Path) -> None:
    f = tmp_path / "archive ü.tar.gz"
    f.write_bytes(b"Hello, world!")
    r = run_cli("pack", "checksum", str(f), "-o", "json")
    assert r.exit_code == 0
    assert r.json == {
        "path": str(f),
        "kind": "file",
        "algorithm": "sha256",
        "checksum": KNOWN_FILE,
        "files": 1,
        "bytes": 13,
    }
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert file_checksum(empty).checksum == EMPTY_SHA256


# --------------------------------------------------------------------------- fast path


def _both(*args: str, cwd: Path | None = None) -> tuple:
    """The same command in this process (as the tests run it) and as a real process."""
    fast = run_cli("pack", "checksum", *args, cwd=cwd)
    slow = run_cli("pack", "checksum", *args, cwd=cwd, process=True)
    return fast, slow


@pytest.mark.parametrize(
    "args",
    [
        ["{tree}"],
        ["{tree}", "-o", "json"],
        ["{tree}", "-o", "yaml"],
        ["-o", "json", "{tree}"],
        ["{tree}", "--output=json"],
        ["{tree}", "-ojson"],
        ["{tree}", "-o", "JSON"],
        ["{tree}", "-q"],
        ["{tree}", "--expect", KNOWN_TREE],
        ["{tree}", "--expect=" + KNOWN_TREE, "-o", "json"],
        ["{tree}", "--expect", "sha256:" + "1" * 64],
        ["{tree}", "--expect", "sha256:" + "1" * 64, "-o", "yaml"],
        ["{tree}", "--expect", "nope", "-o", "json"],
        ["{file}"],
        ["{file}", "-o", "json"],
        ["{odd}"],
        ["{odd}", "-o", "json"],
        ["{missing}", "-o", "json"],
        ["{link}"],
        ["{tree}", "-o", "xml"],
        ["{tree}", "--bogus"],
        ["{tree}", "-vq"],
        ["-qojson", "{tree}"],
        ["{tree}", "-o=json"],
        ["{tree}", "--exp", KNOWN_TREE],
        ["{tree}", "--expect", "sha256:" + "1" * 64, "--expect", KNOWN_TREE],
        ["-5"],
        ["--", "{tree}"],
        ["{tree}", "{file}"],
        ["{tree}", "--expect"],
        ["--help"],
        [],
    ],
)
def test_in_process_run_matches_a_real_process(tmp_path: Path, args: list[str]) -> None:
    """The in-process runner the tests use gives the same bytes and exit code as the
    console script, for good and bad arguments alike."""
    tree = tmp_path / "t"
    (tree / "nested").mkdir(parents=True)
    (tree / "nested" / "file.txt").write_bytes(b"fixture\n")
    file = tmp_path / "Hello ü.txt"
    file.write_bytes(b"Hello, world!")
    odd = tmp_path / " lead\ttab"
    odd.mkdir()
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    names = {
        "tree": tree,
        "file": file,
        "odd": odd,
        "missing": tmp_path / "missing",
        "link": tmp_path / "link",
    }
    argv = [a.format(**names) for a in args]
    fast, slow = _both(*argv)
    assert (fast.exit_code, fast.stdout, fast.stderr) == (slow.exit_code, slow.stdout, slow.stderr)


def test_verbose_error_has_one_traceback(tmp_path: Path) -> None:
    fast, slow = _both(str(tmp_path / "missing"), "-v")
    assert fast.exit_code == slow.exit_code == 1
    assert fast.stderr.splitlines()[0] == slow.stderr.splitlines()[0]
    assert "Traceback" in fast.stderr and "NotFound" in fast.stderr
    assert fast.stderr.count("Traceback") == 1 and "run with -v" not in fast.stderr


def test_checksum_argument_parsing() -> None:
    """argv is read as click and most Unix tools read it; mistakes are usage errors."""
    from attune_packs.cli.parse import parse
    from attune_packs.errors import UsageError

    def parse_(args: list[str]) -> tuple:
        inv = parse(["pack", "checksum", *args])
        g = inv.globals
        return (
            str(inv.values["path"]),
            inv.values["expect"],
            g.get("output", "table"),
            bool(g.get("verbose")),
            bool(g.get("quiet")),
        )

    assert parse_(["p"]) == ("p", None, "table", False, False)
    assert parse_(["p", "-o", "YAML", "-v", "-q", "--expect", "x"]) == (
        "p",
        "x",
        "yaml",
        True,
        True,
    )
    assert parse_(["-vqojson", "p"]) == ("p", None, "json", True, True)
    assert parse_(["p", "--expect", "a", "--expect", "b"]) == ("p", "b", "table", False, False)
    assert parse_(["p", "--"]) == ("p", None, "table", False, False)
    assert parse_(["--", "-p"])[0] == "-p"
    assert parse_(["-"])[0] == "-"
    assert parse_(["p", "--expect", "-v"])[1] == "-v"  # an option's value is the next word
    assert parse_(["p", "--home", "x"])[0] == "p"  # global options after the command
    assert parse(["pack", "checksum", "--help"]).help
    assert parse(["pack", "checksum", "-h"]).help
    for bad in (
        [],
        ["p", "q"],
        ["-5"],
        ["-p q"],
        ["p", "--exp", "x"],  # no abbreviations
        ["p", "-o"],
        ["p", "-o", "xml"],
        ["p", "-o=json"],
        ["p", "--verbose=1"],
    ):
        with pytest.raises(UsageError):
            parse_(bad)


def test_deeply_nested_tree(tmp_path: Path) -> None:
    """Deeper than Python's recursion limit: the walk is iterative."""
    root = tmp_path / "p"
    rel = "/".join(["d"] * 1200) + "/f"
    current = str(root)
    os.mkdir(current)
    for _ in range(1200):  # os.makedirs would recurse
        current = os.path.join(current, "d")
        os.mkdir(current)
    with open(os.path.join(current, "f"), "wb") as fh:
        fh.write(b"deep")
    try:
        assert directory_checksum(root).checksum == framed([(rel, b"deep")])
    finally:
        # Remove it bottom-up: pytest's own clean-up (shutil.rmtree) recurses per level.
        os.remove(os.path.join(current, "f"))
        while current != str(root):
            os.rmdir(current)
            current = os.path.dirname(current)
        os.rmdir(root)
