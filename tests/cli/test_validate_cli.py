"""``attune pack validate``: exit codes, the one stderr line, table/JSON/YAML output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, run_cli
from tests.manifest_cases import BASE, BOMB, MALFORMED, make_pack


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The CLI in-process (fast enough to run every malformed case)."""
    r = run_cli(*args)
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize(
    ("data", "code", "field", "fragment"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_every_malformed_manifest_exits_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    code: str,
    field: str,
    fragment: str,
) -> None:
    pack = make_pack(tmp_path / "pack", data)
    rc, out, err = invoke(capsys, "pack", "validate", str(pack))
    assert rc == 1
    assert "Traceback" not in err and "internal_error" not in out + err
    assert err.startswith(f"error: {pack} is not a valid pack: ")
    assert len(err.strip().splitlines()) == 1
    assert "valid:     no" in out
    assert code in out and fragment in out

    rc, out, err = invoke(capsys, "pack", "validate", str(pack), "-o", "json")
    assert rc == 1
    doc = json.loads(out)
    assert doc["valid"] is False
    assert any(
        e["code"] == code and e["field"] == field and fragment in e["message"]
        for e in doc["errors"]
    )


def test_valid_example_pack_table(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = invoke(capsys, "pack", "validate", str(EXAMPLES / "core_utils"))
    assert rc == 0, err
    assert err == ""
    lines = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert lines["ref"].strip() == "core_utils"
    assert lines["version"].strip() == "1.2.0"
    assert lines["valid"].strip() == "yes"
    assert lines["errors"].strip() == "0"
    assert lines["contents"].strip() == "3 actions, 1 sensors, 1 triggers, 1 rules, 1 workflows"


def test_valid_example_pack_json_and_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(EXAMPLES / "incident_response")
    rc, out, _ = invoke(capsys, "pack", "validate", path, "-o", "json")
    assert rc == 0
    doc = json.loads(out)
    assert list(doc) == ["path", "ref", "version", "valid", "errors", "warnings", "contents"]
    assert (doc["ref"], doc["version"], doc["valid"]) == ("incident_response", "1.0.0", True)
    assert doc["contents"]["workflows"] == [
        {
            "name": "collect_diagnostics",
            "description": "Gather disk usage and service status from a host and attach them to an incident",
        }
    ]
    from attune_packs.yamlio import load_yaml

    rc, out, _ = invoke(capsys, "pack", "validate", path, "-o", "yaml")
    assert rc == 0
    assert load_yaml(out) == doc


def test_warnings_listed_but_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = make_pack(tmp_path / "p", BASE + "colour: blue\n")
    rc, out, err = invoke(capsys, "pack", "validate", str(pack))
    assert rc == 0 and err == ""
    assert "warnings:  1" in out
    assert "unknown_field" in out and "unknown field 'colour' in pack.yaml is ignored" in out


def test_pack_yaml_path_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = invoke(
        capsys, "pack", "validate", str(EXAMPLES / "shell_tools" / "pack.yaml"), "-o", "json"
    )
    assert rc == 0
    assert json.loads(out)["path"] == str(EXAMPLES / "shell_tools")


def test_nonexistent_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = invoke(capsys, "pack", "validate", str(tmp_path / "nope"), "-o", "json")
    assert rc == 1
    assert json.loads(out) == {
        "error": {"code": "not_found", "message": f"no such file or directory: {tmp_path / 'nope'}"}
    }
    assert err.strip() == f"error: no such file or directory: {tmp_path / 'nope'}"


def test_not_a_pack_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that exists but is no pack: exit 1 and not_a_pack, as install says it."""
    f = tmp_path / "pack.tar.gz"
    f.write_bytes(b"\x1f\x8b")
    rc, out, err = invoke(capsys, "pack", "validate", str(f), "-o", "json")
    assert rc == 1
    assert json.loads(out)["error"]["code"] == "not_a_pack"
    assert "is an archive" in err


def test_missing_argument_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = invoke(capsys, "pack", "validate")
    assert rc == 2
    assert "PATH" in err


def test_quiet_keeps_the_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = make_pack(tmp_path / "p", b"[]")
    rc, _, err = invoke(capsys, "pack", "validate", str(pack), "-q")
    assert rc == 1
    assert err.startswith("error: ")


# --------------------------------------------------------------------------- real processes


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("alias-bomb", (BASE + BOMB).encode(), "expands to more than"),
        ("binary", bytes(range(256)) * 64, "not valid UTF-8"),
        ("deep", (BASE + "meta: " + "[" * 200_000 + "]" * 200_000).encode(), "nested more than"),
        ("deep-block", (BASE + "meta:\n" + "- " * 100_000 + "x\n").encode(), "nested more than"),
    ],
)
def test_hostile_yaml_in_a_real_process(
    tmp_path: Path, name: str, data: bytes, fragment: str
) -> None:
    pack = make_pack(tmp_path / name, data)
    r = run_cli("pack", "validate", str(pack), "-o", "json", timeout=60)
    assert r.exit_code == 1, r.stderr  # not a crash (e.g. -11) and not a hang
    assert "Traceback" not in r.stderr
    assert fragment in r.json["errors"][0]["message"]


def test_real_process_table_and_exit_codes(tmp_path: Path) -> None:
    ok = run_cli("pack", "validate", str(EXAMPLES / "node_notify"))
    assert ok.exit_code == 0 and "valid:     yes" in ok.stdout and ok.stderr == ""
    bad = make_pack(
        tmp_path / "bad", "ref: demo\nname: A\nlabel: B\ndescription: d\nversion: 1.0.0\n"
    )
    r = run_cli("pack", "validate", str(bad))
    assert r.exit_code == 1
    assert r.stderr.strip() == (
        f"error: {bad} is not a valid pack: 1 error (first: 'label' and its legacy alias "
        "'name' are both set with different values; remove 'name' or make them equal)"
    )
    assert "alias_conflict" in r.stdout


def test_every_bad_runtime_requirement_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One grammar (attune_packs.pack.runtimes) for runtime_deps and the runtime minimums."""
    text = (
        BASE
        + 'runtime_deps: [python3, "python3>=", "nodejs^", "nodejs ^18", "python3 three"]\n'
        + 'python: ">=3.x"\n'
        + "dependencies: {nodejs_version: '~=18'}\n"
    )
    pack = make_pack(tmp_path / "pack", text)
    before = (pack / "pack.yaml").read_bytes()
    rc, out, err = invoke(capsys, "pack", "validate", str(pack))
    assert rc == 1 and err.startswith(f"error: {pack} is not a valid pack: ")
    rc, out, err = invoke(capsys, "pack", "validate", str(pack), "-o", "json")
    assert rc == 1
    errors = json.loads(out)["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("invalid_runtime_dep", "runtime_deps[1]"),
        ("invalid_runtime_dep", "runtime_deps[2]"),
        ("invalid_runtime_dep", "runtime_deps[4]"),
        ("invalid_version_requirement", "dependencies.nodejs_version"),
        ("invalid_version_requirement", "python"),
    ]
    assert [e["message"] for e in errors] == [
        "runtime dependency 'python3>=' is invalid: '>=' has no version after '>='",
        "runtime dependency 'nodejs^' is invalid: '^' is not a version constraint "
        "(e.g. >=3.9, 18, >=3.9,<4, 3.x)",
        "runtime dependency 'python3 three' is invalid: 'three' is not a version constraint "
        "(e.g. >=3.9, 18, >=3.9,<4, 3.x)",
        "'dependencies.nodejs_version': '~=18' needs at least two version parts after ~= "
        "(e.g. ~=3.9)",
        "'python': '>=3.x' uses a wildcard, which only goes with == or != (e.g. ==3.*, 3.x)",
    ]
    assert (pack / "pack.yaml").read_bytes() == before
