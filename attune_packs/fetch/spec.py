"""What a SOURCE argument of ``attune pack install`` names (DESIGN.md section 8).

Classification only: no I/O beyond a stat of local paths (and a peek at the
first bytes of a file, or at a folder's ``HEAD``, to tell archives and bare git
repositories apart).  The installer turns a :class:`SourceSpec` into files
through the fetchers (local, archive URL, git, registry).

Also here, shared by every command that takes a path: :func:`local_pack_form`
(is this path a pack folder, a ``pack.yaml`` or an archive?) and :class:`Shown`
(how messages name a pack tree the installer staged: by what the user gave,
never by the staging path).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from attune_packs.errors import ManifestError, NotFound, SourceError, UsageError
from attune_packs.pack.model import REF_RE

if TYPE_CHECKING:
    pass


from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
MANIFEST_NAME = "pack.yaml"

LOCAL_DIRECTORY = "local_directory"
LOCAL_ARCHIVE = "local_archive"
ARCHIVE = "archive"
GIT = "git"
REGISTRY = "registry"

#: The error code of a path that exists but is neither a pack folder, its
#: ``pack.yaml`` nor a supported archive (exit 1: the operation failed).
NOT_A_PACK = "not_a_pack"
#: ``git+https://...``, ``git+file://...``: git, whatever the URL looks like.
GIT_PREFIX = "git+"

_HEAD_RE = re.compile(rb"^(ref: refs/\S+|[0-9a-f]{40}|[0-9a-f]{64})\s*\Z")


@dataclass(frozen=True)
class SourceSpec:
    raw: str
    kind: str  # one of the five constants above (the audit's source_type)
    location: str  # path, URL, or the pack ref for a registry requirement
    constraint: str | None = None  # registry: "1.2.3", "^1.2", "latest", or None (any)
    git_ref: str | None = None  # git: branch, tag or commit
    shown: str | None = None  # how messages name it, when not ``raw`` (see ``display``)

    @property
    def display(self) -> str:
        """What the user gave, safe to show (a URL without credentials or query)."""
        from attune_packs.redaction import display_location

        return display_location(self.shown or self.raw)


_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:")


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def looks_like_bare_repo(path: Path | str) -> bool:
    """True for a bare git repository (or a ``.git`` folder): ``HEAD`` naming a ref or a
    commit, ``objects/`` and ``refs/`` folders, and no ``pack.yaml``.  A working tree
    (a checkout with ``.git`` inside) is not one: it is installed as a folder."""
    path = Path(path)
    try:
        if (path / MANIFEST_NAME).exists() or not (
            (path / "objects").is_dir() and (path / "refs").is_dir()
        ):
            return False
        head = path / "HEAD"
        if not head.is_file():
            return False
        with open(head, "rb") as fh:
            return bool(_HEAD_RE.match(fh.read(512)))
    except OSError:
        return False


def local_pack_form(path: Path | str, given: str | None = None, *, archives: bool = True) -> str:
    """What the local ``path`` the user named is: ``"directory"`` (a folder),
    ``"manifest"`` (a ``pack.yaml``; its folder is the pack) or ``"archive"``
    (a zip, tar or tar.gz, by name or by its first bytes).

    The one decision every command taking a pack path makes (``validate``,
    ``install``, ``lock``...), so that one condition gets one error: a missing path
    is :class:`~attune_packs.errors.NotFound`; an existing path that is none of
    these (or an archive where ``archives`` is false) is a :class:`SourceError`
    with code ``not_a_pack`` (exit 1).  ``given`` is how messages name the path
    (default: ``path`` as given).
    """
    shown = given if given is not None else os.fspath(path)
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NotFound(f"no such file or directory: {shown}") from None
    except NotADirectoryError:
        raise NotFound(f"no such file or directory: {shown}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {shown}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        return "directory"
    accepted = (
        "a pack folder, its pack.yaml, or a .zip, .tar.gz, .tgz or .tar archive"
        if archives
        else "a pack folder or its pack.yaml"
    )
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(
            f"{shown} is not a pack: expected {accepted}, not a special file", code=NOT_A_PACK
        )
    if path.name == MANIFEST_NAME:
        return "manifest"
    from attune_packs.pack.archive import is_archive

    if not is_archive(path):
        raise SourceError(f"{shown} is not a pack: expected {accepted}", code=NOT_A_PACK)
    if not archives:
        raise SourceError(f"{shown} is an archive: expected {accepted}", code=NOT_A_PACK)
    return "archive"


def _file_url_path(raw: str) -> str:
    """The local path of a ``file://`` URL (``file:///x``, ``file://localhost/x``)."""
    parts = urlsplit(raw)
    if parts.netloc not in ("", "localhost"):
        raise UsageError(f"invalid file URL {raw!r}: only local files are allowed")
    if not parts.path:
        raise UsageError(f"invalid file URL {raw!r}: no path")
    return unquote(parts.path)


def classify(raw: str, ref_spec: str | None = None) -> SourceSpec:
    """Decide what ``raw`` is: local directory/archive, bare git repository, archive URL,
    git URL or registry requirement.

    * ``git+https://...``, ``git+http://...``, ``git+file://...``: git, always (the
      prefix is dropped from the location).
    * A URL ending in ``.git``, or any URL with ``--ref-spec``: git; else an archive URL.
    * A local path or ``file://`` URL: a bare git repository is git (cloned at
      ``HEAD`` or at ``--ref-spec``); a ``pack.yaml`` means its folder; a folder
      (a working tree with ``.git`` inside too) is a local directory; a zip, tar or
      tar.gz is a local archive; any other file is ``not_a_pack``.
    * Anything else must be a registry requirement ``ref[@constraint]``.
    """
    if not raw or raw != raw.strip():
        raise UsageError(f"invalid source {raw!r}")
    lowered = raw.lower()
    if "://" in raw:
        scheme = lowered.split("://", 1)[0]
        if scheme.startswith(GIT_PREFIX):
            return _classify_git_plus(raw, scheme[len(GIT_PREFIX) :], ref_spec)
        if scheme == "file":
            return _classify_path(_file_url_path(raw), raw, ref_spec)
        if scheme not in ("http", "https"):
            raise UsageError(
                f"unsupported URL scheme {scheme!r} in {raw!r}: use https:// (or a local path)"
            )
        path_part = raw.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        if path_part.lower().endswith(".git") or ref_spec is not None:
            return SourceSpec(raw, GIT, raw, git_ref=ref_spec)
        return SourceSpec(raw, ARCHIVE, raw)
    if _SCP_LIKE.match(raw) and not os.path.exists(raw):  # git@host:org/repo.git (ssh)
        raise UsageError(
            f"unsupported source {raw!r}: SSH git addresses are not supported; "
            "use the repository's https:// URL (or a local path)"
        )
    if looks_like_path(raw):
        return _classify_path(raw, raw, ref_spec)
    ref, sep, constraint = raw.partition("@")
    if not REF_RE.match(ref):
        raise UsageError(
            f"invalid source {raw!r}: not a path, a URL or a pack requirement like 'slack@^1.2'"
        )
    if sep and not constraint.strip():
        raise UsageError(f"invalid requirement {raw!r}: nothing after '@'")
    return SourceSpec(raw, REGISTRY, ref, constraint=constraint.strip() if sep else None)


def _classify_git_plus(raw: str, scheme: str, ref_spec: str | None) -> SourceSpec:
    url = raw[len(GIT_PREFIX) :]
    if scheme == "file":
        path = Path(_file_url_path(url)).expanduser()
        if not path.exists():
            raise NotFound(f"no such file or directory: {raw}")
        return SourceSpec(raw, GIT, os.fspath(path.resolve()), git_ref=ref_spec)
    if scheme not in ("http", "https"):
        raise UsageError(
            f"unsupported URL scheme {'git+' + scheme!r} in {raw!r}: "
            "use git+https:// (or git+file:// for a local repository)"
        )
    return SourceSpec(raw, GIT, url, git_ref=ref_spec)


def _classify_path(path_text: str, raw: str, ref_spec: str | None) -> SourceSpec:
    path = Path(path_text).expanduser()
    form = local_pack_form(path, raw)
    if ref_spec is not None:
        if form != "directory":
            raise UsageError(
                f"--ref-spec {ref_spec} needs a git repository, but {raw} is a file",
                code="usage_error",
            )
        if not (looks_like_bare_repo(path) or (path / ".git").exists()):
            raise UsageError(
                f"--ref-spec {ref_spec} needs a git repository, but {raw} is a folder "
                "without git history",
                code="usage_error",
            )
        return SourceSpec(raw, GIT, os.fspath(path.resolve()), git_ref=ref_spec)
    if form == "directory":
        if looks_like_bare_repo(path):
            return SourceSpec(raw, GIT, os.fspath(path.resolve()))
        if not os.path.lexists(path / MANIFEST_NAME):
            # Refused before anything is copied (a folder may be huge, or /).
            raise ManifestError(f"invalid pack in {raw}: no pack.yaml in {raw}")
        return SourceSpec(raw, LOCAL_DIRECTORY, os.fspath(path.resolve()))
    if form == "manifest":
        folder = os.path.dirname(path_text.rstrip("/")) or "."
        return SourceSpec(raw, LOCAL_DIRECTORY, os.fspath(path.parent.resolve()), shown=folder)
    return SourceSpec(raw, LOCAL_ARCHIVE, os.fspath(path.resolve()))


def looks_like_path(text: str) -> bool:
    """A SOURCE that can only mean a local path: it starts like one, holds a path
    separator, exists, or is named like a pack file (``x.tar.gz``, ``pack.yaml``) -- so
    a missing ``x.tar.gz`` is ``not_found``, not a strange registry requirement."""
    return (
        text.startswith((".", "/", "~"))
        or os.sep in text
        or os.path.exists(text)
        or is_archive_name(text)
        or text == MANIFEST_NAME
    )
