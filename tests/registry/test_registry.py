"""Registries: index fetching, caching, validation, resolution, search (real servers)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from attune_packs.config import load_settings
from attune_packs.errors import AttuneError, NotFound, RegistryError, UsageError
from attune_packs.events import EventBus
from attune_packs.registry.index import pick_version
from attune_packs.registry.loader import load_registry
from attune_packs.registry.resolution import RegistrySet
from tests.conftest import REFERENCE_INDEX, run_cli
from tests.servers import TestServer, index_doc, index_entry, write_config

SUM_A = "sha256:" + "a" * 64
SUM_B = "sha256:" + "b" * 64

pytestmark = pytest.mark.usefixtures("trust_tls")


def src(url: str = "https://example.org/p.tar.gz", checksum: str = SUM_A) -> list[dict]:
    return [{"type": "archive", "url": url, "checksum": checksum}]


def body(doc: dict) -> bytes:
    return json.dumps(doc, indent=1).encode()


def settings_for(home: Path, registries: list[dict], **kw):
    write_config(home, registries, **kw)
    return load_settings(home=home, env={})


def events_bus() -> tuple[EventBus, list]:
    got: list = []
    return EventBus(got.append), got


# --------------------------------------------------------------------------- local indices


def test_local_relative_path_and_file_url(home: Path) -> None:
    doc = index_doc([index_entry("demo", "1.0.0", src("packs/demo.tar.gz"))])
    (home / "mirror").mkdir()
    (home / "mirror" / "index.json").write_text(json.dumps(doc))
    for url in ("mirror/index.json", (home / "mirror" / "index.json").as_uri()):
        s = settings_for(home, [{"name": "m", "url": url}])
        resolved = RegistrySet(s).resolve("demo")
        assert resolved.entry.version == "1.0.0"
        assert resolved.index.resolve_url("packs/demo.tar.gz") == str(
            home / "mirror" / "packs" / "demo.tar.gz"
        )


def test_missing_local_index(home: Path) -> None:
    s = settings_for(home, [{"name": "m", "url": str(home / "nope.json")}])
    with pytest.raises(RegistryError) as err:
        RegistrySet(s).resolve("demo")
    assert "registry 'm'" in err.value.message and "index file not found" in err.value.message


def test_format_1_1_versions(home: Path) -> None:
    entries = [index_entry("demo", v, src()) for v in ("0.9.0", "1.0.0", "1.2.0", "2.0.0-rc.1")] + [
        index_entry("pre", "1.0.0-beta.1", src())
    ]
    (home / "i.json").write_text(json.dumps(index_doc(entries, fmt="1.1")))
    rs = RegistrySet(settings_for(home, [{"name": "h", "url": str(home / "i.json")}]))
    assert rs.resolve("demo").entry.version == "1.2.0"
    assert rs.resolve("demo", "latest").entry.version == "1.2.0"
    assert rs.resolve("demo", "1.0.0").entry.version == "1.0.0"
    assert rs.resolve("demo", "^1.0").entry.version == "1.2.0"
    assert rs.resolve("demo", "<1").entry.version == "0.9.0"
    assert rs.resolve("demo", "2.0.0-rc.1").entry.version == "2.0.0-rc.1"
    assert rs.resolve("pre").entry.version == "1.0.0-beta.1"  # only pre-releases exist
    name, versions = rs.versions("demo")
    assert name == "h" and [e.version for e in versions] == [
        "0.9.0",
        "1.0.0",
        "1.2.0",
        "2.0.0-rc.1",
    ]
    with pytest.raises(NotFound) as err:
        rs.resolve("demo", "^3")
    assert "satisfies '^3' (available: 0.9.0, 1.0.0, 1.2.0, 2.0.0-rc.1)" in err.value.message
    with pytest.raises(UsageError):
        rs.resolve("demo", ">>>1")
    with pytest.raises(NotFound):
        rs.resolve("absent")


def test_pick_version_empty() -> None:
    assert pick_version([], None) is None


def test_duplicate_refs_refused_in_format_1_0(home: Path) -> None:
    entries = [index_entry("demo", "1.0.0", src()), index_entry("demo", "1.1.0", src())]
    (home / "i.json").write_text(json.dumps(index_doc(entries)))
    rs = RegistrySet(settings_for(home, [{"name": "h", "url": str(home / "i.json")}]))
    with pytest.raises(AttuneError) as err:
        rs.resolve("demo")
    assert "duplicate entry 'demo'" in err.value.message


# --------------------------------------------------------------------------- remote + cache


def test_remote_index_cached_then_conditional(tls: TestServer, home: Path) -> None:
    doc = index_doc([index_entry("demo", "1.0.0", src())])
    route = tls.route("/cond/index.json", body(doc), etag=True)
    reg = [{"name": "r", "url": tls.url("cond/index.json")}]
    s = settings_for(home, reg)
    first = load_registry(s.registries[0], s)
    assert first.origin == "network" and route.hits == 1
    second = load_registry(s.registries[0], s)
    assert second.origin == "cache" and route.hits == 1  # fresh: no request
    s0 = settings_for(home, reg, network={"cache_ttl": 0})
    third = load_registry(s0.registries[0], s0)
    assert third.origin == "not-modified" and route.hits == 2
    assert route.requests[-1].get("if-none-match")
    doc["packs"].append(index_entry("other", "1.0.0", src()))
    route.set_body(body(doc))
    fourth = load_registry(s0.registries[0], s0)
    assert fourth.origin == "network" and fourth.index.refs == ["demo", "other"]


def test_last_modified_conditional(tls: TestServer, home: Path) -> None:
    stamp = "Mon, 01 Jan 2024 00:00:00 GMT"
    route = tls.route("/lm/index.json", body(index_doc([])), last_modified=stamp)
    s = settings_for(
        home, [{"name": "r", "url": tls.url("lm/index.json")}], network={"cache_ttl": 0}
    )
    load_registry(s.registries[0], s)
    again = load_registry(s.registries[0], s)
    assert again.origin == "not-modified"
    assert route.requests[-1].get("if-modified-since") == stamp


def test_stale_cache_only_when_unreachable(tls: TestServer, home: Path) -> None:
    doc = index_doc([index_entry("demo", "1.0.0", src())])
    route = tls.route("/stale/index.json", body(doc))
    s = settings_for(
        home,
        [{"name": "r", "url": tls.url("stale/index.json")}],
        network={"cache_ttl": 0, "retries": 0},
    )
    load_registry(s.registries[0], s)
    route.fail_times = 1000
    bus, _ = events_bus()
    loaded = RegistrySet(s, bus).resolve("demo")
    assert loaded.entry.version == "1.0.0"
    assert any("is unreachable" in w and "cached index" in w for w in bus.warnings)
    with pytest.raises(RegistryError) as err:  # never with refresh
        RegistrySet(s, refresh=True).resolve("demo")
    assert "HTTP 500" in err.value.message
    route.fail_times = 0


def test_invalid_remote_index_is_not_replaced_by_cache(tls: TestServer, home: Path) -> None:
    route = tls.route("/inv/index.json", body(index_doc([index_entry("demo", "1.0.0", src())])))
    s = settings_for(
        home, [{"name": "r", "url": tls.url("inv/index.json")}], network={"cache_ttl": 0}
    )
    load_registry(s.registries[0], s)
    bad = index_doc([index_entry("demo", "1.0.0", src("http://example.org/p.tar.gz"))])
    route.set_body(body(bad))
    with pytest.raises(AttuneError) as err:
        load_registry(s.registries[0], s)
    assert "must use https://" in err.value.message
    route.set_body(b"{not json")
    with pytest.raises(AttuneError) as err:
        load_registry(s.registries[0], s)
    assert "not valid JSON" in err.value.message


def test_remote_index_may_not_use_relative_sources(tls: TestServer, home: Path) -> None:
    tls.route("/rel/index.json", body(index_doc([index_entry("d", "1.0.0", src("d.tar.gz"))])))
    s = settings_for(home, [{"name": "r", "url": tls.url("rel/index.json")}])
    with pytest.raises(AttuneError) as err:
        load_registry(s.registries[0], s)
    assert "must be an https:// URL" in err.value.message


def test_oversize_index(tls: TestServer, home: Path) -> None:
    tls.route("/huge/index.json", b" " * 5000 + body(index_doc([])))
    s = settings_for(
        home, [{"name": "r", "url": tls.url("huge/index.json")}], network={"index_max_bytes": 1000}
    )
    with pytest.raises(AttuneError) as err:
        load_registry(s.registries[0], s)
    assert err.value.code == "too_large" and "registry 'r'" in err.value.message


def test_headers_sent_to_registry_never_shown(tls: TestServer, home: Path) -> None:
    route = tls.route("/auth/index.json", body(index_doc([])))
    secret = "Bearer hunter2-secret"
    s = settings_for(
        home,
        [{"name": "r", "url": tls.url("auth/index.json"), "headers": {"Authorization": secret}}],
    )
    load_registry(s.registries[0], s)
    assert route.requests[-1]["authorization"] == secret
    for f in (home / "cache").rglob("*"):
        if f.is_file():
            assert b"hunter2" not in f.read_bytes()
    route.status = 401
    s0 = settings_for(
        home,
        [{"name": "r", "url": tls.url("auth/index.json"), "headers": {"Authorization": secret}}],
        network={"cache_ttl": 0},
    )
    with pytest.raises(AttuneError) as err:
        RegistrySet(s0, refresh=True).resolve("x")
    assert "hunter2" not in err.value.message and "HTTP 401" in err.value.message
    route.status = 200


def test_registry_url_with_credentials_refused(home: Path) -> None:
    with pytest.raises(AttuneError) as err:  # refused when the configuration is read
        settings_for(home, [{"name": "r", "url": "https://bob:pw123@127.0.0.1:1/index.json"}])
    assert "credentials" in err.value.message and "pw123" not in err.value.message


# --------------------------------------------------------------------------- priority


def test_first_registry_listing_the_ref_wins_without_mixing(home: Path) -> None:
    (home / "a.json").write_text(json.dumps(index_doc([index_entry("demo", "1.0.0", src())])))
    (home / "b.json").write_text(
        json.dumps(
            index_doc([index_entry("demo", "2.0.0", src()), index_entry("only-b", "1.0.0", src())])
        )
    )
    s = settings_for(
        home,
        [
            {"name": "b", "url": str(home / "b.json"), "priority": 20},
            {"name": "a", "url": str(home / "a.json"), "priority": 10},
        ],
    )
    rs = RegistrySet(s)
    assert rs.resolve("demo").registry_name == "a"
    with pytest.raises(NotFound) as err:  # b has 2.0.0, but a wins the ref
        rs.resolve("demo", "^2")
    assert "registry 'a'" in err.value.message
    assert rs.resolve("only-b").registry_name == "b"
    assert RegistrySet(s, only="b").resolve("demo", "^2").entry.version == "2.0.0"


def test_fail_closed_when_an_earlier_registry_fails(tls: TestServer, home: Path) -> None:
    (home / "b.json").write_text(json.dumps(index_doc([index_entry("demo", "2.0.0", src())])))
    tls.route("/broken/index.json", b"", status=500, fail_times=0)
    for first in (tls.url("broken/index.json"), str(home / "missing.json")):
        s = settings_for(
            home,
            [
                {"name": "a", "url": first, "priority": 1},
                {"name": "b", "url": str(home / "b.json"), "priority": 2},
            ],
            network={"retries": 0},
        )
        with pytest.raises(RegistryError) as err:
            RegistrySet(s).resolve("demo")
        assert err.value.code == "registry_unavailable"
        assert "fail closed" in err.value.message and "'a'" in err.value.message
        assert RegistrySet(s, only="b").resolve("demo").registry_name == "b"


def test_invalid_earlier_registry_fails_closed(home: Path) -> None:
    (home / "a.json").write_text('{"registry_name": "x"}')
    (home / "b.json").write_text(json.dumps(index_doc([index_entry("demo", "2.0.0", src())])))
    s = settings_for(
        home,
        [
            {"name": "a", "url": str(home / "a.json"), "priority": 1},
            {"name": "b", "url": str(home / "b.json"), "priority": 2},
        ],
    )
    with pytest.raises(RegistryError) as err:
        RegistrySet(s).resolve("demo")
    assert "invalid index" in err.value.message


def test_disabled_registries_and_only(home: Path) -> None:
    (home / "a.json").write_text(json.dumps(index_doc([index_entry("demo", "1.0.0", src())])))
    s = settings_for(
        home,
        [
            {"name": "off", "url": str(home / "missing.json"), "priority": 1, "enabled": False},
            {"name": "a", "url": str(home / "a.json"), "priority": 2},
        ],
    )
    assert RegistrySet(s).resolve("demo").registry_name == "a"
    with pytest.raises(UsageError) as err:
        RegistrySet(s, only="off")
    assert "disabled" in err.value.message
    with pytest.raises(UsageError) as err:
        RegistrySet(s, only="nope")
    assert "unknown registry 'nope'" in err.value.message


def test_no_registries_configured(home: Path) -> None:
    s = settings_for(home, [])
    with pytest.raises(RegistryError) as err:
        RegistrySet(s)
    assert "no registries configured" in err.value.message
    assert "config.yaml" in err.value.message


# --------------------------------------------------------------------------- search


def test_search_ranking_and_registry_column(home: Path) -> None:
    entries = [
        index_entry("chat", "1.0.0", src(), description="Talk to people"),
        index_entry("slack", "1.0.0", src(), description="Slack messages"),
        index_entry("slack-extras", "1.0.0", src(), description="More"),
        index_entry("notify", "1.0.0", src(), keywords=["slack", "email"]),
        index_entry("messaging", "1.0.0", src(), label="Slack-like messaging"),
        index_entry("zulip", "1.0.0", src(), description="An alternative to slack"),
    ]
    (home / "a.json").write_text(json.dumps(index_doc(sorted(entries, key=lambda e: e["ref"]))))
    (home / "b.json").write_text(json.dumps(index_doc([index_entry("slackbot", "0.1.0", src())])))
    s = settings_for(
        home,
        [
            {"name": "a", "url": str(home / "a.json"), "priority": 1},
            {"name": "b", "url": str(home / "b.json"), "priority": 2},
        ],
    )
    hits = RegistrySet(s).search("Slack")
    assert [(h.ref, h.registry) for h in hits] == [
        ("slack", "a"),
        ("slack-extras", "a"),
        ("slackbot", "b"),
        ("notify", "a"),
        ("messaging", "a"),
        ("zulip", "a"),
    ]
    assert [h.ref for h in RegistrySet(s).search("people talk")] == ["chat"]
    assert RegistrySet(s).search("nothing-like-this") == []
    assert [h.ref for h in RegistrySet(s, only="b").search("slack")] == ["slackbot"]


def test_search_skips_unreachable_registry_with_warning(home: Path) -> None:
    (home / "b.json").write_text(json.dumps(index_doc([index_entry("slack", "0.1.0", src())])))
    s = settings_for(
        home,
        [
            {"name": "a", "url": str(home / "missing.json"), "priority": 1},
            {"name": "b", "url": str(home / "b.json"), "priority": 2},
        ],
    )
    bus, _ = events_bus()
    assert [h.ref for h in RegistrySet(s, bus).search("slack")] == ["slack"]
    assert any("registry 'a'" in w for w in bus.warnings)
    s2 = settings_for(home, [{"name": "a", "url": str(home / "missing.json")}])
    with pytest.raises(AttuneError):
        RegistrySet(s2).search("slack")


def test_validation_marker_and_summary_are_cached(home: Path) -> None:
    index = home / "a.json"
    index.write_text(json.dumps(index_doc([index_entry("slack", "0.1.0", src())])))
    old = index.stat().st_mtime - 60
    os.utime(index, (old, old))  # old enough for its signature to be remembered
    s = settings_for(home, [{"name": "a", "url": str(index)}])
    RegistrySet(s).search("slack")
    indices = home / "cache" / "indices"
    assert list((indices / "validated").iterdir())
    assert list((indices / "summaries").iterdir())
    assert list((indices / "stat").iterdir())
    assert [h.ref for h in RegistrySet(s).search("slack")] == ["slack"]  # from the caches
    # A changed file is validated again (markers are keyed by content, found by signature).
    index.write_text('{"registry_name": 1}')
    with pytest.raises(AttuneError) as err:
        RegistrySet(s).search("slack")
    assert "invalid index" in err.value.message
    # A same-size edit is caught too (new mtime), and validated before use.
    good = json.dumps(index_doc([index_entry("slack", "0.1.0", src())]))
    index.write_text(good)
    RegistrySet(s).search("slack")
    index.write_text(good.replace("0.1.0", "0.1.x"))
    with pytest.raises(AttuneError):
        RegistrySet(s).resolve("slack")


def test_search_output_is_sanitised(home: Path) -> None:
    evil = index_entry("evil", "1.0.0", src(), description="\x1b[31mred\x1b[0m\nsecond line")
    (home / "a.json").write_text(json.dumps(index_doc([evil])))
    write_config(home, [{"name": "a", "url": str(home / "a.json")}])
    for env in ({}, {"ATTUNE_NO_FASTPATH": "1"}):
        r = run_cli("pack", "search", "evil", home=home, env=env)
        assert r.exit_code == 0 and "\x1b" not in r.stdout
        assert "red" in r.stdout and len(r.stdout.strip().splitlines()) == 2


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def ref_home(home: Path) -> Path:
    write_config(
        home, [{"name": "Attune Standard Pack Index", "url": str(REFERENCE_INDEX), "priority": 1}]
    )
    return home


def test_reference_index_validates() -> None:
    r = run_cli("pack", "index", "validate", str(REFERENCE_INDEX), "-o", "json")
    assert r.exit_code == 0, r.stderr
    assert r.json == {
        "path": str(REFERENCE_INDEX),
        "valid": True,
        "format": "1.0",
        "packs": 44,
        "strict": False,
        "errors": [],
        "warnings": [],
    }


def test_cli_search_reference_index(ref_home: Path) -> None:
    r = run_cli("pack", "search", "slack", home=ref_home)
    assert r.exit_code == 0, r.stderr
    first = r.stdout.splitlines()[1].split()
    assert first[0] == "slack" and "Attune" in r.stdout
    r = run_cli("pack", "search", "slack", "-o", "json", home=ref_home)
    doc = r.json
    assert doc["results"][0]["ref"] == "slack"
    assert doc["results"][0]["registry"] == "Attune Standard Pack Index"
    r = run_cli("pack", "search", "no-such-thing-xyz", home=ref_home)
    assert r.exit_code == 0 and "no packs match" in r.stderr


def test_cli_index_show_reference(ref_home: Path) -> None:
    r = run_cli("pack", "index", "show", "activedirectory", "-o", "json", home=ref_home)
    assert r.exit_code == 0, r.stderr
    doc = r.json
    assert doc["ref"] == "activedirectory" and doc["registry"] == "Attune Standard Pack Index"
    assert doc["entry"]["install_sources"][0]["type"] == "git"
    r = run_cli("pack", "index", "show", "activedirectory", home=ref_home)
    assert "sha256:dd59734f" in r.stdout and "44 actions" in r.stdout
    r = run_cli("pack", "index", "show", "nope", home=ref_home)
    assert r.exit_code == 1
    assert (
        r.stderr.strip() == "error: pack 'nope' not found in registry 'Attune Standard Pack Index'"
    )
    r = run_cli("pack", "index", "show", "slack", "--registry", "other", home=ref_home)
    assert r.exit_code == 2 and "unknown registry 'other'" in r.stderr


def test_cli_index_validate_lists_every_problem(tmp_path: Path) -> None:
    doc = index_doc(
        [
            index_entry("zeta", "1.0.0", src("http://example.org/z.tar.gz")),
            index_entry("alpha", "not-semver", src(checksum="sha256:XYZ")),
            index_entry("alpha", "1.0.0", src("https://u:p@example.org/a.tar.gz?x=1")),
        ]
    )
    f = tmp_path / "index.json"
    f.write_text(json.dumps(doc))
    r = run_cli("pack", "index", "validate", str(f), "-o", "json")
    assert r.exit_code == 1
    errors = r.json["errors"]
    text = "\n".join(errors)
    for fragment in (
        "must use https://",
        "'not-semver'",
        "sha256:XYZ",
        "duplicate entry 'alpha'",
        "not sorted",
        "must not carry a query",
    ):
        assert fragment in text, fragment
    assert "u:p@" not in text
    r = run_cli("pack", "index", "validate", str(f))
    assert r.exit_code == 1
    assert r.stderr.strip().startswith(f"error: {f} is not a valid index: {len(errors)} problems")
    assert len(r.stdout.strip().splitlines()) == len(errors)
    f.write_text("{broken")
    r = run_cli("pack", "index", "validate", str(f))
    assert r.exit_code == 1 and "not valid JSON" in r.stdout
    r = run_cli("pack", "index", "validate", str(tmp_path / "missing.json"))
    assert r.exit_code == 1 and "not found" in r.stderr


def test_cli_index_validate_local_mirror(tmp_path: Path) -> None:
    f = tmp_path / "index.json"
    f.write_text(json.dumps(index_doc([index_entry("a", "1.0.0", src("packs/a.tar.gz"))])))
    # A local index may name sources by relative path (as install accepts it); a
    # remote Attune host would refuse them: warnings, errors with --strict.
    r = run_cli("pack", "index", "validate", str(f))
    assert r.exit_code == 0 and "warning:" in r.stderr and "relative path" in r.stderr
    assert run_cli("pack", "index", "validate", "--local", str(f)).exit_code == 0
    assert run_cli("pack", "index", "validate", "--strict", str(f)).exit_code == 1


def test_cli_registries(tls: TestServer, home: Path) -> None:
    tls.route("/cli/index.json", body(index_doc([index_entry("demo", "1.0.0", src())])))
    write_config(
        home,
        [
            {
                "name": "good",
                "url": tls.url("cli/index.json"),
                "priority": 5,
                "headers": {"Authorization": "Bearer topsecret"},
            },
            {"name": "down", "url": "https://127.0.0.1:1/index.json", "priority": 1},
            {"name": "off", "url": "https://example.invalid/i.json", "enabled": False},
        ],
    )
    env = {"ATTUNE_CA_BUNDLE": str(tls.ca_bundle)}
    r = run_cli("pack", "registries", "-o", "json", home=home, env=env)
    assert r.exit_code == 0, r.stderr
    rows = r.json["registries"]
    assert [x["name"] for x in rows] == ["down", "good", "off"]
    assert rows[0]["url"] == "https://127.0.0.1:1/index.json"
    assert "topsecret" not in r.stdout
    r = run_cli("pack", "registries", "--check", "-o", "json", home=home, env=env)
    assert r.exit_code == 1
    rows = {x["name"]: x for x in r.json["registries"]}
    assert rows["good"]["reachable"] is True and rows["good"]["packs"] == 1
    assert rows["down"]["reachable"] is False and "127.0.0.1:1" in rows["down"]["error"]
    assert rows["off"]["reachable"] is None
    assert "topsecret" not in r.stdout + r.stderr
    r = run_cli("pack", "registries", "--check", home=home, env=env)
    assert "ok (1 pack)" in r.stdout and "FAILED" in r.stdout
    # A URL with credentials never gets that far: the configuration is refused, unprinted.
    write_config(home, [{"name": "creds", "url": "https://alice:pa55@127.0.0.1:1/index.json"}])
    r = run_cli("pack", "registries", home=home, env=env)
    assert r.exit_code == 1 and "credentials" in r.stderr and "pa55" not in r.stderr


def test_cli_registries_none(home: Path) -> None:
    r = run_cli("pack", "registries", home=home)
    assert r.exit_code == 0 and "no registries configured" in r.stderr
    r = run_cli("pack", "search", "x", home=home)
    assert r.exit_code == 1 and "no registries configured" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("slack",),
        ("slack", "-o", "json"),
        ("--output=yaml", "slack"),
        ("slack", "--limit", "1", "-q"),
        ("no-such-pack-xyz",),
        ("slack", "--registry", "nope"),
        ("slack", "--registry", "nope", "-o", "json"),
        ("slack", "--limit", "0"),
        ("slack", "--limit", "-1"),
        ("slack", "--limit", "x"),
        ("slack", "extra"),
        ("slack", "-o=json"),
        ("-qojson", "slack", "--limit=2"),
        ("slack", "--refresh", "--registry", "Attune Standard Pack Index"),
        ("--", "-slack"),
        ("--help",),
    ],
)
def test_search_in_process_matches_a_real_process(ref_home: Path, args: tuple[str, ...]) -> None:
    fast = run_cli("pack", "search", *args, home=ref_home)
    slow = run_cli("pack", "search", *args, home=ref_home, process=True)
    assert (fast.exit_code, fast.stdout, fast.stderr) == (slow.exit_code, slow.stdout, slow.stderr)
