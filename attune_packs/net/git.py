"""Cloning packs from git repositories (through GitPython's process runner).

* URLs: ``https://`` (``http://`` only with ``network.allow_http``), or a local
  path / ``file://`` URL for local use.  No credentials, query or fragment.
* Ref: a branch or a tag (``git clone --depth 1 --branch REF``, falling back to
  a full clone where the server cannot do shallow clones, such as "dumb" HTTP),
  or a full 40-hex commit (full clone, then checkout).  Refs starting with ``-``
  (option injection) or holding odd characters are refused.
* Git runs with system and global configuration ignored, no prompts, no
  askpass, no credential helpers, only the needed transport protocols, and
  a time limit (``network.timeout``) after which it is killed.
* The pack is at the repository root or in ``pack/``; ``.git`` is removed
  before anyone hashes the tree.
* Errors are one line: the meaningful last line of git's stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from attune_packs.errors import SourceError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fsutil import remove_tree

COMMIT_RE = re.compile(r"^[0-9a-fA-F]{40}\Z")
# Conservative subset of git's ref-name rules (check-ref-format) plus no leading '-'.
REF_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+@-]+\Z")

# Environment variables of the caller that must not steer our git processes.
_KEEP_GIT_ENV = {"GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_EXEC_PATH"}
_ENV_LOCK = threading.Lock()


class GitError(SourceError):
    code = "git_error"


@dataclass
class GitCheckout:
    path: Path  # the pack root (repository root or its pack/ folder)
    url: str
    ref: str | None
    commit: str
    shallow: bool


def check_git_url(url: str, *, allow_http: bool) -> tuple[str, str]:
    """Return ``(kind, url_for_git)``; kind is ``remote`` or ``local``. Raise on a refused URL."""
    from attune_packs.net.urls import check_url, redact_url

    if url.startswith("-"):
        raise GitError(f"invalid git URL {url!r}")
    lowered = url.lower()
    if lowered.startswith("file://"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise GitError(f"invalid file URL {redact_url(url)}: only local files are allowed")
        path = Path(unquote(parts.path))
        return "local", _local_repo_url(path)
    if "://" in url:
        check_url(url, allow_http=allow_http, what="git URL")
        return "remote", url
    if re.match(r"^[\w.-]+@[\w.-]+:", url):
        raise GitError(f"unsupported git URL {url!r}: SSH is not supported, use an https:// URL")
    return "local", _local_repo_url(Path(url).expanduser())


def _local_repo_url(path: Path) -> str:
    path = path.resolve()
    if not path.exists():
        raise GitError(f"git repository not found: {path}", code="not_found")
    return path.as_uri()


def check_git_ref(ref: str | None) -> str | None:
    if ref is None:
        return None
    if ref.startswith("-"):
        raise GitError(
            f"invalid git ref {ref!r}: a ref must not start with '-'", code="usage_error"
        )
    if not ref or not REF_RE.match(ref) or ref.endswith((".", "/", ".lock")):
        raise GitError(
            f"invalid git ref {ref!r}: expected a branch, a tag or a full 40-hex commit",
            code="usage_error",
        )
    return ref


def _git_env(url_for_git: str, allow_http: bool) -> dict[str, str]:
    scheme = url_for_git.split("://", 1)[0].lower()
    # An https clone may only ever speak https (no downgrade on redirect).
    protocols = {"https": "https", "http": "http:https", "file": "file"}[scheme]
    env = {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_ALLOW_PROTOCOL": protocols,
        "GIT_LFS_SKIP_SMUDGE": "1",
        "LC_ALL": "C",
        "LANGUAGE": "C",
    }
    from attune_packs.net.tls import CA_BUNDLE_ENV

    bundle = os.environ.get(CA_BUNDLE_ENV)
    if bundle:
        env["GIT_SSL_CAINFO"] = bundle
    return env


@contextlib.contextmanager
def _scrubbed_environ() -> Iterator[None]:
    """Hide the caller's GIT_* variables (GIT_DIR, GIT_SSL_NO_VERIFY, ...) from git.

    GitPython starts from ``os.environ`` and can only add to it, so the variables
    are removed for the duration of the call.
    """
    with _ENV_LOCK:
        saved = {
            k: v
            for k, v in os.environ.items()
            if (k.startswith("GIT_") and k not in _KEEP_GIT_ENV) or k == "SSH_ASKPASS"
        }
        for k in saved:
            del os.environ[k]
        try:
            yield
        finally:
            os.environ.update(saved)


_GIT_OPTS = [
    "-c",
    "credential.helper=",
    "-c",
    "core.askPass=",
    "-c",
    "http.sslVerify=true",
    "-c",
    "transfer.fsckObjects=true",
    "-c",
    "core.hooksPath=" + os.devnull,
    "-c",
    "advice.detachedHead=false",
    "-c",
    "init.defaultBranch=main",
]


def _last_line(stderr: str) -> str:
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if ln.lower().startswith(("fatal:", "error:")):
            return ln.split(":", 1)[1].strip()
    return lines[-1] if lines else "git failed"


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float | None) -> str:
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    try:
        import git
    except ImportError as exc:  # pragma: no cover - git missing at import
        raise GitError(f"git is not available: {exc}") from None
    runner = git.cmd.Git(str(cwd))
    started = time.monotonic()
    try:
        with _scrubbed_environ():
            status, out, err = runner.execute(
                ["git", *_GIT_OPTS, *args],
                env=env,
                kill_after_timeout=timeout or None,
                with_extended_output=True,
                with_exceptions=False,
                stdout_as_string=True,
            )
    except git.exc.GitCommandNotFound:
        raise GitError("git is not installed (the 'git' command was not found)") from None
    if status != 0:
        stderr = err if isinstance(err, str) else bytes(err or b"").decode("utf-8", "replace")
        # GitPython kills git at the timeout; its note about that is not always in
        # stderr (a race under load), so the clock decides too.
        timed_out = timeout and time.monotonic() - started >= timeout
        if "did not complete in" in stderr or timed_out:
            raise GitError(f"timed out after {timeout:g}s", code="timeout")
        raise GitError(_last_line(stderr))
    return str(out)


def clone(
    url: str,
    ref: str | None,
    dest: Path,
    *,
    allow_http: bool,
    timeout: float | None,
    bus: EventBus | None = None,
) -> GitCheckout:
    """Clone ``url`` at ``ref`` into the empty folder ``dest``; remove ``.git``; find the pack."""
    from attune_packs.net.urls import redact_url

    bus = bus_or_null(bus)
    ref = check_git_ref(ref)
    kind, git_url = check_git_url(url, allow_http=allow_http)
    shown = redact_url(url) if kind == "remote" else url
    env = _git_env(git_url, allow_http)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise GitError(f"clone target is not empty: {dest}")
    what = f"{shown}" + (f" at {ref}" if ref else "")
    bus.info(f"cloning {what}")
    shallow = True
    try:
        if ref is not None and COMMIT_RE.match(ref):
            shallow = False
            _run(
                ["clone", "--no-checkout", "--quiet", "--", git_url, str(dest)],
                cwd=dest.parent,
                env=env,
                timeout=timeout,
            )
            try:
                _run(
                    ["checkout", "--quiet", "--detach", ref.lower(), "--"],
                    cwd=dest,
                    env=env,
                    timeout=timeout,
                )
            except GitError as exc:
                if "reference is not a tree" in exc.message or "did not match" in exc.message:
                    raise GitError(f"commit {ref} not found in {shown}") from None
                raise
        else:
            branch = ["--branch", ref] if ref else []
            try:
                _run(
                    ["clone", "--depth", "1", "--quiet", *branch, "--", git_url, str(dest)],
                    cwd=dest.parent,
                    env=env,
                    timeout=timeout,
                )
            except GitError as exc:
                if "shallow" not in exc.message:
                    raise
                # "dumb" HTTP servers cannot do shallow clones: clone in full.
                shallow = False
                _empty(dest)
                _run(
                    ["clone", "--quiet", *branch, "--", git_url, str(dest)],
                    cwd=dest.parent,
                    env=env,
                    timeout=timeout,
                )
        try:
            commit = _run(
                ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
                cwd=dest,
                env=env,
                timeout=timeout,
            )
        except GitError:
            raise GitError(
                "the repository has no commit at HEAD (it is empty, or HEAD names a "
                "branch that does not exist): push a commit, or choose one with --ref-spec"
            ) from None
        commit = commit.strip()
    except GitError as exc:
        _empty(dest)
        msg = exc.message
        if "not found in upstream" in msg or ("Remote branch" in msg and "not found" in msg):
            msg = f"branch or tag {ref!r} not found"
        raise GitError(f"git clone of {what} failed: {msg}", code=exc.code) from None
    remove_tree(dest / ".git")
    root = _pack_root(dest, shown)
    bus.info(f"cloned {shown} at commit {commit[:12]}")
    return GitCheckout(path=root, url=url, ref=ref, commit=commit, shallow=shallow)


def _empty(folder: Path) -> None:
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            remove_tree(child, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                child.unlink()


def _pack_root(checkout: Path, shown: str) -> Path:
    if (checkout / "pack.yaml").is_file():
        return checkout
    if (checkout / "pack" / "pack.yaml").is_file() and not (checkout / "pack").is_symlink():
        return checkout / "pack"
    raise GitError(f"no pack.yaml at the root or in pack/ of {shown}", code="invalid_manifest")
