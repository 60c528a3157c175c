"""Where each command is declared: the route from its words to its module.

Only the module of the command being run is imported (``attune pack list``
never loads the install or authoring code), which keeps start-up small; help
for a group and shell completion import the modules of that group.  The
parameters themselves are declared once, in the command's module, with
:func:`attune_packs.cli.grammar.command`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attune_packs.cli.grammar import Command

#: Groups: their words and their one-line help.
GROUPS: dict[str, str] = {
    "": "attune-packs: install, verify and publish Attune automation packs.",
    "pack": "Manage packs: install, inspect, verify, and author registry indices.",
    "pack index": "Look at registry indices: show one pack's entry, validate an index file.",
    "pack cache": "Inspect or empty the download cache (archives by checksum, registry indices).",
}

#: Commands, in the order ``attune pack --help`` lists them: words -> module in cli/.
COMMANDS: dict[str, str] = {
    "pack checksum": "checksum_cmd",
    "pack validate": "validate_cmd",
    "pack install": "install_cmd",
    "pack uninstall": "install_cmd",
    "pack list": "query_cmd",
    "pack show": "query_cmd",
    "pack history": "query_cmd",
    "pack rollback": "query_cmd",
    "pack verify": "query_cmd",
    "pack deps": "deps_cmd",
    "pack lock": "deps_cmd",
    "pack registries": "registry_cmd",
    "pack search": "registry_cmd",
    "pack index show": "registry_cmd",
    "pack index validate": "registry_cmd",
    "pack cache stats": "registry_cmd",
    "pack cache clean": "registry_cmd",
    "pack index-entry": "authoring_cmd",
    "pack index-update": "authoring_cmd",
    "pack index-merge": "authoring_cmd",
}


def children(group: str) -> list[str]:
    """The next words after ``group`` (commands and subgroups), in help order."""
    prefix = f"{group} " if group else ""
    seen: list[str] = []
    for words in [*COMMANDS, *GROUPS]:
        if words.startswith(prefix) and words != group:
            word = words[len(prefix) :].split(" ", 1)[0]
            if word and word not in seen:
                seen.append(word)
    return seen


def load(words: str) -> Command:
    """The declaration of the command ``words`` (importing only its module)."""
    from attune_packs.cli.grammar import DECLARED

    import_module(f"attune_packs.cli.{COMMANDS[words]}")
    return DECLARED[words.split(" ", 1)[1]]
