"""``attune pack install`` and ``attune pack uninstall``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from attune_packs.cli.grammar import FILES, REFS, Arg, Opt, command
from attune_packs.cli.render import Rendered, settings, table
from attune_packs.errors import AttuneError, UsageError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from attune_packs.events import EventBus

PROGRESS_MODES = ("auto", "plain", "json", "none")
ProgressOpt = Opt(
    "--progress",
    metavar="MODE",
    choices=PROGRESS_MODES,
    default="auto",
    help="Progress on stderr: auto (bars on a terminal, lines otherwise), plain, json, none.",
)


def progress_bus(mode: str) -> AbstractContextManager[EventBus]:
    """The progress renderer of ``cli/progress.py`` (it honours ``-q`` itself)."""
    from attune_packs.cli import progress

    return progress.progress_bus(mode)


def _describe(r: dict[str, Any]) -> str:
    what = f"{r['ref']} {r['version']}"
    prev = r.get("previous_version")
    if r["status"] == "already_installed":
        return f"{what} is already installed"
    verb = {"install": "installed", "upgrade": "upgraded", "downgrade": "downgraded"}.get(
        r["action"], "reinstalled"
    )
    if r["action"] in ("upgrade", "downgrade") and prev:
        verb += f" from {prev}"
    if r["status"] == "dry_run":
        return f"dry run: {what} would be {verb}"
    return f"{what} {verb}"


def _source_text(src: dict[str, Any]) -> str:
    from attune_packs.fetch.provenance import Source

    return Source(
        src.get("type") or "",
        src.get("url"),
        src.get("git_ref"),
        src.get("checksum"),
        src.get("registry"),
    ).describe()


def _result_source(r: dict[str, Any]) -> dict[str, Any]:
    meta_type = r.get("source_type") or ""
    return {
        "type": meta_type,
        "url": r.get("source_url") or r.get("source_ref"),
        "git_ref": r.get("source_ref") if meta_type == "git" else None,
        "checksum": r.get("checksum"),
        "registry": r.get("registry_name"),
    }


def plan_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan of a dry run: each SOURCE's dependencies (install order), then itself."""
    rows: list[dict[str, Any]] = []
    for r in results:
        for d in r.get("dependencies") or []:
            rows.append({**d, "required_by": list(d.get("required_by") or [])})
        action = "keep" if r["status"] == "already_installed" else r["action"]
        rows.append(
            {
                "ref": r["ref"],
                "version": r["version"],
                "action": action,
                "status": "kept" if action == "keep" else "planned",
                "installed_version": r.get("previous_version"),
                "requested": True,
                "required_by": ["(requested)"],
                "source": _result_source(r),
            }
        )
    return rows


def _plan_table(rows: list[dict[str, Any]]) -> str:
    body = [
        (
            str(i),
            r["ref"],
            r["version"],
            r["action"],
            r.get("installed_version") or "-",
            "installed" if r["action"] == "keep" else _source_text(r["source"]),
            ", ".join(r.get("required_by") or []) or "-",
        )
        for i, r in enumerate(rows, 1)
    ]
    return table(body, ["#", "pack", "version", "action", "installed", "from", "required by"])


@command(
    "install",
    Arg(
        "sources",
        nargs="*",
        metavar="SOURCE",
        complete=FILES,
        help="A pack folder or its pack.yaml, a local archive (.zip .tar.gz .tgz .tar), an "
        "archive URL, a git repository (URL or bare repository path), or a registry "
        "requirement (ref, ref@1.2.3, ref@^1.2, ref@latest).",
    ),
    Opt("--ref-spec", metavar="R", help="Git branch, tag or commit to install."),
    Opt("--force", flag=True, help="Reinstall the same version even if its content differs."),
    Opt("--skip-deps", flag=True, help="Do not check or install dependencies."),
    Opt("--skip-tests", flag=True, help="Do not run the pack's own tests."),
    Opt("--no-registry", flag=True, help="Never consult a registry."),
    Opt("--registry", metavar="NAME", help="Resolve requirements in this registry only."),
    Opt(
        "--expect-checksum",
        metavar="sha256:HEX",
        help="Refuse unless the pack (directory checksum) or the archive has this checksum.",
    ),
    Opt("--dry-run", flag=True, help="Fetch, validate, verify and test, but change nothing."),
    ProgressOpt,
    Opt("--refresh", flag=True, help="Re-download registry indices now."),
    Opt(
        "--locked",
        metavar="FILE",
        complete=FILES,
        help="Install exactly the packs of this lock file (attune pack lock), "
        "refusing any checksum difference.",
    ),
)
def install(
    sources: list[str],
    ref_spec: str | None,
    force: bool,
    skip_deps: bool,
    skip_tests: bool,
    no_registry: bool,
    registry: str | None,
    expect_checksum: str | None,
    dry_run: bool,
    progress: str,
    refresh: bool,
    locked: str | None,
) -> Rendered:
    """Install packs atomically into the versioned store and record every attempt.

    A new ref is installed, a higher version upgrades, a lower one downgrades; the
    same version with the same content is a no-op (exit 0); the same version with
    different content needs --force. Several SOURCEs are installed in order; the
    first failure stops the run (earlier ones stay installed).

    Missing pack dependencies are resolved over the installed packs and the
    registries and installed first (--skip-deps: no dependency work at all);
    --dry-run prints that plan and changes nothing.

    Examples:
      attune pack install ./my-pack
      attune pack install my-pack-1.2.0.tar.gz --expect-checksum sha256:...
      attune pack install slack@^2 --dry-run -o json
      attune pack install --locked attune-packs.lock
    """
    from attune_packs.install.options import InstallOptions
    from attune_packs.install.pipeline import Installer
    from attune_packs.pack.checksum import parse_checksum

    sources = list(sources or [])
    if locked is not None:
        if sources:
            raise UsageError("give either SOURCE... or --locked FILE, not both")
        clash = [
            name
            for name, given in (
                ("--ref-spec", ref_spec is not None),
                ("--expect-checksum", expect_checksum is not None),
                ("--registry", registry is not None),
                ("--no-registry", no_registry),
                ("--skip-deps", skip_deps),
                ("--refresh", refresh),
            )
            if given
        ]
        if clash:
            raise UsageError(
                f"{', '.join(clash)} cannot be used with --locked (the lock file fixes "
                "sources, checksums and dependencies)"
            )
        return _install_locked(locked, force, skip_tests, dry_run, progress)
    if not sources:
        raise UsageError("missing SOURCE: give at least one pack source (or --locked FILE)")
    if len(sources) > 1 and (expect_checksum is not None or ref_spec is not None):
        raise UsageError("--expect-checksum and --ref-spec take exactly one SOURCE")
    if expect_checksum is not None:
        parse_checksum(expect_checksum, "--expect-checksum value")
    if no_registry and registry is not None:
        raise UsageError("--registry and --no-registry cannot be used together")
    options = InstallOptions(
        ref_spec=ref_spec,
        force=force,
        skip_deps=skip_deps,
        skip_tests=skip_tests,
        no_registry=no_registry,
        registry=registry,
        expect_checksum=expect_checksum,
        dry_run=dry_run,
        refresh=refresh,
        installation_method="cli",
    )
    with progress_bus(progress) as bus:
        installer = Installer(settings(), bus)
        try:
            results = installer.install_each((source, options) for source in sources)
        finally:
            installer.close()

    data: dict[str, Any] = {"dry_run": dry_run, "results": results}
    if dry_run:
        data["plan"] = plan_rows(results)

        def plan_text() -> str:
            return "dry run: nothing was changed\n" + _plan_table(data["plan"])

        return Rendered(data, plan_text)

    def text() -> str:
        rows = []
        for r in results:
            for d in r.get("dependencies") or []:
                if d.get("status") in ("installed", "already_installed"):
                    what = _describe({**d, "previous_version": d.get("installed_version")})
                    rows.append((f"{what} (dependency of {r['ref']})", d.get("checksum") or ""))
            rows.append((_describe(r), r["checksum"]))
        return table(rows, ["result", "checksum"])

    return Rendered(data, text)


def _install_locked(
    path: str, force: bool, skip_tests: bool, dry_run: bool, progress_mode: str
) -> Rendered:
    from attune_packs.install import dependencies
    from attune_packs.resolve import lock as lock_mod
    from attune_packs.resolve import lockfile

    lock = lockfile.load(path)
    if dry_run:
        from attune_packs.db import open_database

        db = open_database(settings(), readonly=True)
        try:
            rows = lock_mod.locked_plan(lock, db)
        finally:
            if db is not None:
                db.close()
        data = {"dry_run": True, "locked": lock.path, "results": [], "plan": rows}
        return Rendered(data, lambda: "dry run: nothing was changed\n" + _plan_table(rows))
    with progress_bus(progress_mode) as bus:
        results = dependencies.install_locked(
            settings(), lock, bus=bus, force=force, skip_tests=skip_tests
        )
    data = {"dry_run": False, "locked": lock.path, "results": results}

    def text() -> str:
        return table(
            [(_describe(r) + " (locked)", r["checksum"]) for r in results], ["result", "checksum"]
        )

    return Rendered(data, text)


@command(
    "uninstall",
    Arg("ref", help="The installed pack to remove.", complete=REFS),
    Opt("--yes", "-y", flag=True, help="Do not ask for confirmation."),
    Opt("--force", flag=True, help="Remove it even if installed packs depend on it."),
)
def uninstall(ref: str, yes: bool, force: bool) -> Rendered:
    """Remove an installed pack (every kept version); its audit history stays.

    Refuses while another installed pack depends on it, unless --force. Asks for
    confirmation on a terminal; elsewhere pass --yes.

    Example:
      attune pack uninstall slack --yes
    """
    from attune_packs.install.pipeline import Installer

    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"refusing to uninstall {ref} without confirmation: pass --yes",
                code="confirmation_required",
            )
        if not _confirm(f"Uninstall {ref}? [y/N]: "):
            raise AttuneError("uninstall cancelled", code="cancelled")
    installer = Installer(settings())
    try:
        result = installer.uninstall(ref, force=force)
    finally:
        installer.close()
    removed = ", ".join(result["removed_versions"]) or "-"
    text = f"{ref} {result['version']} uninstalled (removed versions: {removed})"
    return Rendered(result, text, 0, [f"warning: {w}" for w in result["warnings"]])


def _confirm(question: str) -> bool:
    """Ask on the terminal; only an explicit yes is a yes."""
    sys.stderr.write(question)
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (EOFError, OSError):
        return False
    return answer.strip().lower() in ("y", "yes")
