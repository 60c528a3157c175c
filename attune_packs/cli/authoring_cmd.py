"""``attune pack index-entry``, ``index-update`` and ``index-merge`` (registry authoring)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from attune_packs.cli.common import STATE, OutputFormat, Rendered, command, err_line
from attune_packs.cli.root import pack_app
from attune_packs.errors import UsageError
from attune_packs.events import EventBus
from attune_packs.events import Warning as WarningEvent

if TYPE_CHECKING:
    from attune_packs.authoring import SourceOptions


class EntryFormat(StrEnum):
    json = "json"
    yaml = "yaml"


PackPath = Annotated[
    Path, typer.Argument(metavar="PATH", help="The pack folder (holding pack.yaml).")
]
GitUrl = Annotated[
    str | None,
    typer.Option("--git-url", metavar="URL", help="https:// git repository of the pack."),
]
GitRef = Annotated[
    str | None,
    typer.Option(
        "--git-ref",
        metavar="REF",
        help="Commit to install (40-hex SHA; a branch or tag gets a warning). Needs --git-url.",
    ),
]
ArchiveUrl = Annotated[
    str | None,
    typer.Option("--archive-url", metavar="URL", help="https:// URL of a release archive."),
]
ArchiveChecksum = Annotated[
    str | None,
    typer.Option(
        "--archive-checksum",
        metavar="sha256:HEX",
        help="SHA-256 of the exact archive bytes (never downloaded). Needs --archive-url.",
    ),
]
KeepHistory = Annotated[
    bool,
    typer.Option(
        "--keep-history",
        help="Keep earlier versions of each ref (writes index format 1.1).",
    ),
]


def _bus() -> EventBus:
    """Warnings go to stderr as they happen; stdout stays the document."""

    def show(event: object) -> None:
        if isinstance(event, WarningEvent):
            err_line(f"warning: {event.message}")

    return EventBus(show)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _sources(
    git_url: str | None, git_ref: str | None, archive_url: str | None, checksum: str | None
) -> SourceOptions:
    from attune_packs.authoring import SourceOptions

    return SourceOptions(git_url, git_ref, archive_url, checksum)


def _entry_format(given: EntryFormat | None) -> str:
    """--format picks the entry's serialisation; -o json|yaml is an alias of it."""
    if STATE.output is OutputFormat.table:
        return (given or EntryFormat.json).value
    if given is not None and given.value != STATE.output.value:
        raise UsageError(
            f"--format {given.value} and --output {STATE.output.value} disagree; give one"
        )
    return STATE.output.value


@command(pack_app, "index-entry")
def index_entry_cmd(
    path: PackPath,
    git_url: GitUrl = None,
    git_ref: GitRef = None,
    archive_url: ArchiveUrl = None,
    archive_checksum: ArchiveChecksum = None,
    format: Annotated[
        EntryFormat | None,
        typer.Option(
            "--format",
            help="Serialisation of the entry: json (default) or yaml. -o json|yaml is the same.",
            case_sensitive=False,
        ),
    ] = None,
) -> Rendered:
    """Print the registry index entry of a pack (stdout holds only the entry).

    The entry follows Attune's normalisation of pack.yaml; the git source's
    checksum is the pack folder's directory checksum, the archive checksum is
    the one you give. At least one source is required; URLs must be https://
    without credentials, query or fragment.

    \b
    Example:
      attune pack index-entry ./slack --git-url https://github.com/acme/slack.git \\
        --git-ref 0123456789abcdef0123456789abcdef01234567 > entry.json
    """
    from attune_packs import authoring, index

    fmt = _entry_format(format)
    built = authoring.build_entry(
        path, _sources(git_url, git_ref, archive_url, archive_checksum), _bus()
    )
    text = index.dump_entry(built.entry, fmt)
    # The entry is the document in every mode: print its canonical text verbatim.
    STATE.output = OutputFormat.table
    return Rendered(built.entry, text)


@command(pack_app, "index-update")
def index_update_cmd(
    path: PackPath,
    index_file: Annotated[
        Path, typer.Option("--index", metavar="FILE", help="The index.json to update.")
    ],
    git_url: GitUrl = None,
    git_ref: GitRef = None,
    archive_url: ArchiveUrl = None,
    archive_checksum: ArchiveChecksum = None,
    update: Annotated[
        bool, typer.Option("--update", help="Replace the entry if the ref is already listed.")
    ] = False,
    keep_history: KeepHistory = False,
    create: Annotated[
        bool,
        typer.Option(
            "--create", help="Start a new index if FILE is missing (needs the two options below)."
        ),
    ] = False,
    registry_name: Annotated[
        str | None,
        typer.Option("--registry-name", metavar="NAME", help="With --create: the registry name."),
    ] = None,
    registry_url: Annotated[
        str | None,
        typer.Option("--registry-url", metavar="URL", help="With --create: its https:// URL."),
    ] = None,
) -> Rendered:
    """Add a pack's entry to an index file (or replace it with --update).

    The whole result is validated and written atomically; refs stay sorted;
    last_updated changes only when the content does (set SOURCE_DATE_EPOCH for
    reproducible stamps). An invalid index is refused and left untouched.

    \b
    Example:
      attune pack index-update --index index.json ./slack --update \\
        --git-url https://github.com/acme/slack.git --git-ref "$GITHUB_SHA"
    """
    from attune_packs import authoring

    result = authoring.update_index(
        index_file,
        path,
        _sources(git_url, git_ref, archive_url, archive_checksum),
        update=update,
        keep_history=keep_history,
        create=create,
        registry_name=registry_name,
        registry_url=registry_url,
        bus=_bus(),
    )
    if result.action == "unchanged":
        line = f"{result.index} unchanged: {result.ref} {result.version} is already listed as built"
    else:
        replaced = f" (replaced {', '.join(result.replaced)})" if result.replaced else ""
        line = (
            f"{result.action} {result.ref} {result.version}{replaced} in {result.index}: "
            f"{_count(result.packs, 'entry', 'entries')}, format {result.format}, "
            f"last_updated {result.last_updated}"
        )
    return Rendered(result.to_dict(), line)


@command(pack_app, "index-merge")
def index_merge_cmd(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="INPUT",
            help="Index files; the first gives the registry identity and wins ties.",
        ),
    ],
    file: Annotated[Path, typer.Option("--file", metavar="OUT", help="The merged index to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace OUT if it exists.")] = False,
    keep_history: KeepHistory = False,
) -> Rendered:
    """Merge index files into one: per ref the highest version wins.

    Every input is validated first (every problem of every input is reported);
    OUT takes the first input's registry name and URL and the latest
    last_updated, and is written once, atomically, only if all succeeded.

    \b
    Example:
      attune pack index-merge --file combined.json team-a.json team-b.json
    """
    from attune_packs import authoring

    result = authoring.merge_indices(
        file, inputs, force=force, keep_history=keep_history, bus=_bus()
    )
    line = (
        f"merged {_count(len(result.inputs), 'index', 'indices')} "
        f"({_count(result.loaded, 'entry', 'entries')}) into {result.file}: "
        f"{_count(result.packs, 'entry', 'entries')} for {_count(result.refs, 'ref', 'refs')}, "
        f"format {result.format}, last_updated {result.last_updated}"
    )
    return Rendered(result.to_dict(), line)
