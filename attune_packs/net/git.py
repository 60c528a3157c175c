"""Cloning packs from git repositories (through GitPython's process runner).

* URLs: ``https://`` (``http://`` only with ``network.allow_http``), or a local
  path / ``file://`` URL for local use.  No credentials, query or fragment.
* Ref: what ``git checkout`` takes.  A branch or a tag (``git clone --depth 1
  --branch REF``, falling back to a full clone where the server cannot do shallow
  clones, such as "dumb" HTTP); ``HEAD`` (the remote's default branch, as with no
  ref); a full ref name (``refs/heads/X`` is the branch X; any other
  ``refs/...`` is fetched by that name); a full 40-hex commit (full clone, then
  checkout); or an abbreviated commit of at least 7 hex digits (full clone; a
  branch or tag of that name wins, as in git; an ambiguous abbreviation is
  refused).  Refs starting with ``-`` (option injection) or holding odd
  characters are refused.
* A local path that is not a git repository is refused before git runs.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from attune_packs.errors import SourceError
from attune_packs.events import EventBus, bus_or_null
from attune_packs.fsutil import remove_tree

COMMIT_RE = re.compile(r"^[0-9a-fA-F]{40}\Z")
#: The shortest abbreviated commit accepted (git's default abbreviation length).
MIN_ABBREV = 7
#: An abbreviated commit (a full 40-hex one matches :data:`COMMIT_RE` first).
ABBREV_RE = re.compile(rf"^[0-9a-fA-F]{{{MIN_ABBREV},64}}\Z")
# Conservative subset of git's ref-name rules (check-ref-format) plus no leading '-'.
REF_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+@-]+\Z")

# Environment variables of the caller that must not steer our git processes.
_KEEP_GIT_ENV = {"GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_EXEC_PATH"}
_ENV_LOCK = threading.Lock()


class GitError(SourceError):
    code = "git_error"
    stderr: str = ""  # all of git's stderr, for callers that look past its last line


@dataclass
class GitCheckout:
    path: Path  # the pack root (repository root or its pack/ folder)
    url: str
    ref: str | None
    commit: str
    shallow: bool


def check_git_url(url: str, *, allow_http: bool) -> tuple[str, str]:
    """Return ``(kind, url_for_git)``; kind is ``remote`` or ``local``. Raise on a refused URL."""
    from attune_packs.net.urls import check_url
    from attune_packs.redaction import redact_url

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
            f"invalid git ref {ref!r}: expected a branch, a tag, HEAD, a full ref name "
            f"(refs/...) or a commit (40 hex digits, or at least {MIN_ABBREV})",
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
        error = GitError(_last_line(stderr))
        error.stderr = stderr
        raise error
    return str(out)


def clone(
    url: str,
    ref: str | None,
    dest: Path,
    *,
    allow_http: bool,
    timeout: float | None,
    bus: EventBus | None = None,
    ref_option: str | None = "--ref-spec",
) -> GitCheckout:
    """Clone ``url`` at ``ref`` into the empty folder ``dest``; remove ``.git``; find the pack.

    ``ref_option`` is the option the user gave ``ref`` with, named in the message
    about a local path that is not a repository (None: the ref came from elsewhere,
    e.g. a registry index).
    """
    from attune_packs.redaction import redact_url

    bus = bus_or_null(bus)
    ref = check_git_ref(ref)
    kind, git_url = check_git_url(url, allow_http=allow_http)
    shown = redact_url(url) if kind == "remote" else url
    if kind == "local":
        _require_repository(git_url, shown, ref, ref_option)
    env = _git_env(git_url, allow_http)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise GitError(f"clone target is not empty: {dest}")
    what = f"{shown}" + (f" at {ref}" if ref else "")
    bus.info(f"cloning {what}")

    def run(args: list[str], cwd: Path) -> str:
        return _run(args, cwd=cwd, env=env, timeout=timeout)

    try:
        shallow = _checkout(git_url, ref, dest, run, shown)
        try:
            commit = run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], dest)
        except GitError:
            raise GitError(
                "the repository has no commit at HEAD (it is empty, or HEAD names a "
                "branch that does not exist): push a commit, or choose one with --ref-spec"
            ) from None
        commit = commit.strip()
    except GitError as exc:
        _empty(dest)
        msg = exc.message
        if ref and (
            "not found in upstream" in msg or ("Remote branch" in msg and "not found" in msg)
        ):
            msg = _ref_not_found(ref)
        raise GitError(f"git clone of {what} failed: {msg}", code=exc.code) from None
    remove_tree(dest / ".git")
    root = _pack_root(dest, shown)
    bus.info(f"cloned {shown} at commit {commit[:12]}")
    return GitCheckout(path=root, url=url, ref=ref, commit=commit, shallow=shallow)


_Run = Callable[[list[str], Path], str]


def _checkout(git_url: str, ref: str | None, dest: Path, run: _Run, shown: str) -> bool:
    """Clone ``git_url`` into ``dest`` with ``ref`` checked out; return whether it is shallow."""
    if ref is None or ref == "HEAD":
        return _clone_branch(git_url, None, dest, run)
    if COMMIT_RE.match(ref):
        _clone_full(git_url, dest, run)
        _detach(dest, ref.lower(), run, missing=f"commit {ref} not found in {shown}")
        return False
    if ref.startswith("refs/heads/"):
        return _clone_branch(git_url, ref[len("refs/heads/") :], dest, run)
    if ref.startswith("refs/"):
        return _fetch_ref(git_url, ref, dest, run)
    if ABBREV_RE.match(ref):
        # It may still be a branch or a tag (git prefers those): one full clone tells.
        _clone_full(git_url, dest, run)
        _detach(dest, _resolve_abbreviated(ref, dest, run), run)
        return False
    return _clone_branch(git_url, ref, dest, run)


def _clone_branch(git_url: str, branch: str | None, dest: Path, run: _Run) -> bool:
    """``git clone --depth 1 [--branch B]``; in full where the server cannot do shallow."""
    option = ["--branch", branch] if branch else []
    try:
        run(["clone", "--depth", "1", "--quiet", *option, "--", git_url, str(dest)], dest.parent)
        return True
    except GitError as exc:
        if "shallow" not in exc.message:
            raise
    # "dumb" HTTP servers cannot do shallow clones: clone in full.
    _empty(dest)
    run(["clone", "--quiet", *option, "--", git_url, str(dest)], dest.parent)
    return False


def _clone_full(git_url: str, dest: Path, run: _Run) -> None:
    run(["clone", "--no-checkout", "--quiet", "--", git_url, str(dest)], dest.parent)


def _detach(dest: Path, commit: str, run: _Run, missing: str | None = None) -> None:
    try:
        run(["checkout", "--quiet", "--detach", commit, "--"], dest)
    except GitError as exc:
        if missing and ("reference is not a tree" in exc.message or "did not match" in exc.message):
            raise GitError(missing) from None
        raise


def _commit_of(dest: Path, revision: str, run: _Run) -> str | None:
    """The commit ``revision`` names in the repository ``dest``, or None."""
    try:
        return run(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], dest).strip()
    except GitError as exc:
        if exc.code == "timeout":
            raise
        return None


def _fetch_ref(git_url: str, ref: str, dest: Path, run: _Run) -> bool:
    """Fetch the full ref name ``ref`` (``refs/tags/v1``, ``refs/pull/1/head``...) alone."""
    run(["init", "--quiet", str(dest)], dest.parent)
    fetch = ["fetch", "--quiet", "--no-tags"]
    shallow = True
    try:
        try:
            run([*fetch, "--depth", "1", "--", git_url, ref], dest)
        except GitError as exc:
            if "shallow" not in exc.message:
                raise
            shallow = False  # "dumb" HTTP: fetch in full
            run([*fetch, "--", git_url, ref], dest)
    except GitError as exc:
        if "couldn't find remote ref" in exc.message:
            raise GitError(_ref_not_found(ref)) from None
        raise
    commit = _commit_of(dest, "FETCH_HEAD", run)
    if commit is None:
        raise GitError(f"ref {ref!r} does not name a commit")
    _detach(dest, commit, run)
    return shallow


def _resolve_abbreviated(ref: str, dest: Path, run: _Run) -> str:
    """The commit ``ref`` names in the full clone ``dest``: a branch, else a tag (as
    ``git clone --branch`` looks them up), else an unambiguous abbreviated commit."""
    for candidate in (f"refs/remotes/origin/{ref}", f"refs/tags/{ref}"):
        commit = _commit_of(dest, candidate, run)
        if commit:
            return commit
    try:
        return run(["rev-parse", "--verify", f"{ref.lower()}^{{commit}}"], dest).strip()
    except GitError as exc:
        if exc.code == "timeout":
            raise
        if "is ambiguous" in exc.stderr:
            raise GitError(
                f"the abbreviated commit {ref!r} is ambiguous (several commits start "
                "with it): give more hex digits, or the full commit"
            ) from None
        raise GitError(f"no branch, tag or commit {ref!r} found") from None


def _ref_not_found(ref: str) -> str:
    if ref.startswith("refs/"):
        return f"ref {ref!r} not found"
    msg = f"branch or tag {ref!r} not found"
    if len(ref) < MIN_ABBREV and re.match(r"^[0-9a-fA-F]+\Z", ref):
        msg += f" (an abbreviated commit needs at least {MIN_ABBREV} hex digits)"
    return msg


def _require_repository(git_url: str, shown: str, ref: str | None, ref_option: str | None) -> None:
    """Refuse a local folder that git could not clone, with a message saying so
    (git's own is "Could not read from remote repository")."""
    path = Path(unquote(urlsplit(git_url).path))
    if _is_repository(path):
        return
    hint = f" ({ref_option} needs one)" if ref is not None and ref_option else ""
    raise GitError(f"{shown} is not a git repository{hint}", code="not_a_repository")


def _is_repository(path: Path) -> bool:
    """Whether ``git clone`` could find a repository at the local ``path``: like git,
    look at ``path/.git``, ``path``, ``path.git/.git`` and ``path.git``.  Lenient: a
    file (a bundle, or a ``.git`` file naming the real folder) is left to git."""
    if not path.is_dir():
        return True
    sibling = path.with_name(path.name + ".git")
    for candidate in (path / ".git", path, sibling / ".git", sibling):
        if candidate.is_file():
            return True
        if (candidate / "HEAD").is_file() and (
            (candidate / "objects").is_dir() or (candidate / "commondir").is_file()
        ):
            return True
    return False


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
