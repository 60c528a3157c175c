"""HTTP(S) downloads over httpx, hardened against hostile or broken servers.

Rules (DESIGN.md sections 4 and 5, issue 4):

* ``https://`` only, ``http://`` only where ``network.allow_http`` is on;
  URLs carrying credentials, a query or a fragment are refused.
* Redirects are followed by hand (at most :data:`MAX_REDIRECTS` hops); a hop
  from https to http is refused even with ``allow_http``.
* ``network.connect_timeout`` bounds connecting, ``network.timeout`` bounds a
  whole request: every attempt, redirect and wait between attempts together; size
  caps are checked against ``Content-Length`` up front and enforced again while
  streaming.
* Connection errors, 5xx and 429 answers are retried ``network.retries`` times,
  waiting ``network.retry_backoff`` seconds before the first retry and twice as long
  before each next one; other 4xx answers and timeouts are not retried.  A 429 or
  503 with ``Retry-After`` (delta seconds or an HTTP date) waits what the server
  asks instead; if that is more than what is left of ``network.timeout``, the
  request fails at once saying so.  Retries are counted on the result, on the
  client and in the innermost :func:`counting_retries` block (the installer's
  audit row).
* Extra headers (a registry's credentials) are sent only to one origin
  (scheme, host, port) and never appear in events or error messages.
* Downloads go to a temporary file beside the destination, are fsynced and then
  renamed: a partial download never appears under the final name.

Trust: the system CA store (``ssl.create_default_context``, which honours
``SSL_CERT_FILE``/``SSL_CERT_DIR``), or exactly the bundle named by
``$ATTUNE_CA_BUNDLE`` when that is set.

httpx is imported only inside the functions that talk to the network.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from attune_packs.errors import NetworkError, SourceError
from attune_packs.events import Downloading, EventBus, bus_or_null
from attune_packs.fsutil import atomic_output
from attune_packs.net.tls import ssl_context
from attune_packs.net.urls import check_url, origin_of
from attune_packs.redaction import redact_url

if TYPE_CHECKING:
    import httpx

    from attune_packs.config import NetworkConfig

MAX_REDIRECTS = 10
CHUNK = 64 * 1024
PROGRESS_EVERY_BYTES = 256 * 1024
PROGRESS_EVERY_SECONDS = 0.2
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_CODES = frozenset({429, 503})


def _user_agent() -> str:
    from attune_packs import __version__

    return f"attune-packs/{__version__}"


# --------------------------------------------------------------------------- results


@dataclass
class Response:
    """A small fetched body (an index) or a 304."""

    url: str
    status: int
    content: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    retries: int = 0  # attempts made after the first

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class Download:
    """A file downloaded in full to ``path``."""

    url: str
    path: Path
    size: int
    checksum: str  # sha256:<hex> of the bytes
    retries: int = 0  # attempts made after the first


@dataclass
class RetryCounter:
    """Retries made by every :class:`HttpClient` inside a :func:`counting_retries` block."""

    count: int = 0


_RETRY_COUNTER: contextvars.ContextVar[RetryCounter | None] = contextvars.ContextVar(
    "attune_http_retry_counter", default=None
)


@contextlib.contextmanager
def counting_retries() -> Iterator[RetryCounter]:
    """Count the HTTP retries made inside the block (in this thread or context).

    Blocks nest: a retry is counted by the innermost block only, so an install attempt
    does not count again the retries of a dependency installed (and audited) inside it.
    The counter is a context variable: a worker thread started inside the block counts
    into it only if it runs in a copy of the context (``contextvars.copy_context()``)."""
    counter = RetryCounter()
    token = _RETRY_COUNTER.set(counter)
    try:
        yield counter
    finally:
        _RETRY_COUNTER.reset(token)


def parse_retry_after(
    value: str | None, *, date: str | None = None, now: float | None = None
) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (never negative), or None if invalid.

    ``value`` is delta seconds (``120``) or an HTTP date; a date is measured from the
    response's ``Date`` header when that is valid (no clock skew), else from ``now``
    (default: this machine's clock)."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"[0-9]+", text):
        return float(min(int(text), 10**9))
    from email.utils import parsedate_to_datetime

    def when(stamp: str | None) -> float | None:
        if not stamp:
            return None
        try:
            parsed = parsedate_to_datetime(stamp.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if parsed.tzinfo is None:
            from datetime import UTC

            parsed = parsed.replace(tzinfo=UTC)
        try:
            return parsed.timestamp()
        except (OverflowError, OSError, ValueError):
            return None

    target = when(text)
    if target is None:
        return None
    reference = when(date)
    if reference is None:
        reference = time.time() if now is None else now
    return max(0.0, target - reference)


class _Retry(Exception):
    """A failure worth another attempt (connection trouble, 5xx, 429)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after  # seconds the server asked to wait (429/503)


class _Fatal(Exception):
    def __init__(self, reason: str, code: str = "network_error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class _Sink:
    """Where body bytes go; ``reset`` before another attempt."""

    def reset(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def write(self, data: bytes) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class _MemorySink(_Sink):
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def reset(self) -> None:
        self.parts = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)


class _FileSink(_Sink):
    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def reset(self) -> None:
        self.fh.seek(0)
        self.fh.truncate()
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.hash.update(data)
        self.size += len(data)


def _describe_transport_error(exc: Exception) -> tuple[str, bool]:
    """One-line reason for an httpx transport error and whether it is worth a retry."""
    import httpx

    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out", True
    if isinstance(exc, httpx.TimeoutException):
        return "timed out", False
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        detail = (
            text.split("certificate verify failed:", 1)[-1].strip(" ()_")
            if ("certificate verify failed:" in text)
            else ""
        )
        return f"TLS certificate verification failed{': ' + detail if detail else ''}", False
    if "SSL" in text or "TLS" in text:
        return f"TLS error: {text.splitlines()[0]}", False
    if isinstance(exc, httpx.ConnectError):
        reason = text.splitlines()[0]
        for marker in ("] ", ": "):
            if marker in reason and reason.startswith("["):
                reason = reason.split(marker, 1)[1]
                break
        return f"cannot connect: {reason}", True
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return f"connection dropped: {text.splitlines()[0]}", True
    if isinstance(exc, httpx.LocalProtocolError):
        # Never echo the details: they may quote a header value (a credential).
        return "invalid request (a header or the URL is not valid HTTP)", False
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects", False
    return f"{type(exc).__name__}: {text.splitlines()[0]}", False


# --------------------------------------------------------------------------- client

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Registry headers that are valid HTTP; the error never quotes a value."""
    from attune_packs.errors import ConfigError

    out: dict[str, str] = {}
    for name, value in headers.items():
        if not _HEADER_NAME.match(name):
            raise ConfigError(f"invalid registry header name {name!r}")
        if not all(c == "\t" or 32 <= ord(c) < 127 for c in value):
            raise ConfigError(
                f"the value of registry header {name!r} must be printable ASCII on one line"
            )
        out[name] = value
    return out


class HttpClient:
    """One configured httpx client; use as a context manager.

    ``headers`` are sent only to requests whose origin equals ``headers_origin``
    (a registry's credentials stay with the registry's host).
    """

    def __init__(
        self,
        network: NetworkConfig,
        bus: EventBus | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        headers_origin: str | None = None,
        backoff: float | None = None,
    ) -> None:
        self.network = network
        self.bus = bus_or_null(bus)
        self._secret_headers = _checked_headers(headers or {})
        self._secret_origin = origin_of(headers_origin) if headers_origin else None
        self.backoff = (
            backoff if backoff is not None else float(getattr(network, "retry_backoff", 0.5))
        )
        self._client: httpx.Client | None = None
        self.retries = 0  # retries made by this client, over all its requests

    # -- lifecycle
    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                verify=ssl_context(),
                follow_redirects=False,
                trust_env=True,
                headers={"User-Agent": _user_agent()},
                timeout=httpx.Timeout(
                    self.network.timeout or None, connect=self.network.connect_timeout or None
                ),
            )
        return self._client

    # -- public API
    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
        what: str = "URL",
    ) -> Response:
        """GET a small document into memory (conditional when ``etag``/``last_modified``)."""
        check_url(url, allow_http=self.network.allow_http, what=what)
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        sink = _MemorySink()
        final, status, headers, retries = self._with_retries(
            url, sink, max_bytes=max_bytes, extra=conditional, progress=False
        )
        return Response(
            url=final,
            status=status,
            content=b"".join(sink.parts),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            retries=retries,
        )

    def download(self, url: str, dest: Path, *, max_bytes: int, what: str = "URL") -> Download:
        """Stream ``url`` into ``dest`` (temp file, fsync, rename); return size and sha256."""
        check_url(url, allow_http=self.network.allow_http, what=what)
        dest = Path(dest)
        try:
            # Staged next to dest, fsynced, renamed over it; removed on any failure.
            with atomic_output(dest, mode=None, suffix=".part") as fh:
                sink = _FileSink(fh)
                final, _status, _headers, retries = self._with_retries(
                    url,
                    sink,
                    max_bytes=max_bytes,
                    extra={"Accept-Encoding": "identity"},
                    progress=True,
                )
        except OSError as exc:
            raise SourceError(
                f"cannot write the download of {redact_url(url)} to {dest.parent}: "
                f"{exc.strerror or exc}",
                code="io_error",
            ) from None
        return Download(
            url=final,
            path=dest,
            size=sink.size,
            checksum="sha256:" + sink.hash.hexdigest(),
            retries=retries,
        )

    # -- internals
    def _with_retries(
        self,
        url: str,
        sink: _Sink,
        *,
        max_bytes: int,
        extra: dict[str, str],
        progress: bool,
    ) -> tuple[str, int, dict[str, str], int]:
        """Attempts until one succeeds: ``(final URL, status, headers, retries made)``."""
        shown = redact_url(url)
        attempts = max(0, int(self.network.retries)) + 1
        total_timeout = float(self.network.timeout or 0) or None
        # One deadline for the whole request: attempts, redirects and waits together.
        deadline = time.monotonic() + total_timeout if total_timeout else None
        retries = 0
        while True:
            try:
                final, status, headers = self._attempt(
                    url,
                    sink,
                    max_bytes=max_bytes,
                    extra=extra,
                    progress=progress,
                    deadline=deadline,
                )
                return final, status, headers, retries
            except _Retry as exc:
                last = exc
            except _Fatal as exc:
                raise NetworkError(f"{shown}: {exc.reason}", code=exc.code) from None
            made = retries + 1
            if made >= attempts:
                suffix = f" (after {made} attempts)" if made > 1 else ""
                raise NetworkError(f"{shown}: {last.reason}{suffix}")
            asked = last.retry_after
            delay = asked if asked is not None else self.backoff * (2**retries)
            left = deadline - time.monotonic() if deadline is not None else None
            if left is not None and total_timeout is not None and delay >= left:
                raise NetworkError(
                    self._no_time_to_retry(shown, last.reason, made, asked, left, total_timeout),
                    code="network_error" if asked is not None else "timeout",
                )
            why = f"{last.reason}; the server asked to wait" if asked is not None else last.reason
            self.bus.info(
                f"retrying {shown} in {delay:g}s (attempt {made + 1} of {attempts}): {why}"
            )
            if delay > 0:
                time.sleep(delay)
            sink.reset()
            retries += 1
            self.retries += 1
            counter = _RETRY_COUNTER.get()
            if counter is not None:
                counter.count += 1

    @staticmethod
    def _no_time_to_retry(
        shown: str, reason: str, made: int, asked: float | None, left: float, timeout: float
    ) -> str:
        """The one-line message when the next retry would not fit in ``network.timeout``."""
        if asked is None:
            done = f"after {made} attempts; " if made > 1 else ""
            return (
                f"{shown}: {reason} ({done}no time left for a retry within the "
                f"{timeout:g} s network.timeout)"
            )
        wait = f"{math.ceil(asked):d} s" if asked >= 1 else f"{asked:.2g} s"
        if asked > timeout:
            allowed = f"the {timeout:g} s network.timeout allows"
        else:
            allowed = (
                f"the {max(0, math.floor(left)):d} s left of the {timeout:g} s network.timeout"
            )
        return f"{shown}: {reason}; the server asked to retry after {wait}, more than {allowed}"

    def _headers_for(self, url: str, extra: dict[str, str]) -> dict[str, str]:
        headers = dict(extra)
        if self._secret_headers and self._secret_origin == origin_of(url):
            headers.update(self._secret_headers)
        return headers

    def _attempt(
        self,
        url: str,
        sink: _Sink,
        *,
        max_bytes: int,
        extra: dict[str, str],
        progress: bool,
        deadline: float | None,
    ) -> tuple[str, int, dict[str, str]]:
        import httpx

        total_timeout = float(self.network.timeout or 0) or None
        current = url
        hops = 0
        client = self._http()
        while True:
            timeout = self._timeout_left(deadline)
            try:
                with client.stream(
                    "GET", current, headers=self._headers_for(current, extra), timeout=timeout
                ) as resp:
                    status = resp.status_code
                    if status in REDIRECT_CODES:
                        current = self._next_hop(current, resp.headers.get("location"))
                        hops += 1
                        if hops > MAX_REDIRECTS:
                            raise _Fatal(f"more than {MAX_REDIRECTS} redirects")
                        continue
                    if status == 304:
                        return current, status, dict(resp.headers)
                    if status >= 500 or status == 429:
                        asked = None
                        if status in RETRY_AFTER_CODES:
                            asked = parse_retry_after(
                                resp.headers.get("retry-after"), date=resp.headers.get("date")
                            )
                        raise _Retry(f"HTTP {status} {resp.reason_phrase}".rstrip(), asked)
                    if status != 200:
                        code = "not_found" if status in (404, 410) else "network_error"
                        raise _Fatal(f"HTTP {status} {resp.reason_phrase}".rstrip(), code)
                    self._stream_body(resp, current, sink, max_bytes, deadline, progress, url)
                    return current, status, dict(resp.headers)
            except (_Retry, _Fatal):
                raise
            except httpx.InvalidURL:
                raise _Fatal("invalid URL", "invalid_url") from None
            except httpx.HTTPError as exc:
                reason, retry = _describe_transport_error(exc)
                if total_timeout and (
                    reason == "timed out"
                    # connecting was cut short by the whole request's deadline
                    or (isinstance(exc, httpx.TimeoutException) and self._past(deadline))
                ):
                    reason, retry = f"timed out after {total_timeout:g}s", False
                if retry:
                    raise _Retry(reason) from None
                raise _Fatal(
                    reason, "timeout" if "timed out" in reason else "network_error"
                ) from None

    @staticmethod
    def _past(deadline: float | None) -> bool:
        """Whether ``deadline`` has (all but) passed."""
        return deadline is not None and time.monotonic() >= deadline - 0.01

    def _timeout_left(self, deadline: float | None) -> Any:
        import httpx

        connect = float(self.network.connect_timeout or 0) or None
        if deadline is None:
            return httpx.Timeout(None, connect=connect)
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Fatal(f"timed out after {self.network.timeout:g}s", "timeout")
        return httpx.Timeout(left, connect=min(connect, left) if connect else left)

    def _next_hop(self, current: str, location: str | None) -> str:
        from urllib.parse import urljoin

        if not location:
            raise _Fatal("redirect without a Location header")
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        scheme = parts.scheme.lower()
        shown = redact_url(target)
        if scheme not in ("http", "https"):
            raise _Fatal(f"redirect to an unsupported URL {shown} refused", "insecure_redirect")
        if scheme == "http" and origin_of(current)[0] == "https":
            raise _Fatal(
                f"redirect from https to plain http ({shown}) refused", "insecure_redirect"
            )
        if scheme == "http" and not self.network.allow_http:
            raise _Fatal(f"redirect to plain http ({shown}) refused", "insecure_redirect")
        if "@" in parts.netloc:
            raise _Fatal(
                f"redirect to a URL with credentials ({shown}) refused", "insecure_redirect"
            )
        if not parts.hostname:
            raise _Fatal("redirect to a URL without a host refused", "insecure_redirect")
        return target

    def _stream_body(
        self,
        resp: httpx.Response,
        current: str,
        sink: _Sink,
        max_bytes: int,
        deadline: float | None,
        progress: bool,
        shown_url: str,
    ) -> None:
        length_header = resp.headers.get("content-length")
        total: int | None = None
        if length_header is not None and resp.headers.get("content-encoding", "identity") in (
            "identity",
            "",
        ):
            try:
                total = int(length_header)
            except ValueError:
                total = None
        if max_bytes and total is not None and total > max_bytes:
            raise _Fatal(
                f"too large: {total:,} bytes announced, the limit is {max_bytes:,}", "too_large"
            )
        emit: Callable[[int], None] | None = None
        shown = redact_url(shown_url)
        if progress:
            bus = self.bus

            def emit(done: int) -> None:
                bus.emit(Downloading(shown, done, total))

            emit(0)
        done = 0
        last_emit_bytes = 0
        last_emit_time = time.monotonic()
        for chunk in resp.iter_bytes():
            done += len(chunk)
            if max_bytes and done > max_bytes:
                raise _Fatal(f"too large: more than the limit of {max_bytes:,} bytes", "too_large")
            sink.write(chunk)
            now = time.monotonic()
            if deadline is not None and now > deadline:
                raise _Fatal(f"timed out after {self.network.timeout:g}s", "timeout")
            if emit and (
                done - last_emit_bytes >= PROGRESS_EVERY_BYTES
                or now - last_emit_time >= PROGRESS_EVERY_SECONDS
            ):
                emit(done)
                last_emit_bytes, last_emit_time = done, now
        if total is not None and done < total:
            raise _Retry(f"connection dropped after {done:,} of {total:,} bytes")
        if emit:
            emit(done)
