"""The TLS context (system store, certifi, ATTUNE_CA_BUNDLE)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from attune_packs.errors import NetworkError

if TYPE_CHECKING:
    import ssl

CA_BUNDLE_ENV = "ATTUNE_CA_BUNDLE"


# --------------------------------------------------------------------------- TLS


_SSL_CONTEXT: tuple[str | None, ssl.SSLContext] | None = None


def ssl_context() -> ssl.SSLContext:
    """The TLS context for every request (built once per process and CA bundle)."""
    global _SSL_CONTEXT
    bundle = os.environ.get(CA_BUNDLE_ENV) or None
    if _SSL_CONTEXT is None or _SSL_CONTEXT[0] != bundle:
        import ssl

        if bundle:
            try:
                ctx = ssl.create_default_context(cafile=bundle)
            except (OSError, ssl.SSLError) as exc:
                raise NetworkError(
                    f"cannot load the CA bundle ${CA_BUNDLE_ENV}={bundle}: "
                    f"{getattr(exc, 'strerror', None) or exc}"
                ) from None
        else:
            ctx = ssl.create_default_context()
            if not ctx.get_ca_certs() and not os.environ.get("SSL_CERT_DIR"):
                # No system store (some Python builds): fall back to certifi's bundle.
                with contextlib.suppress(ImportError, OSError):
                    import certifi

                    ctx.load_verify_locations(cafile=certifi.where())
        _SSL_CONTEXT = (bundle, ctx)
    return _SSL_CONTEXT[1]


def reset_ssl_context() -> None:
    """Forget the cached TLS context (tests change ``$ATTUNE_CA_BUNDLE``)."""
    global _SSL_CONTEXT
    _SSL_CONTEXT = None
