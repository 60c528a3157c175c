"""Preparing the staged pack: the ``validate`` step (pack.yaml and component files, the
identity a registry promised), the ``dependencies`` step (the installer's dependency
hook, then the installed dependents), and the ``test`` step (the pack's own tests).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, SourceError
from attune_packs.fetch import spec as sources
from attune_packs.install.decide import check_dependents, claim, preclassify
from attune_packs.install.options import DependencyContext

if TYPE_CHECKING:
    from pathlib import Path

    from attune_packs.db import Database
    from attune_packs.install.attempt import Attempt, InstallerParts
    from attune_packs.pack.model import Manifest


def validate_step(
    installer: InstallerParts, attempt: Attempt, spec: sources.SourceSpec, root: Path
) -> Manifest:
    from attune_packs.pack.contents import discover_contents
    from attune_packs.pack.manifest import load_manifest

    attempt.begin(installer.bus, "validate", "pack.yaml")
    try:
        manifest = load_manifest(root, shown=attempt.names[0])
        # Component files Attune could not load make the pack invalid, as
        # ``attune pack validate`` says; refuse them before anything changes.
        discover_contents(root, manifest.ref, shown=attempt.names[0])
    except AttuneError:
        claim(attempt, root)
        raise
    attempt.ref, attempt.version = manifest.ref, manifest.version
    preclassify(installer, attempt, manifest.ref, manifest.version)
    if spec.kind == sources.REGISTRY and manifest.ref != spec.location:
        raise SourceError(
            f"the registry requirement {spec.raw!r} delivered the pack {manifest.ref!r}"
        )
    installer.bus.step_completed("validate", f"{manifest.ref} {manifest.version}")
    return manifest


def dependencies_step(
    installer: InstallerParts,
    attempt: Attempt,
    manifest: Manifest,
    root: Path,
    db: Database | None,
) -> None:
    """Run the installer's dependency hook (plan, check runtimes, install what is
    missing), then refuse a version that breaks installed dependents."""
    options, bus = attempt.options, installer.bus
    attempt.begin(
        bus,
        "dependencies",
        f"{len(manifest.pack_deps)} packs, {len(manifest.runtime_deps)} runtimes",
    )
    summary = f"{manifest.ref} {manifest.version}: "
    if options.skip_deps:
        bus.warning("dependency checks skipped (--skip-deps)")
        attempt.meta["skipped_dependencies"] = True
        summary += "skipped"
    else:
        ctx = DependencyContext(installer, manifest, root, db, options, bus)
        try:
            installer.dependency_hook(ctx)
        finally:
            attempt.dependencies = ctx.report
            done = [
                f"{d['ref']} {d['version']}" for d in ctx.report if d.get("status") == "installed"
            ]
            if done:
                attempt.meta["installed_dependencies"] = done
        check_dependents(installer, manifest, db, options.force, options.replacing)
        counts: dict[str, int] = {}
        for d in ctx.report:
            status = d.get("status") or "planned"
            counts[status] = counts.get(status, 0) + 1
        summary += ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "ok"
    bus.step_completed("dependencies", summary)


def run_tests(
    installer: InstallerParts, attempt: Attempt, manifest: Manifest, root: Path
) -> dict[str, Any]:
    """The ``test`` step: the pack's declared tests (a failure only warns)."""
    bus = installer.bus
    enabled = bool((manifest.testing or {}).get("enabled"))
    attempt.begin(bus, "test", "pack tests" if enabled else "no pack tests")
    if not enabled:
        bus.step_completed("test", "no tests declared")
        return {"ran": False, "passed": None}
    if attempt.options.skip_tests:
        bus.warning("pack tests skipped (--skip-tests)")
        attempt.meta["skipped_tests"] = True
        bus.step_completed("test", "skipped")
        return {"ran": False, "passed": None, "skipped": True}
    from attune_packs.pack import packtests

    # packtests runs them on a throw-away copy: whatever they write (bytecode,
    # caches) never lands in the folder whose checksum was just recorded.
    report = packtests.run_pack_tests(root, manifest, attempt.options.test_timeout, bus)
    outcome = {"ran": bool(report.ran), "passed": bool(report.passed)}
    attempt.meta["tests"] = outcome
    bus.step_completed(
        "test",
        "passed"
        if report.passed and report.ran
        else "failed (warn only)"
        if report.ran
        else "not run",
    )
    return outcome
