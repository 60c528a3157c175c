"""The versioned store: hashing while copying, link switching, crash recovery states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from attune_packs.config import load_settings
from attune_packs.db import open_database
from attune_packs.errors import ChecksumError, StoreError
from attune_packs.install.maintenance import diff_files
from attune_packs.install.pipeline import Installer
from attune_packs.install.store import META_DIR, Intent, Store
from attune_packs.pack.checksum import copy_tree_hashing, directory_checksum, hash_tree
from tests.conftest import write_pack


def _tree(root: Path) -> Path:
    files = {
        "a/b": "1",
        "a-b/x": "2",
        "a.b": "3",
        "lib/x.py": "4",
        "lib.py": "5",
        "deep/er/still/file.txt": "x" * 5000,
        "empty.txt": "",
        "ünï/cödé.txt": "unicode",
        ".git/config": "ignored",
        "sub/.git": "ignored too",
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    (root / "empty-dir").mkdir()
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o700)
    return root


def test_hash_and_copy_agree_with_the_reference_checksum(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    expected = directory_checksum(src)
    hashed = hash_tree(src)
    assert hashed.checksum == expected.checksum
    assert hashed.bytes == expected.bytes and hashed.count == expected.files
    copied = copy_tree_hashing(src, tmp_path / "dst")
    assert copied.checksum == expected.checksum
    assert copied.files == hashed.files
    assert directory_checksum(tmp_path / "dst").checksum == expected.checksum
    dst = tmp_path / "dst"
    assert not (dst / ".git").exists() and not (dst / "sub" / ".git").exists()
    assert (dst / "empty-dir").is_dir()
    assert os.stat(dst / "run.sh").st_mode & 0o777 == 0o755
    assert os.stat(dst / "a.b").st_mode & 0o777 == 0o644


def test_known_answer(tmp_path: Path) -> None:
    (tmp_path / "t" / "nested").mkdir(parents=True)
    (tmp_path / "t" / "nested" / "file.txt").write_bytes(b"fixture\n")
    assert hash_tree(tmp_path / "t").checksum == (
        "sha256:e9837162383488cb9b187ea585ce8963634d7d04f75abeb0c43d5456de0d6b13"
    )


def test_symlinks_and_fifos_are_refused(tmp_path: Path) -> None:
    src = write_pack(tmp_path / "src")
    os.symlink("/etc/passwd", src / "link")
    with pytest.raises(ChecksumError, match="symlinks are not allowed"):
        copy_tree_hashing(src, tmp_path / "dst")
    os.unlink(src / "link")
    os.mkfifo(src / "fifo")
    with pytest.raises(ChecksumError, match="special files"):
        hash_tree(src)
    lax = hash_tree(src, strict=False)
    assert lax.odd == {"fifo": "special file"}


def test_diff_names_changed_added_missing(tmp_path: Path) -> None:
    src = _tree(tmp_path / "src")
    before = hash_tree(src)
    (src / "a.b").write_text("changed")
    (src / "new").write_text("n")
    (src / "lib.py").unlink()
    os.symlink("a.b", src / "lib" / "x.py.link")
    diff = diff_files(before.files, hash_tree(src, strict=False))
    assert diff.changed == ["a.b"]
    assert diff.added == ["lib/x.py.link", "new"]
    assert diff.missing == ["lib.py"]


# -- recovery states, built by hand -----------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path):
    settings = load_settings(home=tmp_path / "home", env={})
    inst = Installer(settings)
    yield settings, inst
    inst.close()


def _dead_staging(store: Store, name: str = ".staging-999999-dead") -> Path:
    path = store.packs_dir / name
    path.mkdir(parents=True)
    (path / ".owner").write_text("999999\n")  # nobody holds its lock
    return path


def test_recovery_deletes_uncommitted_staging_and_trash(env, tmp_path: Path) -> None:
    _settings, inst = env
    store = inst.store
    dead = _dead_staging(store)
    write_pack(dead / "pack", ref="ghost")
    (dead / "intent.json").write_text(
        json.dumps(
            {"ref": "ghost", "version": "1.0.0", "checksum": "sha256:" + "0" * 64, "root": "pack"}
        )
    )
    (store.packs_dir / ".trash-abc").mkdir()
    os.symlink("x", store.packs_dir / ".link-ghost-123")
    with store.locked(inst.db) as actions:
        assert any("abandoned" in a for a in actions)
    assert sorted(os.listdir(store.packs_dir)) == []
    assert inst.db.list_packs() == []


def test_recovery_leaves_a_live_owners_staging_alone(env) -> None:
    _, inst = env
    with inst.store.staging() as st:
        (st.path / "x").write_text("1")
        # Another process checks: the owner (us) is alive.
        code = (
            "import sys\nfrom pathlib import Path\nfrom attune_packs.install.staging import _owner_alive\n"
            "print(_owner_alive(Path(sys.argv[1])))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(st.path)], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "True"
        with inst.store.locked(inst.db):
            pass
        assert (st.path / "x").exists()
    assert not st.path.exists()


def test_recovery_rolls_a_committed_install_forward(env, tmp_path: Path) -> None:
    """The owner died after the database commit but before the rename: finish it."""
    _settings, inst = env
    src = write_pack(tmp_path / "src", version="1.0.0")
    first = inst.install(str(src))
    write_pack(src, version="2.0.0")
    # Build the state a SIGKILL right after the commit leaves behind.
    store = inst.store
    dead = _dead_staging(store)
    tree = copy_tree_hashing(src, dead / "pack")
    intent = Intent("demo", "2.0.0", tree.checksum, "pack")
    store.prepare(
        type("S", (), {"path": dead})(),  # a Staging-like object
        intent,
        {
            "format": 1,
            "ref": "demo",
            "version": "2.0.0",
            "checksum": tree.checksum,
            "files": tree.files,
        },
    )
    from attune_packs.db import InstallationRecord, PackRecord, utcnow

    row = inst.db.get_pack("demo")
    assert row is not None
    pack = PackRecord(**{**asdict(row), "version": "2.0.0", "checksum": tree.checksum, "id": None})
    inst.db.record(
        InstallationRecord(
            pack_ref="demo",
            pack_version="2.0.0",
            previous_version="1.0.0",
            action="upgrade",
            status="succeeded",
            started_at=utcnow(),
            finished_at=utcnow(),
        ),
        pack=pack,
    )
    assert store.read_link("demo") == "demo-1.0.0"  # disagrees with the database now
    with store.locked(inst.db) as actions:
        assert any("completed the interrupted activation" in a for a in actions)
    assert store.read_link("demo") == "demo-2.0.0"
    assert not dead.exists()
    assert store.read_sidecar("demo", "2.0.0") is not None
    reports = inst.verify()
    assert [r["ok"] for r in reports] == [True], reports
    assert first.version == "1.0.0"


def test_recovery_points_links_at_the_database_version(env, tmp_path: Path) -> None:
    _, inst = env
    src = write_pack(tmp_path / "src", version="1.0.0")
    inst.install(str(src))
    write_pack(src, version="1.1.0")
    inst.install(str(src))
    # A stale link (e.g. a rollback that died after its commit).
    inst.store.switch_link("demo", "demo-1.0.0")
    with inst.store.locked(inst.db) as actions:
        assert "pointed demo at demo-1.1.0" in actions
    assert inst.store.read_link("demo") == "demo-1.1.0"


def test_recovery_finishes_an_interrupted_uninstall(env, tmp_path: Path) -> None:
    _, inst = env
    inst.install(str(write_pack(tmp_path / "src")))
    from attune_packs.db import InstallationRecord, utcnow

    # The uninstall marked the ref, committed, then died before touching the disk.
    inst.store.mark_removal("demo")
    inst.db.record(
        InstallationRecord(
            pack_ref="demo",
            action="uninstall",
            status="succeeded",
            started_at=utcnow(),
            finished_at=utcnow(),
        ),
        remove_ref="demo",
    )
    with inst.store.locked(inst.db) as actions:
        assert "finished removing demo" in actions
    packs_dir = inst.store.packs_dir
    assert sorted(os.listdir(packs_dir)) == [META_DIR]
    assert os.listdir(packs_dir / META_DIR) == []


def test_another_database_never_deletes_packs(env, tmp_path: Path) -> None:
    settings, inst = env
    inst.install(str(write_pack(tmp_path / "src")))
    before = sorted(os.listdir(settings.packs_dir))
    other = Installer(
        load_settings(
            home=tmp_path / "home",
            env={"ATTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"},
        )
    )
    try:
        assert other.verify() == []
    finally:
        other.close()
    assert sorted(os.listdir(settings.packs_dir)) == before
    assert [r["ok"] for r in inst.verify()] == [True]


def test_an_uncommitted_uninstall_mark_is_dropped(env, tmp_path: Path) -> None:
    _, inst = env
    inst.install(str(write_pack(tmp_path / "src")))
    inst.store.mark_removal("demo")  # then died before its commit
    with inst.store.locked(inst.db) as actions:
        assert actions == []
    assert not (inst.store.meta_dir / "demo" / ".removing").exists()
    assert inst.store.read_link("demo") == "demo-1.0.0"


def test_a_real_directory_in_the_link_slot_is_refused(env, tmp_path: Path) -> None:
    settings, inst = env
    (settings.packs_dir / "demo").mkdir(parents=True)
    with pytest.raises(StoreError, match="not a link managed by attune-packs"):
        inst.install(str(write_pack(tmp_path / "src")))
    assert os.listdir(settings.packs_dir) == ["demo"]
    db = open_database(settings)
    assert db is not None and db.list_packs() == []
    (row,) = db.history()
    assert row.status == "failed" and row.action == "install"
    db.close()
