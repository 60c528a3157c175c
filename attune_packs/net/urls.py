"""URL policy: redaction, display form, allowed schemes and hosts."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from attune_packs.errors import SourceError
from attune_packs.redaction import redact_url

if TYPE_CHECKING:
    pass

Origin = tuple[str, str, int]


# --------------------------------------------------------------------------- URLs


def origin_of(url: str) -> Origin:
    """``(scheme, host, port)`` of ``url``, with the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if scheme == "https" else 80 if scheme == "http" else 0
    return scheme, (parts.hostname or "").lower(), port


def check_url(
    url: str, *, allow_http: bool, what: str = "URL", registry: bool | None = None
) -> str:
    """Return ``url`` if it may be fetched; raise :class:`SourceError` naming the rule it breaks.

    Refused: a scheme other than https (http only with ``allow_http``), a missing
    host, credentials (``user:pass@``), a query or a fragment.

    ``registry`` says where the URL comes from, for the advice given with refused
    credentials: a registry (its ``url`` in config.yaml, or its index), where they
    belong in the registry's ``headers``; or the user (a SOURCE on the command
    line), who is told how to authenticate instead.  ``None``: a registry when
    ``what`` names one (``"registry URL"``).
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise SourceError(f"invalid {what} {redact_url(url)}", code="invalid_url") from None
    scheme = parts.scheme.lower()
    shown = redact_url(url)
    if scheme == "http" and not allow_http:
        raise SourceError(
            f"refusing plain-http {what} {shown}: use https:// (or set network.allow_http)",
            code="insecure_url",
        )
    if scheme not in ("https", "http"):
        raise SourceError(
            f"unsupported {what} {shown}: only https:// URLs can be downloaded", code="invalid_url"
        )
    if not parts.hostname:
        raise SourceError(f"invalid {what} {shown}: no host", code="invalid_url")
    if "@" in parts.netloc:
        raise SourceError(
            f"refusing {what} {shown}: URLs must not carry credentials"
            + _credentials_advice(what, registry),
            code="invalid_url",
        )
    if parts.query or "?" in url:
        raise SourceError(
            f"refusing {what} {shown}: URLs must not carry a query", code="invalid_url"
        )
    if parts.fragment or "#" in url:
        raise SourceError(
            f"refusing {what} {shown}: URLs must not carry a fragment", code="invalid_url"
        )
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise SourceError(f"invalid {what} {shown}: contains whitespace", code="invalid_url")
    return url


def _credentials_advice(what: str, registry: bool | None) -> str:
    """How to authenticate instead of putting credentials in a URL (see :func:`check_url`)."""
    if registry is None:
        registry = what.lower().startswith("registry")
    if registry:
        return " (put them in the registry's headers in config.yaml)"
    if what.lower().startswith("git"):
        return (
            "; to use a private repository, clone it yourself (with your own git "
            "credentials) and install the local clone"
        )
    return (
        "; to authenticate, serve it from a registry whose headers in config.yaml carry "
        "the credentials, or download it yourself and install the file"
    )
