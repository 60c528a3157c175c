"""Registries: fetching, caching and validating indices; resolving requirements.

A registry's ``url`` is an ``https://`` URL (``http://`` only with
``network.allow_http``), a local path (relative paths are relative to the
config file's folder) or a ``file://`` URL.

Remote indices are cached under ``$ATTUNE_HOME/cache/indices/``: a copy
younger than ``network.cache_ttl`` is used without asking the server; an older
one is revalidated with a conditional request (ETag / Last-Modified, ``304``).
When the registry cannot be reached, the stale copy is used with a warning,
except with ``refresh=True``.  An index that is reachable but invalid is an
error, never replaced by a cached copy.

Validation (schema + rules, :mod:`attune_packs.index`) runs once per content:
a marker keyed by the SHA-256 of the bytes (and the rules in force) lets later
runs skip it.  Search uses a compact per-content summary for speed.

Resolution (:class:`RegistrySet`): enabled registries in ascending priority;
the first registry that lists a ref wins, and if a registry before the winner
cannot be fetched or is invalid, resolution fails ("fail closed").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, NotFound, RegistryError, UsageError
from attune_packs.events import EventBus, bus_or_null

if TYPE_CHECKING:
    from attune_packs.config import RegistryConfig, Settings
    from attune_packs.index import Index, IndexEntry
    from attune_packs.net.http import HttpClient

SUMMARY_FORMAT = 3


def atomic_write_bytes(path: Path, data: bytes) -> None:
    from attune_packs.fsutil import atomic_write_bytes as write

    write(path, data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


# --------------------------------------------------------------------------- locations


def is_remote_url(url: str) -> bool:
    return url.lower().startswith(("https://", "http://"))


def local_index_path(url: str, settings: Settings) -> Path:
    """The file a local registry ``url`` names (``file://`` or a path)."""
    if url.lower().startswith("file://"):
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RegistryError(f"invalid registry URL {url!r}: only local file:// URLs")
        return Path(unquote(parts.path))
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise RegistryError(
            f"unsupported registry URL scheme {scheme!r}: use https://, a path or file://"
        )
    path = Path(url).expanduser()
    if not path.is_absolute():
        path = settings.config_file.parent / path
    return path


def display_url(url: str) -> str:
    """A registry URL safe to print (credentials, query and fragment removed)."""
    from attune_packs.net.urls import display_location

    return display_location(url)


# --------------------------------------------------------------------------- results


@dataclass
class LoadedRegistry:
    """A registry whose index is known to be valid; the bytes are parsed only when needed."""

    config: RegistryConfig
    location: str  # URL (redacted) or absolute path
    origin: str  # "network", "not-modified", "cache", "stale-cache" or "local"
    content_sha256: str
    fetched_at: float | None
    path: Path | None = None  # where the bytes are (the local file or the cached copy)
    remote: bool = True
    allow_http: bool = False
    _raw: bytes | None = field(default=None, repr=False)
    _data: Any = field(default=None, repr=False)
    _index: Index | None = field(default=None, repr=False)
    _summary: Summary | None = field(default=None, repr=False)
    _cache: _IndexCache | None = field(default=None, repr=False)
    max_bytes: int | None = None  # network.index_max_bytes, for a local file read again

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def index(self) -> Index:
        """The parsed index (validated once per content; see the module docstring)."""
        if self._index is None:
            try:
                self._index = self._parse()
            except AttuneError as exc:
                raise _named(self.config, exc) from None
            self._data = self._raw = None
        return self._index

    def _parse(self) -> Index:
        from attune_packs.index import decode_json, parse_index

        data = self._data
        if data is None:
            raw = self._raw
            if raw is None:
                assert self.path is not None
                raw = _read_index_bytes(self.path, self.max_bytes if not self.remote else None)
                sha = hashlib.sha256(raw).hexdigest()
                if sha != self.content_sha256 and self._cache is not None:
                    # Changed since it was looked at: validate the new content.
                    data = _validated(
                        lambda: raw,
                        location=self.location,
                        remote=self.remote,
                        allow_http=self.allow_http,
                        cache=self._cache,
                        sha=sha,
                    )
                    self.content_sha256 = sha
                    self._summary = None
            if data is None:
                data = decode_json(raw, self.location)
        return parse_index(data, remote=self.remote, location=self.location, validate=False)

    def summary(self) -> Summary:
        """The search data of this index (cached per content hash)."""
        if self._summary is None:
            cached = self._cache.read_summary(self.content_sha256) if self._cache else None
            if cached is None:
                index = self.index
                cached = _build_summary(index)
                if self._cache:
                    self._cache.write_summary(self.content_sha256, cached)
            self._summary = cached
        return self._summary


@dataclass
class Resolved:
    entry: IndexEntry
    registry_name: str
    index_location: str
    index: Index | None = None
    registry: RegistryConfig | None = None


@dataclass
class SearchHit:
    ref: str
    version: str
    label: str
    description: str
    keywords: list[str]
    registry: str
    priority: int
    rank: int
    match: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "version": self.version,
            "label": self.label,
            "description": self.description,
            "keywords": self.keywords,
            "registry": self.registry,
            "priority": self.priority,
            "match": self.match,
        }


class Summary:
    """What search needs from one index, cheap to load: a lower-case haystack with one
    line per ref (fields separated by tabs) and each ref's display row as JSON text,
    decoded only for the refs a query actually hits."""

    __slots__ = ("hay", "rows", "starts")

    def __init__(self, hay: str, starts: list[int], rows: list[str]) -> None:
        self.hay, self.starts, self.rows = hay, starts, rows

    def candidates(self, word: str) -> list[int]:
        """Row numbers whose line contains ``word`` (str.find, no per-row Python loop)."""
        from bisect import bisect_right

        hay, starts = self.hay, self.starts
        found: list[int] = []
        i = hay.find(word)
        while i >= 0:
            r = bisect_right(starts, i) - 1
            found.append(r)
            i = hay.find(word, starts[r + 1] if r + 1 < len(starts) else len(hay))
        return found

    def line(self, r: int) -> str:
        end = self.starts[r + 1] - 1 if r + 1 < len(self.starts) else len(self.hay)
        return self.hay[self.starts[r] : end]

    def row(self, r: int) -> list[Any]:
        """``[ref, version, label, description, keywords]``."""
        return json.loads(self.rows[r])


def _flat(text: str) -> str:
    return " ".join(text.split())


def _build_summary(index: Index) -> Summary:
    """Per ref, its newest release (as ``ref`` alone would resolve)."""
    lines: list[str] = []
    rows: list[str] = []
    starts: list[int] = []
    at = 0
    for ref in index.refs:
        entry = pick_version(index.entries(ref), None)
        if entry is None:  # pragma: no cover - refs come from entries
            continue
        raw = entry.raw
        keywords = raw.get("keywords") if isinstance(raw.get("keywords"), list) else []
        label = str(raw.get("label") or entry.ref)
        description = str(raw.get("description") or "")
        kw = [str(k) for k in keywords]
        line = "\t".join(_flat(x) for x in [entry.ref, label, description, *kw]).lower()
        starts.append(at)
        at += len(line) + 1
        lines.append(line)
        rows.append(
            json.dumps([entry.ref, entry.version, label, description, kw], ensure_ascii=False)
        )
    return Summary("\n".join(lines), starts, rows)


# --------------------------------------------------------------------------- cache files

RACY_SECONDS = 2.0


def _read_index_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of an index file; with ``max_bytes`` (``network.index_max_bytes``) a
    larger file is refused before it is read, and no more than the limit is read."""
    from attune_packs.fsutil import NotRegularFile, open_regular

    try:
        # Checked to be a regular file before a byte is read: a FIFO must not block.
        with open(open_regular(path), "rb") as fh:
            if not max_bytes:
                return fh.read()
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise _too_large(path, max_bytes, size)
            raw = fh.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise _too_large(path, max_bytes)
        return raw
    except FileNotFoundError:
        raise NotFound(f"index file not found: {path}") from None
    except IsADirectoryError:
        raise RegistryError(f"cannot read index {path}: is a directory") from None
    except NotRegularFile as exc:
        what = "is a directory" if exc.kind == "a directory" else exc.strerror
        raise RegistryError(f"cannot read index {path}: {what}") from None
    except OSError as exc:
        raise RegistryError(f"cannot read index {path}: {exc.strerror}") from None


def _too_large(path: Path, max_bytes: int, size: int | None = None) -> AttuneError:
    from attune_packs.index import index_too_large

    return index_too_large(os.fspath(path), max_bytes, size)


class _IndexCache:
    """``cache/indices``: remote copies and their metadata, content hashes by file
    signature, validation markers and search summaries (all keyed by content hash)."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.cache_dir / "indices"

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def data_path(self, url: str) -> Path:
        return self.root / f"{self.key(url)}.json"

    def meta_path(self, url: str) -> Path:
        return self.root / f"{self.key(url)}.meta.json"

    # -- content hash of a file, remembered by (size, mtime, inode, device)
    def content_sha(self, path: Path, max_bytes: int | None = None) -> tuple[str, bytes | None]:
        """SHA-256 of ``path``'s bytes, and the bytes if they had to be read.

        A file whose signature matches the one recorded with its hash is not read
        again.  Like git's index, a signature is recorded only once the file's
        mtime is a few seconds old, so a same-size rewrite within one timestamp
        tick cannot be mistaken for the old content.  With ``max_bytes``, a larger
        file is refused from its size, before anything is read.
        """
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise NotFound(f"index file not found: {path}") from None
        except OSError as exc:
            raise RegistryError(f"cannot read index {path}: {exc.strerror}") from None
        if max_bytes and st.st_size > max_bytes:
            raise _too_large(path, max_bytes, st.st_size)
        sig = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]
        record = self.root / "stat" / f"{self.key(os.fspath(path))}.json"
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            doc = json.loads(record.read_bytes())
            if doc["sig"] == sig and doc["path"] == os.fspath(path):
                return str(doc["sha256"]), None
        raw = _read_index_bytes(path, max_bytes)
        sha = hashlib.sha256(raw).hexdigest()
        if len(raw) == st.st_size and time.time() - st.st_mtime > RACY_SECONDS:
            with contextlib.suppress(OSError):
                atomic_write_text(
                    record, json.dumps({"path": os.fspath(path), "sig": sig, "sha256": sha})
                )
        return sha, raw

    # -- remote copies
    def read(self, url: str) -> tuple[dict[str, Any], Path, bytes | None] | None:
        """``(meta, data path, bytes or None)`` of the cached copy of ``url``, if intact."""
        try:
            meta = json.loads(self.meta_path(url).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("url") != url:
            return None
        try:
            sha, raw = self.content_sha(self.data_path(url))
        except AttuneError:
            return None
        if meta.get("sha256") != sha:
            return None
        return meta, self.data_path(url), raw

    def write(self, url: str, data: bytes, meta: dict[str, Any]) -> None:
        try:
            atomic_write_bytes(self.data_path(url), data)
            atomic_write_text(self.meta_path(url), json.dumps(meta, indent=1) + "\n")
        except OSError:
            pass  # a cache we cannot write is only slower

    def touch(self, url: str, meta: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            atomic_write_text(self.meta_path(url), json.dumps(meta, indent=1) + "\n")

    # -- validation markers: "this content passed validation under these rules"
    def _marker(self, sha: str, rules: str) -> Path:
        return self.root / "validated" / f"{sha}.{rules}"

    def is_validated(self, sha: str, rules: str) -> bool:
        return self._marker(sha, rules).exists()

    def mark_validated(self, sha: str, rules: str) -> None:
        with contextlib.suppress(OSError):
            atomic_write_bytes(self._marker(sha, rules), b"")

    # -- search summaries (marshal: a few big objects load in well under a millisecond)
    def _summary_path(self, sha: str) -> Path:
        v = sys.version_info
        return self.root / "summaries" / f"{sha}.py{v.major}{v.minor}.v{SUMMARY_FORMAT}"

    def read_summary(self, sha: str) -> Summary | None:
        import marshal

        try:
            fmt, hay, starts, rows = marshal.loads(self._summary_path(sha).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None
        if fmt != SUMMARY_FORMAT or not isinstance(hay, str) or len(starts) != len(rows):
            return None
        return Summary(hay, starts, rows)

    def write_summary(self, sha: str, summary: Summary) -> None:
        import marshal

        doc = (SUMMARY_FORMAT, summary.hay, summary.starts, summary.rows)
        with contextlib.suppress(OSError, ValueError):
            atomic_write_bytes(self._summary_path(sha), marshal.dumps(doc))


RULES_VERSION = 2  # bumped when validation gets stricter (2: local paths stay inside)


def _rules_tag(remote: bool, allow_http: bool) -> str:
    return f"{'remote' if remote else 'local'}{'-http' if allow_http else ''}.r{RULES_VERSION}"


# --------------------------------------------------------------------------- loading


def _validated(
    get_raw: Callable[[], bytes],
    *,
    location: str,
    remote: bool,
    allow_http: bool,
    cache: _IndexCache,
    sha: str,
) -> Any:
    """Validate the content ``sha`` unless it passed before under the same rules.

    Returns the decoded data when it had to decode, else ``None`` (decoding is
    left for later, so a search answered from the summary never parses the index).
    """
    rules = _rules_tag(remote, allow_http)
    if cache.is_validated(sha, rules):
        return None
    from attune_packs.index import decode_json, invalid_index_error, validate_index_data

    data = decode_json(get_raw(), location)
    problems = validate_index_data(data, remote=remote, allow_http=allow_http)
    if problems:
        raise invalid_index_error(location, problems)
    cache.mark_validated(sha, rules)
    return data


def _lazy(path: Path, raw: bytes | None, max_bytes: int | None = None) -> Callable[[], bytes]:
    return (lambda: raw) if raw is not None else (lambda: _read_index_bytes(path, max_bytes))


def load_registry(
    reg: RegistryConfig,
    settings: Settings,
    bus: EventBus | None = None,
    *,
    refresh: bool = False,
    client: HttpClient | None = None,
) -> LoadedRegistry:
    """Fetch (or read from the cache) and validate the index of one registry.

    Raises an :class:`AttuneError` whose message names the registry.
    """
    bus = bus_or_null(bus)
    cache = _IndexCache(settings)
    net = settings.network
    allow_http = net.allow_http
    if not is_remote_url(reg.url):
        try:
            path = local_index_path(reg.url, settings)
            location = os.fspath(path)
            sha, raw = cache.content_sha(path, net.index_max_bytes)
            data = _validated(
                _lazy(path, raw, net.index_max_bytes),
                location=location,
                remote=False,
                allow_http=allow_http,
                cache=cache,
                sha=sha,
            )
        except AttuneError as exc:
            raise _named(reg, exc) from None
        return LoadedRegistry(
            reg,
            location,
            "local",
            sha,
            None,
            path,
            False,
            allow_http,
            raw,
            data,
            _cache=cache,
            max_bytes=net.index_max_bytes,
        )

    from attune_packs.net.http import HttpClient
    from attune_packs.net.urls import check_url

    url = reg.url
    shown = display_url(url)
    try:
        check_url(url, allow_http=allow_http, what="registry URL")
    except AttuneError as exc:
        raise _named(reg, exc) from None
    cached = cache.read(url)

    def from_cache(origin: str, fetched: float) -> LoadedRegistry:
        assert cached is not None
        meta, path, raw = cached
        data = _validated(
            _lazy(path, raw),
            location=shown,
            remote=True,
            allow_http=allow_http,
            cache=cache,
            sha=meta["sha256"],
        )
        return LoadedRegistry(
            reg,
            shown,
            origin,
            meta["sha256"],
            fetched,
            path,
            True,
            allow_http,
            raw,
            data,
            _cache=cache,
        )

    now = time.time()
    if cached is not None and not refresh:
        fetched = float(cached[0].get("fetched_at") or 0)
        if 0 <= now - fetched < net.cache_ttl:
            with contextlib.suppress(AttuneError):
                return from_cache("cache", fetched)
    own_client = client is None
    http = client or HttpClient(net, bus, headers=reg.headers, headers_origin=url)
    try:
        resp = http.get(
            url,
            max_bytes=net.index_max_bytes,
            etag=cached[0].get("etag") if cached else None,
            last_modified=cached[0].get("last_modified") if cached else None,
            what="registry URL",
        )
    except AttuneError as exc:
        if cached is not None and not refresh and exc.code not in ("invalid_url", "insecure_url"):
            fetched = float(cached[0].get("fetched_at") or 0)
            with contextlib.suppress(AttuneError):
                loaded = from_cache("stale-cache", fetched)
                when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(fetched))
                bus.warning(
                    f"registry {reg.name!r} is unreachable ({exc.message}); "
                    f"using its cached index from {when}"
                )
                return loaded
        raise _named(reg, exc) from None
    finally:
        if own_client:
            http.close()
    if resp.not_modified:
        if cached is None:
            raise _named(reg, RegistryError(f"{shown}: HTTP 304 without a cached copy"))
        cache.touch(url, {**cached[0], "fetched_at": now})
        try:
            return from_cache("not-modified", now)
        except AttuneError as exc:
            raise _named(reg, exc) from None
    raw = resp.content
    sha = hashlib.sha256(raw).hexdigest()
    try:
        data = _validated(
            lambda: raw, location=shown, remote=True, allow_http=allow_http, cache=cache, sha=sha
        )
    except AttuneError as exc:
        raise _named(reg, exc) from None
    cache.write(
        url,
        raw,
        {
            "url": url,
            "sha256": sha,
            "etag": resp.etag,
            "last_modified": resp.last_modified,
            "fetched_at": now,
        },
    )
    return LoadedRegistry(
        reg,
        shown,
        "network",
        sha,
        now,
        cache.data_path(url),
        True,
        allow_http,
        raw,
        data,
        _cache=cache,
    )


def _named(reg: RegistryConfig, exc: AttuneError) -> AttuneError:
    """``exc`` with the registry's name in front (same class and code)."""
    prefix = f"registry {reg.name!r}: "
    if exc.message.startswith(prefix):
        return exc
    new = AttuneError(
        prefix + exc.message, code=exc.code, exit_code=exc.exit_code, details=exc.details
    )
    with contextlib.suppress(TypeError):
        new = type(exc)(
            prefix + exc.message, code=exc.code, exit_code=exc.exit_code, details=exc.details
        )
    return new


# --------------------------------------------------------------------------- the set


def split_requirement(text: str) -> tuple[str, str | None]:
    ref, sep, constraint = text.partition("@")
    return ref, (constraint.strip() or None) if sep else None


def _prerelease(version: str) -> bool:
    return "-" in version.split("+", 1)[0]


def pick_version(entries: list[IndexEntry], constraint: str | None) -> IndexEntry | None:
    """The entry ``constraint`` selects: ``None``/``latest`` = newest release (a pre-release
    only when there is nothing else); an exact version; or the highest match of a range."""
    from attune_packs.versioning import compare_versions, max_satisfying, parse_constraint

    if not entries:
        return None
    if constraint is None or constraint == "latest":
        releases = [e for e in entries if not _prerelease(e.version)] or list(entries)
        best = releases[0]
        for e in releases[1:]:
            if compare_versions(e.version, best.version) > 0:
                best = e
        return best
    for e in entries:  # an exact version (build metadata included) wins outright
        if e.version == constraint:
            return e
    try:
        parse_constraint(constraint)
    except ValueError as exc:
        raise UsageError(str(exc), code="invalid_requirement") from None
    chosen = max_satisfying([e.version for e in entries], constraint)
    if chosen is None:
        return None
    return next(e for e in entries if e.version == chosen)


class RegistrySet:
    """The configured registries, in priority order, loaded lazily and once each."""

    def __init__(
        self,
        settings: Settings,
        bus: EventBus | None = None,
        refresh: bool = False,
        only: str | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus_or_null(bus)
        self.refresh = refresh
        if only is not None:
            match = [r for r in settings.registries if r.name == only]
            if not match:
                known = ", ".join(repr(r.name) for r in settings.registries) or "none configured"
                raise UsageError(
                    f"unknown registry {only!r} (configured: {known})", code="unknown_registry"
                )
            if not match[0].enabled:
                raise UsageError(
                    f"registry {only!r} is disabled in {settings.config_file}",
                    code="registry_disabled",
                )
            self.registries = match
        else:
            self.registries = settings.enabled_registries()
        if not self.registries:
            raise RegistryError(
                "no registries configured: add one under 'registries:' in "
                f"{settings.config_file} (or install from a path or URL)",
                code="no_registries",
            )
        self._loaded: dict[str, LoadedRegistry | AttuneError] = {}

    def load(self, reg: RegistryConfig) -> LoadedRegistry:
        got = self._loaded.get(reg.name)
        if got is None:
            try:
                got = load_registry(reg, self.settings, self.bus, refresh=self.refresh)
            except AttuneError as exc:
                got = exc
            self._loaded[reg.name] = got
        if isinstance(got, AttuneError):
            raise got
        return got

    def _fail_closed(self, reg: RegistryConfig, ref: str, exc: AttuneError) -> AttuneError:
        return RegistryError(
            f"cannot resolve {ref!r}: {exc.message} — registry {reg.name!r} "
            f"(priority {reg.priority}) comes first, so lower-priority registries are not "
            "consulted (fail closed); fix it, disable it, or use --registry NAME",
            code="registry_unavailable",
            details={"registry": reg.name, "cause": exc.code},
        )

    def winner(self, ref: str) -> tuple[LoadedRegistry, list[IndexEntry]]:
        """The first registry (by priority) listing ``ref`` and its entries; fail closed."""
        for reg in self.registries:
            try:
                loaded = self.load(reg)
            except AttuneError as exc:
                raise self._fail_closed(reg, ref, exc) from None
            entries = loaded.index.entries(ref)
            if entries:
                return loaded, entries
        names = ", ".join(repr(r.name) for r in self.registries)
        raise NotFound(
            f"pack {ref!r} not found in {'registry' if len(self.registries) == 1 else 'registries'}"
            f" {names}",
            details={"ref": ref},
        )

    def versions(self, ref: str) -> tuple[str, list[IndexEntry]]:
        loaded, entries = self.winner(ref)
        return loaded.name, entries

    def resolve(self, ref: str, constraint: str | None = None) -> Resolved:
        loaded, entries = self.winner(ref)
        entry = pick_version(entries, constraint)
        if entry is None:
            available = ", ".join(e.version for e in entries)
            raise NotFound(
                f"no version of {ref!r} in registry {loaded.name!r} satisfies "
                f"{constraint!r} (available: {available})",
                details={"ref": ref, "constraint": constraint, "registry": loaded.name},
            )
        return Resolved(entry, loaded.name, loaded.location, loaded.index, loaded.config)

    def search(self, query: str) -> list[SearchHit]:
        """Packs matching ``query`` in every registry (unreachable ones are warned about)."""
        q = " ".join(query.lower().split())
        if not q:
            raise UsageError("empty search query", code="usage_error")
        words = q.split()
        hits: list[SearchHit] = []
        failures: list[AttuneError] = []
        for reg in self.registries:
            try:
                loaded = self.load(reg)
            except AttuneError as exc:
                failures.append(exc)
                self.bus.warning(f"skipping {exc.message}")
                continue
            summary = loaded.summary()
            for r in summary.candidates(words[0]):
                if len(words) > 1:
                    line = summary.line(r)
                    if not all(w in line for w in words[1:]):
                        continue
                ref, version, label, description, keywords = summary.row(r)
                found = _rank(q, words, ref, label, description, keywords)
                if found is None:
                    continue
                rank, match = found
                hits.append(
                    SearchHit(
                        ref,
                        version,
                        label,
                        description,
                        list(keywords),
                        reg.name,
                        reg.priority,
                        rank,
                        match,
                    )
                )
        if failures and len(failures) == len(self.registries):
            raise failures[0]
        hits.sort(key=lambda h: (h.rank, h.ref, h.priority))
        return hits


_MATCH_NAMES = (
    "ref",
    "ref prefix",
    "keyword",
    "ref contains",
    "keyword contains",
    "label",
    "description",
    "all words",
)


def _rank(
    q: str, words: list[str], ref: str, label: str, description: str, keywords: list[str]
) -> tuple[int, str] | None:
    """Tier of a match: exact ref, ref prefix, keyword, then label and description."""
    if ref == q:
        rank = 0
    elif ref.startswith(q):
        rank = 1
    else:
        kw = [k.lower() for k in keywords]
        if q in kw:
            rank = 2
        elif q in ref:
            rank = 3
        elif any(q in k for k in kw):
            rank = 4
        elif q in label.lower():
            rank = 5
        elif q in description.lower():
            rank = 6
        elif len(words) > 1:
            text = " ".join([ref, label.lower(), description.lower(), *kw])
            if not all(w in text for w in words):
                return None
            rank = 7
        else:
            return None
    return rank, _MATCH_NAMES[rank]
