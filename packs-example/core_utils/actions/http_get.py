"""core_utils.http_get: fetch a URL with the standard library."""

from __future__ import annotations

import argparse
import json
import urllib.request

from lib.common import emit


def http_get(url: str, headers: dict[str, str] | None = None, timeout: int = 30) -> dict:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"unsupported URL: {url}")
    request = urllib.request.Request(url, headers=headers or {}, method="GET")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read().decode("utf-8", "replace")
        return {"status": response.status, "headers": dict(response.headers), "body": body}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--headers", default="{}")
    parser.add_argument("--timeout", type=int, default=30)
    args = parser.parse_args()
    emit(http_get(args.url, json.loads(args.headers), args.timeout))


if __name__ == "__main__":
    main()
