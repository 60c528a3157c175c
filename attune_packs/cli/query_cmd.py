"""``attune pack list``, ``show``, ``history``, ``rollback`` and ``verify``."""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attune_packs.cli.grammar import REFS, Arg, Opt, command, positive_int
from attune_packs.cli.render import Rendered, kv_table, settings, table
from attune_packs.errors import NotFound, UsageError

if TYPE_CHECKING:
    from attune_packs.db import DependencyRecord, InstallationRecord, PackRecord


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def pack_doc(p: PackRecord) -> dict[str, Any]:
    return {
        "ref": p.ref,
        "version": p.version,
        "label": p.label,
        "description": p.description,
        "author": p.author,
        "license": p.license,
        "checksum": p.checksum,
        "storage_path": p.storage_path,
        "source_type": p.source_type,
        "source_url": p.source_url,
        "source_ref": p.source_ref,
        "registry_name": p.registry_name,
        "installed_at": _ts(p.installed_at),
        "updated_at": _ts(p.updated_at),
    }


def dep_doc(d: DependencyRecord) -> dict[str, Any]:
    return {"kind": d.kind, "name": d.name, "constraint": d.constraint}


def audit_doc(a: InstallationRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "pack_ref": a.pack_ref,
        "pack_version": a.pack_version,
        "previous_version": a.previous_version,
        "action": a.action,
        "status": a.status,
        "source_type": a.source_type,
        "source_url": a.source_url,
        "source_ref": a.source_ref,
        "registry_name": a.registry_name,
        "checksum": a.checksum,
        "checksum_subject": a.checksum_subject,
        "checksum_verified": a.checksum_verified,
        "storage_path": a.storage_path,
        "installed_by": a.installed_by,
        "installation_method": a.installation_method,
        "started_at": _ts(a.started_at),
        "finished_at": _ts(a.finished_at),
        "error_message": a.error_message,
        "meta": a.meta or {},
    }


def _installer() -> Any:
    from attune_packs.install.pipeline import Installer

    return Installer(settings())


@command("list")
def list_packs() -> Rendered:
    """List installed packs (active version, source, checksum).

    Example:
      attune pack list -o json
    """
    inst = _installer()
    try:
        packs = inst.db.list_packs()
    finally:
        inst.close()
    data = [pack_doc(p) for p in packs]

    def text() -> str:
        if not packs:
            return "no packs installed"
        rows = [
            (p.ref, p.version, p.source_type, _short(p.updated_at), p.checksum[:19] + "…")
            for p in packs
        ]
        return table(rows, ["ref", "version", "source", "updated", "checksum"])

    return Rendered(data, text)


@command("show", Arg("ref", help="An installed pack.", complete=REFS))
def show(ref: str) -> Rendered:
    """Show one installed pack: version, provenance, checksum, dependencies and dependents.

    Example:
      attune pack show slack
    """
    inst = _installer()
    try:
        db = inst.db
        p = db.get_pack(ref)
        if p is None:
            raise NotFound(f"pack {ref!r} is not installed")
        deps = db.dependencies(ref)
        dependents = db.dependents(ref)
        last = db.history(ref, limit=1)
        kept = inst.store.versions_on_disk(ref)
        link = inst.store.read_link(ref)
    finally:
        inst.close()
    data = pack_doc(p)
    data.update(
        {
            "active_link": os.fspath(inst.store.link_path(ref)),
            "link_target": link,
            "kept_versions": kept,
            "dependencies": [dep_doc(d) for d in deps],
            "dependents": [{"ref": d.pack_ref, "constraint": d.constraint} for d in dependents],
            "last_change": audit_doc(last[0]) if last else None,
            "manifest": p.manifest or {},
        }
    )

    def text() -> str:
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
            ("link", f"{inst.store.link_path(ref)} -> {link}"),
            ("kept versions", ", ".join(kept) or "-"),
            ("installed", _ts(p.installed_at)),
            ("updated", _ts(p.updated_at)),
        ]
        if last:
            a = last[0]
            pairs.append(
                (
                    "last change",
                    f"#{a.id} {a.action} {a.status} by {a.installed_by} ({a.installation_method})",
                )
            )
        out = kv_table(pairs)
        if deps:
            out += "\n\ndependencies:\n" + table(
                [(d.kind, d.name, d.constraint or "*") for d in deps],
                ["kind", "name", "constraint"],
            )
        if dependents:
            out += "\n\nrequired by:\n" + table(
                [(d.pack_ref, d.constraint or "*") for d in dependents], ["pack", "constraint"]
            )
        return out

    return Rendered(data, text)


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
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    inst = _installer()
    try:
        rows = inst.db.history(ref, limit)
    finally:
        inst.close()
    data = [audit_doc(a) for a in rows]

    def text() -> str:
        if not rows:
            return "no history" + (f" for {ref}" if ref else "")
        out = [
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
            for a in rows
        ]
        return table(
            out,
            [
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
            ],
        )

    return Rendered(data, text)


@command("rollback", Arg("ref", help="An installed pack.", complete=REFS))
def rollback(ref: str) -> Rendered:
    """Re-activate the previously active version that is still kept (keep_versions).

    The kept folder is re-hashed first; a modified one is refused.

    Example:
      attune pack rollback slack
    """
    inst = _installer()
    try:
        result = inst.rollback(ref)
    finally:
        inst.close()
    text = f"{ref} rolled back from {result['previous_version']} to {result['version']}"
    return Rendered(result, text)


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
    inst = _installer()
    try:
        reports = inst.verify(refs or None)
    finally:
        inst.close()
    ok = all(r["ok"] for r in reports)
    data = {"ok": ok, "packs": reports}
    messages: list[str] = []
    for r in reports:
        if r["ok"]:
            continue
        parts = [f"{k} {', '.join(r[k])}" for k in ("changed", "added", "missing") if r[k]]
        parts += r["errors"]
        who = f"{r['ref']} {r['version']}" if r["version"] else r["ref"]
        messages.append(f"error: {who}: " + "; ".join(parts))

    def text() -> str:
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
            if not r["ok"]:
                details.append(f"  {r['ref']}: expected checksum {r['expected']}")
                details.append(f"  {r['ref']}: found checksum    {r['actual'] or '-'}")
            for kind in ("changed", "added", "missing"):
                details += [f"  {r['ref']}: {kind} {rel}" for rel in r[kind]]
            details += [f"  {r['ref']}: {e}" for e in r["errors"]]
        return out + ("\n" + "\n".join(details) if details else "")

    return Rendered(data, text, 0 if ok else 1, messages)
