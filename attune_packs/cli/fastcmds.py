"""The typer-free bodies of the commands the fast dispatcher (``fast.py``) serves.

Each ``run_*`` function is the whole of its command: the typer command in its
``*_cmd.py`` module is a thin wrapper calling it, and ``fast.py`` calls it
directly when it can parse the arguments itself.  So there is one
implementation of each command's logic and output, whichever way it is run.
Keep this module typer-free and cheap to import (heavy imports inside the
functions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attune_packs.cli.render import Rendered, kv_table, message_bus, printable, settings, table

if TYPE_CHECKING:
    from pathlib import Path

    from attune_packs.registry import SearchHit

SEARCH_LIMIT = 100  # default of ``pack search --limit``


# --------------------------------------------------------------------------- pack checksum


def run_checksum(path: Path, expect: str | None = None) -> Rendered:
    """``attune pack checksum PATH [--expect C]``."""
    from attune_packs import checksum

    if expect is not None:
        checksum.parse_checksum(expect, "--expect value")
    result = checksum.checksum_path(path)
    if expect is not None:
        checksum.verify(result, expect)
    data = result.to_dict()
    if expect is not None:
        data["expected"] = expect
        data["matches"] = True

    def text() -> str:
        return kv_table(
            [
                ("path", result.path),
                ("kind", result.kind),
                ("checksum", result.checksum),
                ("files", result.files),
                ("bytes", result.bytes),
            ]
            + ([("expected", "matches")] if expect else [])
        )

    return Rendered(data, text)


# --------------------------------------------------------------------------- pack search


def search_view(hits: list[SearchHit], query: str, limit: int) -> Rendered:
    """The document, table and stderr messages of a search's ``hits``."""
    shown = hits[:limit]
    data = {"query": query, "total": len(hits), "results": [h.to_dict() for h in shown]}

    def text() -> str:
        return table(
            [(h.ref, h.version, h.registry, printable(h.description, 60)) for h in shown],
            ["ref", "version", "registry", "description"],
        )

    messages = []
    if not hits:
        messages.append(f"no packs match {query!r}")
    elif len(hits) > limit:
        messages.append(f"{len(hits) - limit} more results not shown (use --limit)")
    return Rendered(data, text, 0, messages)


def run_search(
    query: str, registry: str | None = None, refresh: bool = False, limit: int = SEARCH_LIMIT
) -> Rendered:
    """``attune pack search QUERY [--registry NAME] [--refresh] [--limit N]``."""
    from attune_packs.registry import RegistrySet

    rset = RegistrySet(settings(), message_bus(), refresh=refresh, only=registry)
    return search_view(rset.search(query), query, limit)


__all__ = ["SEARCH_LIMIT", "run_checksum", "run_search", "search_view"]
