"""Runtime requirement checks with fake runtimes (small shell scripts) on a temporary PATH."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import sys
from pathlib import Path

import pytest

from attune_packs.errors import DependencyError
from attune_packs.pack import runtimes as R
from attune_packs.pack.model import Manifest, RuntimeRequirement

BASH_OUT = "GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)\nCopyright (C) 2022"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    R.clear_cache()


def fake(
    bin_dir: Path, name: str, output: str = "", *, body: str = "", stderr: bool = False
) -> Path:
    """An executable ``name`` in ``bin_dir`` printing ``output`` for ``--version``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / name
    redirect = " >&2" if stderr else ""
    text = "#!/bin/sh\n" + body
    if output:  # printf is a shell builtin: the fake PATH needs nothing else
        text += f"printf '%s\\n' {shlex.quote(output)}{redirect}\n"
    script.write_text(text, encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    d = tmp_path / "bin"
    d.mkdir()
    return d


def one(reqs: object, path: Path) -> R.RuntimeCheck:
    checks = R.check_runtimes(reqs, path=str(path))
    assert len(checks) == 1
    return checks[0]


# ------------------------------------------------------------------ python


def test_python3_version_satisfied(bin_dir: Path) -> None:
    exe = fake(bin_dir, "python3", "Python 3.11.7")
    c = one(["python3>=3.9"], bin_dir)
    assert (c.status, c.version, c.executable, c.specifier) == ("ok", "3.11.7", str(exe), ">=3.9")
    assert c.ok


def test_python3_too_old_names_version_and_constraint(bin_dir: Path) -> None:
    fake(bin_dir, "python3", "Python 3.8.10")
    c = one(["python3>=3.9"], bin_dir)
    assert c.status == "unsatisfied" and not c.ok
    assert "python3" in c.message() and "3.8.10" in c.message() and ">=3.9" in c.message()


def test_python_alias_finds_python_when_no_python3(bin_dir: Path) -> None:
    exe = fake(bin_dir, "python", "Python 3.12.1")
    c = one(["python>=3.12"], bin_dir)
    assert (c.status, c.executable) == ("ok", str(exe))
    c = one(["python3>=3.12"], bin_dir)
    assert (c.status, c.executable) == ("ok", str(exe))


def test_python_prefers_python3(bin_dir: Path) -> None:
    fake(bin_dir, "python", "Python 2.7.18", stderr=True)  # python 2 prints to stderr
    exe3 = fake(bin_dir, "python3", "Python 3.10.0")
    c = one(["python>=3"], bin_dir)
    assert (c.executable, c.version) == (str(exe3), "3.10.0")


def test_python2_version_on_stderr_is_read(bin_dir: Path) -> None:
    fake(bin_dir, "python", "Python 2.7.18", stderr=True)
    c = one(["python>=3"], bin_dir)
    assert (c.status, c.version) == ("unsatisfied", "2.7.18")


def test_python_falls_back_to_running_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    checks = R.check_runtimes(["python3"])  # path=None: the process PATH
    assert checks[0].status == "ok"
    assert checks[0].executable == sys.executable
    assert "interpreter running attune-packs" in checks[0].detail
    # With an explicit PATH there is no fallback.
    assert one(["python3"], empty).status == "missing"


# ------------------------------------------------------------------ node, shell, others


@pytest.mark.parametrize(
    ("req", "status"),
    [
        ("nodejs>=18", "ok"),
        ("node>=18", "ok"),
        ("nodejs ^20", "ok"),
        ("nodejs 20.x", "ok"),
        ("nodejs>=21", "unsatisfied"),
        ("nodejs>=18,<20", "unsatisfied"),
        ("nodejs", "ok"),
    ],
)
def test_node(bin_dir: Path, req: str, status: str) -> None:
    fake(bin_dir, "node", "v20.1.0")
    c = one([req], bin_dir)
    assert c.status == status
    if c.version is not None:
        assert c.version == "20.1.0"


def test_nodejs_executable_name_also_found(bin_dir: Path) -> None:
    exe = fake(bin_dir, "nodejs", "v18.19.1")
    c = one(["node>=18"], bin_dir)
    assert (c.status, c.executable, c.version) == ("ok", str(exe), "18.19.1")


@pytest.mark.parametrize(
    ("req", "status"),
    [("shell", "ok"), ("shell>=5", "ok"), ("bash>=5.2", "ok"), ("bash>=5.3", "unsatisfied")],
)
def test_bash(bin_dir: Path, req: str, status: str) -> None:
    fake(bin_dir, "bash", BASH_OUT)
    c = one([req], bin_dir)
    assert c.status == status
    if req != "shell":
        assert c.version == "5.2.15"


def test_shell_falls_back_to_sh(bin_dir: Path) -> None:
    # dash-like: "--version" is an error and prints no version at all
    sh = fake(bin_dir, "sh", body="echo 'sh: 0: Illegal option --' >&2\nexit 2\n")
    c = one(["shell"], bin_dir)
    assert (c.status, c.executable) == ("ok", str(sh))
    c = one(["shell>=5"], bin_dir)
    assert c.status == "unknown_version" and not c.ok
    assert "could not read its version" in c.message() and ">=5" in c.message()
    assert "Illegal option" in c.detail and "exit code 2" in c.detail


def test_other_runtime_presence_does_not_run_it(bin_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    fake(bin_dir, "curl", "curl 8.5.0 (x86_64-pc-linux-gnu)", body=f": > '{marker}'\n")
    c = one(["curl"], bin_dir)
    assert c.status == "ok"
    assert not marker.exists()  # no constraint: presence only
    c = one(["curl>=8"], bin_dir)
    assert (c.status, c.version) == ("ok", "8.5.0")
    assert marker.exists()


def test_missing_runtime(bin_dir: Path) -> None:
    c = one(["nodejs>=18"], bin_dir)
    assert c.status == "missing"
    assert c.message() == "nodejs: not found on PATH (required: >=18)"
    assert one(["jq"], bin_dir).message() == "jq: not found on PATH"


def test_non_executable_file_is_not_a_runtime(bin_dir: Path) -> None:
    (bin_dir / "tool").write_text("#!/bin/sh\necho 1.0\n", encoding="utf-8")
    assert one(["tool"], bin_dir).status == "missing"


def test_weird_version_output_is_unknown(bin_dir: Path) -> None:
    fake(bin_dir, "tool", "tool: development build")
    c = one(["tool>=1"], bin_dir)
    assert c.status == "unknown_version"
    assert "printed no version" in c.detail


# ------------------------------------------------------------------ detection mechanics


def test_version_detected_once_per_run(bin_dir: Path, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    fake(bin_dir, "node", "v20.1.0", body=f"echo x >> '{counter}'\n")
    R.check_runtimes(["nodejs>=18", "node>=19", "nodejs<21"], path=str(bin_dir))
    R.check_runtimes(["nodejs>=18"], path=str(bin_dir))
    assert counter.read_text().count("x") == 1


def test_clean_environment(bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "env.txt"
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("BASH_ENV", "/nonexistent/evil")
    monkeypatch.setenv("NODE_OPTIONS", "--require evil")
    fake(bin_dir, "node", "v20.1.0", body=f"{shutil.which('env')} > '{dump}'\n")
    assert one(["nodejs>=18"], bin_dir).ok
    env = dump.read_text()
    assert "hunter2" not in env and "BASH_ENV" not in env and "NODE_OPTIONS" not in env
    assert "LC_ALL=C" in env
    assert f"PATH={bin_dir}" in env


def test_version_timeout(bin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "VERSION_TIMEOUT", 0.3)
    fake(bin_dir, "slow", "1.0.0", body=f"exec {shutil.which('sleep')} 5\n")
    c = one(["slow>=1"], bin_dir)
    assert c.status == "unknown_version"
    assert "did not finish" in c.detail


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ("v20.1.0", "20.1.0"),
        (BASH_OUT, "5.2.15"),
        ("Python 3.11.7", "3.11.7"),
        ("Python 3.13.0rc1", "3.13.0rc1"),
        ("curl 8.5.0 (x86_64-pc-linux-gnu) libcurl/8.5.0 OpenSSL/3.0.13", "8.5.0"),
        ("git version 2.43.0", "2.43.0"),
        ("jq-1.7.1", "1.7.1"),
        ("ruby 3.2.3 (2024-01-18 revision 52bb2ac0a6) [x86_64-linux]", "3.2.3"),
        ("openjdk 21.0.2 2024-01-16", "21.0.2"),
        ("tool version 7", "7"),
        ("no digits here", None),
        ("", None),
    ],
)
def test_extract_version(output: str, version: str | None) -> None:
    assert R.extract_version(output) == version


# ------------------------------------------------------------------ constraints


@pytest.mark.parametrize(
    ("constraint", "spec"),
    [
        ("", ""),
        ("3.9", ">=3.9"),  # a bare version is a minimum
        ("18", ">=18"),
        ("v18", ">=18"),
        (">=3.9", ">=3.9"),
        (">= 3.9", ">=3.9"),
        (">=3.9,<4", ">=3.9,<4"),
        (">=3.9, <4", ">=3.9,<4"),
        (">=18 <21", ">=18,<21"),
        ("=3.9", "==3.9"),
        ("==3.11.*", "==3.11.*"),
        ("~=3.9", "~=3.9"),
        ("!=3.10.0", "!=3.10.0"),
        ("3.x", "==3.*"),
        ("3.11.*", "==3.11.*"),
        ("^18.2", ">=18.2,<19"),
        ("^0.2", ">=0.2,<0.3"),
        ("~3.9", ">=3.9,<3.10"),
        ("~3", ">=3,<4"),
        ("*", ""),
    ],
)
def test_normalise_constraint(constraint: str, spec: str) -> None:
    assert R.normalise_constraint(constraint) == spec


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("abc", "'abc' is not a version constraint"),
        (">=", "'>=' has no version after '>='"),
        (">>3", "'>>3' has '>3', which is not a version"),
        ("3.9.x.y", "'3.9.x.y' is not a version constraint"),
        (">=3.x", "'>=3.x' uses a wildcard, which only goes with == or !="),
        ("python", "'python' is not a version constraint"),
        ("~=3", "'~=3' needs at least two version parts after ~="),
        (">=3.9 <abc", "'<abc' in '>=3.9 <abc' has 'abc', which is not a version"),
    ],
)
def test_bad_constraint(bad: str, why: str, bin_dir: Path) -> None:
    with pytest.raises(ValueError) as exc:
        R.normalise_constraint(bad)
    assert str(exc.value).startswith(why), str(exc.value)
    fake(bin_dir, "python3", "Python 3.11.7")
    c = one([RuntimeRequirement("python3", bad)], bin_dir)
    assert c.status == "invalid_constraint" and not c.ok
    assert repr(bad) in c.message()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python3", ("python3", "")),
        ("python3>=3.9", ("python3", ">=3.9")),
        ("nodejs >=18", ("nodejs", ">=18")),
        ("python3 3.9", ("python3", "3.9")),
        ("python3.11", ("python3.11", "")),
        (" curl ", ("curl", "")),
    ],
)
def test_parse_runtime_requirement(text: str, expected: tuple[str, str]) -> None:
    assert R.parse_runtime_requirement(text) == expected


@pytest.mark.parametrize("text", ["", "   ", ">=3.9", "python3 bad", "py/thon", "nodejs>="])
def test_parse_bad_runtime_requirement(text: str) -> None:
    with pytest.raises(R.RuntimeRequirementError, match="invalid runtime requirement") as exc:
        R.parse_runtime_requirement(text)
    assert exc.value.text == text and exc.value.reason in str(exc.value)


def test_bad_requirement_string_is_a_failed_check(bin_dir: Path) -> None:
    c = one(["python3 bad"], bin_dir)
    assert c.status == "invalid_requirement" and not c.ok
    assert "python3 bad" in c.message()


# ------------------------------------------------------------------ manifests


def manifest(**kw: object) -> Manifest:
    return Manifest(ref="web", label="Web", description="d", version="1.0.0", **kw)  # type: ignore[arg-type]


def test_manifest_minimums_and_runtime_deps(bin_dir: Path) -> None:
    fake(bin_dir, "python3", "Python 3.11.7")
    fake(bin_dir, "node", "v16.20.2")
    fake(bin_dir, "bash", BASH_OUT)
    m = manifest(
        runtime_deps=[RuntimeRequirement("python3", ">=3.9"), RuntimeRequirement("shell")],
        version_requirements={
            "python": "3.10",
            "nodejs_version": "18",
            "python_version": ">=3.12",
            "attune_version": ">=3.0",
        },
    )
    checks = {(c.name, c.source): c for c in R.check_runtimes(m, path=str(bin_dir))}
    assert checks[("python3", "runtime_deps")].status == "ok"
    assert checks[("shell", "runtime_deps")].status == "ok"
    py_min = checks[("python3", "python")]
    assert (py_min.status, py_min.specifier) == ("ok", ">=3.10")
    node = checks[("nodejs", "dependencies.nodejs_version")]
    assert (node.status, node.version, node.specifier) == ("unsatisfied", "16.20.2", ">=18")
    assert checks[("python3", "dependencies.python_version")].status == "unsatisfied"
    assert checks[("attune", "dependencies.attune_version")].status == "skipped"
    assert len(checks) == 6

    with pytest.raises(DependencyError) as info:
        R.ensure_runtimes(m, path=str(bin_dir), pack="web")
    err = info.value
    assert err.exit_code == 1 and err.code == "runtime_unsatisfied"
    assert "\n" not in err.message
    assert err.message.startswith("pack 'web' needs runtimes")
    assert "nodejs: found version 16.20.2" in err.message and "18 (i.e. >=18)" in err.message
    assert "python3: found version 3.11.7" in err.message and ">=3.12" in err.message
    assert "attune" not in err.message
    assert len(err.details["runtimes"]) == 6


def test_numeric_minimum_from_yaml(bin_dir: Path) -> None:
    fake(bin_dir, "node", "v18.0.0")
    checks = R.check_runtimes({"nodejs": 18, "python": None}, path=str(bin_dir))
    assert [(c.name, c.status, c.specifier) for c in checks] == [("nodejs", "ok", ">=18")]


def test_ensure_runtimes_passes_and_reports_missing(bin_dir: Path) -> None:
    fake(bin_dir, "node", "v20.1.0")
    assert [c.status for c in R.ensure_runtimes(["nodejs>=18"], path=str(bin_dir))] == ["ok"]
    with pytest.raises(DependencyError, match=r"zz-tool: not found on PATH \(required: >=2\)"):
        R.ensure_runtimes(["nodejs>=18", "zz-tool>=2"], path=str(bin_dir))


def test_nothing_to_check() -> None:
    assert R.check_runtimes(None) == []
    assert R.check_runtimes([]) == []
    assert R.check_runtimes(manifest()) == []
    assert R.ensure_runtimes({}) == []


def test_to_dict(bin_dir: Path) -> None:
    fake(bin_dir, "node", "v20.1.0")
    d = one(["nodejs>=18"], bin_dir).to_dict()
    assert d["ok"] is True and d["version"] == "20.1.0" and d["message"].endswith(": ok")
    assert os.path.isabs(d["executable"])
