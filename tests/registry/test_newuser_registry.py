"""A new user's registry and index surprises: disabled registries, a search where every
registry fails, schema regexes in index problems, index-merge refusals, missing files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attune_packs.registry import index_validation
from tests.conftest import REFERENCE_SCHEMA, run_cli, write_pack
from tests.servers import TestServer, index_doc, index_entry, write_config

SUM = "sha256:" + "a" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"

pytestmark = pytest.mark.usefixtures("trust_tls")


def src(url: str = "https://example.org/p.tar.gz", checksum: str = SUM) -> list[dict[str, str]]:
    return [{"type": "archive", "url": url, "checksum": checksum}]


def write_index(path: Path, *entries: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = index_doc(sorted(entries, key=lambda e: e["ref"]))
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def errors_of(r: Any) -> list[str]:
    return [line for line in r.stderr.splitlines() if line.startswith("error:")]


def listing(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) if root.exists() else []


# ------------------------------------------------------------------ 5a: all disabled


@pytest.mark.parametrize("args", [("install", "demo"), ("search", "demo")])
def test_a_disabled_only_registry_is_named_not_called_missing(
    home: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    index = write_index(tmp_path / "index.json", index_entry("demo", "1.0.0", src()))
    config = write_config(home, [{"name": "local", "url": str(index), "enabled": False}])
    message = (
        "no registry is enabled: the only configured registry, 'local', is disabled; set "
        f"'enabled: true' on it in {config} (or install from a path or URL)"
    )
    r = run_cli("pack", *args, home=home)
    assert r.exit_code == 1 and errors_of(r) == [f"error: {message}"], r.stderr
    assert "no registries configured" not in r.stderr
    r = run_cli("pack", *args, "-o", "json", home=home)
    assert r.exit_code == 1
    assert r.json["error"]["code"] == "no_registries"
    assert r.json["error"]["message"] == message
    assert r.json["error"]["details"] == {"disabled": ["local"]}
    assert listing(home / "packs") == []


def test_several_disabled_registries_are_listed(home: Path, tmp_path: Path) -> None:
    index = write_index(tmp_path / "index.json", index_entry("demo", "1.0.0", src()))
    config = write_config(
        home,
        [
            {"name": "a", "url": str(index), "enabled": False},
            {"name": "b", "url": str(index), "enabled": False},
        ],
    )
    r = run_cli("pack", "search", "demo", home=home)
    assert errors_of(r) == [
        "error: no registry is enabled: all 2 configured registries are disabled ('a', 'b'); "
        f"set 'enabled: true' on one in {config} (or install from a path or URL)"
    ]


def test_no_registries_at_all_still_says_so(home: Path) -> None:
    r = run_cli("pack", "search", "demo", home=home)
    assert r.exit_code == 1 and "no registries configured" in r.stderr


# ------------------------------------------------------------------ 5b: search, all failing


def test_search_where_every_registry_fails_is_coherent(
    tls: TestServer, home: Path, tmp_path: Path
) -> None:
    tls.route("/gone/index.json", b"not here", status=404)
    write_config(
        home,
        [
            {"name": "cred", "url": str(tmp_path / "missing.json"), "priority": 1},
            {"name": "web", "url": tls.url("gone/index.json"), "priority": 2},
        ],
    )
    env = {"ATTUNE_CA_BUNDLE": str(tls.ca_bundle)}
    r = run_cli("pack", "search", "x", home=home, env=env)
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, r.stderr
    assert lines[0].startswith("warning: skipping registry 'cred': index file not found")
    assert lines[1].startswith("warning: skipping registry 'web': ")
    assert lines[2] == "error: no registry could be searched: all 2 failed ('cred', 'web')"
    r = run_cli("pack", "search", "x", "-o", "json", home=home, env=env)
    assert r.exit_code == 1
    error = r.json["error"]
    assert error["code"] == "registry_unavailable"
    assert [f["registry"] for f in error["details"]["failures"]] == ["cred", "web"]
    assert error["details"]["failures"][0]["code"] == "not_found"


def test_search_of_one_failing_registry_is_one_error_not_a_skip(home: Path, tmp_path: Path) -> None:
    write_config(home, [{"name": "only", "url": str(tmp_path / "missing.json")}])
    r = run_cli("pack", "search", "x", home=home)
    assert r.exit_code == 1
    assert r.stderr.strip().splitlines() == [
        f"error: registry 'only': index file not found: {tmp_path / 'missing.json'}"
    ]


def test_search_skips_a_failing_registry_when_another_answers(home: Path, tmp_path: Path) -> None:
    good = write_index(tmp_path / "good.json", index_entry("demo", "1.0.0", src()))
    write_config(
        home,
        [
            {"name": "bad", "url": str(tmp_path / "missing.json"), "priority": 1},
            {"name": "good", "url": str(good), "priority": 2},
        ],
    )
    r = run_cli("pack", "search", "demo", "-o", "json", home=home)
    assert r.exit_code == 0, r.stderr
    assert [h["ref"] for h in r.json["results"]] == ["demo"]
    assert r.stderr.startswith("warning: skipping registry 'bad'") and "error" not in r.stderr


# ------------------------------------------------------------------ 6: schema words


def _schema_rules(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("pattern", "format") and isinstance(value, str):
                yield key, value
            else:
                yield from _schema_rules(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_rules(item)


def test_every_pattern_and_format_of_the_schema_has_words() -> None:
    schema = json.loads(REFERENCE_SCHEMA.read_text(encoding="utf-8"))
    found = set(_schema_rules(schema))
    assert ("pattern", "^sha256:[0-9a-f]{64}$") in found
    for kind, value in found:
        table = (
            index_validation.PATTERN_WORDS if kind == "pattern" else index_validation.FORMAT_WORDS
        )
        assert value in table, (kind, value)
        assert not any(ch in table[value] for ch in "^${}\\"), table[value]


REGEX_BITS = ("does not match", "^", "$", "{64}", "[0-9", "[a-z]", "\\.")


def bad_index() -> dict[str, Any]:
    demo = index_entry(
        "demo",
        "1.0",
        src(checksum="sha256:ABC"),
        repository="http://example.org/demo",
        meta={
            "releases": [{"version": "0.9.0", "install_sources": src(checksum="md5:1")}],
        },
    )
    odd = index_entry("Bad.Ref", "1.0.0", src())
    doc = index_doc([demo, odd])
    doc["registry_url"] = "ftp://example.org/index.json"
    doc["last_updated"] = "yesterday"
    return doc


def test_index_problems_are_in_words_not_regexes(tmp_path: Path) -> None:
    problems = index_validation.validate_index_data(bad_index())
    for line in problems:
        assert not any(bit in line for bit in REGEX_BITS), line
    for expected in [
        "last_updated: 'yesterday' is not an RFC 3339 date-time (e.g. 2024-01-01T00:00:00Z)",
        "packs[0] (demo).install_sources[0].checksum: 'sha256:ABC' is not a checksum "
        "(sha256: followed by 64 lowercase hex digits)",
        "packs[0] (demo).meta.releases[0].install_sources[0].checksum: 'md5:1' is not a "
        "checksum (sha256: followed by 64 lowercase hex digits)",
        "packs[0] (demo).repository: 'http://example.org/demo' must use https://",
        "packs[0] (demo).version: '1.0' is not a semantic version (MAJOR.MINOR.PATCH, "
        "e.g. 1.2.0 or 1.2.0-rc.1)",
        "packs[1].ref: 'Bad.Ref' is not a valid pack ref (a lowercase letter, then lowercase "
        "letters, digits, '_' or '-')",
        "registry_url: 'ftp://example.org/index.json' must be an https:// URL",
    ]:
        assert expected in problems, (expected, problems)
    assert len(problems) == len(set(p.split(": ", 1)[0] for p in problems))  # each place once
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad_index()), encoding="utf-8")
    r = run_cli("pack", "index", "validate", str(path))
    assert r.exit_code == 1
    assert r.stdout.strip().splitlines() == problems


def test_an_entry_problem_is_in_words() -> None:
    entry = index_entry("demo", "one", src(checksum="sha256:" + "A" * 64))
    problems = index_validation.validate_entry_data(entry)
    assert problems == [
        "install_sources[0].checksum: 'sha256:" + "A" * 64 + "' is not a checksum "
        "(sha256: followed by 64 lowercase hex digits)",
        "version: 'one' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0 or 1.2.0-rc.1)",
    ]


# ------------------------------------------------------------------ 7: index-merge


def test_merge_of_relative_sources_elsewhere_names_input_entry_and_fix(tmp_path: Path) -> None:
    write_index(
        tmp_path / "mirror" / "index.json",
        index_entry("demo", "1.0.0", src("packs/demo-1.0.0.tgz")),
        index_entry("other", "2.0.0", src("packs/other-2.0.0.tgz")),
    )
    r = run_cli("pack", "index-merge", "--file", "out.json", "mirror/index.json", cwd=tmp_path)
    assert errors_of(r) == [
        "error: nothing merged: mirror/index.json names 2 install sources by paths relative "
        "to its folder mirror (first: demo 1.0.0, 'packs/demo-1.0.0.tgz'); from out.json in "
        f"{tmp_path} they would point elsewhere; write OUT next to the input "
        "(e.g. --file mirror/out.json); -o json lists each"
    ]
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1
    r = run_cli(
        "pack", "index-merge", "--file", "out.json", "mirror/index.json", "-o", "json", cwd=tmp_path
    )
    assert r.exit_code == 1 and r.json["error"]["code"] == "invalid_index"
    assert r.json["error"]["details"]["problems"] == [
        f"mirror/index.json: {ref}: install source '{url}' is relative to the input's folder "
        f"mirror, not to {tmp_path} where OUT is written; write OUT next to the input "
        "(e.g. --file mirror/out.json)"
        for ref, url in [
            ("demo 1.0.0", "packs/demo-1.0.0.tgz"),
            ("other 2.0.0", "packs/other-2.0.0.tgz"),
        ]
    ]
    assert not (tmp_path / "out.json").exists()
    # The advice works.
    r = run_cli(
        "pack", "index-merge", "--file", "mirror/out.json", "mirror/index.json", cwd=tmp_path
    )
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "mirror" / "out.json").is_file()


def test_merge_refusal_counts_problems_per_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_index()), encoding="utf-8")
    good = write_index(tmp_path / "good.json", index_entry("demo", "1.0.0", src()))
    r = run_cli("pack", "index-merge", "--file", str(tmp_path / "out.json"), str(bad), str(good),
                "-o", "json")  # fmt: skip
    assert r.exit_code == 1
    problems = r.json["error"]["details"]["problems"]
    message = r.json["error"]["message"]
    assert message.startswith(
        f"nothing merged: {len(problems)} problems in the inputs ({len(problems)} in {bad}); "
        f"the first: {problems[0]} (-o json lists each"
    )
    assert not (tmp_path / "out.json").exists()


def test_merge_suggests_another_name_when_out_is_named_like_the_input(tmp_path: Path) -> None:
    write_index(tmp_path / "m" / "index.json", index_entry("demo", "1.0.0", src("d.tgz")))
    r = run_cli("pack", "index-merge", "--file", "index.json", "m/index.json", cwd=tmp_path)
    assert r.exit_code == 1
    assert "write OUT next to the input (e.g. --file m/merged-index.json)" in r.stderr


# ------------------------------------------------------------------ 8: missing files


def test_a_missing_index_is_not_found_exit_1_everywhere(tmp_path: Path) -> None:
    pack = write_pack(tmp_path / "demo")
    nope = tmp_path / "nope.json"
    runs = {
        "index-update": run_cli(
            "pack", "index-update", "--index", str(nope), str(pack), "--git-url",
            "https://x.org/a.git", "--git-ref", COMMIT, "-o", "json",
        ),
        "index validate": run_cli("pack", "index", "validate", str(nope), "-o", "json"),
        "index-merge": run_cli(
            "pack", "index-merge", "--file", str(tmp_path / "out.json"), str(nope), "-o", "json"
        ),
    }  # fmt: skip
    for name, r in runs.items():
        assert r.exit_code == 1, (name, r.stderr)
        assert r.json["error"]["code"] == "not_found", name
        assert str(nope) in r.json["error"]["message"], name
        assert len(errors_of(r)) == 1, name
    assert runs["index-update"].json["error"]["message"] == (
        f"index file not found: {nope} (to start one, add --create --registry-name NAME "
        "--registry-url https://...)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
