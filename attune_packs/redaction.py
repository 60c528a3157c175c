"""What is safe to print: URLs without credentials, query or fragment.

A base module (standard library only), so that the configuration and every layer
show URLs by one rule.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["display_location", "redact_url"]


def redact_url(url: str) -> str:
    """``url`` safe to show: credentials replaced by ``***``, query and fragment dropped."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    shown = parts._replace(netloc=netloc, query="", fragment="").geturl()
    # urllib drops an empty authority ("//") for schemes it does not know to have one
    # (``git+file:///x`` would become ``git+file:/x``): keep the URL as it was written.
    scheme = parts.scheme
    if (
        scheme
        and not netloc
        and url[len(scheme) + 1 : len(scheme) + 3] == "//"
        and not shown.startswith(scheme + "://")
    ):
        shown = f"{scheme}://{shown[len(scheme) + 1 :]}"
    if parts.query or parts.fragment:
        shown += "?…" if parts.query else "#…"
    return shown


def display_location(location: str) -> str:
    """A URL made safe to show (:func:`redact_url`); a local path (no ``://``) as it is."""
    return redact_url(location) if "://" in location else location
