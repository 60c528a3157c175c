"""``attune pack deps`` (the resolved dependency tree) and ``attune pack lock``."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from attune_packs.cli.grammar import FILES, Arg, Opt, command
from attune_packs.cli.render import Rendered, count, settings, table

if TYPE_CHECKING:
    from attune_packs.events import EventBus
    from attune_packs.resolve.reports import DepsReport, LockReport

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


# --------------------------------------------------------------------------- deps


def _tree_rows(nodes: list[dict[str, Any]]) -> list[list[str]]:
    from attune_packs.resolve.reports import describe_source

    rows: list[list[str]] = []

    def walk(node: dict[str, Any], prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└─ " if last else "├─ ")
        name = prefix + branch + _clean(node["ref"])
        where = "installed" if node["action"] == "keep" else describe_source(node["source"])
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


def _text_deps(report: DepsReport) -> str:
    out = _columns(_tree_rows(report.tree), ["pack", "version", "action", "constraint", "from"])
    total, todo = report.total, report.changes
    return out + f"\n\n{count(total, 'pack')}: {todo} to install or change, {total - todo} kept"


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
    from attune_packs.resolve.reports import check_registry_options, dependency_tree

    check_registry_options(registry, no_registry)
    report = dependency_tree(
        settings(), target, registry=registry, no_registry=no_registry, refresh=refresh, bus=_bus()
    )
    return Rendered(report.to_dict(), lambda: _text_deps(report))


# --------------------------------------------------------------------------- lock


def _text_lock(report: LockReport, file: str) -> str:
    from attune_packs.resolve.reports import describe_source

    packs = report.packs()
    rows = [
        (p["ref"], p["version"], _clean(describe_source(p["source"])), p["checksum"]) for p in packs
    ]
    out = table(rows, ["pack", "version", "source", "checksum"])
    if report.check:
        state = (
            "is up to date"
            if report.up_to_date
            else "does not exist yet (run without --check to write it)"
            if not os.path.exists(report.file)
            else "is out of date (run without --check)"
        )
    else:
        state = "written" if report.written else "unchanged"
    return f"{out}\n\n{file}: {count(len(packs), 'pack')}, {state}"


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
    from attune_packs.resolve.reports import check_registry_options, lock_to_file

    check_registry_options(registry, no_registry)
    report = lock_to_file(
        settings(),
        requirements,
        file,
        check=check,
        registry=registry,
        no_registry=no_registry,
        refresh=refresh,
        bus=_bus(),
    )
    missing = not report.up_to_date and not os.path.exists(report.file)
    messages = (
        []
        if report.up_to_date
        else [f"error: {file} does not exist" if missing else f"error: {file} is out of date"]
    )
    return Rendered(
        report.to_dict(), lambda: _text_lock(report, file), 0 if report.up_to_date else 1, messages
    )
