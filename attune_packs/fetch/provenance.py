"""Where a pack came from: the one provenance type, FetchedPack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attune_packs.pack.naming import Shown


from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


@dataclass
class FetchedPack:
    """What a fetcher hands the installer: an unpacked pack folder plus its provenance.

    ``path`` is a directory holding ``pack.yaml``, inside the staging area the
    installer gave the fetcher.  The installer validates, hashes and activates it.
    """

    path: Path
    source_type: str  # git | archive | local_directory | local_archive | registry
    source_url: str | None = None
    source_ref: str | None = None  # git ref, or the requirement for a registry install
    registry_name: str | None = None
    checksum_subject: str = "directory"  # "directory" or "archive"
    archive_checksum: str | None = None  # sha256 of the archive bytes, when an archive was used
    expected_checksum: str | None = None  # what the index / the user said it must be
    checksum_verified: bool = False  # the fetcher already compared archive bytes to expected
    meta: dict[str, object] | None = None  # extra provenance (e.g. {"fallback": "git failed: ..."})
    #: How messages name ``path`` and what is below it (set by the fetcher that staged it).
    shown: Shown | None = None


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Source:
    """Where a planned pack comes from.

    ``type``: ``git`` / ``archive`` (a registry's install source), ``local_directory`` /
    ``local_archive`` (a path), or ``installed`` (kept as it is)."""

    type: str
    url: str | None = None
    git_ref: str | None = None
    checksum: str | None = None
    registry: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "url": self.url,
            "git_ref": self.git_ref,
            "checksum": self.checksum,
            "registry": self.registry,
        }

    def describe(self) -> str:
        if self.type == "installed":
            return "installed"
        where = self.url or ""
        if self.git_ref:
            where += f" @ {self.git_ref}"
        kind = {"local_directory": "folder", "local_archive": "archive", "registry": ""}.get(
            self.type, self.type
        )
        text = f"{kind} {where}".strip()
        return f"registry {self.registry!r}: {text}" if self.registry else text


def public_url(url: str | None) -> str | None:
    """``url`` as it may be stored: credentials, query and fragment never reach the database."""
    if not url:
        return url
    from attune_packs.net.urls import display_location

    return display_location(url)
