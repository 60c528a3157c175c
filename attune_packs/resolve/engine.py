"""The resolvelib provider, greedy pass, repair and conflict explanation."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from attune_packs.errors import DependencyError
from attune_packs.pack.model import parse_pack_requirement
from attune_packs.versioning import (
    Constraint,
    parse_constraint,
    version_key,
)

if TYPE_CHECKING:
    from attune_packs.resolve.model import Candidate


# --------------------------------------------------------------------------- provider


class _Req:
    """A requirement as the resolver sees it (``parent`` None = the request)."""

    __slots__ = ("constraint", "parent", "raw", "ref", "text")

    def __init__(
        self, ref: str, raw: str, constraint: Constraint, parent: Candidate | None
    ) -> None:
        self.ref = ref
        self.raw = raw
        self.constraint = constraint
        self.parent = parent
        self.text = f"{ref}@{raw}" if raw not in ("", "*") else ref

    def allows(self, cand: Candidate) -> bool:
        return self.constraint.allows_key(cand.key)

    def __repr__(self) -> str:
        return f"_Req({self.text!r})"


def _requirements_of(cand: Candidate) -> list[_Req]:
    if cand._reqs is None:
        reqs: list[_Req] = []
        for raw in cand.requires:
            try:
                pr = parse_pack_requirement(raw)
            except ValueError as exc:
                raise DependencyError(
                    f"{cand} declares an invalid dependency: {exc}",
                    code="invalid_dependency",
                ) from None
            reqs.append(_Req(pr.ref, pr.constraint, parse_constraint(pr.constraint), cand))
        cand._reqs = reqs
    return cand._reqs


class _Provider(AbstractProvider):  # type: ignore[type-arg]
    def __init__(
        self,
        candidates_for: Callable[[str], Iterable[Candidate]],
        installed: Mapping[str, Candidate],
        upgrade: set[str] | bool,
    ) -> None:
        self._candidates_for = candidates_for
        self._installed = installed
        self._upgrade = upgrade
        self._all: dict[str, list[Candidate]] = {}
        # Candidates that can never be part of a solution (see prune()).
        self._dead: dict[Candidate, _Req] = {}  # -> the requirement it cannot meet

    def all_candidates(self, ref: str) -> list[Candidate]:
        """Every known version of ``ref``, newest first; the installed one replaces an
        equal version from a registry (its requirements are the ones on disk)."""
        found = self._all.get(ref)
        if found is None:
            inst = self._installed.get(ref)
            seen: dict[str, Candidate] = {}
            if inst is not None:
                seen[inst.version] = inst
            for cand in self._candidates_for(ref) or ():
                if cand.ref != ref:
                    continue
                seen.setdefault(cand.version, cand)
            found = sorted(seen.values(), key=lambda c: c.key, reverse=True)
            self._all[ref] = found
        return found

    def _prefer_installed(self, ref: str) -> bool:
        if self._upgrade is True:
            return False
        return not (self._upgrade and ref in self._upgrade)

    def prune(self, refs: Iterable[str]) -> bool:
        """Mark dead every candidate with a requirement no live candidate satisfies
        (a broken release: it needs a version that does not exist, or only dead ones),
        to a fixpoint over everything reachable from ``refs``.  Sound: a dead candidate
        is in no solution.  It lets the fast path step over broken releases.  Returns
        whether anything new died."""
        reach: list[str] = []
        seen: set[str] = set()
        todo = list(refs)
        while todo:
            ref = todo.pop()
            if ref in seen:
                continue
            seen.add(ref)
            reach.append(ref)
            for cand in self.all_candidates(ref):
                todo.extend(r.ref for r in _requirements_of(cand))
        users: dict[str, list[tuple[Candidate, _Req]]] = {}
        for ref in reach:
            for cand in self.all_candidates(ref):
                for r in _requirements_of(cand):
                    users.setdefault(r.ref, []).append((cand, r))
        dead = self._dead
        before = len(dead)
        work = list(reach)
        queued = set(work)
        while work:
            target = work.pop()
            queued.discard(target)
            live = [c for c in self.all_candidates(target) if c not in dead]
            for cand, r in users.get(target, ()):
                if cand in dead:
                    continue
                if not any(r.allows(c) for c in live):
                    dead[cand] = r
                    if cand.ref not in queued:
                        queued.add(cand.ref)
                        work.append(cand.ref)
        return len(dead) > before

    # -- resolvelib API
    def identify(self, requirement_or_candidate: _Req | Candidate) -> str:
        return requirement_or_candidate.ref

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        # The most constrained pack first (fewest versions left), then by name.
        return (sum(1 for _ in candidates[identifier]), identifier)

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Iterable[str]:
        # After a conflict, work on the packs involved in it first (as pip does); then
        # the most constrained pack (fewest versions left), then by name.  Choosing here
        # (instead of through get_preference) saves resolvelib a wrapper per name.
        idents = list(identifiers)
        if backtrack_causes:
            causes = {c.requirement.ref for c in backtrack_causes} | {
                c.parent.ref for c in backtrack_causes if c.parent is not None
            }
            idents = [i for i in idents if i in causes] or idents
        if len(idents) == 1:
            return idents
        return [min(idents, key=lambda i: (sum(1 for _ in candidates[i]), i))]

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[_Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        bad = {c.version for c in incompatibilities[identifier]}
        dead = self._dead
        ok = [
            c
            for c in self.all_candidates(identifier)
            if c.version not in bad and c not in dead and all(r.allows(c) for r in reqs)
        ]
        installed = self._installed.get(identifier)
        if installed is not None and self._prefer_installed(identifier):
            for i, c in enumerate(ok):
                if c is installed:
                    if i:
                        ok.insert(0, ok.pop(i))
                    break
        return ok

    def is_satisfied_by(self, requirement: _Req, candidate: Candidate) -> bool:
        return requirement.allows(candidate)

    def get_dependencies(self, candidate: Candidate) -> list[_Req]:
        return _requirements_of(candidate)


# --------------------------------------------------------------------------- engine

try:  # resolvelib's stateful core; only used to add a cache (see _FastResolution)
    from resolvelib.resolvers.resolution import Resolution as _RLResolution
except ImportError:  # pragma: no cover - other resolvelib layouts
    _RLResolution = None


if _RLResolution is not None and hasattr(_RLResolution, "_is_current_pin_satisfying"):

    class _FastResolution(_RLResolution):  # type: ignore[misc,valid-type]
        """resolvelib's Resolution with its per-round "is every pin still satisfying?"
        scan memoised.  Each round resolvelib re-checks every requirement of every pinned
        pack (quadratic in the size of the graph); the criteria are immutable objects, so
        the answer for one (criterion, pin) pair never changes.  The cache holds the
        objects themselves, so their ids cannot be reused while it lives."""

        def __init__(self, provider: Any, reporter: Any) -> None:
            super().__init__(provider, reporter)
            self._pin_cache: dict[int, tuple[Any, Any, bool]] = {}

        def _is_current_pin_satisfying(self, name: Any, criterion: Any) -> bool:
            pin = self._states[-1].mapping.get(name)
            if pin is None:
                return False
            hit = self._pin_cache.get(id(criterion))
            if hit is not None and hit[1] is pin and hit[0] is criterion:
                return hit[2]
            ok = all(self._p.is_satisfied_by(r, pin) for r in criterion.iter_requirement())
            self._pin_cache[id(criterion)] = (criterion, pin, ok)
            return ok

    def _backtracking(
        provider: _Provider, reqs: list[_Req], max_rounds: int
    ) -> dict[str, Candidate]:
        state = _FastResolution(provider, BaseReporter()).resolve(reqs, max_rounds=max_rounds)
        return dict(state.mapping)

else:  # pragma: no cover

    def _backtracking(
        provider: _Provider, reqs: list[_Req], max_rounds: int
    ) -> dict[str, Candidate]:
        result = Resolver(provider, BaseReporter()).resolve(reqs, max_rounds=max_rounds)
        return dict(result.mapping)


@dataclass
class _Greedy:
    chosen: dict[str, Candidate]
    trouble: set[str]  # refs involved in a clash (empty: ``chosen`` is a solution)
    unmatched: bool  # some requirement matched no candidate at all


def _greedy(provider: _Provider, reqs: list[_Req]) -> _Greedy:
    """The fast path: take the preferred candidate for each pack when it is first met
    (with every requirement on it known so far) and check every later requirement
    against it.  Without a clash, every pack got its most preferred version among those
    satisfying all the constraints on it -- what the backtracking resolver would choose,
    in linear time.  A clash is recorded (the packs involved) and the pass goes on, so
    that the rest of the graph is known for a local repair."""
    chosen: dict[str, Candidate] = {}
    trouble: set[str] = set()
    unmatched = False
    pending: dict[str, list[_Req]] = {}  # every requirement met so far, per ref
    for r in reqs:
        pending.setdefault(r.ref, []).append(r)
    queue = list(reqs)
    i = 0
    while i < len(queue):
        req = queue[i]
        i += 1
        if req.ref in trouble:
            continue
        pin = chosen.get(req.ref)
        if pin is not None:
            if not req.allows(pin):
                trouble.add(req.ref)
                trouble.update(r.parent.ref for r in pending[req.ref] if r.parent is not None)
            continue
        known = pending[req.ref]
        matches = provider.find_matches(req.ref, {req.ref: iter(known)}, {req.ref: iter(())})
        if not matches:
            trouble.add(req.ref)
            trouble.update(r.parent.ref for r in known if r.parent is not None)
            # One requirement impossible on its own is a broken release (prune helps);
            # otherwise several requirements clash (backtracking helps).
            unmatched = unmatched or any(
                not provider.find_matches(req.ref, {req.ref: iter((r,))}, {req.ref: iter(())})
                for r in known
            )
            continue
        pin = matches[0]
        chosen[req.ref] = pin
        for dep in _requirements_of(pin):
            pending.setdefault(dep.ref, []).append(dep)
            queue.append(dep)
    return _Greedy(chosen, trouble, unmatched)


class _Subproblem(_Provider):
    """The packs outside ``frozen`` as a problem of their own: a candidate fits only if
    its requirements on frozen packs hold for their pins, and only its requirements on
    the other packs are left to resolve."""

    def __init__(self, base: _Provider, frozen: dict[str, Candidate]) -> None:
        super().__init__(base._candidates_for, base._installed, base._upgrade)
        self._base = base
        self._dead = base._dead
        self._frozen = frozen

    def all_candidates(self, ref: str) -> list[Candidate]:
        found = self._all.get(ref)
        if found is None:
            frozen = self._frozen
            found = [
                c
                for c in self._base.all_candidates(ref)
                if all(r.allows(frozen[r.ref]) for r in _requirements_of(c) if r.ref in frozen)
            ]
            self._all[ref] = found
        return found

    def get_dependencies(self, candidate: Candidate) -> list[_Req]:
        return [r for r in _requirements_of(candidate) if r.ref not in self._frozen]


def _consistent(mapping: dict[str, Candidate], reqs: list[_Req]) -> bool:
    """Every requirement of the request, and of every pack it reaches, holds."""
    if not all(r.ref in mapping and r.allows(mapping[r.ref]) for r in reqs):
        return False
    return all(
        r.ref in mapping and r.allows(mapping[r.ref])
        for cand in _connected(mapping, reqs).values()
        for r in _requirements_of(cand)
    )


def _repair(
    provider: _Provider, reqs: list[_Req], first: _Greedy, max_rounds: int
) -> dict[str, Candidate] | None:
    """Backtrack over the packs involved in the clashes only, the others staying at the
    fast path's choice; None when that is not enough (then the whole graph is searched).
    Resolution time is dominated by resolvelib's per-round scan of every pack, so a
    small sub-problem is much faster, and any answer is checked in full."""
    frozen = {ref: c for ref, c in first.chosen.items() if ref not in first.trouble}
    sub_reqs = [r for r in reqs if r.ref not in frozen]
    sub_reqs += [
        r for cand in frozen.values() for r in _requirements_of(cand) if r.ref not in frozen
    ]
    try:
        found = _backtracking(_Subproblem(provider, frozen), sub_reqs, max_rounds)
    except (ResolutionImpossible, ResolutionTooDeep):
        return None
    mapping = {**frozen, **found}
    return mapping if _consistent(mapping, reqs) else None


def _solve(provider: _Provider, reqs: list[_Req], max_rounds: int) -> dict[str, Candidate]:
    """fast path -> (prune broken releases, fast path) -> local repair -> full backtracking."""
    first = _greedy(provider, reqs)
    # A requirement nothing matches often means a broken release (it needs a version
    # that does not exist): drop those and try the fast path once more.
    if first.trouble and first.unmatched and provider.prune({r.ref for r in reqs}):
        first = _greedy(provider, reqs)
    if not first.trouble:
        return first.chosen
    repaired = _repair(provider, reqs, first, max_rounds)
    if repaired is not None:
        return repaired
    return _backtracking(provider, reqs, max_rounds)


# --------------------------------------------------------------------------- explain


def _who(req: _Req, installed: Mapping[str, Candidate]) -> str:
    parent = req.parent
    if parent is None:
        return "the request"
    tag = " (installed)" if installed.get(parent.ref) is parent else ""
    return f"{parent}{tag}"


def _group(reqs: list[_Req]) -> list[list[_Req]]:
    """Requirements with the same text from versions of the same pack, together."""
    groups: dict[tuple[str | None, str], list[_Req]] = {}
    for r in reqs:
        key = (r.parent.ref if r.parent is not None else None, r.text)
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def _needs(group: list[_Req], provider: _Provider, installed: Mapping[str, Candidate]) -> str:
    first = group[0]
    if len(group) == 1 or first.parent is None:
        return f"{_who(first, installed)} needs {first.text}"
    ref = first.parent.ref
    versions = sorted({r.parent.version for r in group if r.parent is not None}, key=version_key)
    everything = {c.version for c in provider.all_candidates(ref)}
    if set(versions) >= everything:
        return f"every {ref} version ({', '.join(versions)}) needs {first.text}"
    return f"{ref}@{', '.join(versions)} need {first.text}"


def _explain(causes: Iterable[Any], provider: _Provider, installed: Mapping[str, Candidate]) -> str:
    by_ref: dict[str, list[_Req]] = {}
    for info in causes:
        req: _Req = info.requirement
        reqs = by_ref.setdefault(req.ref, [])
        if all(r is not req for r in reqs):
            reqs.append(req)
    parts = []
    for ref, reqs in by_ref.items():
        versions = provider.all_candidates(ref)
        if not versions:
            needers = ", ".join(sorted({_who(r, installed) for r in reqs}))
            parts.append(f"no version of pack '{ref}' is available (needed by {needers})")
            continue
        shown = [c.version for c in versions[:6]]
        more = f" and {len(versions) - 6} older" if len(versions) > 6 else ""
        avail = f"available: {', '.join(reversed(shown))}{more}"
        needs = ", ".join(_needs(group, provider, installed) for group in _group(reqs))
        hint = ""
        broken = [
            c
            for c in versions
            if c in provider._dead and all(r.allows(c) for r in reqs if r.ref == ref)
        ]
        if broken:
            hint = "; " + ", ".join(
                f"{c} needs {provider._dead[c].text}, which no usable version satisfies"
                for c in broken[:3]
            )
        elif all(c.key[4] for c in versions):
            hint = "; only pre-releases exist, which need an explicit pre-release constraint"
        parts.append(f"cannot satisfy '{ref}': {needs} ({avail}{hint})")
    return "; ".join(parts) or "the dependencies cannot be satisfied"


def _connected(mapping: dict[str, Candidate], reqs: list[_Req]) -> dict[str, Candidate]:
    """Only what some requirement of the request reaches (drops stale pins)."""
    connected: set[str] = set()
    todo = [r.ref for r in reqs]
    while todo:
        r = todo.pop()
        if r in connected or r not in mapping:
            continue
        connected.add(r)
        todo.extend(q.ref for q in _requirements_of(mapping[r]))
    return {k: v for k, v in mapping.items() if k in connected}
