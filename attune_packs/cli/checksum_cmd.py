"""``attune pack checksum`` (its body, shared with the fast dispatcher, is in ``fastcmds.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attune_packs.cli.common import Rendered, command
from attune_packs.cli.root import pack_app


@command(pack_app, "checksum")
def checksum_cmd(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A pack directory or a file (e.g. an archive).")
    ],
    expect: Annotated[
        str | None,
        typer.Option("--expect", metavar="sha256:HEX", help="Exit 1 unless the checksum is this."),
    ] = None,
) -> Rendered:
    """Print the Attune checksum of a pack directory or a file.

    A directory gets the Attune directory checksum (.git pruned, symlinks refused);
    a file gets the SHA-256 of its bytes. Use --expect in CI to fail on a mismatch.

    Example: attune pack checksum ./my-pack --expect sha256:e983...
    """
    from attune_packs.cli.fastcmds import run_checksum

    return run_checksum(path, expect)
