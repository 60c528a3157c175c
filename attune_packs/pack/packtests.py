"""Running a pack's own tests before it is activated.

A pack opts in with an Attune-style ``testing`` block in ``pack.yaml``::

    testing:
      enabled: true
      discovery: {method: directory, path: tests}   # default folder for unittest/pytest
      runners:
        shell:
          type: script                  # script | unittest | pytest
          entry_point: tests/run_tests.sh
          timeout: 60                   # seconds, capped by the installer's timeout
        python:
          type: unittest
          entry_point: tests/test_actions.py   # a file, a folder, or omitted
          timeout: 120
      min_pass_rate: 1.0                # share of runners that must pass (default 1.0)
      on_failure: block                 # block (default) | warn

``runners`` may also be a list of mappings (each with an optional ``name``).
When ``type`` is missing it is inferred from the runner name (``shell``/
``script`` -> script, ``python``/``unittest`` -> unittest, ``pytest``) or the
entry point's suffix (``.sh`` -> script, ``.py`` -> unittest).  Keys Attune
uses for reporting (``result_format``, ``result_path``) are accepted and
ignored: a runner passes when its process exits with status 0.

Each runner is a subprocess with the pack folder as its working directory,
stdin closed, stdout and stderr captured together (the tail is kept for the
error message) and a timeout after which its whole process group is killed.
By default the tests run in a throw-away copy of the staged pack, so files
they write (``__pycache__``, result files, caches) never end up in the
installed folder, whose checksum must stay verifiable.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from attune_packs.errors import PackTestError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fsutil import remove_tree

if TYPE_CHECKING:
    from attune_packs.pack.model import Manifest

DEFAULT_TIMEOUT = 300.0
TAIL_BYTES = 64 * 1024
TAIL_LINES = 3
RUNNER_TYPES = ("script", "unittest", "pytest")
_TYPE_ALIASES = {
    "script": "script",
    "shell": "script",
    "bash": "script",
    "sh": "script",
    "unittest": "unittest",
    "python": "unittest",
    "python3": "unittest",
    "pytest": "pytest",
}
_KILL_GRACE = 2.0


@dataclass
class RunnerResult:
    name: str
    type: str
    command: list[str]
    returncode: int | None
    passed: bool
    timed_out: bool
    duration: float
    output: str  # the captured tail
    timeout: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "command": self.command,
            "returncode": self.returncode,
            "passed": self.passed,
            "timed_out": self.timed_out,
            "duration": round(self.duration, 3),
        }


@dataclass
class PackTestReport:
    ran: bool
    passed: bool
    output: str = ""
    runners: list[RunnerResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "passed": self.passed,
            "runners": [r.to_dict() for r in self.runners],
        }


@dataclass
class _Runner:
    name: str
    type: str
    entry_point: str | None
    timeout: float | None
    args: list[str]


# --------------------------------------------------------------------------- parsing


def _fail(message: str, **details: Any) -> PackTestError:
    return PackTestError(message, details=details or None)


def _infer_type(name: str, spec: dict[str, Any]) -> str:
    raw = spec.get("type")
    if raw is not None:
        if not isinstance(raw, str) or raw.lower() not in _TYPE_ALIASES:
            raise _fail(
                f"pack tests: runner '{name}' has unsupported type {raw!r} "
                f"(use {', '.join(RUNNER_TYPES)})"
            )
        return _TYPE_ALIASES[raw.lower()]
    if name.lower() in _TYPE_ALIASES:
        return _TYPE_ALIASES[name.lower()]
    entry = spec.get("entry_point")
    if isinstance(entry, str):
        if entry.endswith(".sh"):
            return "script"
        if entry.endswith(".py"):
            return "unittest"
    raise _fail(
        f"pack tests: runner '{name}' has no type and none can be inferred "
        f"(set type: {' | '.join(RUNNER_TYPES)})"
    )


def _parse_runner(name: str, spec: Any) -> _Runner:
    if isinstance(spec, str):  # shorthand: `shell: tests/run.sh`
        spec = {"entry_point": spec}
    if not isinstance(spec, dict):
        raise _fail(f"pack tests: runner '{name}' must be a mapping")
    kind = _infer_type(name, spec)
    entry = spec.get("entry_point")
    if entry is not None and (not isinstance(entry, str) or not entry.strip()):
        raise _fail(f"pack tests: runner '{name}' has an invalid entry_point")
    timeout = spec.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise _fail(f"pack tests: runner '{name}' timeout must be a positive number of seconds")
    args = spec.get("args", [])
    if isinstance(args, str):
        args = shlex.split(args)
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise _fail(f"pack tests: runner '{name}' args must be a list of strings")
    if kind == "script" and entry is None:
        raise _fail(f"pack tests: script runner '{name}' needs an entry_point")
    return _Runner(name, kind, entry, float(timeout) if timeout else None, list(args))


def parse_runners(testing: dict[str, Any]) -> list[_Runner]:
    raw = testing.get("runners")
    if raw is None:
        return []
    runners: list[_Runner] = []
    if isinstance(raw, dict):
        for name, spec in raw.items():
            runners.append(_parse_runner(str(name), spec))
    elif isinstance(raw, list):
        for i, spec in enumerate(raw):
            name = spec.get("name") if isinstance(spec, dict) else None
            name = str(name or (spec.get("type") if isinstance(spec, dict) else None) or i)
            runners.append(_parse_runner(name, spec))
    else:
        raise _fail("pack tests: testing.runners must be a mapping or a list")
    return runners


def _enabled(testing: Any) -> bool:
    return isinstance(testing, dict) and testing.get("enabled") is True


# --------------------------------------------------------------------------- commands


def _inside(pack_dir: Path, rel: str, runner: str) -> Path:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts:
        raise _fail(f"pack tests: runner '{runner}' entry_point {rel!r} must stay inside the pack")
    target = pack_dir / Path(*p.parts)
    if not target.exists():
        raise _fail(f"pack tests: runner '{runner}' entry_point {rel!r} does not exist")
    root, real = pack_dir.resolve(), target.resolve()
    if real != root and root not in real.parents:
        raise _fail(f"pack tests: runner '{runner}' entry_point {rel!r} must stay inside the pack")
    return target


def _shebang(script: Path) -> list[str] | None:
    try:
        with open(script, "rb") as fh:
            first = fh.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    return words or None


def _python_has(python: Sequence[str], module: str, env: dict[str, str], cwd: Path) -> bool:
    probe = (
        f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 3)"
    )
    try:
        proc = subprocess.run(
            [*python, "-c", probe],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _command(
    runner: _Runner,
    workdir: Path,
    testing: dict[str, Any],
    python: Sequence[str],
    env: dict[str, str],
) -> list[str]:
    discovery = testing.get("discovery")
    default_dir = "tests"
    if isinstance(discovery, dict) and isinstance(discovery.get("path"), str):
        default_dir = discovery["path"]
    if runner.type == "script":
        assert runner.entry_point is not None
        script = _inside(workdir, runner.entry_point, runner.name)
        if not script.is_file():
            raise _fail(
                f"pack tests: runner '{runner.name}' entry_point {runner.entry_point!r} "
                "is not a file"
            )
        interpreter = _shebang(script)
        if interpreter is None:
            interpreter = [shutil.which("bash") or shutil.which("sh") or "/bin/sh"]
        return [*interpreter, str(script.relative_to(workdir)), *runner.args]
    target = runner.entry_point or default_dir
    path = _inside(workdir, target, runner.name)
    rel = PurePosixPath(*path.relative_to(workdir).parts).as_posix() if path != workdir else "."
    if runner.type == "unittest":
        # `discover` works for folders that are not packages (no __init__.py) and
        # for file names that are not valid module names; cwd stays importable.
        if path.is_dir():
            start, pattern = rel, "test*.py"
            if isinstance(discovery, dict) and isinstance(discovery.get("pattern"), str):
                pattern = discovery["pattern"]
        else:
            parent = PurePosixPath(rel).parent.as_posix()
            start, pattern = parent, PurePosixPath(rel).name
        return [*python, "-m", "unittest", "discover", "-s", start, "-p", pattern, *runner.args]
    # pytest
    if not _python_has(python, "pytest", env, workdir):
        raise _fail(
            f"pack tests: runner '{runner.name}' needs pytest, which is not installed for "
            f"{' '.join(python)} (install pytest, use a unittest runner, or --skip-tests)",
            runner=runner.name,
        )
    return [*python, "-m", "pytest", "-q", "-p", "no:cacheprovider", rel, *runner.args]


# --------------------------------------------------------------------------- running


def _exited(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` for ``pid`` to exit *without reaping it*: while the
    leader is a zombie its process-group id cannot be reused, so signalling the
    group afterwards can never hit an unrelated process."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.05)


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _stop(proc: subprocess.Popen[bytes], graceful: bool) -> None:
    """Kill whatever is left of the runner's process group, then reap the leader."""
    if graceful:
        _signal_group(proc.pid, signal.SIGTERM)
        _exited(proc.pid, _KILL_GRACE)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _tail(path: Path) -> str:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - TAIL_BYTES))
        data = fh.read()
    text = data.decode("utf-8", "replace")
    if size > TAIL_BYTES:
        text = text.split("\n", 1)[-1]
    return text


_RULE_CHARS = set("-=_*#~.+ ")


def _last_lines(text: str, n: int = TAIL_LINES) -> str:
    """The last ``n`` meaningful lines, joined on one line (rules like ``-----`` skipped)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not set(ln) <= _RULE_CHARS]
    out = " | ".join(lines[-n:])
    return out if len(out) <= 400 else "..." + out[-397:]


def _run_one(
    runner: _Runner, argv: list[str], workdir: Path, env: dict[str, str], timeout: float
) -> RunnerResult:
    with tempfile.TemporaryDirectory(prefix="attune-packtest-log-") as logdir:
        log = Path(logdir) / "output.log"
        started = time.monotonic()
        timed_out = False
        with open(log, "wb") as out:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise _fail(
                    f"pack tests: runner '{runner.name}' could not start {argv[0]!r}: "
                    f"{exc.strerror or exc}",
                    runner=runner.name,
                ) from None
            try:
                timed_out = not _exited(proc.pid, timeout)
            except BaseException:
                _stop(proc, graceful=False)
                raise
            # Leave no background process of the tests behind, pass or fail.
            _stop(proc, graceful=timed_out)
        duration = time.monotonic() - started
        output = _tail(log)
    rc = None if timed_out else proc.returncode
    return RunnerResult(
        name=runner.name,
        type=runner.type,
        command=argv,
        returncode=rc,
        passed=not timed_out and rc == 0,
        timed_out=timed_out,
        duration=duration,
        output=output,
        timeout=timeout,
    )


def _environment(manifest: Manifest, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env.update(
        {
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "ATTUNE_PACK_REF": manifest.ref,
            "ATTUNE_PACK_VERSION": manifest.version,
            "ATTUNE_PACK_DIR": str(workdir),
            "ATTUNE_PACK_TESTING": "1",
        }
    )
    return env


def _failure_message(result: RunnerResult, ref: str) -> str:
    tail = _last_lines(result.output) or "no output"
    if result.timed_out:
        return (
            f"pack tests of '{ref}' failed: runner '{result.name}' ({result.type}) did not finish "
            f"within {result.timeout:g} s and was killed; last output: {tail}"
        )
    return (
        f"pack tests of '{ref}' failed: runner '{result.name}' ({result.type}) exited with "
        f"status {result.returncode}; last output: {tail}"
    )


def run_pack_tests(
    pack_dir: Path | str,
    manifest: Manifest,
    timeout: float = DEFAULT_TIMEOUT,
    bus: EventBus | None = None,
    *,
    python: Sequence[str] | None = None,
    isolate: bool = True,
) -> PackTestReport:
    """Run the runners of ``manifest.testing`` against ``pack_dir``.

    Returns ``PackTestReport(ran=False, passed=True)`` when testing is not
    enabled or declares no runner.  Raises :class:`PackTestError` (naming the
    runner and the last lines of its output) when the runners do not pass,
    unless the pack says ``on_failure: warn``, in which case a warning is
    emitted and the report has ``passed=False``.

    ``timeout`` caps every runner (a runner's own ``timeout`` may only lower
    it); ``python`` is the interpreter command for unittest/pytest runners
    (default: this interpreter); ``isolate`` runs the tests in a throw-away
    copy of ``pack_dir`` so nothing they write lands in the pack.
    """
    events = bus_or_null(bus)
    pack_dir = Path(pack_dir)
    testing = manifest.testing
    if not _enabled(testing):
        return PackTestReport(ran=False, passed=True)
    runners = parse_runners(testing)
    if not runners:
        events.warning(f"pack '{manifest.ref}' enables testing but declares no runners")
        return PackTestReport(ran=False, passed=True)
    min_rate = testing.get("min_pass_rate", 1.0)
    if isinstance(min_rate, bool) or not isinstance(min_rate, (int, float)):
        raise _fail("pack tests: testing.min_pass_rate must be a number between 0 and 1")
    min_rate = max(0.0, min(1.0, float(min_rate)))
    on_failure = str(testing.get("on_failure", "block")).lower()
    interpreter = list(python) if python else [sys.executable]

    scratch: str | None = None
    try:
        if isolate:
            scratch = tempfile.mkdtemp(prefix="attune-packtest-")
            workdir = Path(scratch) / (manifest.ref or "pack")
            shutil.copytree(pack_dir, workdir, symlinks=True)
        else:
            workdir = pack_dir
        env = _environment(manifest, workdir)
        results: list[RunnerResult] = []
        failed: RunnerResult | None = None
        for runner in runners:
            argv = _command(runner, workdir, testing, interpreter, env)
            limit = min(timeout, runner.timeout) if runner.timeout else timeout
            events.info(f"running pack tests: {runner.name} ({runner.type})")
            result = _run_one(runner, argv, workdir, env, limit)
            results.append(result)
            if result.passed:
                events.info(f"pack tests passed: {runner.name}")
                continue
            failed = failed or result
            if min_rate >= 1.0:
                break  # nothing left can make the suite pass
    finally:
        if scratch is not None:
            remove_tree(scratch, ignore_errors=True)

    output = "\n".join(f"== {r.name} ({r.type}) ==\n{r.output}" for r in results)
    passed_count = sum(1 for r in results if r.passed)
    passed = passed_count / len(runners) >= min_rate if failed else True
    report = PackTestReport(ran=True, passed=passed, output=output, runners=results)
    if passed:
        return report
    assert failed is not None
    message = _failure_message(failed, manifest.ref)
    if on_failure in ("warn", "warning", "continue", "ignore"):
        events.warning(message + " (on_failure: warn)")
        return report
    raise PackTestError(
        message,
        details={
            "runner": failed.name,
            "type": failed.type,
            "returncode": failed.returncode,
            "timed_out": failed.timed_out,
            "output_tail": _last_lines(failed.output, 20),
        },
    )
