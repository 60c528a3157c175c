"""SIGTERM, SIGHUP and Ctrl-C during an install: a failed audit row, no staging left,
the previous state intact, and the shell's exit status (143, 129, 130)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_pack
from tests.install_helpers import audit_rows, snapshot
from tests.servers import TestServer, pack_tarball, sha, write_config

pytestmark = pytest.mark.timeout(120)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env.update({"ATTUNE_HOME": str(home), "NO_COLOR": "1"})
    return env


def _leftovers(home: Path) -> list[str]:
    packs = home / "packs"
    if not packs.exists():
        return []
    temporary = (".staging-", ".trash-", ".link-")
    return sorted(p.name for p in packs.iterdir() if p.name.startswith(temporary))


def _start_slow_install(tmp_path: Path, home: Path) -> tuple[subprocess.Popen, TestServer]:
    """An install of an archive URL that downloads slowly; returns once it is downloading."""
    src = write_pack(tmp_path / "src", version="2.0.0", files={"big.bin": "x" * 200_000})
    body = pack_tarball(src)
    server = TestServer().start()
    server.route("demo-2.0.0.tar.gz", body, drip=0.05)
    write_config(home, network={"allow_http": True})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "attune_packs",
            "pack",
            "install",
            server.url("demo-2.0.0.tar.gz"),
            "--expect-checksum",
            sha(body),
            "--progress",
            "json",
        ],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until bytes are flowing
        if line.startswith("{") and json.loads(line).get("event") == "downloading":
            break
    return proc, server


@pytest.mark.parametrize(
    ("signum", "status", "message"),
    [
        (signal.SIGTERM, 143, "terminated by SIGTERM"),
        (signal.SIGHUP, 129, "terminated by SIGHUP"),
        (signal.SIGINT, 130, "interrupted"),
    ],
)
def test_signal_during_install_records_a_failed_attempt(
    tmp_path: Path, signum: int, status: int, message: str
) -> None:
    home = tmp_path / "home"
    old = write_pack(tmp_path / "old", version="1.0.0")
    assert run_cli("pack", "install", str(old), home=home).exit_code == 0
    before = snapshot(home)
    proc, server = _start_slow_install(tmp_path, home)
    try:
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=60)
    finally:
        server.stop()
    assert proc.returncode == status, err
    assert f"error: {message}" in err
    assert "Traceback" not in err
    rows = audit_rows(home)
    assert rows[-1]["status"] == "failed" and rows[-1]["error_message"] == message
    assert snapshot(home) == before  # 1.0.0 still active, nothing half-written
    assert _leftovers(home) == []


def test_read_only_commands_say_nothing_about_stale_staging(tmp_path: Path) -> None:
    """A run killed with SIGKILL leaves a staging folder; `list` and `show` work quietly
    and the next writing command clears it."""
    home = tmp_path / "home"
    assert run_cli("pack", "install", str(write_pack(tmp_path / "p")), home=home).exit_code == 0
    proc, server = _start_slow_install(tmp_path, home)
    try:
        proc.kill()
        proc.communicate(timeout=60)
    finally:
        server.stop()
    assert any(name.startswith(".staging-") for name in _leftovers(home))
    for args in (("pack", "list"), ("pack", "show", "demo")):
        r = run_cli(*args, home=home)
        assert r.exit_code == 0 and r.stderr == "", r.stderr
    r = run_cli("pack", "install", str(write_pack(tmp_path / "q", version="1.1.0")), home=home)
    assert r.exit_code == 0, r.stderr
    assert _leftovers(home) == []
    assert ".staging-" not in r.stdout + r.stderr
