"""The install's ``dependencies`` step: plan, check runtimes, install what is missing.

:func:`dependency_hook` is the default hook of
:class:`~attune_packs.install.pipeline.Installer`; :func:`check_hook` installs nothing
(the packs of a plan or a lock file).  Nested installs go through
``ctx.installer.nested(...)``: this module never imports the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, DependencyError
from attune_packs.events import EventBus
from attune_packs.fetch.provenance import Provenance
from attune_packs.install.options import InstallOptions
from attune_packs.resolve.planner import Planner, local_candidate

if TYPE_CHECKING:
    from attune_packs.install.options import DependencyContext, DependencyHook
    from attune_packs.pack.model import Manifest
    from attune_packs.resolve.plan import PlanItem

__all__ = ["check_hook", "check_runtimes", "dependency_hook"]


# --------------------------------------------------------------------------- checks


def _missing_problems(manifest: Manifest, version_of: Callable[[str], str | None]) -> list[str]:
    from attune_packs import versioning

    problems: list[str] = []
    for req in manifest.pack_deps:
        have = version_of(req.ref)
        if have is None:
            problems.append(f"pack {req} is not installed")
            continue
        try:
            ok = versioning.satisfies(have, req.constraint or "*")
        except ValueError as exc:
            problems.append(f"invalid constraint in {req}: {exc}")
            continue
        if not ok:
            problems.append(f"pack {req} is required but {req.ref} {have} is installed")
    return problems


def _check_installed(ctx: DependencyContext, pending: Mapping[str, str]) -> None:
    """Every required pack installed (or about to be, by the same run) in a satisfying
    version; raises ``dependency_missing`` otherwise."""

    def version_of(ref: str) -> str | None:
        if ref in pending:
            return pending[ref]
        row = ctx.installed(ref)
        return row.version if row is not None else None

    problems = _missing_problems(ctx.manifest, version_of)
    if problems:
        raise DependencyError(
            f"{ctx.manifest.ref} {ctx.manifest.version}: " + "; ".join(problems),
            code="dependency_missing",
            details={"problems": problems},
        )


def check_runtimes(packs: Iterable[tuple[str, Any]], bus: EventBus | None = None) -> None:
    """Check the runtimes of several packs (``(ref, manifest or requirement strings)``)
    at once; one ``runtime_unsatisfied`` error naming every failing runtime."""
    from attune_packs.pack import runtimes

    failures: list[str] = []
    checks: list[dict[str, Any]] = []
    for ref, what in packs:
        for check in runtimes.check_runtimes(what):
            checks.append({"pack": ref, **check.to_dict()})
            if not check.ok:
                failures.append(f"pack '{ref}' needs {check.message()}")
            elif check.status == "skipped" and bus is not None:
                bus.info(check.message())
    if failures:
        raise DependencyError(
            "runtimes missing or unsuitable: " + "; ".join(failures),
            code="runtime_unsatisfied",
            details={"runtimes": checks},
        )


def check_hook(pending: Mapping[str, str] | None = None) -> DependencyHook:
    """A hook that installs nothing: the pack's dependencies must be installed (or in
    ``pending``, ref -> version, i.e. being installed by the same run: cycles) and its
    runtimes present.  Used for the packs of a plan and of a lock file."""
    pending = dict(pending or {})

    def hook(ctx: DependencyContext) -> None:
        _check_installed(ctx, pending)
        check_runtimes([(ctx.manifest.ref, ctx.manifest)], ctx.bus)

    return hook


# --------------------------------------------------------------------------- the installer hook


def _root_source(ctx: DependencyContext) -> Provenance:
    return Provenance("local_directory", os.fspath(ctx.pack_dir))


def _report_offline(ctx: DependencyContext) -> None:
    for req in ctx.manifest.pack_deps:
        row = ctx.installed(req.ref)
        if row is None:
            continue
        ctx.report.append(
            {
                "ref": row.ref,
                "version": row.version,
                "action": "keep",
                "status": "kept",
                "installed_version": row.version,
                "requested": False,
                "required_by": [f"{ctx.manifest.ref}@{ctx.manifest.version}"],
                "constraints": [f"{req.constraint} ({ctx.manifest.ref}@{ctx.manifest.version})"],
                "dependencies": [],
                "source": Provenance(
                    "installed", row.storage_path, registry=row.registry_name
                ).to_plan_dict(),
                "runtime_deps": [],
                "checksum": row.checksum,
                "installation_id": None,
            }
        )


def dependency_hook(ctx: DependencyContext) -> None:
    """The ``dependencies`` step of an install: plan, check runtimes, install what is
    missing (dependencies first), or only report the plan in a dry run."""
    manifest = ctx.manifest
    opts = ctx.options
    bus = ctx.bus
    if not manifest.pack_deps:
        check_runtimes([(manifest.ref, manifest)], bus)
        return
    planner = Planner(
        ctx.installer.settings,
        db=ctx.db,
        bus=bus,
        registry=opts.registry,
        no_registry=opts.no_registry,
        refresh=opts.refresh,
    )
    if not planner.registries_available():
        # Nothing could be installed: the dependencies must already be there.
        _check_installed(ctx, {})
        _report_offline(ctx)
        check_runtimes([(manifest.ref, manifest)], bus)
        return
    root = local_candidate(manifest, _root_source(ctx))
    # Installed packs outside the plan stay protected even with --force: --force is about
    # the pack being installed (the installer's own dependents check), never a licence to
    # break other packs through a dependency change.
    plan = planner.plan([manifest.ref], local=[root], protect_installed=True)
    deps = [item for item in plan.items if item.ref != manifest.ref]
    changes = [item for item in deps if item.action != "keep"]
    # Every runtime, of the pack and of each dependency to install, before anything moves.
    check_runtimes(
        [(manifest.ref, manifest)] + [(i.ref, i.origin.runtime_deps) for i in changes], bus
    )
    for item in deps:
        if item.action == "keep":
            item.status = "kept"
    if changes:
        bus.info(
            "dependencies to install: "
            + ", ".join(f"{i.ref} {i.version} ({i.action})" for i in changes)
        )
    if opts.dry_run or not changes:
        ctx.report.extend(item.to_dict() for item in deps)
        return
    pending = {item.ref: item.version for item in plan.items}
    replacing = tuple(sorted({manifest.ref, *(i.ref for i in changes)}))
    _install_items(ctx, changes, pending, replacing)
    ctx.report.extend(item.to_dict() for item in deps)


def _nested_options(ctx: DependencyContext, **kw: Any) -> InstallOptions:
    opts = ctx.options
    return InstallOptions(
        skip_tests=opts.skip_tests,
        refresh=False,
        test_timeout=opts.test_timeout,
        **kw,
    )


def _install_items(
    ctx: DependencyContext,
    changes: list[PlanItem],
    pending: Mapping[str, str],
    replacing: tuple[str, ...],
) -> None:
    nested = ctx.installer.nested(dependency_hook=check_hook(pending))
    done: list[str] = []
    try:
        for item in changes:
            opts = _nested_options(
                ctx,
                registry=item.source.registry,
                installation_method="dependency",
                replacing=replacing,
            )
            try:
                result = nested.install(f"{item.ref}@{item.version}", opts)
            except AttuneError as exc:
                so_far = f" (dependencies installed so far: {', '.join(done)})" if done else ""
                exc.message = (
                    f"dependency {item.ref} {item.version} of {ctx.manifest.ref} "
                    f"{ctx.manifest.version}: {exc.message}{so_far}"
                )
                raise
            item.status = "installed" if result.changed else result.status
            item.checksum = result.checksum
            item.installation_id = result.installation_id
            if result.changed:
                done.append(f"{item.ref} {item.version}")
    finally:
        nested.close()
