"""The Python API: manage the packs of one Attune home from Python.

:class:`PackManager` is a small, stable facade over the functions the
``attune pack`` commands call.  Every method returns the same result object
the command renders, and ``result.to_dict()`` is exactly the document the
command prints with ``-o json``.  Failures raise
:class:`~attune_packs.errors.AttuneError` subclasses; each carries a stable
``code`` (``not_found``, ``checksum_mismatch``, ``has_dependents``, ...), a
one-line ``message`` and the ``exit_code`` the command would exit with::

    from attune_packs.api import PackManager
    from attune_packs.errors import AttuneError

    pm = PackManager(home="/srv/attune")
    run = pm.install(["./my-pack"])
    print(run.results[0]["version"], run.results[0]["checksum"])
    for pack in pm.list():
        print(pack.ref, pack.version)
    try:
        pm.verify()
    except AttuneError as exc:
        print(exc.code, exc.message)

Settings (``home``, ``config``, the ``ATTUNE_*`` environment) are read on
first use, so :meth:`~PackManager.checksum` and :meth:`~PackManager.validate`
work whatever the configuration holds.  Importing this module is cheap: the
work is imported inside the methods.  Installs and uninstalls made through
the API are recorded in the audit trail with ``installation_method`` ``api``
(a lock-file install, as on the command line, with ``lockfile``).

Events (progress steps, downloads, warnings) go to the ``bus`` given, an
:class:`attune_packs.events.EventBus`; without one they are dropped (warnings
still appear in the results that report them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from os import PathLike

    from attune_packs.config import Settings
    from attune_packs.events import EventBus
    from attune_packs.install.queries import AuditTrail, PackDetails, PackList
    from attune_packs.install.run import InstallRun, LockedRun, UninstallResult, VerifyReport
    from attune_packs.pack.check import ChecksumCheck
    from attune_packs.pack.model import ValidationReport
    from attune_packs.registry.queries import SearchResults

    StrPath = str | PathLike[str]

__all__ = ["PackManager"]


class PackManager:
    """Install, inspect and verify the packs of one Attune home.

    ``home``: the home folder (default: ``$ATTUNE_HOME``, else the platform's user
    data folder); ``config``: the config file (default: ``$ATTUNE_CONFIG``, else
    ``HOME/config.yaml``); ``env``: the environment to read ``ATTUNE_*`` variables
    from (default: ``os.environ``); ``bus``: an :class:`~attune_packs.events.EventBus`
    receiving progress events and warnings; ``method``: the ``installation_method``
    recorded in the audit trail (``api``; the command line passes ``cli``).
    """

    def __init__(
        self,
        home: StrPath | None = None,
        config: StrPath | None = None,
        *,
        env: dict[str, str] | None = None,
        bus: EventBus | None = None,
        method: str = "api",
    ) -> None:
        self.home = home
        self.config = config
        self.env = env
        self.bus = bus
        self.method = method
        self._settings: Settings | None = None

    def __repr__(self) -> str:
        return f"PackManager(home={self.home!r}, config={self.config!r})"

    @property
    def settings(self) -> Settings:
        """The settings of this home, loaded (and checked) on first use."""
        if self._settings is None:
            from attune_packs.config import load_settings

            self._settings = load_settings(home=self.home, config=self.config, env=self.env)
        return self._settings

    def _bus(self) -> EventBus | None:
        """A bus for one operation: every event reaches ``self.bus``, and the
        warnings a result reports are this operation's own."""
        if self.bus is None:
            return None
        from attune_packs.events import EventBus

        return EventBus(self.bus.emit)

    # -- changing packs ----------------------------------------------------------------

    def install(
        self,
        sources: StrPath | Sequence[StrPath] = (),
        *,
        ref_spec: str | None = None,
        force: bool = False,
        skip_deps: bool = False,
        skip_tests: bool = False,
        no_registry: bool = False,
        registry: str | None = None,
        expect_checksum: str | None = None,
        dry_run: bool = False,
        refresh: bool = False,
        locked: StrPath | None = None,
    ) -> InstallRun | LockedRun:
        """Install packs (``attune pack install``), in order; the first failure stops.

        ``sources``: one SOURCE or several -- a pack folder or its pack.yaml, a local
        archive, an archive URL, a git repository, or a registry requirement
        (``ref``, ``ref@1.2.3``, ``ref@^1.2``).  ``locked``: instead of sources,
        install exactly the packs of this lock file (``force``, ``skip_tests`` and
        ``dry_run`` apply).  Returns an ``InstallRun`` (``results``: one document per
        SOURCE; ``plan`` for a dry run) or, with ``locked``, a ``LockedRun``.
        """
        import os

        from attune_packs.install import run

        given = [sources] if isinstance(sources, (str, os.PathLike)) else sources
        items = [os.fspath(s) for s in given]
        run.check_install_request(
            items,
            locked=locked,
            ref_spec=ref_spec,
            expect_checksum=expect_checksum,
            registry=registry,
            no_registry=no_registry,
            skip_deps=skip_deps,
            refresh=refresh,
        )
        if locked is not None:
            lock = run.load_lock(locked)
            return run.install_locked_file(
                self.settings,
                lock,
                dry_run=dry_run,
                force=force,
                skip_tests=skip_tests,
                bus=self._bus(),
            )
        from attune_packs.install.options import InstallOptions

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
            installation_method=self.method,
        )
        return run.run_install(self.settings, items, options, bus=self._bus())

    def uninstall(self, ref: str, *, force: bool = False) -> UninstallResult:
        """Remove an installed pack, every kept version (``attune pack uninstall --yes``).

        Refused (``DependencyError``, code ``has_dependents``) while another installed
        pack depends on it, unless ``force``."""
        from attune_packs.install.run import uninstall_pack

        return uninstall_pack(self.settings, ref, force=force, method=self.method, bus=self._bus())

    # -- reading -----------------------------------------------------------------------

    def list(self) -> PackList:
        """The installed packs, by ref (``attune pack list``): a list of ``PackInfo``."""
        from attune_packs.install.queries import list_packs

        return list_packs(self.settings)

    def show(self, ref: str) -> PackDetails:
        """One installed pack in full (``attune pack show``); ``NotFound`` if it is not
        installed."""
        from attune_packs.install.queries import show_pack

        return show_pack(self.settings, ref)

    def history(self, ref: str | None = None, *, limit: int | None = None) -> AuditTrail:
        """The audit trail, newest first (``attune pack history``): a list of
        ``AuditEntry``, of ``ref`` only if given, at most ``limit`` rows."""
        from attune_packs.install.queries import history

        return history(self.settings, ref, limit)

    def verify(self, refs: Iterable[str] | None = None) -> VerifyReport:
        """Re-hash installed packs (default: all) against the checksums recorded at
        install time (``attune pack verify``).  A difference is not an exception:
        ``report.ok`` is False and ``report.problems()`` names every changed, added
        and missing file."""
        from attune_packs.install.run import verify_packs

        return verify_packs(self.settings, refs, bus=self._bus())

    def search(
        self,
        query: str,
        *,
        registry: str | None = None,
        refresh: bool = False,
        limit: int | None = 100,
    ) -> SearchResults:
        """Search the registries' packs (``attune pack search``); ``results.shown`` are
        the first ``limit`` hits (``None``: all), ``results.total`` counts them all."""
        from attune_packs.registry.queries import search

        return search(
            self.settings, query, registry=registry, refresh=refresh, limit=limit, bus=self._bus()
        )

    # -- pack folders (no home needed) -------------------------------------------------

    def checksum(self, path: StrPath, *, expect: str | None = None) -> ChecksumCheck:
        """The Attune checksum of a pack folder or a file (``attune pack checksum``);
        with ``expect``, ``ChecksumMismatch`` unless it is that value."""
        from attune_packs.pack.check import check_checksum

        return check_checksum(path, expect)

    def validate(self, path: StrPath) -> ValidationReport:
        """Check a pack folder or its pack.yaml (``attune pack validate``).  Problems
        of the pack are in the report (``report.valid``, ``errors``, ``warnings``);
        a missing path raises ``NotFound``, a path that is no pack ``SourceError``."""
        from pathlib import Path

        from attune_packs.fetch.spec import local_pack_form
        from attune_packs.pack.validation import validate_pack

        target = Path(path)
        local_pack_form(target, archives=False)  # not_found / not_a_pack, as install says it
        return validate_pack(target)
