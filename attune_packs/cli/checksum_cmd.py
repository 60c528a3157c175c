"""``attune pack checksum``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.cli.facade import manager
from attune_packs.cli.grammar import FILES, Arg, Opt, command
from attune_packs.cli.render import Rendered, kv_table

if TYPE_CHECKING:
    from attune_packs.pack.check import ChecksumCheck


def _text_checksum(result: ChecksumCheck) -> str:
    pairs: list[tuple[str, Any]] = [
        ("path", result.path),
        ("kind", result.kind),
        ("checksum", result.checksum),
        ("files", result.files),
        ("bytes", result.bytes),
    ]
    if result.expected:
        pairs.append(("expected", "matches"))
    return kv_table(pairs)


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
    result = manager().checksum(path, expect=expect)
    return Rendered(result.to_dict(), lambda: _text_checksum(result))
