"""``attune pack checksum``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from attune_packs.cli.common import Rendered, command, kv_table
from attune_packs.cli.root import pack_app


@command(pack_app, "checksum")
def checksum_cmd(
    path: Annotated[Path, typer.Argument(help="A pack directory or a file (e.g. an archive).")],
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
