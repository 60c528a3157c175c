"""The ``verify`` step: hash the staged pack and compare it with what it must be (the
user's ``--expect-checksum``, or the registry's / lock file's checksum), as a directory
or as the archive it came in.  What was verified lands in the attempt's provenance
(``checksum``, ``checksum_subject``, ``checksum_verified``), hence in the audit row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from attune_packs.errors import ChecksumMismatch
from attune_packs.events import Verifying
from attune_packs.fetch import spec as sources
from attune_packs.pack.checksum import TreeHash, hash_tree

if TYPE_CHECKING:
    from attune_packs.fetch.provenance import FetchedPack
    from attune_packs.fetch.spec import SourceSpec
    from attune_packs.install.attempt import Attempt, InstallerParts
    from attune_packs.install.fetch_step import Staged


def verify_step(
    installer: InstallerParts, attempt: Attempt, spec: SourceSpec, staged: Staged
) -> TreeHash:
    """Hash the staged tree (unless the copy already did) and verify it."""
    bus = installer.bus
    attempt.begin(bus, "verify", "checksum")
    tree = staged.tree
    if tree is None:
        bus.emit(Verifying(f"hashing {attempt.names[0].path(staged.root)}"))
        tree = hash_tree(staged.root)
    verify_checksum(installer, attempt, spec, tree, staged.archive_checksum, staged.fetched)
    attempt.meta.update(
        {"directory_checksum": tree.checksum, "files": tree.count, "bytes": tree.bytes}
    )
    bus.step_completed("verify", f"{tree.checksum} ({tree.count} files)")
    return tree


def verify_checksum(
    installer: InstallerParts,
    attempt: Attempt,
    spec: SourceSpec | None,
    tree: TreeHash,
    archive_sum: str | None,
    fetched: FetchedPack | None,
) -> None:
    """Compare ``tree`` (or the archive's ``archive_sum``) with the expected checksum;
    raise :class:`ChecksumMismatch`, or record what was verified in the attempt."""
    expected = attempt.options.expect_checksum
    if expected is None and fetched is not None:
        expected = fetched.expected_checksum
    subject = "directory"
    if fetched is not None:
        subject = fetched.provenance.checksum_subject or "directory"
    elif spec is not None and spec.kind == sources.LOCAL_ARCHIVE:
        subject = "archive"
    verified = bool(fetched is not None and fetched.provenance.checksum_verified)
    if expected is not None:
        attempt.meta["expected_checksum"] = expected
        if not installer.settings.verify_checksums:
            installer.bus.warning("checksum verification is disabled (verify_checksums: false)")
        elif not verified:
            if expected == tree.checksum:
                subject, verified = "directory", True
            elif archive_sum is not None and expected == archive_sum:
                subject, verified = "archive", True
            else:
                got = (
                    tree.checksum
                    if archive_sum is None
                    else f"{archive_sum} (archive) / {tree.checksum} (directory)"
                )
                raise ChecksumMismatch(
                    f"checksum mismatch for {attempt.source}: expected {expected}, got {got}",
                    details={
                        "expected": expected,
                        "directory": tree.checksum,
                        "archive": archive_sum,
                    },
                )
            installer.bus.emit(Verifying(f"{subject} checksum matches {expected}"))
    assert attempt.provenance is not None
    attempt.provenance = replace(
        attempt.provenance,
        checksum=archive_sum if subject == "archive" and archive_sum else tree.checksum,
        checksum_subject=subject,
        checksum_verified=verified,
    )
