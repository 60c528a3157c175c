"""``attune pack checksum``."""

from __future__ import annotations

from pathlib import Path

from attune_packs.cli.grammar import FILES, Arg, Opt, command
from attune_packs.cli.render import Rendered, kv_table


@command(
    "checksum",
    Arg("path", type=Path, help="A pack folder or a file (e.g. an archive).", complete=FILES),
    Opt("--expect", metavar="sha256:HEX", help="Exit 1 unless the checksum is this."),
)
def checksum(path: Path, expect: str | None) -> Rendered:
    """Print the Attune checksum of a pack folder or a file.

    A folder gets the Attune directory checksum (.git pruned, symlinks refused);
    a file gets the SHA-256 of its bytes. Use --expect in CI to fail on a mismatch.

    Example:
      attune pack checksum ./my-pack --expect sha256:e983...
    """
    from attune_packs.pack import checksum as attune_checksum

    if expect is not None:
        attune_checksum.parse_checksum(expect, "--expect value")
    result = attune_checksum.checksum_path(path)
    if expect is not None:
        attune_checksum.verify(result, expect)
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
