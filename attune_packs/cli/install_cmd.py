"""``attune pack install`` and ``attune pack uninstall``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from attune_packs.cli.facade import manager
from attune_packs.cli.grammar import FILES, REFS, Arg, Opt, command
from attune_packs.cli.render import Rendered, settings, table
from attune_packs.errors import AttuneError, UsageError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from attune_packs.events import EventBus
    from attune_packs.install.run import InstallRun, LockedRun

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


def _text_plan(rows: list[dict[str, Any]]) -> str:
    from attune_packs.resolve.reports import describe_source

    body = [
        (
            str(i),
            r["ref"],
            r["version"],
            r["action"],
            r.get("installed_version") or "-",
            "installed" if r["action"] == "keep" else describe_source(r["source"]),
            ", ".join(r.get("required_by") or []) or "-",
        )
        for i, r in enumerate(rows, 1)
    ]
    body_text = table(body, ["#", "pack", "version", "action", "installed", "from", "required by"])
    return "dry run: nothing was changed\n" + body_text


def _text_install(run: InstallRun) -> str:
    if run.plan is not None:
        return _text_plan(run.plan)
    rows = []
    for r in run.results:
        for d in r.get("dependencies") or []:
            if d.get("status") in ("installed", "already_installed"):
                what = _describe({**d, "previous_version": d.get("installed_version")})
                rows.append((f"{what} (dependency of {r['ref']})", d.get("checksum") or ""))
        rows.append((_describe(r), r["checksum"]))
    return table(rows, ["result", "checksum"])


def _text_locked(run: LockedRun) -> str:
    if run.plan is not None:
        return _text_plan(run.plan)
    return table(
        [(_describe(r) + " (locked)", r["checksum"]) for r in run.results], ["result", "checksum"]
    )


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
    from attune_packs.install.run import check_install_request

    sources = list(sources or [])
    if locked is not None:  # (without --locked, the install itself checks the request)
        check_install_request(
            sources,
            locked=locked,
            ref_spec=ref_spec,
            expect_checksum=expect_checksum,
            registry=registry,
            no_registry=no_registry,
            skip_deps=skip_deps,
            refresh=refresh,
        )
        return _install_locked(locked, force, skip_tests, dry_run, progress)
    with progress_bus(progress) as bus:
        run = manager(bus).install(
            sources,
            ref_spec=ref_spec,
            force=force,
            skip_deps=skip_deps,
            skip_tests=skip_tests,
            no_registry=no_registry,
            registry=registry,
            expect_checksum=expect_checksum,
            dry_run=dry_run,
            refresh=refresh,
        )
    return Rendered(run.to_dict(), lambda: _text_install(run))


def _install_locked(
    path: str, force: bool, skip_tests: bool, dry_run: bool, progress_mode: str
) -> Rendered:
    """The lock file is read first; a dry run only reads the database (no progress)."""
    from attune_packs.install.run import install_locked_file, load_lock

    lock = load_lock(path)
    if dry_run:
        run = install_locked_file(settings(), lock, dry_run=True)
    else:
        with progress_bus(progress_mode) as bus:
            run = install_locked_file(settings(), lock, force=force, skip_tests=skip_tests, bus=bus)
    return Rendered(run.to_dict(), lambda: _text_locked(run))


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
    _confirm_uninstall(ref, yes)
    result = manager().uninstall(ref, force=force)
    removed = ", ".join(result.removed_versions) or "-"
    text = f"{ref} {result.version} uninstalled (removed versions: {removed})"
    return Rendered(result.to_dict(), text, 0, [f"warning: {w}" for w in result.warnings])


def _confirm_uninstall(ref: str, yes: bool) -> None:
    """Without --yes: ask on a terminal, refuse elsewhere."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            f"refusing to uninstall {ref} without confirmation: pass --yes",
            code="confirmation_required",
        )
    if not _confirm(f"Uninstall {ref}? [y/N]: "):
        raise AttuneError("uninstall cancelled", code="cancelled")


def _confirm(question: str) -> bool:
    """Ask on the terminal; only an explicit yes is a yes."""
    sys.stderr.write(question)
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (EOFError, OSError):
        return False
    return answer.strip().lower() in ("y", "yes")
