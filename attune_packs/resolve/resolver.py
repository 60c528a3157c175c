"""Transitive pack-dependency resolution (backtracking, with resolvelib).

Pure: the caller supplies the candidates (from the installed packs and the registries);
nothing here touches the network, the disk or the database.

Policy:

* every requirement on a pack must hold at once (node-semver constraints, see
  :mod:`attune_packs.versioning`; a pre-release is chosen only when every constraint on
  that pack admits it);
* an installed version that satisfies every constraint on it is kept; otherwise the
  highest satisfying version is chosen; when a choice leads to a dead end the resolver
  backtracks (an older version of a dependency is tried);
* installed packs outside the request are protected: if the plan would change a pack
  that an installed pack depends on, the installed pack's constraint applies too, so
  installing never silently breaks what is already there; when that is impossible the
  conflict names the installed pack (add it to the request to upgrade it as well, or
  pass ``protect_installed=False``);
* dependency cycles are fine; the install order puts dependencies first and breaks a
  cycle at the edge that closes it;
* a conflict raises ``DependencyError`` with a one-line explanation naming the packs and
  constraints that clash, e.g. ``cannot satisfy 'core': web@2.0.0 needs core@^2,
  chat@1.1.0 needs core@<2 (available: 1.0.0, 1.5.0, 2.1.0)``.

Engine: a linear-time greedy pass first (most packs resolve without any conflict); if
it meets a requirement nothing satisfies, candidates that can never work (a release
needing a version that does not exist) are pruned and the greedy pass runs again;
anything else goes to resolvelib's backtracking resolver (the one pip uses), with the
same preferences.  Any answer of the fast path is one resolvelib would also accept.

Usage::

    res = resolve([PackRequirement("web", "^2")], candidates_for, installed)
    for item in res.order:          # dependencies first
        print(item.action, item.ref, item.version)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from attune_packs.errors import DependencyError
from attune_packs.pack.model import PackRequirement, parse_pack_requirement
from attune_packs.resolve.engine import (
    _connected,
    _explain,
    _Provider,
    _Req,
    _requirements_of,
    _solve,
)
from attune_packs.resolve.model import Resolution, ResolvedItem
from attune_packs.versioning import (
    compare_versions,
    parse_constraint,
)

if TYPE_CHECKING:
    from attune_packs.resolve.model import Candidate

__all__ = ["resolve"]

MAX_ROUNDS = 20_000  # resolvelib rounds before giving up (bounded wait)


# --------------------------------------------------------------------------- resolve


def _topological(roots: Sequence[str], deps: Mapping[str, list[str]]) -> list[str]:
    """Dependencies before dependents; cycles broken where they close; deterministic."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    for start in [*roots, *sorted(deps)]:
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(deps.get(start, ())))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if not state.get(child):
                    state[child] = 1
                    stack.append((child, iter(deps.get(child, ()))))
                    break
            else:
                stack.pop()
                state[node] = 2
                order.append(node)
    return order


def _action(chosen: Candidate, inst: Candidate | None) -> str:
    if inst is None:
        return "install"
    if chosen is inst or chosen.version == inst.version:
        return "keep"
    c = compare_versions(chosen.version, inst.version)
    return "upgrade" if c > 0 else "downgrade" if c < 0 else "reinstall"


def resolve(
    roots: Iterable[PackRequirement | str],
    candidates_for: Callable[[str], Iterable[Candidate]],
    installed: Mapping[str, Candidate] | None = None,
    *,
    upgrade: Iterable[str] | bool = (),
    protect_installed: bool = True,
    max_rounds: int = MAX_ROUNDS,
) -> Resolution:
    """Resolve ``roots`` and everything they need, transitively.

    ``candidates_for(ref)`` returns the versions the registries offer (any order; called
    at most once per ref).  ``installed`` maps a ref to its installed :class:`Candidate`
    (with the requirements of the installed manifest).  ``upgrade``: refs (or True for
    all) for which an installed version is not preferred -- the highest satisfying
    version is taken instead.  ``protect_installed``: the requirements of installed packs
    outside the plan must still hold for any pack the plan changes.
    Raises ``DependencyError`` with a readable explanation when no solution exists.
    """
    installed = dict(installed or {})
    root_reqs: list[_Req] = []
    root_refs: list[str] = []
    for raw in roots:
        try:
            pr = parse_pack_requirement(raw)
        except ValueError as exc:
            raise DependencyError(str(exc), code="invalid_dependency") from None
        root_reqs.append(_Req(pr.ref, pr.constraint, parse_constraint(pr.constraint), None))
        if pr.ref not in root_refs:
            root_refs.append(pr.ref)
    upgrade_set: set[str] | bool = upgrade if isinstance(upgrade, bool) else set(upgrade)
    provider = _Provider(candidates_for, installed, upgrade_set)

    reqs = list(root_reqs)
    while True:
        try:
            mapping = _solve(provider, reqs, max_rounds)
        except ResolutionImpossible as exc:
            raise DependencyError(
                _explain(exc.causes, provider, installed), code="dependency_conflict"
            ) from None
        except ResolutionTooDeep as exc:
            raise DependencyError(
                f"dependency resolution gave up after {exc.round_count} rounds "
                "(the constraints are too entangled to explore)",
                code="dependency_conflict",
            ) from None
        mapping = _connected(mapping, reqs)
        if not protect_installed:
            break
        # Installed packs left out of the plan keep their requirements: any pack the plan
        # changes must still satisfy them.  Add the broken ones and solve again.
        added = [
            r
            for ref, inst in installed.items()
            if ref not in mapping
            for r in _requirements_of(inst)
            if r.ref in mapping
            and mapping[r.ref] is not installed.get(r.ref)
            and not r.allows(mapping[r.ref])
        ]
        if not added:
            break
        reqs.extend(added)
    return _plan(mapping, reqs, root_refs, installed)


def _plan(
    mapping: dict[str, Candidate],
    reqs: list[_Req],
    root_refs: list[str],
    installed: Mapping[str, Candidate],
) -> Resolution:
    deps: dict[str, list[str]] = {}
    for ref, cand in mapping.items():
        seen: list[str] = []
        for r in _requirements_of(cand):
            if r.ref in mapping and r.ref not in seen:
                seen.append(r.ref)
        deps[ref] = seen
    required_by: dict[str, list[str]] = {ref: [] for ref in mapping}
    constraints: dict[str, list[str]] = {ref: [] for ref in mapping}
    for req in reqs:
        if req.ref in mapping and req.parent is None:
            if "(requested)" not in required_by[req.ref]:
                required_by[req.ref].append("(requested)")
            constraints[req.ref].append(f"{req.raw} (requested)")
    # Installed packs outside the plan that depend on packs in it.
    for ref, inst in installed.items():
        if ref in mapping:
            continue
        for r in _requirements_of(inst):
            if r.ref in mapping:
                who = f"{inst} (installed)"
                if who not in required_by[r.ref]:
                    required_by[r.ref].append(who)
                constraints[r.ref].append(f"{r.raw} ({who})")
    order = _topological(root_refs, deps)
    for ref in order:
        cand = mapping[ref]
        for r in _requirements_of(cand):
            if r.ref in mapping:
                if str(cand) not in required_by[r.ref]:
                    required_by[r.ref].append(str(cand))
                constraints[r.ref].append(f"{r.raw} ({cand})")
    items = []
    for ref in order:
        cand = mapping[ref]
        inst = installed.get(ref)
        items.append(
            ResolvedItem(
                ref=ref,
                version=cand.version,
                action=_action(cand, inst),
                candidate=cand,
                installed_version=inst.version if inst is not None else None,
                requested=ref in root_refs,
                required_by=required_by[ref],
                constraints=constraints[ref],
                dependencies=deps[ref],
            )
        )
    return Resolution(order=items, roots=root_refs)
