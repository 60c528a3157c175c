"""attune_packs.net.http against real HTTP/HTTPS servers on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from attune_packs.config import NetworkConfig
from attune_packs.errors import NetworkError, SourceError
from attune_packs.events import Downloading, EventBus, Info
from attune_packs.net.http import HttpClient
from attune_packs.net.tls import reset_ssl_context
from attune_packs.net.urls import check_url
from attune_packs.redaction import display_location, redact_url
from tests.servers import TestServer, combined_ca_bundle, sha, trust_ca

# Fast retries, generous timeouts: no test may depend on the machine being idle.  Tests of
# timeouts set short ones against servers that never answer in time (they measure that the
# request stops, not how fast the machine is).
FAST = NetworkConfig(timeout=60, connect_timeout=30, retries=2, retry_backoff=0.01)

pytestmark = pytest.mark.usefixtures("trust_tls")


@pytest.fixture(scope="module")
def plain() -> Iterator[TestServer]:
    with TestServer() as server:
        yield server


def client(net: NetworkConfig = FAST, events: list | None = None, **kw) -> HttpClient:
    bus = EventBus(events.append) if events is not None else None
    return HttpClient(net, bus, **kw)


def only_dest(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


# --------------------------------------------------------------------------- success


def test_download_streams_with_events_and_hash(tls: TestServer, tmp_path: Path) -> None:
    body = os.urandom(700_000)
    tls.route("/ok.tar.gz", body)
    events: list = []
    with client(events=events) as c:
        d = c.download(tls.url("ok.tar.gz"), tmp_path / "out.bin", max_bytes=1 << 20)
    assert d.size == len(body)
    assert d.checksum == sha(body)
    assert (tmp_path / "out.bin").read_bytes() == body
    assert only_dest(tmp_path) == ["out.bin"]  # no temporary left behind
    progress = [e for e in events if isinstance(e, Downloading)]
    assert progress[0].downloaded_bytes == 0 and progress[-1].downloaded_bytes == len(body)
    assert all(e.total_bytes == len(body) for e in progress)
    assert len(progress) >= 3


def test_get_small_document(tls: TestServer) -> None:
    tls.route("/doc.json", b'{"a": 1}')
    with client() as c:
        r = c.get(tls.url("doc.json"), max_bytes=100)
    assert r.status == 200 and r.content == b'{"a": 1}'


def test_etag_and_last_modified_give_304(tls: TestServer) -> None:
    tls.route("/etag.json", b"{}", etag=True)
    stamp = "Mon, 01 Jan 2024 00:00:00 GMT"
    tls.route("/lm.json", b"{}", last_modified=stamp)
    with client() as c:
        first = c.get(tls.url("etag.json"), max_bytes=100)
        assert first.etag
        again = c.get(tls.url("etag.json"), max_bytes=100, etag=first.etag)
        assert again.not_modified and again.content == b""
        lm = c.get(tls.url("lm.json"), max_bytes=100)
        assert lm.last_modified == stamp
        assert c.get(tls.url("lm.json"), max_bytes=100, last_modified=stamp).not_modified


def test_redirects_followed_within_https(tls: TestServer, tmp_path: Path) -> None:
    tls.route("/final.bin", b"payload")
    tls.route("/hop2", location="/final.bin", status=307)
    tls.route("/hop1", location=tls.url("hop2"), status=301)
    with client() as c:
        d = c.download(tls.url("hop1"), tmp_path / "f", max_bytes=100)
    assert d.url == tls.url("final.bin")
    assert (tmp_path / "f").read_bytes() == b"payload"


def test_500_then_200_is_retried(tls: TestServer) -> None:
    route = tls.route("/flaky", b"fine", fail_times=2)
    events: list = []
    with client(events=events) as c:
        assert c.get(tls.url("flaky"), max_bytes=100).content == b"fine"
    assert route.hits == 3
    retries = [e for e in events if isinstance(e, Info) and "retrying" in e.message]
    assert len(retries) == 2


# --------------------------------------------------------------------------- failures


def test_404_is_not_retried(tls: TestServer, tmp_path: Path) -> None:
    route = tls.route("/missing.tar.gz", b"no", status=404)
    with client() as c, pytest.raises(NetworkError) as err:
        c.download(tls.url("missing.tar.gz"), tmp_path / "x", max_bytes=100)
    assert route.hits == 1
    assert err.value.message == f"{tls.url('missing.tar.gz')}: HTTP 404 Not Found"
    assert err.value.code == "not_found"
    assert only_dest(tmp_path) == []


def test_500_forever_gives_up_after_retries(tls: TestServer, tmp_path: Path) -> None:
    route = tls.route("/down", b"", fail_times=100, fail_status=503)
    with client() as c, pytest.raises(NetworkError) as err:
        c.download(tls.url("down"), tmp_path / "x", max_bytes=100)
    assert route.hits == 3  # 1 + retries(2)
    assert "HTTP 503" in err.value.message and "after 3 attempts" in err.value.message
    assert "\n" not in err.value.message
    assert only_dest(tmp_path) == []


def test_slow_server_times_out(tls: TestServer, tmp_path: Path) -> None:
    route = tls.route("/slow", b"late", delay=300)
    net = NetworkConfig(timeout=1, connect_timeout=30, retries=1, retry_backoff=0.01)
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.download(tls.url("slow"), tmp_path / "x", max_bytes=100)
    assert err.value.code == "timeout"
    # The same answer whichever part (connecting on a loaded machine, or waiting for the
    # answer) used up the time.
    assert err.value.message == f"{tls.url('slow')}: timed out after 1s"
    assert route.hits <= 1  # a timeout is not retried
    assert only_dest(tmp_path) == []


def test_dripping_server_hits_the_whole_request_timeout(tls: TestServer, tmp_path: Path) -> None:
    tls.route("/drip", b"x" * 600_000, drip=0.05)  # 30 s to send it all
    net = NetworkConfig(timeout=1, connect_timeout=30, retries=0, retry_backoff=0.01)
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.download(tls.url("drip"), tmp_path / "x", max_bytes=1 << 20)
    assert err.value.code == "timeout"
    assert "timed out after 1s" in err.value.message
    assert only_dest(tmp_path) == []


def test_dropped_connection_is_retried_then_fails(tls: TestServer, tmp_path: Path) -> None:
    route = tls.route("/drop.tar.gz", b"y" * 50_000, drop_after=1000)
    with client() as c, pytest.raises(NetworkError) as err:
        c.download(tls.url("drop.tar.gz"), tmp_path / "x", max_bytes=1 << 20)
    assert route.hits == 3
    assert "connection dropped" in err.value.message
    assert only_dest(tmp_path) == []  # the partial download never appears


def test_dropped_once_then_complete(tls: TestServer, tmp_path: Path) -> None:
    body = b"z" * 10_000
    route = tls.route("/drop-once", body, drop_after=100)
    events: list = []
    bus = EventBus(events.append)

    def heal(event: object) -> None:
        if isinstance(event, Info) and "retrying" in event.message:
            route.drop_after = None

    bus.subscribe(heal)
    with HttpClient(FAST, bus) as c:
        d = c.download(tls.url("drop-once"), tmp_path / "x", max_bytes=1 << 20)
    assert d.size == len(body) and (tmp_path / "x").read_bytes() == body


def test_oversize_refused_from_content_length(tls: TestServer, tmp_path: Path) -> None:
    route = tls.route("/big", b"b" * 5000)
    with client() as c, pytest.raises(NetworkError) as err:
        c.download(tls.url("big"), tmp_path / "x", max_bytes=1000)
    assert err.value.code == "too_large"
    assert "5,000 bytes announced, the limit is 1,000" in err.value.message
    assert route.hits == 1
    assert only_dest(tmp_path) == []


def test_oversize_refused_while_streaming(tls: TestServer, tmp_path: Path) -> None:
    tls.route("/big-nolength", b"b" * 5000, content_length=False)
    with client() as c:
        with pytest.raises(NetworkError) as err:
            c.download(tls.url("big-nolength"), tmp_path / "x", max_bytes=1000)
        assert err.value.code == "too_large"
        assert "more than the limit of 1,000 bytes" in err.value.message
    assert only_dest(tmp_path) == []


def test_redirect_to_http_refused(tls: TestServer, plain: TestServer, tmp_path: Path) -> None:
    plain.route("/target", b"insecure")
    tls.route("/downgrade", location=plain.url("target"))
    allow = NetworkConfig(timeout=60, connect_timeout=30, retries=0, allow_http=True)
    for net in (FAST, allow):  # never, even with allow_http
        with client(net) as c, pytest.raises(NetworkError) as err:
            c.download(tls.url("downgrade"), tmp_path / "x", max_bytes=100)
        assert err.value.code == "insecure_redirect"
        assert "from https to plain http" in err.value.message
    assert plain.routes["/target"].hits == 0
    assert only_dest(tmp_path) == []


def test_redirect_loop_stops(tls: TestServer) -> None:
    # Measured by requests, not time: 1 + 10 followed redirects, then a stop (not retried).
    route = tls.route("/loop", location="/loop")
    with client() as c, pytest.raises(NetworkError) as err:
        c.get(tls.url("loop"), max_bytes=100)
    assert err.value.message == f"{tls.url('loop')}: more than 10 redirects"
    assert route.hits == 11


def test_untrusted_certificate(tls: TestServer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ATTUNE_CA_BUNDLE")
    reset_ssl_context()
    route = tls.route("/untrusted", b"x")
    with client() as c, pytest.raises(NetworkError) as err:
        c.get(tls.url("untrusted"), max_bytes=100)
    assert "certificate verification failed" in err.value.message
    assert route.hits == 0


def test_connection_refused_is_one_line(tmp_path: Path) -> None:
    with TestServer() as dead:
        url = dead.url("gone")
    net = NetworkConfig(allow_http=True, retries=1, retry_backoff=0.01)
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.get(url, max_bytes=100)
    assert err.value.message.startswith(f"{url}: cannot connect")
    assert "after 2 attempts" in err.value.message


# --------------------------------------------------------------------------- URL rules


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://127.0.0.1:1/p.tar.gz", "refusing plain-http"),
        ("ftp://example.org/p.tar.gz", "only https://"),
        ("https://user:secret@example.org/p.tar.gz", "must not carry credentials"),
        ("https://token@example.org/p.tar.gz", "must not carry credentials"),
        ("https://example.org/p.tar.gz?token=abc", "must not carry a query"),
        ("https://example.org/p.tar.gz#frag", "must not carry a fragment"),
        ("https:///p.tar.gz", "no host"),
    ],
)
def test_refused_urls(url: str, fragment: str) -> None:
    with pytest.raises(SourceError) as err:
        check_url(url, allow_http=False)
    assert fragment in err.value.message
    assert "secret" not in err.value.message and "abc" not in err.value.message


def test_http_allowed_only_with_allow_http(plain: TestServer) -> None:
    plain.route("/plain.json", b"ok")
    with client() as c, pytest.raises(SourceError):
        c.get(plain.url("plain.json"), max_bytes=10)
    net = NetworkConfig(allow_http=True, timeout=60, connect_timeout=30, retries=0)
    with client(net) as c:
        assert c.get(plain.url("plain.json"), max_bytes=10).content == b"ok"


def test_redact_url() -> None:
    assert redact_url("https://u:p@h.example/x?q=1") == "https://***@h.example/x?…"
    assert redact_url("https://h.example/x") == "https://h.example/x"
    assert redact_url("https://h.example/x#token") == "https://h.example/x#…"
    assert redact_url("//u:p@h.example/x") == "//***@h.example/x"  # the host stays
    assert redact_url("archives/p.tar.gz") == "archives/p.tar.gz"
    assert redact_url("http://[::1") == "<invalid URL>"
    # a local path is shown as it is; a URL redacted
    assert display_location("/srv/p?.tar.gz") == "/srv/p?.tar.gz"
    assert display_location("https://u@h.example/i?t=1") == "https://***@h.example/i?…"


# --------------------------------------------------------------------------- secret headers


def test_headers_go_only_to_their_origin(tls: TestServer, tmp_path: Path) -> None:
    with TestServer(tls=True, ca_dir=tmp_path) as other:
        # Both servers must be trusted: one bundle holding both CAs.
        trust_ca(combined_ca_bundle(tmp_path / "both.pem", tls, other))
        other.route("/elsewhere.tar.gz", b"data")
        own = tls.route("/own.tar.gz", location=other.url("elsewhere.tar.gz"))
        secret = {"Authorization": "Bearer s3cr3t-token"}
        events: list = []
        with client(events=events, headers=secret, headers_origin=tls.url("index.json")) as c:
            c.download(tls.url("own.tar.gz"), tmp_path / "x", max_bytes=100)
            other.route("/fail", b"", status=403)
            with pytest.raises(NetworkError) as err:
                c.get(other.url("fail"), max_bytes=10)
        assert own.requests[-1].get("authorization") == "Bearer s3cr3t-token"
        assert all("authorization" not in h for _, h in other.log)
        assert "s3cr3t" not in err.value.message
        assert all("s3cr3t" not in repr(e) for e in events)


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer abc\r\nX-Evil: 1"}, {"Bad Name": "v"}, {"X": "caf\u00e9-secret"}],
)
def test_invalid_registry_headers_refused_without_echo(headers: dict[str, str]) -> None:
    from attune_packs.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        HttpClient(FAST, headers=headers, headers_origin="https://127.0.0.1/")
    assert "abc" not in err.value.message and "secret" not in err.value.message


def test_unwritable_destination(tls: TestServer, tmp_path: Path) -> None:
    tls.route("/w.bin", b"data")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with client() as c, pytest.raises(SourceError) as err:
        c.download(tls.url("w.bin"), blocker / "sub" / "x", max_bytes=100)
    assert err.value.code == "io_error"
