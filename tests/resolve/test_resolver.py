"""Transitive pack-dependency resolution (attune_packs.resolve.resolver)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attune_packs.errors import DependencyError
from attune_packs.pack.model import PackRequirement, parse_pack_requirement
from attune_packs.resolve.model import Candidate
from attune_packs.resolve.resolver import resolve
from attune_packs.versioning import satisfies

Registry = dict[str, list[Candidate]]


def registry(spec: dict[str, dict[str, list[str]]]) -> Registry:
    """{ref: {version: [requirements]}} -> candidates."""
    return {
        ref: [
            Candidate(ref, v, list(reqs), origin=("registry", ref, v))
            for v, reqs in versions.items()
        ]
        for ref, versions in spec.items()
    }


def lookup(reg: Registry, calls: list[str] | None = None) -> Callable[[str], list[Candidate]]:
    def candidates_for(ref: str) -> list[Candidate]:
        if calls is not None:
            calls.append(ref)
        return reg.get(ref, [])

    return candidates_for


def plan(res) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(i.ref, i.version, i.action) for i in res.order]


def conflict(roots: list[str], reg: Registry, installed: dict[str, Candidate] | None = None) -> str:
    with pytest.raises(DependencyError) as info:
        resolve(roots, lookup(reg), installed or {})
    assert info.value.exit_code == 1
    assert "\n" not in info.value.message
    return info.value.message


# --------------------------------------------------------------------------- basics


def test_transitive_resolution_installs_dependencies_first() -> None:
    reg = registry(
        {
            "web": {"1.0.0": ["http@^2", "log"], "1.1.0": ["http@^2", "log"]},
            "http": {"1.9.0": [], "2.0.0": ["log@>=1.1"], "2.3.1": ["log@>=1.1"]},
            "log": {"1.0.0": [], "1.1.0": [], "1.2.0-beta.1": []},
        }
    )
    res = resolve(["web"], lookup(reg), {})
    assert plan(res) == [
        ("log", "1.1.0", "install"),
        ("http", "2.3.1", "install"),
        ("web", "1.1.0", "install"),
    ]
    web = res["web"]
    assert web.requested and web.required_by == ["(requested)"]
    assert web.dependencies == ["http", "log"]
    assert res["log"].required_by == ["http@2.3.1", "web@1.1.0"]
    assert "web" in res and "nope" not in res
    assert res["http"].candidate.origin == ("registry", "http", "2.3.1")
    assert res.changes == res.order


def test_diamond_order_is_deterministic() -> None:
    reg = registry(
        {
            "app": {"1.0.0": ["b", "c"]},
            "b": {"1.0.0": ["d@^1"]},
            "c": {"1.0.0": ["d@>=1.1"]},
            "d": {"1.0.0": [], "1.1.0": [], "2.0.0": []},
        }
    )
    res = resolve(["app"], lookup(reg), {})
    assert plan(res) == [
        ("d", "1.1.0", "install"),
        ("b", "1.0.0", "install"),
        ("c", "1.0.0", "install"),
        ("app", "1.0.0", "install"),
    ]


def test_candidates_fetched_once_per_ref() -> None:
    reg = registry(
        {
            "a": {"1.0.0": ["b", "c"], "2.0.0": ["b", "c@^9"]},
            "b": {"1.0.0": ["c"]},
            "c": {"1.0.0": []},
        }
    )
    calls: list[str] = []
    res = resolve(["a"], lookup(reg, calls), {})
    assert res["a"].version == "1.0.0"
    assert sorted(calls) == ["a", "b", "c"]


def test_roots_may_be_requirement_objects_and_repeat() -> None:
    reg = registry({"core": {"1.0.0": [], "1.4.0": [], "2.0.0": []}})
    res = resolve([PackRequirement("core", "^1"), "core@<1.3 || >=1.4 <2"], lookup(reg), {})
    assert plan(res) == [("core", "1.4.0", "install")]
    assert res["core"].constraints == ["^1 (requested)", "<1.3 || >=1.4 <2 (requested)"]


# --------------------------------------------------------------------------- backtracking


def test_backtracking_gives_up_the_newest_dependency() -> None:
    # The newest lib (2.0.0) needs util@^2, but the app also needs util@^1:
    # the resolver must settle for lib 1.5.0.
    reg = registry(
        {
            "app": {"1.0.0": ["lib", "util@^1"]},
            "lib": {"1.0.0": ["util@^1"], "1.5.0": ["util@^1"], "2.0.0": ["util@^2"]},
            "util": {"1.0.0": [], "1.2.0": [], "2.0.0": []},
        }
    )
    res = resolve(["app"], lookup(reg), {})
    assert plan(res) == [
        ("util", "1.2.0", "install"),
        ("lib", "1.5.0", "install"),
        ("app", "1.0.0", "install"),
    ]


def test_backtracking_across_levels() -> None:
    # web@2 -> chat@^1 -> core@<2, but web@2 also needs core@^2: only web@1 works.
    reg = registry(
        {
            "web": {"1.0.0": ["core@^1", "chat"], "2.0.0": ["core@^2", "chat@^1"]},
            "chat": {"1.0.0": ["core@<2"], "1.1.0": ["core@<2"]},
            "core": {"1.0.0": [], "1.5.0": [], "2.1.0": []},
        }
    )
    res = resolve(["web"], lookup(reg), {})
    assert plan(res) == [
        ("core", "1.5.0", "install"),
        ("chat", "1.1.0", "install"),
        ("web", "1.0.0", "install"),
    ]


def test_local_repair_keeps_unrelated_choices() -> None:
    # The clash (a@2 needs c@^2, b needs c@^1) is settled among a, b and c; x stays at
    # its newest version and so does the unrelated pack.
    reg = registry(
        {
            "app": {"1.0.0": ["x", "other"]},
            "x": {"1.0.0": [], "2.0.0": ["a", "b"]},
            "a": {"1.0.0": ["c@^1"], "2.0.0": ["c@^2"]},
            "b": {"1.0.0": ["c@^1"], "1.1.0": ["c@^1"]},
            "c": {"1.0.0": [], "1.3.0": [], "2.0.0": []},
            "other": {"1.0.0": [], "3.0.0": []},
        }
    )
    res = resolve(["app"], lookup(reg), {})
    assert {i.ref: i.version for i in res.order} == {
        "app": "1.0.0",
        "x": "2.0.0",
        "a": "1.0.0",
        "b": "1.1.0",
        "c": "1.3.0",
        "other": "3.0.0",
    }


def test_full_backtracking_when_a_local_repair_is_not_enough() -> None:
    # The clash is on z (mid@2 needs z@^2, x needs z@^1) but only giving up top@2 solves it.
    reg = registry(
        {
            "top": {"1.0.0": ["mid@^1", "x"], "2.0.0": ["mid@^2", "x"]},
            "mid": {"1.0.0": ["z@^1"], "2.0.0": ["z@^2"]},
            "x": {"1.0.0": ["z@^1"]},
            "z": {"1.0.0": [], "2.0.0": []},
        }
    )
    res = resolve(["top"], lookup(reg), {})
    assert plan(res) == [
        ("z", "1.0.0", "install"),
        ("mid", "1.0.0", "install"),
        ("x", "1.0.0", "install"),
        ("top", "1.0.0", "install"),
    ]


def test_broken_release_is_skipped() -> None:
    reg = registry(
        {
            "lib": {"1.0.0": ["core"], "2.0.0": ["ghost@^1"]},
            "core": {"1.0.0": []},
        }
    )
    res = resolve(["lib"], lookup(reg), {})
    assert plan(res) == [("core", "1.0.0", "install"), ("lib", "1.0.0", "install")]
    msg = conflict(["lib@2"], reg)
    assert msg == (
        "cannot satisfy 'lib': the request needs lib@2 (available: 1.0.0, 2.0.0; "
        "lib@2.0.0 needs ghost@^1, which no usable version satisfies)"
    )


# --------------------------------------------------------------------------- conflicts


def test_conflict_explanation_names_packs_and_constraints() -> None:
    reg = registry(
        {
            "web": {"2.0.0": ["core@^2", "chat@^1"]},
            "chat": {"1.0.0": ["core@<2"], "1.1.0": ["core@<2"]},
            "core": {"1.0.0": [], "1.5.0": [], "2.1.0": []},
        }
    )
    msg = conflict(["web"], reg)
    assert msg == (
        "cannot satisfy 'core': web@2.0.0 needs core@^2, every chat version (1.0.0, 1.1.0) "
        "needs core@<2 (available: 1.0.0, 1.5.0, 2.1.0)"
    )
    reg["chat"].append(Candidate("chat", "0.9.0", ["core@^2", "web@^3"]))
    msg = conflict(["web"], reg)
    assert "chat@1.0.0, 1.1.0 need core@<2" in msg


def test_conflict_with_the_request() -> None:
    reg = registry({"web": {"1.0.0": ["core@^1"]}, "core": {"1.0.0": [], "2.0.0": []}})
    msg = conflict(["web", "core@^2"], reg)
    assert "cannot satisfy 'core'" in msg
    assert "the request needs core@^2" in msg and "web@1.0.0 needs core@^1" in msg


def test_no_such_version() -> None:
    reg = registry({"core": {"1.0.0": [], "1.5.0": []}})
    assert conflict(["core@^3"], reg) == (
        "cannot satisfy 'core': the request needs core@^3 (available: 1.0.0, 1.5.0)"
    )


def test_no_such_pack() -> None:
    assert (
        conflict(["nope"], {}) == "no version of pack 'nope' is available (needed by the request)"
    )
    reg = registry({"web": {"1.0.0": ["ghost@^1"]}})
    assert conflict(["web"], reg) == (
        "cannot satisfy 'web': the request needs web (available: 1.0.0; "
        "web@1.0.0 needs ghost@^1, which no usable version satisfies)"
    )


def test_many_versions_are_abbreviated() -> None:
    reg = registry({"core": {f"1.{i}.0": [] for i in range(10)}})
    msg = conflict(["core@^2"], reg)
    assert "available: 1.4.0, 1.5.0, 1.6.0, 1.7.0, 1.8.0, 1.9.0 and 4 older" in msg


def test_invalid_requirements() -> None:
    with pytest.raises(DependencyError, match="'Web' is not REF or REF@CONSTRAINT") as info:
        resolve(["Web"], lookup({}), {})
    assert info.value.code == "invalid_dependency"
    with pytest.raises(DependencyError, match=r"'web@\^\^1': "):
        resolve(["web@^^1"], lookup({}), {})
    reg = registry({"web": {"1.0.0": ["core@>>1"]}})
    with pytest.raises(DependencyError, match=r"web@1.0.0 declares an invalid dependency"):
        resolve(["web"], lookup(reg), {})


# --------------------------------------------------------------------------- cycles


def test_cycle_is_resolved_and_ordered() -> None:
    reg = registry(
        {
            "a": {"1.0.0": ["b@^1"]},
            "b": {"1.0.0": ["c"], "1.1.0": ["c"]},
            "c": {"1.0.0": ["a@^1"]},
        }
    )
    res = resolve(["a"], lookup(reg), {})
    assert plan(res) == [
        ("c", "1.0.0", "install"),
        ("b", "1.1.0", "install"),
        ("a", "1.0.0", "install"),
    ]
    tree = res.tree()
    assert tree[0]["ref"] == "a"
    c = tree[0]["dependencies"][0]["dependencies"][0]
    assert c["ref"] == "c" and c["dependencies"] == [
        {"ref": "a", "version": "1.0.0", "action": "install", "cycle": True}
    ]


def test_self_dependency() -> None:
    reg = registry({"a": {"1.0.0": ["a@^1"], "2.0.0": ["a@^1"]}})
    res = resolve(["a"], lookup(reg), {})
    assert plan(res) == [("a", "1.0.0", "install")]


def test_cycle_that_needs_backtracking() -> None:
    reg = registry(
        {
            "a": {"1.0.0": ["b@^1"], "2.0.0": ["b@^2"]},
            "b": {"1.0.0": ["a@^1"], "2.0.0": ["a@^1"]},
        }
    )
    res = resolve(["a"], lookup(reg), {})
    assert plan(res) == [("b", "1.0.0", "install"), ("a", "1.0.0", "install")]


# --------------------------------------------------------------------------- installed


def inst(ref: str, version: str, *reqs: str) -> Candidate:
    return Candidate(ref, version, list(reqs), origin="installed")


def test_keeps_a_satisfying_installed_version() -> None:
    reg = registry({"web": {"1.0.0": ["core@^1"]}, "core": {"1.0.0": [], "1.5.0": [], "2.0.0": []}})
    installed = {"core": inst("core", "1.0.0")}
    res = resolve(["web"], lookup(reg), installed)
    assert plan(res) == [("core", "1.0.0", "keep"), ("web", "1.0.0", "install")]
    assert res["core"].candidate.origin == "installed"
    assert [i.ref for i in res.changes] == ["web"]
    # upgrade=True (or naming the ref) takes the highest satisfying version instead
    assert plan(resolve(["web"], lookup(reg), installed, upgrade=True))[0] == (
        "core",
        "1.5.0",
        "upgrade",
    )
    assert plan(resolve(["web"], lookup(reg), installed, upgrade=["core"]))[0][2] == "upgrade"


def test_upgrades_an_installed_version_that_does_not_satisfy() -> None:
    reg = registry(
        {"web": {"1.0.0": ["core@^1.2"]}, "core": {"1.0.0": [], "1.5.0": [], "2.0.0": []}}
    )
    res = resolve(["web"], lookup(reg), {"core": inst("core", "1.0.0")})
    assert res["core"].action == "upgrade" and res["core"].version == "1.5.0"
    assert res["core"].installed_version == "1.0.0"


def test_downgrade_when_asked_for_an_older_line() -> None:
    reg = registry({"core": {"1.5.0": [], "2.0.0": []}})
    res = resolve(["core@^1"], lookup(reg), {"core": inst("core", "2.0.0")})
    assert plan(res) == [("core", "1.5.0", "downgrade")]


def test_installed_version_missing_from_registry_is_kept() -> None:
    reg = registry({"web": {"1.0.0": ["core@^1"]}, "core": {"1.0.0": [], "1.5.0": []}})
    res = resolve(["web"], lookup(reg), {"core": inst("core", "1.2.7")})
    assert res["core"].version == "1.2.7" and res["core"].action == "keep"


def test_installed_requirements_replace_the_registrys() -> None:
    # The installed web@1.0.0 (on disk) needs log; the registry's copy says nothing.
    reg = registry({"web": {"1.0.0": []}, "log": {"1.0.0": []}})
    res = resolve(["web"], lookup(reg), {"web": inst("web", "1.0.0", "log@^1")})
    assert plan(res) == [("log", "1.0.0", "install"), ("web", "1.0.0", "keep")]


def test_installed_dependents_are_protected() -> None:
    reg = registry(
        {
            "web": {"1.0.0": ["core@^1"], "2.0.0": ["core@^2"]},
            "core": {"1.0.0": [], "1.5.0": [], "2.1.0": []},
            "chat": {"1.1.0": ["core@<2"]},
        }
    )
    installed = {"chat": inst("chat", "1.1.0", "core@<2"), "core": inst("core", "1.0.0")}
    # web@2 would upgrade core to 2.x and break the installed chat: web@1 is chosen.
    res = resolve(["web"], lookup(reg), installed)
    assert plan(res) == [("core", "1.0.0", "keep"), ("web", "1.0.0", "install")]
    # Asking for core@^2 directly cannot be done without breaking chat.
    assert conflict(["core@^2"], reg, installed) == (
        "cannot satisfy 'core': the request needs core@^2, chat@1.1.0 (installed) needs "
        "core@<2 (available: 1.0.0, 1.5.0, 2.1.0)"
    )
    # ... unless protection is off (the installer's --force, for example).
    res = resolve(["core@^2"], lookup(reg), installed, protect_installed=False)
    assert plan(res) == [("core", "2.1.0", "upgrade")]


def test_protection_allows_compatible_upgrades() -> None:
    reg = registry({"core": {"1.0.0": [], "1.5.0": [], "2.1.0": []}})
    installed = {"chat": inst("chat", "1.1.0", "core@<2"), "core": inst("core", "1.0.0")}
    res = resolve(["core@^1.2"], lookup(reg), installed)
    assert plan(res) == [("core", "1.5.0", "upgrade")]
    assert res["core"].required_by == ["(requested)", "chat@1.1.0 (installed)"]


def test_broken_installed_pack_does_not_block_unrelated_work() -> None:
    # chat is installed but needs a pack that is not there; installing web is still fine.
    reg = registry({"web": {"1.0.0": []}})
    installed = {"chat": inst("chat", "1.0.0", "ghost@^1")}
    assert plan(resolve(["web"], lookup(reg), installed)) == [("web", "1.0.0", "install")]


# --------------------------------------------------------------------------- pre-releases


def test_prereleases_need_an_explicit_constraint() -> None:
    reg = registry({"lib": {"1.0.0": [], "1.1.0-beta.1": [], "2.0.0-rc.1": []}})
    assert plan(resolve(["lib"], lookup(reg), {})) == [("lib", "1.0.0", "install")]
    assert plan(resolve(["lib@^1.1.0-beta"], lookup(reg), {})) == [
        ("lib", "1.1.0-beta.1", "install")
    ]
    assert plan(resolve(["lib@2.0.0-rc.1"], lookup(reg), {})) == [("lib", "2.0.0-rc.1", "install")]
    assert plan(resolve(["lib@latest"], lookup(reg), {})) == [("lib", "1.0.0", "install")]


def test_prerelease_dependency_needs_every_constraint_to_allow_it() -> None:
    reg = registry(
        {
            "app": {"1.0.0": ["lib@>=1.1.0-beta.1", "tool"]},
            "tool": {"1.0.0": ["lib@^1"]},
            "lib": {"1.0.0": [], "1.1.0-beta.1": []},
        }
    )
    # tool's ^1 does not admit 1.1.0-beta.1 (no pre-release on 1.1.0 in it); 1.0.0 fails app.
    msg = conflict(["app"], reg)
    assert "cannot satisfy 'lib'" in msg and "app@1.0.0 needs lib@>=1.1.0-beta.1" in msg


def test_only_prereleases_hint() -> None:
    reg = registry({"lib": {"1.0.0-alpha": [], "1.0.0-beta": []}})
    assert conflict(["lib"], reg) == (
        "cannot satisfy 'lib': the request needs lib (available: 1.0.0-alpha, 1.0.0-beta; "
        "only pre-releases exist, which need an explicit pre-release constraint)"
    )


def test_installed_prerelease_is_kept_when_allowed() -> None:
    reg = registry({"lib": {"1.0.0": [], "1.1.0-beta.2": []}})
    installed = {"lib": inst("lib", "1.1.0-beta.1")}
    res = resolve(["lib@>=1.1.0-beta.1 <2"], lookup(reg), installed)
    assert plan(res) == [("lib", "1.1.0-beta.1", "keep")]


# --------------------------------------------------------------------------- output


def test_to_dict_and_tree() -> None:
    reg = registry({"web": {"1.0.0": ["core@^1"]}, "core": {"1.0.0": []}})
    res = resolve(["web"], lookup(reg), {})
    assert res.to_dict() == {
        "roots": ["web"],
        "order": [
            {
                "ref": "core",
                "version": "1.0.0",
                "action": "install",
                "installed_version": None,
                "requested": False,
                "required_by": ["web@1.0.0"],
                "constraints": ["^1 (web@1.0.0)"],
                "dependencies": [],
            },
            {
                "ref": "web",
                "version": "1.0.0",
                "action": "install",
                "installed_version": None,
                "requested": True,
                "required_by": ["(requested)"],
                "constraints": ["* (requested)"],
                "dependencies": ["core"],
            },
        ],
    }
    assert res.tree("core") == [
        {"ref": "core", "version": "1.0.0", "action": "install", "dependencies": []}
    ]


@pytest.mark.parametrize(
    ("text", "ref", "constraint"),
    [
        ("core", "core", "*"),
        ("core@^1.2", "core", "^1.2"),
        ("slack@>=2.0.0 <3", "slack", ">=2.0.0 <3"),
        ("core@latest", "core", "*"),
        (" my_pack-2 @ ~1 ", "my_pack-2", "~1"),
        (PackRequirement("core", ""), "core", "*"),
    ],
)
def test_parse_pack_requirement(text: str | PackRequirement, ref: str, constraint: str) -> None:
    assert parse_pack_requirement(text) == PackRequirement(ref, constraint)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("core@", "empty constraint after '@'"),
        ("Core", "is not REF or REF@CONSTRAINT"),
        ("1core", "is not REF or REF@CONSTRAINT"),
        ("my.pack", "is not REF or REF@CONSTRAINT"),
        ("core@^x.y", "invalid version constraint"),
        ("", "is not REF or REF@CONSTRAINT"),
    ],
)
def test_parse_bad_pack_requirement(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_pack_requirement(text)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- properties

VERSIONS = ["1.0.0", "1.1.0", "2.0.0"]
CONSTRAINTS = ["*", "^1", "^2", "~1.1", ">=1.1.0", "<2", "1.0.0", "1.x || 2.x"]
REFS = ["a", "b", "c", "d"]


@st.composite
def small_registries(draw: st.DrawFn) -> Registry:
    spec: dict[str, dict[str, list[str]]] = {}
    for ref in REFS:
        versions = draw(st.lists(st.sampled_from(VERSIONS), min_size=0, max_size=3, unique=True))
        spec[ref] = {
            v: [
                f"{dep}@{draw(st.sampled_from(CONSTRAINTS))}"
                for dep in draw(st.lists(st.sampled_from(REFS), max_size=2, unique=True))
            ]
            for v in versions
        }
    return registry(spec)


def brute_force_solvable(reg: Registry, roots: list[tuple[str, str]]) -> bool:
    options = [[None, *reg.get(ref, [])] for ref in REFS]
    for combo in itertools.product(*options):
        pick = {ref: c for ref, c in zip(REFS, combo, strict=True) if c is not None}
        if not all(ref in pick and satisfies(pick[ref].version, con) for ref, con in roots):
            continue
        ok = True
        for cand in pick.values():
            for req in cand.requires:
                ref, _, con = str(req).partition("@")
                if ref not in pick or not satisfies(pick[ref].version, con or "*"):
                    ok = False
                    break
            if not ok:
                break
        if ok:
            return True
    return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reg=small_registries(),
    roots=st.lists(
        st.tuples(st.sampled_from(REFS), st.sampled_from(CONSTRAINTS)), min_size=1, max_size=2
    ),
)
def test_resolution_is_sound_and_complete(reg: Registry, roots: list[tuple[str, str]]) -> None:
    try:
        res = resolve([f"{r}@{c}" for r, c in roots], lookup(reg), {})
    except DependencyError:
        assert not brute_force_solvable(reg, roots)
        return
    chosen = {i.ref: i.candidate for i in res.order}
    for ref, con in roots:
        assert satisfies(chosen[ref].version, con)
    for cand in chosen.values():
        assert cand in reg[cand.ref]
        for req in cand.requires:
            ref, _, con = str(req).partition("@")
            assert satisfies(chosen[ref].version, con)
    # dependencies come before their dependents (unless in a cycle)
    pos = {i.ref: n for n, i in enumerate(res.order)}
    for item in res.order:
        for dep in item.dependencies:
            assert pos[dep] < pos[item.ref] or item.ref in _reachable(res, dep)


def _reachable(res, start: str) -> set[str]:  # type: ignore[no-untyped-def]
    seen: set[str] = set()
    todo = [start]
    while todo:
        r = todo.pop()
        if r in seen:
            continue
        seen.add(r)
        todo.extend(res[r].dependencies)
    return seen


def test_gives_up_politely_when_the_search_is_too_long() -> None:
    reg = registry(
        {
            "app": {"1.0.0": ["lib", "util@^1"]},
            "lib": {"1.0.0": ["util@^1"], "2.0.0": ["util@^2"]},
            "util": {"1.0.0": [], "2.0.0": []},
        }
    )
    with pytest.raises(DependencyError, match="gave up after 1 rounds") as info:
        resolve(["app"], lookup(reg), {}, max_rounds=1)
    assert info.value.code == "dependency_conflict"
