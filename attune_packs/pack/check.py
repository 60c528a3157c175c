"""``attune pack checksum`` as one call: compute, optionally compare, one result.

Kept free of ``dataclasses`` (like :mod:`attune_packs.pack.checksum`): it is on
the start-up path of ``attune pack checksum``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attune_packs.pack.checksum import ChecksumResult

__all__ = ["ChecksumCheck", "check_checksum"]


class ChecksumCheck:
    """The Attune checksum of a path and, when one was expected, the fact that it
    matched (a mismatch raises :class:`~attune_packs.errors.ChecksumMismatch`)."""

    __slots__ = ("expected", "result")

    def __init__(self, result: ChecksumResult, expected: str | None = None) -> None:
        self.result = result
        self.expected = expected

    @property
    def path(self) -> str:
        return self.result.path

    @property
    def kind(self) -> str:
        """``directory`` (the directory checksum) or ``file`` (SHA-256 of its bytes)."""
        return self.result.kind

    @property
    def checksum(self) -> str:
        return self.result.checksum

    @property
    def files(self) -> int:
        return self.result.files

    @property
    def bytes(self) -> int:
        return self.result.bytes

    @property
    def matches(self) -> bool | None:
        """True when an expected checksum was given (it matched); else None."""
        return True if self.expected is not None else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = self.result.to_dict()
        if self.expected is not None:
            data["expected"] = self.expected
            data["matches"] = True
        return data

    def __repr__(self) -> str:
        return f"ChecksumCheck(path={self.path!r}, checksum={self.checksum!r})"


def check_checksum(path: Path | str, expect: str | None = None) -> ChecksumCheck:
    """The checksum of ``path`` (directory checksum for a folder, SHA-256 of the bytes
    for a file); with ``expect``, :class:`~attune_packs.errors.ChecksumMismatch`
    unless it is that value (an invalid ``expect`` is a usage error, checked first)."""
    from attune_packs.pack import checksum

    if expect is not None:
        checksum.parse_checksum(expect, "--expect value")
    result = checksum.checksum_path(Path(path))
    if expect is not None:
        checksum.verify(result, expect)
    return ChecksumCheck(result, expect)
