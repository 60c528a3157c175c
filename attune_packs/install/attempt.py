"""One install attempt: the :class:`Attempt` record its audit row is written from, the
:class:`InstallerParts` the phases use, and the naming of staged paths in what the user
sees (:class:`NamingBus`, :func:`rename_paths`).

Every phase module (decide, fetch_step, verify_source, prepare, activate, record,
maintenance) is a set of functions taking ``(installer, attempt, ...)``; ``installer``
is typed by :class:`InstallerParts`, so no phase module imports the pipeline.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from attune_packs.events import Event, EventBus, Listener
from attune_packs.install.options import PackInstaller
from attune_packs.pack import naming

if TYPE_CHECKING:
    from attune_packs.db import Database
    from attune_packs.errors import AttuneError
    from attune_packs.fetch.provenance import Provenance
    from attune_packs.fetch.spec import SourceSpec
    from attune_packs.install.db_handle import LazyDatabase
    from attune_packs.install.options import DependencyHook, InstallOptions
    from attune_packs.install.store import Store


class InstallerParts(PackInstaller, Protocol):
    """What the phases use of :class:`attune_packs.install.pipeline.Installer`."""

    bus: EventBus
    store: Store
    database: LazyDatabase
    dependency_hook: DependencyHook

    @property
    def db(self) -> Database: ...


@dataclass
class Attempt:
    """What is known so far about one install (or uninstall, rollback) attempt."""

    source: str
    options: InstallOptions
    started_at: datetime
    step: str = "resolve"
    spec: SourceSpec | None = None
    ref: str | None = None
    version: str | None = None
    previous_version: str | None = None
    action: str = "install"
    #: Where the pack comes from; its checksum fields are set by the verify step.
    provenance: Provenance | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    dependencies: list[dict[str, Any]] = field(default_factory=list)
    committed: bool = False  # the database transaction of this attempt went through
    #: The attempt's http.RetryCounter: HTTP retries of its own downloads (meta.http_retries).
    http_retries: Any = None
    #: How messages name the staged folders (deepest first): by what the user gave.
    names: list[naming.Shown] = field(default_factory=list)
    #: A registry requirement's entry, chosen in the resolve step (registry.Resolved).
    resolved: Any = None

    def begin(self, bus: EventBus, step: str, message: str = "") -> None:
        """Enter ``step`` (the audit row of a failure names it)."""
        self.step = step
        bus.step_started(step, message)


class NamingBus(EventBus):
    """Forwards every event to ``inner`` with staged paths named by what the user gave
    (:class:`~attune_packs.pack.naming.Shown`), so no progress line, warning or info ever
    shows a staging folder, whichever component emitted it."""

    def __init__(self, inner: EventBus, names: list[naming.Shown]) -> None:
        super().__init__()
        self.inner = inner
        self.names = names
        self.warnings = inner.warnings  # one list: results report the caller's warnings

    def subscribe(self, listener: Listener) -> None:
        self.inner.subscribe(listener)

    def emit(self, event: Event) -> None:
        if self.names:
            changes = {
                f.name: naming.scrub(value, self.names)
                for f in dataclasses.fields(event)
                if isinstance(value := getattr(event, f.name), str)
            }
            event = dataclasses.replace(event, **changes)
        self.inner.emit(event)


def rename_paths(exc: AttuneError, names: list[naming.Shown]) -> None:
    """Name staged paths in ``exc`` (message and details) by what the user gave."""
    if not names:
        return
    exc.message = str(naming.scrub(exc.message, names))
    exc.args = (exc.message,)
    exc.details = naming.scrub(exc.details, names)  # type: ignore[assignment]
