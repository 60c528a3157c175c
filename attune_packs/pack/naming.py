"""How messages name a staged pack tree: by what the user gave."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Shown:
    """How messages name a pack tree that was staged: by what the user gave.

    ``root`` is the real folder (inside a staging area or a temporary folder);
    ``name`` is what the user named (a folder as typed, an archive, a URL, a git
    repository); ``inner`` is where ``root`` sits inside it (an archive's top
    folder, a repository's ``pack/``); ``sep`` joins ``name`` and the paths inside
    it: ``/`` for a folder, ``:`` for an archive, a URL or a repository, so a file
    of an archive reads ``demo.tar.gz:demo/pack.yaml``.
    """

    root: str
    name: str
    inner: str = ""
    sep: str = "/"

    @classmethod
    def of(cls, root: Path | str, name: str, inner: str = "", sep: str = "/") -> Shown:
        return cls(os.fspath(root).rstrip(os.sep) or os.sep, name, inner.strip("/"), sep)

    def path(self, path: Path | str) -> str:
        """``path`` (the root or something below it) as the user knows it."""
        text = os.fspath(path)
        if text == self.root:
            return self.name
        if text.startswith(self.root + os.sep):
            return self._prefix() + text[len(self.root) + 1 :]
        return text

    def _prefix(self) -> str:
        inner = self.inner + "/" if self.inner else ""
        sep = "" if self.name.endswith(("/", ":")) and self.sep == "/" else self.sep
        return f"{self.name}{sep}{inner}"

    def scrub(self, text: str) -> str:
        """``text`` with every mention of ``root`` (or a path below it) replaced."""
        if self.root not in text:
            return text
        text = text.replace(self.root + os.sep, self._prefix())
        return text.replace(self.root, self.name)


def scrub(value: object, names: list[Shown] | tuple[Shown, ...]) -> object:
    """``value`` (a string, or lists/dicts of them) with :meth:`Shown.scrub` applied for
    each of ``names`` in order (put the deepest roots first)."""
    if isinstance(value, str):
        for shown in names:
            value = shown.scrub(value)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, names) for v in value]
    if isinstance(value, tuple):
        return tuple(scrub(v, names) for v in value)
    return value
