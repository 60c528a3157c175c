"""The :class:`~attune_packs.api.PackManager` of this run (``--home``, ``--config``).

The commands that the Python API also offers (install, uninstall, list, show,
verify, checksum, validate, search) go through it, so both return the same
objects; the command line records its changes as ``installation_method`` ``cli``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attune_packs.api import PackManager
    from attune_packs.events import EventBus


def manager(bus: EventBus | None = None) -> PackManager:
    from attune_packs.api import PackManager
    from attune_packs.cli.render import STATE

    return PackManager(home=STATE.home, config=STATE.config, bus=bus, method="cli")
