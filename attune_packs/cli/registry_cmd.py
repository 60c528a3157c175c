"""Registry look-ups: ``registries``, ``search``, ``index show|validate``, ``cache stats|clean``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.cli.facade import manager
from attune_packs.cli.grammar import FILES, Arg, Opt, command, non_negative_float, positive_int
from attune_packs.cli.render import (
    Rendered,
    count,
    kv_table,
    message_bus,
    printable,
    settings,
    table,
)

if TYPE_CHECKING:
    from attune_packs.registry.index_read import IndexValidation
    from attune_packs.registry.queries import EntryView, RegistryStatus, SearchResults

SEARCH_LIMIT = 100  # default of ``pack search --limit``
REGISTRY_OPT = Opt("--registry", metavar="NAME", help="Use only this configured registry.")
REFRESH_OPT = Opt(
    "--refresh", flag=True, help="Fetch indices again now (never use a stale cached copy)."
)


def _text_registries(status: RegistryStatus) -> str:
    if not status.rows:
        return ""
    headers = ["priority", "name", "url", "enabled"]
    if status.checked:
        headers.append("status")
    out = []
    for r in status.rows:
        line = [r["priority"], printable(r["name"]), printable(r["url"])]
        line.append("yes" if r["enabled"] else "no")
        if status.checked:
            if not r["enabled"]:
                line.append("-")
            elif r["reachable"]:
                line.append(f"ok ({count(r['packs'], 'pack')})")
            else:
                line.append(f"FAILED: {printable(r['error'])}")
        out.append(line)
    return table(out, headers)


@command(
    "registries",
    Opt("--check", flag=True, help="Fetch each enabled registry's index now and report."),
)
def registries(check: bool) -> Rendered:
    """List the configured registries in priority order (credentials never shown).

    With --check, each enabled registry's index is fetched and validated; the
    command exits 1 if any enabled registry is unreachable or invalid.

    Example:
      attune pack registries --check
    """
    from attune_packs.registry.queries import registry_status

    status = registry_status(settings(), check=check, bus=message_bus())
    messages: list[str] = []
    n = status.failed
    if not status.rows:
        messages.append(
            f"no registries configured: add one under 'registries:' in {status.config_file}"
        )
    if n:
        messages.append(f"error: {n} registr{'y' if n == 1 else 'ies'} failed the check")
    return Rendered(status.to_dict(), lambda: _text_registries(status), 1 if n else 0, messages)


# --------------------------------------------------------------------------- search


def _text_search(found: SearchResults) -> str:
    return table(
        [(h.ref, h.version, h.registry, printable(h.description, 60)) for h in found.shown],
        ["ref", "version", "registry", "description"],
    )


@command(
    "search",
    Arg("query", help="Words to look for."),
    REGISTRY_OPT,
    REFRESH_OPT,
    Opt(
        "--limit",
        type=positive_int,
        default=SEARCH_LIMIT,
        metavar="N",
        help="Show at most this many results.",
    ),
)
def search(query: str, registry: str | None, refresh: bool, limit: int) -> Rendered:
    """Search the registries' packs by ref, keyword, label and description.

    The exact ref comes first, then ref prefixes, keyword, label and description
    matches. Each result names its registry.

    Example:
      attune pack search slack
    """
    found = manager(message_bus()).search(query, registry=registry, refresh=refresh, limit=limit)
    messages = []
    if not found.hits:
        messages.append(f"no packs match {query!r}")
    elif found.hidden:
        messages.append(f"{found.hidden} more results not shown (use --limit)")
    return Rendered(found.to_dict(), lambda: _text_search(found), 0, messages)


# --------------------------------------------------------------------------- index show


def _text_entry(view: EntryView) -> str:
    entry = view.entry
    raw = entry.raw
    contents = raw.get("contents") or {}
    deps = raw.get("dependencies") or {}
    pairs: list[tuple[str, Any]] = [
        ("ref", entry.ref),
        ("version", entry.version),
        ("label", raw.get("label")),
        ("description", raw.get("description")),
        ("author", raw.get("author")),
        ("license", raw.get("license")),
        ("homepage", raw.get("homepage")),
        ("repository", raw.get("repository")),
        ("keywords", ", ".join(raw.get("keywords") or []) or "-"),
        ("runtime deps", ", ".join(raw.get("runtime_deps") or []) or "-"),
        ("pack deps", ", ".join(deps.get("packs") or []) if isinstance(deps, dict) else "-"),
        ("registry", f"{view.registry} ({view.index})"),
        ("versions", ", ".join(view.versions)),
        (
            "contents",
            ", ".join(
                f"{len(contents.get(k) or [])} {k}"
                for k in ("actions", "sensors", "triggers", "rules", "workflows")
            ),
        ),
    ]
    pairs = [(k, printable(v)) for k, v in pairs if v not in (None, "")]
    out = kv_table(pairs)
    sources = [
        (s.type, printable(s.url), printable(s.ref or ""), s.checksum)
        for s in entry.install_sources
    ]
    if sources:
        out += "\n\n" + table(sources, ["source", "url", "ref", "checksum"])
    return out


@command(
    "index show",
    Arg("ref", help="A pack ref, optionally with @version or @range."),
    REGISTRY_OPT,
    REFRESH_OPT,
)
def index_show(ref: str, registry: str | None, refresh: bool) -> Rendered:
    """Show a pack's registry entry: metadata, install sources, contents, versions.

    REF may carry a version or a constraint (slack@1.2.0, slack@^1.2); the
    entry comes from the first registry (by priority) that lists the ref.

    Example:
      attune pack index show slack -o json
    """
    from attune_packs.registry.queries import check_entry_ref, show_entry

    check_entry_ref(ref)
    view = show_entry(settings(), ref, registry=registry, refresh=refresh, bus=message_bus())
    return Rendered(view.to_dict(), lambda: _text_entry(view))


# --------------------------------------------------------------------------- index validate


def _text_index_validate(result: IndexValidation, file: Path) -> str:
    if result.valid:
        return f"{file}: valid index (format {result.format}, {count(result.packs or 0, 'pack')})"
    return "\n".join(result.errors)


@command(
    "index validate",
    Arg("file", type=Path, help="An index.json file.", complete=FILES),
    Opt(
        "--strict",
        flag=True,
        help="Also refuse what a remote Attune host refuses: relative or local paths, "
        "file:// and http:// install sources (without it they are warnings).",
    ),
    Opt("--local", flag=True, help="Accepted for compatibility: local rules are the default."),
)
def index_validate(file: Path, strict: bool, local: bool) -> Rendered:
    """Validate an index file against the schema and the rules every reader applies.

    Checks: the JSON Schema, unique refs sorted by ref (format 1.1: ref and
    version), semantic versions, release history, checksum format, URLs without
    credentials, query or fragment. Relative install sources (resolved against
    the index's folder, which they must not leave) are valid, as install accepts
    them; what a remote Attune host would refuse is a warning, an error with
    --strict. Exit 1 and every problem listed when the index is not valid.

    Example:
      attune pack index validate index.json --strict
    """
    from attune_packs.registry.index_read import validate_index_file

    net = settings().network
    result = validate_index_file(
        file, strict=strict, allow_http=net.allow_http, max_bytes=net.index_max_bytes
    )
    messages = [f"warning: {w}" for w in result.warnings]
    if not result.valid:
        problems = count(len(result.errors), "problem")
        messages.append(f"error: {file} is not a valid index: {problems}")
    return Rendered(
        result.to_dict(),
        lambda: _text_index_validate(result, file),
        0 if result.valid else 1,
        messages,
    )


# --------------------------------------------------------------------------- cache


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _text_cache_stats(stats: dict[str, Any]) -> str:
    archives, indices = stats["archives"], stats["indices"]
    return kv_table(
        [
            ("path", stats["path"]),
            ("archives", f"{archives['entries']} ({_size(archives['bytes'])})"),
            ("indices", f"{indices['entries']} files ({_size(indices['bytes'])})"),
            ("total", _size(stats["total_bytes"])),
        ]
    )


@command("cache stats")
def cache_stats() -> Rendered:
    """Show what the download cache holds (archives by checksum, registry indices).

    Example:
      attune pack cache stats
    """
    from attune_packs.net.cache import DownloadCache

    stats = DownloadCache(settings().cache_dir).stats()
    return Rendered(stats, lambda: _text_cache_stats(stats))


@command(
    "cache clean",
    Opt(
        "--older-than",
        metavar="DAYS",
        type=non_negative_float,
        help="Only remove entries not used for this many days.",
    ),
)
def cache_clean(older_than: float | None) -> Rendered:
    """Empty the download cache (or only entries unused for --older-than DAYS).

    Installed packs are not affected; a later install downloads again.

    Example:
      attune pack cache clean --older-than 30
    """
    from attune_packs.net.cache import DownloadCache

    result = DownloadCache(settings().cache_dir).clean(older_than)
    text = f"removed {result['removed']} files, freed {_size(result['freed_bytes'])}"
    return Rendered(result, text)
