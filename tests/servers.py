"""Real HTTP and HTTPS servers on 127.0.0.1 for tests, with misbehaviours on demand.

``TestServer`` serves configured :class:`Route` objects and, optionally, a
static folder (a bare git repository after ``git update-server-info`` is then
clonable over "dumb" HTTP).  ``TestServer(tls=True)`` serves HTTPS with a
certificate from a throw-away trustme CA; :func:`trust_ca` (or, for an autouse
fixture, :func:`trusting_ca`) points ``$ATTUNE_CA_BUNDLE`` at ``server.ca_bundle``.

Behaviours of a route: a status, extra headers, a delay before answering,
dripping the body slowly, dropping the connection part-way, omitting
Content-Length, failing with 5xx (or 429, with headers such as Retry-After) a
number of times first, redirects, and
ETag / Last-Modified with 304 answers to conditional requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

__all__ = [
    "Route",
    "TestServer",
    "combined_ca_bundle",
    "git",
    "index_doc",
    "index_entry",
    "make_bare_repo",
    "pack_tarball",
    "sha",
    "trust_ca",
    "trusting_ca",
    "write_config",
]


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between 1 KiB chunks of the body
    drop_after: int | None = None  # close the connection after this many body bytes
    content_length: bool = True  # send Content-Length
    fake_length: int | None = None  # announce this Content-Length instead of the real one
    fail_times: int = 0  # answer fail_status this many times first
    fail_status: int = 500
    fail_headers: dict[str, str] = field(default_factory=dict)  # sent with those (Retry-After)
    location: str | None = None  # redirect target (status defaults to 302)
    etag: bool = False  # send a strong ETag and honour If-None-Match
    last_modified: str | None = None  # send it and honour If-Modified-Since (exact match)
    hits: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)

    def set_body(self, body: bytes) -> None:
        self.body = body


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # silence
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        owner.log.append((path, headers))
        route = owner.routes.get(path)
        if route is None:
            self._static(path, head)
            return
        route.hits += 1
        route.requests.append(headers)
        if route.delay and owner.stopping.wait(route.delay):
            return
        if route.fail_times > 0:
            route.fail_times -= 1
            self._simple(route.fail_status, b"failing on purpose\n", route.fail_headers)
            return
        if route.location is not None:
            self.send_response(route.status if route.status in (301, 302, 303, 307, 308) else 302)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"' if route.etag else None
        if etag and headers.get("if-none-match") == etag:
            self._not_modified(etag, route.last_modified)
            return
        if route.last_modified and headers.get("if-modified-since") == route.last_modified:
            self._not_modified(etag, route.last_modified)
            return
        self.send_response(route.status)
        for k, v in route.headers.items():
            self.send_header(k, v)
        if etag:
            self.send_header("ETag", etag)
        if route.last_modified:
            self.send_header("Last-Modified", route.last_modified)
        if route.content_length:
            length = route.fake_length if route.fake_length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if head:
            return
        body = route.body
        if route.drop_after is not None:
            self._write(body[: route.drop_after], route.drip)
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        self._write(body, route.drip)

    def _write(self, body: bytes, drip: float) -> None:
        try:
            if not drip:
                self.wfile.write(body)
                return
            for i in range(0, len(body), 1024):
                self.wfile.write(body[i : i + 1024])
                self.wfile.flush()
                if self.server.owner.stopping.wait(drip):
                    return
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass

    def _not_modified(self, etag: str | None, last_modified: str | None) -> None:
        self.send_response(304)
        if etag:
            self.send_header("ETag", etag)
        if last_modified:
            self.send_header("Last-Modified", last_modified)
        self.end_headers()

    def _simple(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _static(self, path: str, head: bool) -> None:
        root = self.server.owner.static_root
        if root is None:
            self._simple(404, b"not found\n")
            return
        from urllib.parse import unquote

        target = (root / unquote(path).lstrip("/")).resolve()
        if not str(target).startswith(str(root.resolve())) or not target.is_file():
            self._simple(404, b"not found\n")
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: TestServer


class TestServer:
    """A threaded HTTP(S) server on 127.0.0.1 and a free port; use as a context manager."""

    __test__ = False  # not a pytest class

    def __init__(
        self,
        *,
        tls: bool = False,
        static_root: Path | None = None,
        ca_dir: Path | None = None,
        ca: Any = None,
    ) -> None:
        self.routes: dict[str, Route] = {}
        self.static_root = Path(static_root) if static_root else None
        self.log: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        self.tls = tls
        self.ca_bundle: Path | None = None
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        if tls:
            import tempfile

            import trustme

            ca = ca or trustme.CA()
            cert = ca.issue_cert("127.0.0.1", "localhost")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(ctx)
            folder = Path(ca_dir or tempfile.mkdtemp(prefix="attune-ca-"))
            folder.mkdir(parents=True, exist_ok=True)
            self.ca_bundle = folder / f"ca-{self.port}.pem"
            ca.cert_pem.write_to_path(str(self.ca_bundle))
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + "/" + path.lstrip("/")

    def route(self, path: str, body: bytes | str = b"", **kw: Any) -> Route:
        if isinstance(body, str):
            body = body.encode("utf-8")
        r = Route(body=body, **kw)
        self.routes["/" + path.lstrip("/")] = r
        return r

    def start(self) -> TestServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread = None

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def git(*args: str, cwd: Path) -> str:
    """Run git in ``cwd`` with no user or system configuration and fixed identities."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    }
    out = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def make_bare_repo(
    work: Path, bare: Path, *, tags: list[str] | None = None, branch: str = "main"
) -> str:
    """Commit everything in ``work`` (a new repository), publish a bare copy at ``bare``
    ready for "dumb" HTTP, and return the commit id.  Tags are created on that commit."""
    if not (work / ".git").exists():
        git("init", "-q", "-b", branch, cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "--allow-empty", "-m", f"commit at {time.time()}", cwd=work)
    for tag in tags or []:
        git("tag", "-f", tag, cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    if bare.exists():
        git("push", "-q", "--force", "--tags", str(bare), f"{branch}:{branch}", cwd=work)
    else:
        bare.parent.mkdir(parents=True, exist_ok=True)
        git("clone", "-q", "--bare", str(work), str(bare), cwd=work.parent)
    git("update-server-info", cwd=bare)
    return commit


# --------------------------------------------------------------------------- builders


def pack_tarball(pack_dir: Path, top: str | None = "pack") -> bytes:
    """A .tar.gz of ``pack_dir``'s files (``.git`` excluded), under ``top/`` when given."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for path in sorted(pack_dir.rglob("*")):
            rel = path.relative_to(pack_dir)
            if ".git" in rel.parts or not path.is_file():
                continue
            name = f"{top}/{rel.as_posix()}" if top else rel.as_posix()
            info = tarfile.TarInfo(name)
            data = path.read_bytes()
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def index_entry(ref: str, version: str, sources: list[dict[str, str]], **extra: Any) -> dict:
    entry: dict[str, Any] = {
        "ref": ref,
        "label": extra.pop("label", f"{ref.title()} Pack"),
        "description": extra.pop("description", f"The {ref} test pack"),
        "version": version,
        "author": "Tests",
        "license": "Apache-2.0",
        "keywords": extra.pop("keywords", []),
        "runtime_deps": [],
        "install_sources": sources,
        "contents": {k: [] for k in ("actions", "sensors", "triggers", "rules", "workflows")},
    }
    entry.update(extra)
    return entry


def index_doc(entries: list[dict], *, fmt: str = "1.0", name: str = "Test Registry") -> dict:
    return {
        "registry_name": name,
        "registry_url": "https://registry.example.org/index",
        "version": fmt,
        "last_updated": "2024-01-01T00:00:00Z",
        "packs": entries,
    }


def write_config(
    home: Path,
    registries: list[dict[str, Any]] | None = None,
    network: dict[str, Any] | None = None,
    **top: Any,
) -> Path:
    """Write ``home/config.yaml`` for tests: fast retries and generous timeouts (no test
    may depend on the machine being idle; a test of timeouts passes short ones)."""
    import yaml

    net = {"timeout": 60, "connect_timeout": 30, "retries": 2, "retry_backoff": 0.01}
    net.update(network or {})
    doc: dict[str, Any] = {"network": net, **top}
    if registries is not None:
        doc["registries"] = registries
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def sha(data: bytes) -> str:
    """The Attune checksum of some bytes (an archive): ``sha256:`` + hex."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def trust_ca(bundle: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
    """Make attune trust the CA(s) in ``bundle``: ``$ATTUNE_CA_BUNDLE`` and a fresh SSL context.

    Without ``monkeypatch`` the variable is set directly (a test's monkeypatch that set
    it before restores it at teardown)."""
    from attune_packs.net.tls import reset_ssl_context

    if monkeypatch is not None:
        monkeypatch.setenv("ATTUNE_CA_BUNDLE", str(bundle))
    else:
        os.environ["ATTUNE_CA_BUNDLE"] = str(bundle)
    reset_ssl_context()


def trusting_ca(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The body of an autouse fixture: ``yield from trusting_ca(server.ca_bundle, monkeypatch)``."""
    from attune_packs.net.tls import reset_ssl_context

    trust_ca(bundle, monkeypatch)
    yield
    reset_ssl_context()


def combined_ca_bundle(path: Path, *servers: TestServer) -> Path:
    """One PEM file trusting every server's CA (for redirects between servers)."""
    path.write_bytes(b"".join(server.ca_bundle.read_bytes() for server in servers))
    return path
