"""Reading argv against the declared grammar (``grammar.py``, ``commands.py``).

The rules are the ones click and most Unix tools follow: ``--name value`` and
``--name=value``; ``-x value``, ``-xvalue`` and clusters of short flags
(``-vq``, ``-qojson``); ``--`` ends the options; the last of a repeated option
wins; no abbreviations.  The global options (``-o``, ``-v``, ``-q``,
``--home``, ``--config``, ``-h``) are read before ``pack``, after it and after
the command.  Every mistake is a :class:`~attune_packs.errors.UsageError`
(exit 2) that says what was wrong and where to find help.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attune_packs.cli.commands import COMMANDS, GROUPS, children, load
from attune_packs.cli.grammar import GLOBAL_OPTIONS, ROOT_OPTIONS
from attune_packs.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from attune_packs.cli.grammar import Command, Opt

PROG = "attune"
_ROOT_ACTIONS = ("version", "show_completion", "install_completion")


class Invocation:
    """What argv asks for: a command with its values, or help for a group/command."""

    __slots__ = ("command", "globals", "help", "values", "words")

    def __init__(self) -> None:
        self.words = ""  # "pack install", "pack index", "" (the root)
        self.command: Command | None = None
        self.values: dict[str, Any] = {}  # the command's own parameters, by dest
        self.globals: dict[str, Any] = {}  # output, verbose, quiet, home, config, version, ...
        self.help = False

    @property
    def prog(self) -> str:
        return f"{PROG} {self.words}".strip()


def _suggest(word: str, options: Sequence[str]) -> str:
    from difflib import get_close_matches

    close = get_close_matches(word, options)
    if not close:
        return ""
    return " Did you mean " + ", ".join(repr(c) for c in close) + "?"


class _Reader:
    """Consumes argv token by token for one :class:`Invocation`."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.tokens = list(argv)
        self.pos = 0
        self.inv = Invocation()

    def error(self, message: str) -> UsageError:
        return UsageError(f"{message.rstrip('.')} (see '{self.inv.prog} --help')")

    def options(self) -> list[Opt]:
        inv = self.inv
        own = inv.command.options if inv.command is not None else []
        root = list(ROOT_OPTIONS) if not inv.words else []
        return [*own, *GLOBAL_OPTIONS, *root]

    def _find(self, name: str) -> Opt | None:
        return next((o for o in self.options() if name in o.flags), None)

    def _store(self, opt: Opt, value: str | None) -> None:
        target = self.inv.values if self.inv.command and opt in self.inv.command.options else None
        if target is None:
            target = self.inv.globals
        if opt.flag:
            target[opt.dest] = True
            return
        if value is None:  # an optional value left out
            target[opt.dest] = ""
            return
        try:
            target[opt.dest] = opt.convert(value)
        except ValueError as exc:
            raise self.error(f"Invalid value for '{opt.name}': {exc}") from None

    def _value(self, opt: Opt, name: str) -> str | None:
        """The value after option ``name`` (the next token, whatever it looks like)."""
        if self.pos < len(self.tokens):
            nxt = self.tokens[self.pos]
            if opt.optional_value and nxt.startswith("-"):
                return None
            self.pos += 1
            return nxt
        if opt.optional_value:
            return None
        raise self.error(f"Option '{name}' requires an argument.")

    def option(self, token: str) -> None:
        """Read the option ``token`` (and its value) at the current position."""
        if token.startswith("--"):
            name, eq, inline = token.partition("=")
            opt = self._find(name)
            if opt is None:
                known = [f for o in self.options() for f in o.flags if f.startswith("--")]
                raise self.error(f"No such option: {name}.{_suggest(name, known)}")
            if opt.flag:
                if eq:
                    raise self.error(f"Option '{name}' does not take a value.")
                self._store(opt, None)
            else:
                self._store(opt, inline if eq else self._value(opt, name))
            return
        # A cluster of short options: -v, -vq, -ojson, -vqojson.
        i = 1
        while i < len(token):
            name = "-" + token[i]
            opt = self._find(name)
            if opt is None:
                raise self.error(f"No such option: {name}")
            if opt.flag:
                self._store(opt, None)
                i += 1
                continue
            rest = token[i + 1 :]
            self._store(opt, rest if rest else self._value(opt, name))
            return

    def read(self) -> Invocation:
        inv = self.inv
        positionals: list[str] = []
        only_positional = False
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            self.pos += 1
            if inv.command is not None and not only_positional and token == "--":
                only_positional = True
            elif not only_positional and token.startswith("-") and token != "-":
                self.option(token)
                if inv.globals.get("help"):
                    inv.help = True
                    return inv
                if any(k in inv.globals for k in _ROOT_ACTIONS):
                    return inv  # --version, --show/--install-completion: nothing else matters
            elif inv.command is None:
                self.enter(token)
            else:
                positionals.append(token)
        if inv.command is None:
            inv.help = True  # a group alone: its help
            return inv
        self.assign(positionals)
        return inv

    def enter(self, word: str) -> None:
        """Go down from the current group to its child ``word``."""
        inv = self.inv
        words = f"{inv.words} {word}".strip()
        if words in COMMANDS:
            inv.words = words
            inv.command = load(words)
        elif words in GROUPS:
            inv.words = words
        else:
            names = children(inv.words)
            raise self.error(f"No such command '{word}'.{_suggest(word, names)}")

    def assign(self, positionals: list[str]) -> None:
        """Give each declared argument its tokens; check counts and types."""
        cmd = self.inv.command
        assert cmd is not None
        values = self.inv.values
        tokens = list(positionals)
        for index, arg in enumerate(cmd.args):
            after = sum(1 for a in cmd.args[index + 1 :] if a.required)
            if arg.many:
                take = max(0, len(tokens) - after)
                if arg.nargs == "+" and take == 0:
                    raise self.error(f"Missing argument '{arg.metavar}'.")
                chunk, tokens = tokens[:take], tokens[take:]
                values[arg.dest] = [self._convert(arg, t) for t in chunk]
            elif tokens and (arg.required or len(tokens) > after):
                values[arg.dest] = self._convert(arg, tokens.pop(0))
            elif arg.required:
                raise self.error(f"Missing argument '{arg.metavar}'.")
            else:
                values[arg.dest] = None
        if tokens:
            extra = " ".join(tokens)
            raise self.error(
                f"Got unexpected extra argument{'s' if len(tokens) > 1 else ''} ({extra})"
            )
        for opt in cmd.options:
            if opt.dest not in values:
                if opt.required:
                    raise self.error(f"Missing option '{opt.name}'.")
                values[opt.dest] = opt.default

    def _convert(self, arg: Any, token: str) -> Any:
        if arg.type is None:
            return token
        try:
            return arg.type(token)
        except ValueError as exc:
            raise self.error(f"Invalid value for '{arg.metavar}': {exc}") from None


def parse(argv: Sequence[str]) -> Invocation:
    """Read ``argv`` (without the program name); raise UsageError on a mistake."""
    return _Reader(argv).read()
