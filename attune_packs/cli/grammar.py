"""The one declaration of the command line: arguments, options and commands.

A command module declares each command once, with :func:`command`::

    @command("checksum", Arg("path", help="A pack folder or a file."),
             Opt("--expect", metavar="sha256:HEX", help="Exit 1 unless it is this."))
    def checksum(path: str, expect: str | None) -> Rendered:
        \"\"\"Print the Attune checksum of a pack folder or a file.\"\"\"

From that declaration the parser (``parse.py``), the help text (``help.py``)
and shell completion (``completion.py``) are all derived, so nothing about the
grammar is written twice.  The first docstring line is the command's summary
in ``attune pack --help``; the whole docstring, line breaks kept, is its help.

Declarations are plain objects: importing a command module costs no more than
its own top-level imports (heavy work is imported inside the command bodies),
which is what keeps every command's start-up small.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: What a parameter completes to in a shell: files, folders, installed pack refs.
FILES = "files"
DIRS = "dirs"
REFS = "refs"


class Arg:
    """A positional argument. ``nargs``: 1 (required), "?" (optional), "*" or "+" (many)."""

    __slots__ = ("complete", "dest", "help", "metavar", "nargs", "type")

    def __init__(
        self,
        dest: str,
        *,
        help: str = "",
        metavar: str | None = None,
        nargs: int | str = 1,
        type: Callable[[str], Any] | None = None,
        complete: str | None = None,
    ) -> None:
        self.dest = dest
        self.help = help
        self.nargs = nargs
        self.type = type
        self.complete = complete
        base = metavar or dest.upper()
        self.metavar = base + "..." if nargs in ("*", "+") and not base.endswith("...") else base

    @property
    def required(self) -> bool:
        return self.nargs in (1, "+")

    @property
    def many(self) -> bool:
        return self.nargs in ("*", "+")

    def usage(self) -> str:
        return self.metavar if self.required else f"[{self.metavar}]"


class Opt:
    """An option: a flag (``flag=True``) or one taking a value (``--name VALUE``)."""

    __slots__ = (
        "choices",
        "complete",
        "default",
        "dest",
        "flag",
        "flags",
        "help",
        "metavar",
        "optional_value",
        "required",
        "type",
    )

    def __init__(
        self,
        *flags: str,
        dest: str | None = None,
        help: str = "",
        metavar: str | None = None,
        flag: bool = False,
        default: Any = None,
        type: Callable[[str], Any] | None = None,
        choices: Sequence[str] | None = None,
        required: bool = False,
        complete: str | None = None,
        optional_value: bool = False,
    ) -> None:
        self.flags = flags
        self.optional_value = optional_value  # ``--opt`` alone is allowed (value None)
        long = next((f for f in flags if f.startswith("--")), flags[0])
        self.dest = dest or long.lstrip("-").replace("-", "_")
        self.help = help
        self.flag = flag
        self.default = False if flag and default is None else default
        self.type = type
        self.choices = tuple(choices) if choices else None
        self.required = required
        self.complete = complete
        if metavar is None and not flag:
            metavar = "|".join(self.choices) if self.choices else self.dest.upper()
        self.metavar = metavar

    def convert(self, value: str) -> Any:
        """The typed value of ``value``; ``ValueError`` with a message when it does not fit."""
        if self.choices is not None:
            lowered = value.lower()
            if lowered not in self.choices:
                raise ValueError(f"{value!r} is not one of {', '.join(self.choices)}")
            return lowered
        return self.type(value) if self.type is not None else value

    @property
    def name(self) -> str:
        """The long spelling (``--limit``), else the short one."""
        return next((f for f in self.flags if f.startswith("--")), self.flags[0])

    def spelled(self) -> str:
        """``-o, --output FORMAT`` as help shows it."""
        names = ", ".join(self.flags)
        return names if self.flag else f"{names} {self.metavar}"


class Command:
    """One command: its words under ``attune pack``, parameters and body."""

    __slots__ = ("args", "func", "name", "options")

    def __init__(self, name: str, params: Sequence[Arg | Opt], func: Callable[..., Any]) -> None:
        self.name = name
        self.func = func
        self.args = [p for p in params if isinstance(p, Arg)]
        self.options = [p for p in params if isinstance(p, Opt)]

    @property
    def doc(self) -> str:
        return _cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def _cleandoc(text: str) -> str:
    """``inspect.cleandoc`` without importing inspect (~8 ms): the first line as it is,
    the others dedented by their common indentation; blank edges dropped."""
    lines = text.expandtabs().splitlines()
    rest = [ln for ln in lines[1:] if ln.strip()]
    margin = min((len(ln) - len(ln.lstrip()) for ln in rest), default=0)
    out = [lines[0].strip()] if lines else []
    out += [ln[margin:].rstrip() for ln in lines[1:]]
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


#: Every command declared so far, by its words ("install", "index show").
DECLARED: dict[str, Command] = {}


def command(name: str, *params: Arg | Opt) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare ``func`` as the command ``attune pack NAME`` with these parameters."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        DECLARED[name] = Command(name, params, func)
        return func

    return decorator


# --------------------------------------------------------------------------- value types


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{text} is less than 1")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value >= 0:  # also refuses nan
        raise ValueError(f"{text} is not a number of 0 or more")
    return value


# --------------------------------------------------------------------------- shared options

OUTPUT_FORMATS = ("table", "json", "yaml")
SHELLS = ("bash", "zsh", "fish")

#: Accepted before ``pack``, after it, and after the command.
GLOBAL_OPTIONS = (
    Opt(
        "-o",
        "--output",
        metavar="FORMAT",
        choices=OUTPUT_FORMATS,
        help="Output format: table (default), json or yaml; json/yaml print one document.",
    ),
    Opt("-v", "--verbose", flag=True, help="More detail; a traceback with an error."),
    Opt("-q", "--quiet", flag=True, help="Only results and errors."),
    Opt(
        "--home",
        metavar="DIR",
        complete=DIRS,
        help="Home folder: config, database, packs, cache (default: $ATTUNE_HOME).",
    ),
    Opt(
        "--config",
        metavar="FILE",
        complete=FILES,
        help="Config file (default: $ATTUNE_CONFIG, else HOME/config.yaml).",
    ),
    Opt("-h", "--help", flag=True, help="Show this help and exit."),
)

#: Accepted only before ``pack``.
ROOT_OPTIONS = (
    Opt("-V", "--version", flag=True, help="Print the version and exit."),
    Opt(
        "--install-completion",
        metavar="SHELL",
        choices=SHELLS,
        optional_value=True,
        help="Install shell completion for bash, zsh or fish (default: $SHELL).",
    ),
    Opt(
        "--show-completion",
        metavar="SHELL",
        choices=SHELLS,
        optional_value=True,
        help="Print the completion script for bash, zsh or fish (default: $SHELL).",
    ),
)
