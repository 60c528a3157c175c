"""Running a pack's own tests (attune_packs.pack.packtests) with real tiny packs."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from attune_packs.errors import PackTestError
from attune_packs.events import EventBus, Info, Warning
from attune_packs.pack.model import Manifest
from attune_packs.pack.packtests import PackTestReport, run_pack_tests

PASSING_UNITTEST = """\
import unittest

class TestIt(unittest.TestCase):
    def test_adds(self):
        self.assertEqual(1 + 1, 2)
"""

IMPORTING_UNITTEST = """\
import unittest

from actions.lib.helper import double  # the pack's own code, imported from its root

class TestHelper(unittest.TestCase):
    def test_double(self):
        self.assertEqual(double(21), 42)
"""

FAILING_UNITTEST = """\
import unittest

class TestIt(unittest.TestCase):
    def test_adds(self):
        self.assertEqual(1 + 1, 3, "arithmetic is broken")
"""


def make_pack(root: Path, files: dict[str, str], executable: tuple[str, ...] = ()) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pack.yaml").write_text("ref: demo\n", encoding="utf-8")
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        if rel in executable:
            p.chmod(0o755)
    return root


def manifest(testing: dict[str, Any] | None) -> Manifest:
    return Manifest(
        ref="demo",
        label="Demo",
        description="A test pack",
        version="1.2.3",
        testing=testing if testing is not None else {},
    )


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


class Recorder:
    def __init__(self) -> None:
        self.events: list = []
        self.bus = EventBus(self.events.append)

    def infos(self) -> list[str]:
        return [e.message for e in self.events if isinstance(e, Info)]

    def warnings(self) -> list[str]:
        return [e.message for e in self.events if isinstance(e, Warning)]


# --------------------------------------------------------------------------- python


def test_passing_unittest_file_runner(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path / "pack",
        {
            "tests/test_ok.py": IMPORTING_UNITTEST,
            "actions/lib/helper.py": "def double(x):\n    return 2 * x\n",
        },
    )
    before = tree(pack)
    rec = Recorder()
    report = run_pack_tests(
        pack,
        manifest(
            {
                "enabled": True,
                "runners": {
                    "python": {
                        "type": "unittest",
                        "entry_point": "tests/test_ok.py",
                        "timeout": 120,
                        "result_format": "simple",
                    }
                },
            }
        ),
        timeout=120,
        bus=rec.bus,
    )
    assert isinstance(report, PackTestReport)
    assert report.ran and report.passed
    assert "OK" in report.output and "Ran 1 test" in report.output
    assert report.runners[0].returncode == 0
    assert any("running pack tests: python (unittest)" in m for m in rec.infos())
    assert tree(pack) == before  # no __pycache__ or anything else left in the pack


def test_failing_unittest_raises_with_runner_and_last_lines(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"tests/test_bad.py": FAILING_UNITTEST})
    before = tree(pack)
    with pytest.raises(PackTestError) as info:
        run_pack_tests(
            pack,
            manifest({"enabled": True, "runners": {"python": {"type": "unittest"}}}),
            timeout=120,
            bus=None,
        )
    err = info.value
    assert err.code == "pack_tests_failed"
    assert "runner 'python' (unittest)" in err.message
    assert "FAILED (failures=1)" in err.message
    assert "arithmetic is broken | Ran 1 test" in err.message  # the assertion, not a rule
    assert "\n" not in err.message
    assert err.details["runner"] == "python"
    assert "arithmetic is broken" in err.details["output_tail"]
    assert tree(pack) == before


def test_unittest_discovery_uses_discovery_path(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path / "pack",
        {"checks/test_one.py": PASSING_UNITTEST, "checks/test_two.py": PASSING_UNITTEST},
    )
    report = run_pack_tests(
        pack,
        manifest(
            {
                "enabled": True,
                "discovery": {"method": "directory", "path": "checks"},
                "runners": {"python": {"type": "unittest"}},
            }
        ),
        timeout=120,
        bus=None,
    )
    assert report.passed and "Ran 2 tests" in report.output


def test_pytest_runner_when_pytest_is_available(tmp_path: Path) -> None:
    pytest_code = "def test_ok():\n    assert 2 * 2 == 4\n"
    pack = make_pack(tmp_path / "pack", {"tests/test_p.py": pytest_code})
    before = tree(pack)
    report = run_pack_tests(
        pack,
        manifest({"enabled": True, "runners": [{"name": "py", "type": "pytest"}]}),
        timeout=120,
        bus=None,
    )
    assert report.passed and "1 passed" in report.output
    assert tree(pack) == before


def test_pytest_runner_without_pytest_is_a_clear_error(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"tests/test_p.py": "def test_ok():\n    pass\n"})
    with pytest.raises(PackTestError, match="needs pytest, which is not installed"):
        run_pack_tests(
            pack,
            manifest({"enabled": True, "runners": {"py": {"type": "pytest"}}}),
            timeout=120,
            bus=None,
            python=[sys.executable, "-S"],  # no site-packages: pytest is not importable
        )


# --------------------------------------------------------------------------- shell


def test_failing_shell_script(tmp_path: Path) -> None:
    script = "echo checking widgets\necho 'boom: widget missing' >&2\nexit 3\n"
    pack = make_pack(tmp_path / "pack", {"tests/run_tests.sh": script})
    with pytest.raises(PackTestError) as info:
        run_pack_tests(
            pack,
            manifest(
                {
                    "enabled": True,
                    "runners": {"shell": {"type": "script", "entry_point": "tests/run_tests.sh"}},
                }
            ),
            timeout=60,
            bus=None,
        )
    msg = info.value.message
    assert "runner 'shell' (script)" in msg
    assert "status 3" in msg
    assert "checking widgets | boom: widget missing" in msg


def test_passing_shell_scripts_with_and_without_shebang(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path / "pack",
        {
            "tests/plain.sh": 'echo "ref=$ATTUNE_PACK_REF version=$ATTUNE_PACK_VERSION"\n',
            "tests/bang.sh": '#!/bin/sh\necho from-shebang "$@"\n',
            "tests/py_script.py": "#!/usr/bin/env python3\nprint('python via shebang')\n",
        },
        executable=("tests/bang.sh",),
    )
    report = run_pack_tests(
        pack,
        manifest(
            {
                "enabled": True,
                "runners": {
                    "shell": "tests/plain.sh",
                    "bang": {"type": "shell", "entry_point": "tests/bang.sh", "args": ["-x"]},
                    "pyscript": {"type": "script", "entry_point": "tests/py_script.py"},
                },
            }
        ),
        timeout=60,
        bus=None,
    )
    assert report.passed and [r.name for r in report.runners] == ["shell", "bang", "pyscript"]
    assert "ref=demo version=1.2.3" in report.output
    assert "from-shebang -x" in report.output
    assert "python via shebang" in report.output


def test_tool_settings_do_not_leak_into_pack_tests(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATTUNE_DATABASE_URL", "sqlite:////secret.db")
    pack = make_pack(tmp_path / "pack", {"t.sh": 'echo "db=[${ATTUNE_DATABASE_URL:-}]"\n'})
    report = run_pack_tests(
        pack,
        manifest({"enabled": True, "runners": {"shell": {"entry_point": "t.sh"}}}),
        timeout=60,
        bus=None,
    )
    assert "db=[]" in report.output


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_timeout_kills_the_runner_and_its_children(tmp_path: Path, monkeypatch) -> None:
    pidfile = tmp_path / "sleeper.pid"
    monkeypatch.setenv("PACKTEST_PIDFILE", str(pidfile))
    script = 'echo started\nsleep 60 &\necho $! > "$PACKTEST_PIDFILE"\nwait\n'
    pack = make_pack(tmp_path / "pack", {"tests/slow.sh": script})
    with pytest.raises(PackTestError) as info:
        run_pack_tests(
            pack,
            manifest(
                {
                    "enabled": True,
                    "runners": {"slow": {"entry_point": "tests/slow.sh", "timeout": 1}},
                }
            ),
            timeout=300,
            bus=None,
        )
    err = info.value
    assert "runner 'slow' (script) did not finish within 1 s" in err.message
    assert "started" in err.message
    assert err.details["timed_out"] is True
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid), "the background sleep of the test script survived"


def test_call_timeout_caps_the_runner_timeout(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"tests/slow.sh": "sleep 60\n"})
    with pytest.raises(PackTestError, match=r"within 0\.5 s"):
        run_pack_tests(
            pack,
            manifest(
                {"enabled": True, "runners": {"s": {"entry_point": "tests/slow.sh", "timeout": 99}}}
            ),
            timeout=0.5,
            bus=None,
        )


# --------------------------------------------------------------------------- switches


@pytest.mark.parametrize(
    "testing",
    [
        None,
        {},
        {"enabled": False, "runners": {"shell": {"entry_point": "tests/mark.sh"}}},
        {"runners": {"shell": {"entry_point": "tests/mark.sh"}}},
    ],
)
def test_disabled_testing_runs_nothing(tmp_path: Path, monkeypatch, testing) -> None:
    marker = tmp_path / "ran"
    monkeypatch.setenv("PACKTEST_MARKER", str(marker))
    pack = make_pack(tmp_path / "pack", {"tests/mark.sh": 'touch "$PACKTEST_MARKER"\nexit 1\n'})
    rec = Recorder()
    report = run_pack_tests(pack, manifest(testing), timeout=60, bus=rec.bus)
    assert (report.ran, report.passed) == (False, True)
    assert not marker.exists()
    assert rec.events == []


def test_enabled_without_runners_warns_and_runs_nothing(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {})
    rec = Recorder()
    report = run_pack_tests(pack, manifest({"enabled": True}), timeout=60, bus=rec.bus)
    assert (report.ran, report.passed) == (False, True)
    assert rec.warnings() == ["pack 'demo' enables testing but declares no runners"]


def test_on_failure_warn_reports_without_raising(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"t.sh": "echo nope\nexit 1\n"})
    rec = Recorder()
    report = run_pack_tests(
        pack,
        manifest(
            {"enabled": True, "on_failure": "warn", "runners": {"shell": {"entry_point": "t.sh"}}}
        ),
        timeout=60,
        bus=rec.bus,
    )
    assert report.ran and not report.passed
    assert len(rec.warnings()) == 1 and "runner 'shell'" in rec.warnings()[0]


def test_min_pass_rate_runs_every_runner(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"bad.sh": "exit 1\n", "good.sh": "echo fine\n"})
    testing = {
        "enabled": True,
        "min_pass_rate": 0.5,
        "runners": {"bad": {"entry_point": "bad.sh"}, "good": {"entry_point": "good.sh"}},
    }
    report = run_pack_tests(pack, manifest(testing), timeout=60, bus=None)
    assert report.passed and [r.passed for r in report.runners] == [False, True]
    testing["min_pass_rate"] = 1.0
    with pytest.raises(PackTestError, match="runner 'bad'"):
        run_pack_tests(pack, manifest(testing), timeout=60, bus=None)


def test_tests_run_in_a_copy_unless_isolation_is_off(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"t.sh": "echo result > results.txt\n"})
    testing = {"enabled": True, "runners": {"shell": {"entry_point": "t.sh"}}}
    run_pack_tests(pack, manifest(testing), timeout=60, bus=None)
    assert not (pack / "results.txt").exists()
    run_pack_tests(pack, manifest(testing), timeout=60, bus=None, isolate=False)
    assert (pack / "results.txt").read_text() == "result\n"


@pytest.mark.parametrize(
    ("runners", "needle"),
    [
        ({"shell": {"entry_point": "../outside.sh"}}, "must stay inside the pack"),
        ({"shell": {"entry_point": "/etc/passwd"}}, "must stay inside the pack"),
        ({"shell": {"entry_point": "tests/missing.sh"}}, "does not exist"),
        ({"shell": {"type": "script"}}, "needs an entry_point"),
        ({"x": {"type": "mocha"}}, "unsupported type 'mocha'"),
        ({"mystery": {"entry_point": "run.rb"}}, "no type"),
        ({"shell": {"entry_point": "t.sh", "timeout": -1}}, "timeout must be a positive"),
        ({"shell": {"entry_point": "tests"}}, "is not a file"),
        ("not-a-mapping", "must be a mapping or a list"),
    ],
)
def test_bad_runner_declarations(tmp_path: Path, runners: Any, needle: str) -> None:
    (tmp_path / "outside.sh").write_text("echo escaped\n")
    pack = make_pack(tmp_path / "pack", {"t.sh": "true\n", "tests/x.txt": ""})
    with pytest.raises(PackTestError, match=needle):
        run_pack_tests(pack, manifest({"enabled": True, "runners": runners}), timeout=60, bus=None)


def test_entry_point_symlinked_out_of_the_pack_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.sh").write_text("echo escaped\n")
    pack = make_pack(tmp_path / "pack", {})
    (pack / "t.sh").symlink_to(tmp_path / "outside.sh")
    with pytest.raises(PackTestError, match="must stay inside the pack"):
        run_pack_tests(
            pack,
            manifest({"enabled": True, "runners": {"shell": {"entry_point": "t.sh"}}}),
            timeout=60,
            bus=None,
        )


def test_runner_that_cannot_start(tmp_path: Path) -> None:
    pack = make_pack(tmp_path / "pack", {"t.sh": "#!/nonexistent/interpreter\necho hi\n"})
    with pytest.raises(PackTestError, match="could not start"):
        run_pack_tests(
            pack,
            manifest({"enabled": True, "runners": {"shell": {"entry_point": "t.sh"}}}),
            timeout=60,
            bus=None,
        )
    assert os.path.isdir(pack)
