"""429/503 retries honouring Retry-After, within network.timeout, counted in the audit row.

Real HTTPS servers on 127.0.0.1 (tests/servers.py), no mocks.  Waits are checked from
below (a retry that honours ``Retry-After: 1`` cannot come sooner) and, where a request
must stop early, against a bound far from what is measured.  Timeouts that the code under
test needs are generous.
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from attune_packs.config import NetworkConfig
from attune_packs.errors import NetworkError
from attune_packs.events import EventBus, Info
from attune_packs.net.http import HttpClient, counting_retries, parse_retry_after
from tests.conftest import CliResult, write_pack
from tests.install_helpers import audit_rows, install_json
from tests.servers import (
    TestServer,
    index_doc,
    index_entry,
    pack_tarball,
    sha,
    write_config,
)

NET = NetworkConfig(timeout=60, connect_timeout=30, retries=3, retry_backoff=0.01)

pytestmark = pytest.mark.usefixtures("trust_tls")


def client(net: NetworkConfig = NET, events: list | None = None) -> HttpClient:
    return HttpClient(net, EventBus(events.append) if events is not None else None)


def retry_messages(events: list) -> list[str]:
    return [e.message for e in events if isinstance(e, Info) and e.message.startswith("retrying")]


def delays(events: list) -> list[str]:
    """The waits announced by the "retrying URL in Ns (...)" messages."""
    return [m.split(" in ", 1)[1].split("s ", 1)[0] for m in retry_messages(events)]


# --------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_seconds_then_success(tls: TestServer, tmp_path: Path, status: int) -> None:
    route = tls.route(
        f"/ra-{status}.tar.gz",
        b"payload",
        fail_times=2,
        fail_status=status,
        fail_headers={"Retry-After": "1"},
    )
    events: list = []
    started = time.monotonic()
    with client(events=events) as c:
        d = c.download(tls.url(f"ra-{status}.tar.gz"), tmp_path / "x", max_bytes=100)
        assert c.retries == 2
    waited = time.monotonic() - started
    assert (tmp_path / "x").read_bytes() == b"payload"
    assert route.hits == 3
    assert d.retries == 2
    # Retry-After: 1, twice: at least 2 s, not the 0.01 s backoff.
    assert waited >= 1.9
    assert delays(events) == ["1", "1"]
    assert all("the server asked to wait" in m for m in retry_messages(events))


def test_retry_after_http_date(tls: TestServer) -> None:
    # Two seconds from now, as an HTTP date: the first answer asks for a wait of 1-2 s
    # (measured from the answer's Date header); by the second the date has passed.
    when = formatdate(time.time() + 2, usegmt=True)
    route = tls.route(
        "/ra-date.json", b"{}", fail_times=2, fail_status=503, fail_headers={"Retry-After": when}
    )
    events: list = []
    started = time.monotonic()
    with client(events=events) as c:
        r = c.get(tls.url("ra-date.json"), max_bytes=100)
    waited = time.monotonic() - started
    assert r.content == b"{}" and r.retries == 2
    assert route.hits == 3
    assert waited >= 0.9
    assert all("the server asked to wait" in m for m in retry_messages(events))


def test_invalid_retry_after_falls_back_to_backoff(tls: TestServer) -> None:
    route = tls.route(
        "/ra-junk", b"ok", fail_times=2, fail_status=503, fail_headers={"Retry-After": "soon"}
    )
    events: list = []
    with client(events=events) as c:
        assert c.get(tls.url("ra-junk"), max_bytes=10).retries == 2
    assert route.hits == 3
    assert delays(events) == ["0.01", "0.02"]  # network.retry_backoff, doubled


def test_429_without_retry_after_uses_the_doubling_backoff(tls: TestServer) -> None:
    route = tls.route("/busy", b"ok", fail_times=3, fail_status=429)
    events: list = []
    net = NetworkConfig(timeout=60, connect_timeout=30, retries=3, retry_backoff=0.05)
    with client(net, events) as c:
        assert c.get(tls.url("busy"), max_bytes=10).content == b"ok"
    assert route.hits == 4
    assert delays(events) == ["0.05", "0.1", "0.2"]


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_beyond_the_timeout_fails_at_once(
    tls: TestServer, tmp_path: Path, status: int
) -> None:
    route = tls.route(
        f"/later-{status}",
        b"never",
        fail_times=100,
        fail_status=status,
        fail_headers={"Retry-After": "600"},
    )
    net = NetworkConfig(timeout=30, connect_timeout=30, retries=3, retry_backoff=0.01)
    url = tls.url(f"later-{status}")
    started = time.monotonic()
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.download(url, tmp_path / "x", max_bytes=100)
    elapsed = time.monotonic() - started
    reason = {503: "503 Service Unavailable", 429: "429 Too Many Requests"}[status]
    assert err.value.message == (
        f"{url}: HTTP {reason}; the server asked to retry after 600 s, "
        "more than the 30 s network.timeout allows"
    )
    assert err.value.code == "network_error"
    assert route.hits == 1
    assert elapsed < 300  # did not wait for the 600 s asked (nor for the 30 s timeout's end)
    assert not (tmp_path / "x").exists()


def test_retry_after_date_beyond_the_timeout_fails_at_once(tls: TestServer) -> None:
    route = tls.route(
        "/later-date",
        b"never",
        fail_times=100,
        fail_status=503,
        fail_headers={"Retry-After": formatdate(time.time() + 3600, usegmt=True)},
    )
    net = NetworkConfig(timeout=30, connect_timeout=30, retries=3, retry_backoff=0.01)
    started = time.monotonic()
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.get(tls.url("later-date"), max_bytes=100)
    assert time.monotonic() - started < 1800
    assert "; the server asked to retry after " in err.value.message
    assert err.value.message.endswith("more than the 30 s network.timeout allows")
    assert route.hits == 1


def test_retry_after_beyond_what_is_left_of_the_timeout(tls: TestServer) -> None:
    # The first answer takes 2 s, so less than 19 s of the 20 s timeout is left.
    route = tls.route(
        "/late-and-later",
        b"never",
        delay=2,
        fail_times=100,
        fail_status=503,
        fail_headers={"Retry-After": "19"},
    )
    net = NetworkConfig(timeout=20, connect_timeout=20, retries=3, retry_backoff=0.01)
    url = tls.url("late-and-later")
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.get(url, max_bytes=100)
    message = err.value.message
    assert message.startswith(
        f"{url}: HTTP 503 Service Unavailable; the server asked to retry after 19 s, more than the "
    )
    assert message.endswith(" s left of the 20 s network.timeout")
    assert route.hits == 1


@pytest.mark.parametrize("status", [503, 429])
def test_retries_exhausted(tls: TestServer, tmp_path: Path, status: int) -> None:
    route = tls.route(
        f"/down-{status}",
        b"",
        fail_times=100,
        fail_status=status,
        fail_headers={"Retry-After": "0"},
    )
    net = NetworkConfig(timeout=60, connect_timeout=30, retries=2, retry_backoff=0.01)
    url = tls.url(f"down-{status}")
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.download(url, tmp_path / "x", max_bytes=100)
    reason = {503: "503 Service Unavailable", 429: "429 Too Many Requests"}[status]
    assert err.value.message == f"{url}: HTTP {reason} (after 3 attempts)"
    assert err.value.code == "network_error"
    assert route.hits == 3
    assert not (tmp_path / "x").exists()


def test_backoff_longer_than_what_is_left_stops(tls: TestServer) -> None:
    route = tls.route("/err500", b"", fail_times=100, fail_status=500)
    net = NetworkConfig(timeout=30, connect_timeout=30, retries=3, retry_backoff=600)
    url = tls.url("err500")
    started = time.monotonic()
    with client(net) as c, pytest.raises(NetworkError) as err:
        c.get(url, max_bytes=100)
    assert time.monotonic() - started < 300
    assert err.value.message == (
        f"{url}: HTTP 500 Internal Server Error "
        "(no time left for a retry within the 30 s network.timeout)"
    )
    assert err.value.code == "timeout"
    assert route.hits == 1


def test_other_4xx_are_still_not_retried(tls: TestServer) -> None:
    route = tls.route("/forbidden", b"", status=403, headers={"Retry-After": "1"})
    with client() as c, pytest.raises(NetworkError) as err:
        c.get(tls.url("forbidden"), max_bytes=100)
    assert err.value.message == f"{tls.url('forbidden')}: HTTP 403 Forbidden"
    assert route.hits == 1


# --------------------------------------------------------------------------- counting


def test_retries_are_counted_by_the_innermost_block(tls: TestServer) -> None:
    tls.route("/once", b"a", fail_times=1, fail_status=503, fail_headers={"Retry-After": "0"})
    tls.route("/twice", b"b", fail_times=2, fail_status=502)
    tls.route("/never", b"c")
    with client() as c, counting_retries() as outer:
        assert c.get(tls.url("once"), max_bytes=10).retries == 1
        with counting_retries() as inner:
            assert c.get(tls.url("twice"), max_bytes=10).retries == 2
            assert c.get(tls.url("never"), max_bytes=10).retries == 0
        assert c.retries == 3
    assert (outer.count, inner.count) == (1, 2)


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        ("120", None, 120.0),
        (" 0 ", None, 0.0),
        ("99999999999999999999999", None, 1e9),  # capped, never an overflow
        ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:27:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:29:00 GMT", 0.0),  # past
        ("Wed, 21 Oct 2015 07:28:00 GMT", "junk", 10.0),  # bad Date: this clock (now=...)
        ("-1", None, None),
        ("1.5", None, None),
        ("soon", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_parse_retry_after(value: str | None, date: str | None, expected: float | None) -> None:
    from email.utils import parsedate_to_datetime

    now = parsedate_to_datetime("Wed, 21 Oct 2015 07:27:50 GMT").timestamp()
    assert parse_retry_after(value, date=date, now=now) == expected


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    base = tmp_path_factory.mktemp("retry-packs")
    return {"demo": pack_tarball(write_pack(base / "demo", "demo", "1.0.0"))}


def install(tls: TestServer, home: Path, *args: str) -> CliResult:
    return install_json(home, *args, env={"ATTUNE_CA_BUNDLE": str(tls.ca_bundle)})


def test_install_records_the_retries(
    tls: TestServer, packs: dict[str, bytes], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    write_config(home)
    tarball = packs["demo"]
    route = tls.route(
        "/e2e/demo-1.0.0.tar.gz",
        tarball,
        fail_times=2,
        fail_status=503,
        fail_headers={"Retry-After": "1"},
    )
    r = install(tls, home, tls.url("e2e/demo-1.0.0.tar.gz"), "--expect-checksum", sha(tarball))
    assert r.exit_code == 0, r.stderr
    assert route.hits == 3
    rows = audit_rows(home)
    assert [(row["pack_ref"], row["status"]) for row in rows] == [("demo", "succeeded")]
    assert json.loads(rows[0]["meta"])["http_retries"] == 2

    # An install whose download needed no retry records no count.
    again = tmp_path / "again"
    write_config(again)
    tls.route("/e2e/demo-again.tar.gz", tarball)
    r = install(tls, again, tls.url("e2e/demo-again.tar.gz"), "--expect-checksum", sha(tarball))
    assert r.exit_code == 0, r.stderr
    assert "http_retries" not in json.loads(audit_rows(again)[0]["meta"])


def test_registry_install_counts_index_and_archive_retries(
    tls: TestServer, packs: dict[str, bytes], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    tarball = packs["demo"]
    tls.route(
        "/e2e-reg/demo.tar.gz",
        tarball,
        fail_times=1,
        fail_status=429,
        fail_headers={"Retry-After": "0"},
    )
    entry = index_entry(
        "demo",
        "1.0.0",
        [{"type": "archive", "url": tls.url("e2e-reg/demo.tar.gz"), "checksum": sha(tarball)}],
    )
    index = tls.route(
        "/e2e-reg/index.json",
        json.dumps(index_doc([entry], fmt="1.1")).encode(),
        fail_times=2,
        fail_status=503,
        fail_headers={"Retry-After": "0"},
    )
    write_config(home, [{"name": "test", "url": tls.url("e2e-reg/index.json"), "priority": 1}])
    r = install(tls, home, "demo")
    assert r.exit_code == 0, r.stderr
    assert index.hits == 3
    rows = audit_rows(home)
    assert [(row["pack_ref"], row["status"]) for row in rows] == [("demo", "succeeded")]
    assert json.loads(rows[0]["meta"])["http_retries"] == 3  # 2 for the index, 1 for the archive


def test_failed_install_records_the_retries(tls: TestServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_config(home, network={"retries": 2})
    tls.route(
        "/e2e/down.tar.gz",
        b"",
        fail_times=100,
        fail_status=503,
        fail_headers={"Retry-After": "0"},
    )
    url = tls.url("e2e/down.tar.gz")
    r = install(tls, home, url, "--expect-checksum", "sha256:" + "0" * 64)
    assert r.exit_code == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {url}: HTTP 503 Service Unavailable (after 3 attempts)"]
    rows = audit_rows(home)
    assert [row["status"] for row in rows] == ["failed"]
    meta = json.loads(rows[0]["meta"])
    assert meta["http_retries"] == 2
    assert rows[0]["error_message"] == f"{url}: HTTP 503 Service Unavailable (after 3 attempts)"
