"""``attune pack deps`` (the resolved dependency tree) and ``attune pack lock``."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from attune_packs.cli.grammar import FILES, Arg, Opt, command
from attune_packs.cli.render import Rendered, count, settings, table
from attune_packs.errors import UsageError

if TYPE_CHECKING:
    from attune_packs.events import EventBus

RESOLVE_OPTIONS = (
    Opt("--registry", metavar="NAME", help="Resolve in this registry only."),
    Opt("--no-registry", flag=True, help="Never consult a registry."),
    Opt("--refresh", flag=True, help="Re-download registry indices now."),
)


def _bus() -> EventBus:
    """Warnings (e.g. a stale cached index) as one stderr line each."""
    from attune_packs.events import EventBus

    def listen(event: Any) -> None:
        if getattr(event, "event", None) == "warning":
            sys.stderr.write(f"warning: {_clean(event.message)}\n")
            sys.stderr.flush()

    return EventBus(listen)


def _clean(text: Any) -> str:
    """One terminal-safe line (index data may hold control characters)."""
    text = " ".join(str(text).split())
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def _columns(rows: list[list[str]], headers: list[str]) -> str:
    """Left-aligned columns; the first column keeps its tree drawing."""
    lines = [headers, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip()
        for line in lines
    )


def _check_options(registry: str | None, no_registry: bool) -> None:
    if no_registry and registry is not None:
        raise UsageError("--registry and --no-registry cannot be used together")


# --------------------------------------------------------------------------- deps


def _tree_rows(nodes: list[dict[str, Any]]) -> list[list[str]]:
    from attune_packs.fetch.provenance import Source

    rows: list[list[str]] = []

    def walk(node: dict[str, Any], prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        name = prefix + branch + _clean(node["ref"])
        src = node["source"]
        if node["action"] == "keep":
            where = "installed"
        else:
            where = Source(
                src["type"], src["url"], src["git_ref"], src["checksum"], src["registry"]
            ).describe()
        action = node["action"]
        if node.get("installed_version") and action in ("upgrade", "downgrade"):
            action += f" from {node['installed_version']}"
        if node.get("cycle"):
            action, where = "(cycle)", "see above"
        rows.append(
            [
                name,
                _clean(node["version"]),
                action,
                _clean(node["constraint"]),
                _clean(where),
            ]
        )
        children = node.get("dependencies") or []
        child_prefix = prefix + ("" if depth == 0 else ("   " if last else "│  "))
        for i, child in enumerate(children):
            walk(child, child_prefix, i == len(children) - 1, depth + 1)

    for root in nodes:
        walk(root, "", True, 0)
    return rows


@command(
    "deps",
    Arg(
        "target",
        metavar="REF|PATH",
        complete=FILES,
        help="An installed pack (ref), a registry requirement (ref@^1.2) or a pack "
        "folder or archive.",
    ),
    *RESOLVE_OPTIONS,
)
def deps(target: str, registry: str | None, no_registry: bool, refresh: bool) -> Rendered:
    """Show the resolved dependency tree of a pack, without installing anything.

    Every pack is listed with the version chosen, whether it is kept (installed),
    installed, upgraded or downgraded, the constraint that led to it and where it
    would come from.

    An installed REF keeps its version; a requirement that is not installed, or a
    PATH, is resolved over the installed packs and the registries, exactly as
    `attune pack install` would. Exit 1 with an explanation when it cannot be
    satisfied.

    Examples:
      attune pack deps incident_response
      attune pack deps 'incident_response@^1' -o json
      attune pack deps ./my-pack
    """
    from attune_packs.db import open_database
    from attune_packs.fetch import local, spec
    from attune_packs.pack.model import parse_pack_requirement
    from attune_packs.resolve import planner as planning

    _check_options(registry, no_registry)
    s = settings()
    bus = _bus()
    db = open_database(s, readonly=True)
    try:
        planner = planning.Planner(
            s, db=db, bus=bus, registry=registry, no_registry=no_registry, refresh=refresh
        )
        if spec.looks_like_path(target):
            pack = local.load_local(target, s, checksum=False)
            root = pack.manifest.ref
            cand = planning.local_candidate(pack.manifest, pack.source)
            plan = planner.plan([root], local=[cand])
            kind = "path"
        else:
            try:
                req = parse_pack_requirement(target)
            except ValueError as exc:
                raise UsageError(str(exc), code="invalid_requirement") from None
            root = req.ref
            row = db.get_pack(req.ref) if db is not None else None
            from attune_packs.versioning import satisfies

            if row is not None and satisfies(row.version, req.constraint):
                plan = planner.plan([], pinned={req.ref: row.version})
                kind = "installed"
            else:
                plan = planner.plan([str(req)])
                kind = "requirement"
    finally:
        if db is not None:
            db.close()
    tree = plan.tree()
    data = {
        "target": target,
        "kind": kind,
        "root": root,
        "tree": tree,
        "order": [item.to_dict() for item in plan.items],
    }

    def text() -> str:
        rows = _tree_rows(tree)
        out = _columns(rows, ["pack", "version", "action", "constraint", "from"])
        todo = [i for i in plan.items if i.action != "keep"]
        total = len(plan.items)
        summary = (
            f"{count(total, 'pack')}: {len(todo)} to install or change, {total - len(todo)} kept"
        )
        return out + "\n\n" + summary

    return Rendered(data, text)


# --------------------------------------------------------------------------- lock


@command(
    "lock",
    Arg(
        "requirements",
        nargs="+",
        metavar="REQUIREMENT",
        complete=FILES,
        help="Registry requirements (ref, ref@1.2.3, ref@^1.2) and pack folders or archives.",
    ),
    Opt(
        "--file",
        "-f",
        metavar="FILE",
        default="attune-packs.lock",
        complete=FILES,
        help="The lock file to write.",
    ),
    Opt(
        "--check",
        flag=True,
        help="Write nothing; exit 1 if FILE is missing or differs from a fresh lock.",
    ),
    *RESOLVE_OPTIONS,
)
def lock(
    requirements: list[str],
    file: str,
    check: bool,
    registry: str | None,
    no_registry: bool,
    refresh: bool,
) -> Rendered:
    """Write a lock file: the exact versions, sources and checksums of every pack.

    Requirements are resolved from the registries, ignoring what is installed;
    the file is sorted by ref in one canonical form (the same set gives the same
    bytes). Install it with `attune pack install --locked FILE`.

    Examples:
      attune pack lock incident_response
      attune pack lock 'core_utils@^1' ./my-pack --file site.lock
      attune pack lock incident_response --check
    """
    from attune_packs.resolve import lock as lock_mod
    from attune_packs.resolve import lockfile

    _check_options(registry, no_registry)
    s = settings()
    lock = lock_mod.lock(
        s,
        requirements,
        bus=_bus(),
        registry=registry,
        no_registry=no_registry,
        refresh=refresh,
    )
    path = os.path.abspath(file)
    if check:
        try:
            with open(path, "rb") as fh:
                current = fh.read()
        except OSError:
            current = None
        up_to_date = current == lockfile.dump(lock).encode("ascii")
        written = False
    else:
        written = lockfile.write(path, lock)
        up_to_date = True
    data = {"file": path, "written": written, "up_to_date": up_to_date, **lock.to_dict()}

    def text() -> str:
        rows = [(p.ref, p.version, _clean(p.source().describe()), p.checksum) for p in lock.packs]
        out = table(rows, ["pack", "version", "source", "checksum"])
        if check:
            state = "is up to date" if up_to_date else "is out of date (run without --check)"
        else:
            state = "written" if written else "unchanged"
        return f"{out}\n\n{file}: {count(len(lock.packs), 'pack')}, {state}"

    messages = [] if up_to_date else [f"error: {file} is missing or out of date"]
    return Rendered(data, text, 0 if up_to_date else 1, messages)
