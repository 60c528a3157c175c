"""Typed progress events (DESIGN.md section 9) and a tiny fan-out bus.

Core services take an :class:`EventBus` (or ``None``) and ``emit`` events;
the CLI subscribes listeners that render them (rich bars, plain lines, JSON
lines).  Nothing here knows about terminals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

STEPS = (
    "resolve",
    "fetch",
    "extract",
    "validate",
    "verify",
    "dependencies",
    "test",
    "activate",
    "record",
)


@dataclass(frozen=True)
class Event:
    event: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, **asdict(self)}


@dataclass(frozen=True)
class StepStarted(Event):
    event: ClassVar[str] = "step_started"
    step: str
    message: str = ""


@dataclass(frozen=True)
class StepCompleted(Event):
    event: ClassVar[str] = "step_completed"
    step: str
    message: str = ""


@dataclass(frozen=True)
class Downloading(Event):
    event: ClassVar[str] = "downloading"
    url: str
    downloaded_bytes: int
    total_bytes: int | None = None


@dataclass(frozen=True)
class Extracting(Event):
    event: ClassVar[str] = "extracting"
    file: str


@dataclass(frozen=True)
class Copying(Event):
    """A local pack folder being copied into staging: files and bytes done so far."""

    event: ClassVar[str] = "copying"
    files_done: int
    files_total: int
    bytes_done: int


@dataclass(frozen=True)
class Verifying(Event):
    event: ClassVar[str] = "verifying"
    message: str


@dataclass(frozen=True)
class Warning(Event):
    event: ClassVar[str] = "warning"
    message: str


@dataclass(frozen=True)
class Info(Event):
    event: ClassVar[str] = "info"
    message: str


Listener = Callable[[Event], None]


class EventBus:
    """Delivers every emitted event to each subscribed listener, in order."""

    def __init__(self, *listeners: Listener) -> None:
        self._listeners: list[Listener] = list(listeners)
        self.warnings: list[str] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, event: Event) -> None:
        if isinstance(event, Warning):
            self.warnings.append(event.message)
        for listener in self._listeners:
            listener(event)

    # Conveniences so call sites stay short.
    def step_started(self, step: str, message: str = "") -> None:
        self.emit(StepStarted(step, message))

    def step_completed(self, step: str, message: str = "") -> None:
        self.emit(StepCompleted(step, message))

    def warning(self, message: str) -> None:
        self.emit(Warning(message))

    def info(self, message: str) -> None:
        self.emit(Info(message))


def bus_or_null(bus: EventBus | None) -> EventBus:
    return bus if bus is not None else EventBus()
