"""``attune pack list``, ``show``, ``history``, ``rollback`` and ``verify``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from attune_packs.cli.facade import manager
from attune_packs.cli.grammar import REFS, Arg, Opt, command, positive_int
from attune_packs.cli.render import Rendered, kv_table, settings, table

if TYPE_CHECKING:
    from datetime import datetime

    from attune_packs.install.queries import AuditTrail, PackDetails, PackList
    from attune_packs.install.run import VerifyReport


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


# --------------------------------------------------------------------------- list


def _text_list(packs: PackList) -> str:
    if not packs:
        return "no packs installed"
    rows = [
        (p.ref, p.version, p.source_type, _short(p.updated_at), p.checksum[:19] + "…")
        for p in packs
    ]
    return table(rows, ["ref", "version", "source", "updated", "checksum"])


@command("list")
def list_packs() -> Rendered:
    """List installed packs (active version, source, checksum).

    Example:
      attune pack list -o json
    """
    packs = manager().list()
    return Rendered(packs.to_dict(), lambda: _text_list(packs))


# --------------------------------------------------------------------------- show


def _text_show(d: PackDetails) -> str:
    p = d.pack
    pairs = [
        ("ref", p.ref),
        ("version", p.version),
        ("label", p.label),
        ("description", p.description),
        ("author", p.author),
        ("license", p.license),
        ("source", p.source_type),
        ("source url", p.source_url),
        ("source ref", p.source_ref),
        ("registry", p.registry_name),
        ("checksum", p.checksum),
        ("path", p.storage_path),
        ("link", f"{d.active_link} -> {d.link_target}"),
        ("kept versions", ", ".join(d.kept_versions) or "-"),
        ("installed", _ts(p.installed_at)),
        ("updated", _ts(p.updated_at)),
    ]
    if d.last_change is not None:
        a = d.last_change
        pairs.append(
            (
                "last change",
                f"#{a.id} {a.action} {a.status} by {a.installed_by} ({a.installation_method})",
            )
        )
    out = kv_table(pairs)
    if d.dependencies:
        out += "\n\ndependencies:\n" + table(
            [(x.kind, x.name, x.constraint or "*") for x in d.dependencies],
            ["kind", "name", "constraint"],
        )
    if d.dependents:
        out += "\n\nrequired by:\n" + table(
            [(x.ref, x.constraint or "*") for x in d.dependents], ["pack", "constraint"]
        )
    return out


@command("show", Arg("ref", help="An installed pack.", complete=REFS))
def show(ref: str) -> Rendered:
    """Show one installed pack: version, provenance, checksum, dependencies and dependents.

    Example:
      attune pack show slack
    """
    details = manager().show(ref)
    return Rendered(details.to_dict(), lambda: _text_show(details))


# --------------------------------------------------------------------------- history

_HISTORY_HEADERS = [
    "id",
    "finished",
    "ref",
    "action",
    "status",
    "version",
    "source",
    "method",
    "by",
    "error",
]


def _text_history(trail: AuditTrail) -> str:
    if not trail:
        return "no history" + (f" for {trail.ref}" if trail.ref else "")
    rows = [
        (
            a.id,
            _short(a.finished_at),
            a.pack_ref or "?",
            a.action,
            a.status,
            (
                f"{a.previous_version} -> "
                if a.previous_version and a.previous_version != a.pack_version
                else ""
            )
            + (a.pack_version or "?"),
            a.source_type or "-",
            a.installation_method or "-",
            a.installed_by or "-",
            a.error_message or "",
        )
        for a in trail
    ]
    return table(rows, _HISTORY_HEADERS)


@command(
    "history",
    Arg("ref", nargs="?", help="Only this pack's attempts.", complete=REFS),
    Opt("--limit", "-n", metavar="N", type=positive_int, help="At most N rows (newest first)."),
)
def history(ref: str | None, limit: int | None) -> Rendered:
    """Show the audit trail: every install, upgrade, downgrade, reinstall, rollback
    and uninstall attempt, successful or failed, newest first.

    Example:
      attune pack history slack --limit 5
    """
    trail = manager().history(ref, limit=limit)
    return Rendered(trail.to_dict(), lambda: _text_history(trail))


# --------------------------------------------------------------------------- rollback


@command("rollback", Arg("ref", help="An installed pack.", complete=REFS))
def rollback(ref: str) -> Rendered:
    """Re-activate the previously active version that is still kept (keep_versions).

    The kept folder is re-hashed first; a modified one is refused.

    Example:
      attune pack rollback slack
    """
    from attune_packs.install.run import rollback_pack

    result = rollback_pack(settings(), ref, method="cli")
    text = f"{ref} rolled back from {result.previous_version} to {result.version}"
    return Rendered(result.to_dict(), text)


# --------------------------------------------------------------------------- verify


def _text_verify(report: VerifyReport) -> str:
    reports = report.packs
    if not reports:
        return "no packs installed"
    lines = [
        (
            r["ref"],
            r["version"] or "-",
            "ok" if r["ok"] else "FAILED",
            r["actual"] or r["expected"] or "-",
        )
        for r in reports
    ]
    out = table(lines, ["ref", "version", "status", "checksum"])
    details = []
    for r in reports:
        if not r["ok"] and r["expected"] is not None:  # (not installed: nothing to compare)
            details.append(f"  {r['ref']}: expected checksum {r['expected']}")
            details.append(f"  {r['ref']}: found checksum    {r['actual'] or '-'}")
        for kind in ("changed", "added", "missing"):
            details += [f"  {r['ref']}: {kind} {rel}" for rel in r[kind]]
        details += [f"  {r['ref']}: {e}" for e in r["errors"]]
    return out + ("\n" + "\n".join(details) if details else "")


@command(
    "verify",
    Arg(
        "refs",
        nargs="*",
        metavar="REF",
        help="Packs to check (default: every installed pack).",
        complete=REFS,
    ),
)
def verify(refs: list[str]) -> Rendered:
    """Re-hash installed packs against the checksums recorded at install time.

    Exit 1 if any pack differs, naming every changed, added and missing file.

    Example:
      attune pack verify -o json
    """
    report = manager().verify(refs or None)
    return Rendered(
        report.to_dict(), lambda: _text_verify(report), 0 if report.ok else 1, report.problems()
    )
