"""Where a pack comes from: the one :class:`Provenance` type, and :class:`FetchedPack`.

A pack's source used to travel in several shapes copied field by field (the fetcher's
result, the plan's source, the lock-file entry, the installer's attempt, the install
result, the rows).  It is now one frozen value, converted in exactly one place each:

* database columns (audit row, pack row, sidecar): :meth:`Provenance.columns`,
  :meth:`Provenance.checksum_columns`, :meth:`Provenance.from_columns`;
* plan documents (``deps``, dry-run plans, ``install --locked --dry-run``):
  :meth:`Provenance.to_plan_dict`, :meth:`Provenance.from_plan_dict`;
* lock-file entries: :meth:`Provenance.to_lock_dict`, :meth:`Provenance.from_lock_dict`;
* text (``deps``, ``lock``, dry-run plans): :meth:`Provenance.describe`;
* a SOURCE the user gave: :meth:`Provenance.from_spec` (the
  :class:`~attune_packs.fetch.spec.SourceSpec` stays the *request*);
* a registry's install source: :func:`from_install_source` (the registry layer keeps
  its own model of the index JSON, :class:`~attune_packs.registry.index.InstallSource`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attune_packs.fetch.spec import SourceSpec
    from attune_packs.pack.naming import Shown
    from attune_packs.registry.index import Index, InstallSource


def public_url(url: str | None) -> str | None:
    """``url`` as it may be stored: credentials, query and fragment never reach the database."""
    if not url:
        return url
    from attune_packs.redaction import display_location

    return display_location(url)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a pack comes from, and what is known about its checksum.

    ``kind``: the transport, ``git`` / ``archive`` (a URL, or a registry's install source),
    ``local_directory`` / ``local_archive`` (a path); in plans also ``installed`` (kept as
    it is) and ``registry`` (a registry requirement not fetched yet, or an entry without
    a usable source).  ``url`` is the real URL or absolute path (never redacted here;
    :attr:`source_url` is the redacted form).  ``requirement`` is set iff the pack is
    installed through registry resolution (``slack@^1.2``).  ``checksum`` is the
    ``sha256:...`` of what ``url`` delivers, ``checksum_subject`` says of what
    (``directory`` / ``archive``) and ``checksum_verified`` whether it was compared with
    an expected value.

    The first five fields are the ``source`` of a plan row, in its order:
    ``Provenance(kind, url, git_ref, checksum, registry)``.
    """

    kind: str
    url: str | None = None
    git_ref: str | None = None
    checksum: str | None = None
    registry: str | None = None
    requirement: str | None = None
    checksum_subject: str | None = None
    checksum_verified: bool = False

    # -- the database columns (DESIGN.md section 7) ---------------------------------------

    @property
    def source_type(self) -> str:
        return "registry" if self.requirement is not None else self.kind

    @property
    def source_url(self) -> str | None:
        return public_url(self.url)

    @property
    def source_ref(self) -> str | None:
        return self.requirement if self.requirement is not None else self.git_ref

    @property
    def registry_name(self) -> str | None:
        return self.registry

    def columns(self) -> dict[str, Any]:
        """``source_type``, ``source_url`` (redacted), ``source_ref``, ``registry_name``."""
        return {
            "source_type": self.source_type,
            "source_url": self.source_url,
            "source_ref": self.source_ref,
            "registry_name": self.registry_name,
        }

    def checksum_columns(self) -> dict[str, Any]:
        """``checksum``, ``checksum_subject``, ``checksum_verified`` (the audit row's)."""
        return {
            "checksum": self.checksum,
            "checksum_subject": self.checksum_subject,
            "checksum_verified": self.checksum_verified,
        }

    @classmethod
    def from_columns(cls, row: Any, *, fallback_type: str | None = None) -> Provenance:
        """The inverse of :meth:`columns` for a mapping (a sidecar's ``source``): a
        ``registry`` row gives back its requirement, any other its git ref."""
        source_type = row.get("source_type") or fallback_type
        ref = row.get("source_ref")
        registry_install = source_type == "registry"
        return cls(
            kind=source_type,
            url=row.get("source_url"),
            git_ref=None if registry_install else ref,
            registry=row.get("registry_name"),
            requirement=ref if registry_install else None,
        )

    def without_checksum(self) -> Provenance:
        """The same source with nothing known about its checksum yet."""
        return replace(self, checksum=None, checksum_subject=None, checksum_verified=False)

    # -- plans, lock files, text --------------------------------------------------------

    def to_plan_dict(self) -> dict[str, Any]:
        """The ``source`` of a plan row or dependency-tree node."""
        return {
            "type": self.kind,
            "url": self.url,
            "git_ref": self.git_ref,
            "checksum": self.checksum,
            "registry": self.registry,
        }

    @classmethod
    def from_plan_dict(cls, doc: dict[str, Any]) -> Provenance:
        return cls(
            doc.get("type") or "",
            doc.get("url"),
            doc.get("git_ref"),
            doc.get("checksum"),
            doc.get("registry"),
        )

    def to_lock_dict(self) -> dict[str, Any]:
        """The ``source`` mapping of a lock-file entry (its ``checksum`` sits next to it)."""
        doc: dict[str, Any] = {"type": self.kind, "url": self.url}
        if self.git_ref is not None:
            doc["git_ref"] = self.git_ref
        if self.registry is not None:
            doc["registry"] = self.registry
        return doc

    @classmethod
    def from_lock_dict(cls, doc: dict[str, Any], checksum: str) -> Provenance:
        """A lock-file entry's ``source`` (already validated) and ``checksum``."""
        return cls(doc["type"], doc["url"], doc.get("git_ref"), checksum, doc.get("registry"))

    def describe(self) -> str:
        """One line for tables: ``registry 'examples': archive https://...``."""
        if self.kind == "installed":
            return "installed"
        where = self.url or ""
        if self.git_ref:
            where += f" @ {self.git_ref}"
        kind = {"local_directory": "folder", "local_archive": "archive", "registry": ""}.get(
            self.kind, self.kind
        )
        text = f"{kind} {where}".strip()
        return f"registry {self.registry!r}: {text}" if self.registry else text

    # -- where a source is first known ----------------------------------------------------

    @classmethod
    def from_spec(cls, spec: SourceSpec) -> Provenance:
        """What a SOURCE argument says before anything is fetched (a registry
        requirement names no URL yet)."""
        if spec.kind == "registry":
            return cls(spec.kind, requirement=spec.raw)
        return cls(spec.kind, spec.location, spec.git_ref)


def from_install_source(src: InstallSource, index: Index | None, registry: str) -> Provenance:
    """A registry's install source (its URL resolved against a local index's folder)."""
    return Provenance(
        src.type,
        index.resolve_url(src.url) if index is not None else src.url,
        src.ref,
        src.checksum,
        registry,
        checksum_subject="archive" if src.type == "archive" else "directory",
    )


@dataclass
class FetchedPack:
    """What a fetcher hands the installer: an unpacked pack folder plus its provenance.

    ``path`` is a directory holding ``pack.yaml``, inside the staging area the
    installer gave the fetcher.  The installer validates, hashes and activates it.
    ``provenance.checksum_subject`` says what the checksum is of and
    ``provenance.checksum_verified`` whether the fetcher already compared the archive
    bytes with ``expected_checksum``.
    """

    path: Path
    provenance: Provenance
    archive_checksum: str | None = None  # sha256 of the archive bytes, when an archive was used
    expected_checksum: str | None = None  # what the index / the user said it must be
    meta: dict[str, object] | None = None  # extra provenance (e.g. {"fallback": "git failed: ..."})
    #: How messages name ``path`` and what is below it (set by the fetcher that staged it).
    shown: Shown | None = None
