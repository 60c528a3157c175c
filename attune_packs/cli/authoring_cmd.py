"""``attune pack index-entry``, ``index-update`` and ``index-merge`` (registry authoring)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from attune_packs.cli.grammar import DIRS, FILES, Arg, Opt, command
from attune_packs.cli.render import STATE, OutputFormat, Rendered, count, message_bus, settings
from attune_packs.errors import UsageError

if TYPE_CHECKING:
    from attune_packs.registry.authoring import SourceOptions
    from attune_packs.registry.index_edit import MergeResult, UpdateResult


PACK_PATH = Arg("path", type=Path, help="The pack folder (holding pack.yaml).", complete=DIRS)
SOURCE_OPTIONS = (
    Opt("--git-url", metavar="URL", help="https:// git repository of the pack."),
    Opt(
        "--git-ref",
        metavar="REF",
        help="Commit to install (40-hex SHA; a branch or tag gets a warning). Needs --git-url.",
    ),
    Opt("--archive-url", metavar="URL", help="https:// URL of a release archive."),
    Opt(
        "--archive-checksum",
        metavar="sha256:HEX",
        help="SHA-256 of the exact archive bytes (never downloaded). Needs --archive-url.",
    ),
)
KEEP_HISTORY = Opt(
    "--keep-history",
    flag=True,
    help="Keep earlier versions of each ref (under the newest entry's meta.releases).",
)


def _sources(
    git_url: str | None, git_ref: str | None, archive_url: str | None, checksum: str | None
) -> SourceOptions:
    from attune_packs.registry.authoring import SourceOptions

    return SourceOptions(git_url, git_ref, archive_url, checksum)


def _entry_format(given: str | None) -> str:
    """--format picks the entry's serialisation; -o json|yaml is an alias of it."""
    if STATE.output is OutputFormat.table:
        return given or "json"
    if given is not None and given != STATE.output.value:
        raise UsageError(f"--format {given} and --output {STATE.output.value} disagree; give one")
    return STATE.output.value


@command(
    "index-entry",
    PACK_PATH,
    *SOURCE_OPTIONS,
    Opt(
        "--format",
        choices=("json", "yaml"),
        help="Serialisation of the entry: json (default) or yaml. -o json|yaml is the same.",
    ),
)
def index_entry(
    path: Path,
    git_url: str | None,
    git_ref: str | None,
    archive_url: str | None,
    archive_checksum: str | None,
    format: str | None,
) -> Rendered:
    """Print the registry index entry of a pack (stdout holds only the entry).

    The entry follows Attune's normalisation of pack.yaml; the git source's
    checksum is the pack folder's directory checksum, the archive checksum is
    the one you give. At least one source is required; URLs must be https://
    without credentials, query or fragment.

    Example:
      attune pack index-entry ./slack --git-url https://github.com/acme/slack.git \\
        --git-ref 0123456789abcdef0123456789abcdef01234567 > entry.json
    """
    from attune_packs.registry import authoring, index_format

    fmt = _entry_format(format)
    built = authoring.build_entry(
        path, _sources(git_url, git_ref, archive_url, archive_checksum), message_bus()
    )
    text = index_format.dump_entry(built.entry, fmt)
    # The entry is the document in every mode: print its canonical text verbatim.
    STATE.output = OutputFormat.table
    return Rendered(built.entry, text)


def _text_update(result: UpdateResult) -> str:
    if result.action == "unchanged":
        return f"{result.index} unchanged: {result.ref} {result.version} is already listed as built"
    replaced = f" (replaced {', '.join(result.replaced)})" if result.replaced else ""
    if result.history:
        replaced += f"; keeps {', '.join(result.history)}"
    return (
        f"{result.action} {result.ref} {result.version}{replaced} in {result.index}: "
        f"{count(result.packs, 'entry', 'entries')}, format {result.format}, "
        f"last_updated {result.last_updated}"
    )


@command(
    "index-update",
    PACK_PATH,
    Opt(
        "--index",
        dest="index_file",
        type=Path,
        metavar="FILE",
        required=True,
        complete=FILES,
        help="The index.json to update.",
    ),
    *SOURCE_OPTIONS,
    Opt("--update", flag=True, help="Replace the entry if the ref is already listed."),
    KEEP_HISTORY,
    Opt(
        "--create",
        flag=True,
        help="Start a new index if FILE is missing (needs the two options below).",
    ),
    Opt("--registry-name", metavar="NAME", help="With --create: the registry name."),
    Opt("--registry-url", metavar="URL", help="With --create: its https:// URL."),
)
def index_update(
    path: Path,
    index_file: Path,
    git_url: str | None,
    git_ref: str | None,
    archive_url: str | None,
    archive_checksum: str | None,
    update: bool,
    keep_history: bool,
    create: bool,
    registry_name: str | None,
    registry_url: str | None,
) -> Rendered:
    """Add a pack's entry to an index file (or replace it with --update).

    The whole result is validated and written atomically; refs stay sorted;
    last_updated changes only when the content does (set SOURCE_DATE_EPOCH for
    reproducible stamps). An invalid index is refused and left untouched.

    Example:
      attune pack index-update --index index.json ./slack --update \\
        --git-url https://github.com/acme/slack.git --git-ref "$GITHUB_SHA"
    """
    from attune_packs.registry import index_edit

    result = index_edit.update_index(
        index_file,
        path,
        _sources(git_url, git_ref, archive_url, archive_checksum),
        update=update,
        keep_history=keep_history,
        create=create,
        registry_name=registry_name,
        registry_url=registry_url,
        bus=message_bus(),
        max_bytes=settings().network.index_max_bytes,
    )
    return Rendered(result.to_dict(), _text_update(result))


def _text_merge(result: MergeResult) -> str:
    return (
        f"merged {count(len(result.inputs), 'index', 'indices')} "
        f"({count(result.loaded, 'entry', 'entries')}) into {result.file}: "
        f"{count(result.packs, 'entry', 'entries')} for {count(result.refs, 'ref', 'refs')}, "
        f"format {result.format}, last_updated {result.last_updated}"
    )


@command(
    "index-merge",
    Arg(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        complete=FILES,
        help="Index files; the first gives the registry identity and wins ties.",
    ),
    Opt(
        "--file",
        type=Path,
        metavar="OUT",
        required=True,
        complete=FILES,
        help="The merged index to write.",
    ),
    Opt("--force", flag=True, help="Replace OUT if it exists."),
    KEEP_HISTORY,
)
def index_merge(inputs: list[Path], file: Path, force: bool, keep_history: bool) -> Rendered:
    """Merge index files into one: per ref the highest version wins.

    Every input is validated first (every problem of every input is reported);
    OUT takes the first input's registry name and URL and the latest
    last_updated, and is written once, atomically, only if all succeeded.

    Example:
      attune pack index-merge --file combined.json team-a.json team-b.json
    """
    from attune_packs.registry import index_edit

    result = index_edit.merge_indices(
        file,
        inputs,
        force=force,
        keep_history=keep_history,
        bus=message_bus(),
        max_bytes=settings().network.index_max_bytes,
    )
    return Rendered(result.to_dict(), _text_merge(result))
