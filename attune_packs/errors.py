"""The one root exception of attune-packs.

Every failure a user can cause is an :class:`AttuneError` carrying a stable
snake_case ``code`` (the ``error.code`` of the JSON error document), a one-line
human message and the process exit code.  Core modules raise these; only the
CLI turns them into output.
"""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT); SIGTERM gives 143 and SIGHUP 129 (128 + signal)


def readable(text: str) -> str:
    """``text`` with undecodable bytes of file names (``surrogateescape``, e.g. from
    ``os.listdir``) shown as ``\\xff``, as ``ls -b`` would, never as ``\\udcff``."""
    if text.isascii() or not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class AttuneError(Exception):
    """Root of every expected failure: ``code`` + one-line ``message``."""

    code: str = "error"
    exit_code: int = EXIT_FAILURE

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        exit_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        # One line, always: the CLI prints it as the single stderr line.
        message = " ".join(str(message).split()) if "\n" in str(message) else str(message)
        message = readable(message)
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if exit_code is not None:
            self.exit_code = exit_code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            doc["details"] = self.details
        return {"error": doc}


class UsageError(AttuneError):
    """Bad arguments or a bad combination of options (exit 2)."""

    code = "usage_error"
    exit_code = EXIT_USAGE


class ConfigError(AttuneError):
    code = "config_error"


class ChecksumError(AttuneError):
    """A tree or file that cannot be hashed (symlink, special file, races)."""

    code = "checksum_error"


class ChecksumMismatch(AttuneError):
    code = "checksum_mismatch"


class ManifestError(AttuneError):
    code = "invalid_manifest"


class ArchiveError(AttuneError):
    """A corrupt, truncated or hostile archive."""

    code = "unsafe_archive"


class SourceError(AttuneError):
    code = "source_error"


class NetworkError(AttuneError):
    code = "network_error"


class RegistryError(AttuneError):
    code = "registry_error"


class IndexError_(AttuneError):
    """An invalid registry index (named with a trailing underscore to avoid the builtin)."""

    code = "invalid_index"


class NotFound(AttuneError):
    code = "not_found"


class AlreadyInstalled(AttuneError):
    code = "already_installed"


class DependencyError(AttuneError):
    code = "dependency_error"


class DatabaseError(AttuneError):
    code = "database_error"


class PackTestError(AttuneError):
    code = "pack_tests_failed"


class StoreError(AttuneError):
    code = "store_error"


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop like Ctrl-C, exit with 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        import signal

        try:
            name = signal.Signals(signum).name
        except ValueError:  # pragma: no cover - an unnamed signal
            name = f"signal {signum}"
        super().__init__(f"terminated by {name}")
        self.signum = signum
        self.exit_code = 128 + signum
        self.message = f"terminated by {name}"
        self.code = "terminated"


def interruption(exc: KeyboardInterrupt) -> tuple[str, str, int]:
    """``(message, code, exit status)`` for Ctrl-C or a terminating signal."""
    if isinstance(exc, Terminated):
        return exc.message, exc.code, exc.exit_code
    return "interrupted", "interrupted", EXIT_INTERRUPTED
