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

Validation (schema + rules, :mod:`attune_packs.registry.index`) runs once per content:
a marker keyed by the SHA-256 of the bytes (and the rules in force) lets later
runs skip it.  Search uses a compact per-content summary for speed.

Resolution (:class:`RegistrySet`): enabled registries in ascending priority;
the first registry that lists a ref wins, and if a registry before the winner
cannot be fetched or is invalid, resolution fails ("fail closed").
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.errors import AttuneError, RegistryError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.registry.index_cache import _IndexCache, _read_index_bytes, _rules_tag
from attune_packs.registry.summary import _build_summary

if TYPE_CHECKING:
    from attune_packs.config import RegistryConfig, Settings
    from attune_packs.net.http import HttpClient
    from attune_packs.registry.index import Index

if TYPE_CHECKING:
    from attune_packs.registry.summary import Summary


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
    from attune_packs.redaction import display_location

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
        from attune_packs.registry.index_read import decode_json, parse_index

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
    from attune_packs.registry.index_read import decode_json, invalid_index_error
    from attune_packs.registry.index_validation import validate_index_data

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
