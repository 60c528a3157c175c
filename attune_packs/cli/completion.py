"""Shell completion for bash, zsh and fish, derived from the declared grammar.

``attune --show-completion [SHELL]`` prints a small script for the shell;
``attune --install-completion [SHELL]`` writes it where the shell looks and
says what it changed.  The script calls ``attune`` back with
``_ATTUNE_COMPLETE=1`` and the words typed so far; :func:`complete_words`
answers with one candidate a line: group and command words, options, option
choices, installed pack refs (for ``show``, ``uninstall``, ``rollback``,
``verify``), or ``__files__`` / ``__dirs__`` to let the shell complete paths.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attune_packs.cli.commands import COMMANDS, GROUPS, children, load
from attune_packs.cli.grammar import DIRS, FILES, GLOBAL_OPTIONS, REFS, ROOT_OPTIONS, SHELLS
from attune_packs.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from attune_packs.cli.grammar import Command, Opt
    from attune_packs.cli.render import Rendered

_BASH = r"""# attune shell completion for bash
_attune_complete() {
    local IFS=$'\n' line
    local cur="${COMP_WORDS[COMP_CWORD]}"
    COMPREPLY=()
    for line in $(_ATTUNE_COMPLETE=1 "${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null); do
        case "$line" in
            __files__) COMPREPLY+=($(compgen -f -- "$cur")) ;;
            __dirs__) COMPREPLY+=($(compgen -d -- "$cur")) ;;
            *) COMPREPLY+=("$line") ;;
        esac
    done
}
complete -o filenames -F _attune_complete attune
"""

_ZSH = r"""#compdef attune
# attune shell completion for zsh
_attune() {
    local -a candidates
    local line
    for line in "${(@f)$(_ATTUNE_COMPLETE=1 "${words[1]}" "${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
        case "$line" in
            __files__) _files ;;
            __dirs__) _files -/ ;;
            '') ;;
            *) candidates+=("$line") ;;
        esac
    done
    (( ${#candidates} )) && compadd -- "${candidates[@]}"
    return 0
}
if [[ "${funcstack[1]}" == "_attune" ]]; then
    _attune "$@"
else
    compdef _attune attune
fi
"""

_FISH = r"""# attune shell completion for fish
function __attune_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    for line in (env _ATTUNE_COMPLETE=1 attune $words 2>/dev/null)
        switch $line
            case __files__
                __fish_complete_path (commandline -ct)
            case __dirs__
                __fish_complete_directories (commandline -ct)
            case '*'
                echo $line
        end
    end
end
complete -c attune -f -a '(__attune_complete)'
"""

SCRIPTS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


# --------------------------------------------------------------------------- the engine


def _installed_refs(home: str | None = None) -> list[str]:
    """Refs installed in this home (quietly nothing when there is no database yet)."""
    try:
        from attune_packs.config import load_settings
        from attune_packs.install.queries import installed_refs

        return installed_refs(load_settings(home=home))
    except Exception:  # completion never shows an error
        return []


def _options_of(words: str, cmd: Command | None) -> list[Opt]:
    own = cmd.options if cmd is not None else []
    return [*own, *GLOBAL_OPTIONS, *(ROOT_OPTIONS if not words else ())]


def _source(kind: str | None, home: str | None = None) -> list[str]:
    if kind == REFS:
        return _installed_refs(home)
    if kind == FILES:
        return ["__files__"]
    if kind == DIRS:
        return ["__dirs__"]
    return []


def candidates(words: Sequence[str]) -> list[str]:
    """What may stand in place of the last of ``words`` (the word being typed)."""
    typed = list(words[:-1])
    current = words[-1] if words else ""
    group, cmd = "", None
    positionals = 0
    expecting: Opt | None = None
    only_positional = False
    home: str | None = None  # a --home typed earlier on the line
    for word in typed:
        options = _options_of(group, cmd)
        if expecting is not None:
            if expecting.dest == "home":
                home = word
            expecting = None
        elif word == "--" and cmd is not None:
            only_positional = True
        elif word.startswith("-") and not only_positional:
            name = word.split("=", 1)[0]
            if name == "--home" and "=" in word:
                home = word.split("=", 1)[1]
            opt = next((o for o in options if name in o.flags), None)
            if opt is not None and not opt.flag and "=" not in word and not opt.optional_value:
                expecting = opt
        elif cmd is None:
            full = f"{group} {word}".strip()
            if full in COMMANDS:
                group, cmd = full, load(full)
            elif full in GROUPS:
                group = full
            else:
                return []
        else:
            positionals += 1
    options = _options_of(group, cmd)
    if expecting is not None:
        found = list(expecting.choices) if expecting.choices else _source(expecting.complete, home)
    elif current.startswith("-") and not only_positional:
        found = [f for o in options for f in o.flags if f.startswith("--") or len(current) < 2]
    elif cmd is None:
        found = children(group)
    else:
        found = _source(_arg_at(cmd, positionals), home)
    return [c for c in found if c.startswith(current) or c.startswith("__")]


def _arg_at(cmd: Command, index: int) -> str | None:
    for arg in cmd.args:
        if arg.many or index == 0:
            return arg.complete
        index -= 1
    return None


def complete_words(words: Sequence[str]) -> int:
    """The completion call-back: candidates on stdout, one a line; always exit 0."""
    try:
        found = candidates(words or [""])
    except Exception:  # never a traceback in the middle of someone's prompt
        found = []
    sys.stdout.write("".join(f"{c}\n" for c in found))
    return 0


# --------------------------------------------------------------------------- the options


def _shell(given: str | None) -> str:
    if given:
        return given
    detected = Path(os.environ.get("SHELL", "")).name
    if detected in SHELLS:
        return detected
    raise UsageError(
        "cannot tell which shell this is ($SHELL is "
        f"{os.environ.get('SHELL') or 'not set'}): name one, e.g. --show-completion bash"
    )


def _append_once(path: Path, line: str) -> bool:
    from attune_packs.fsutil import atomic_write_text

    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if line in text.splitlines():
        return False
    atomic_write_text(path, text + ("" if not text or text.endswith("\n") else "\n") + line + "\n")
    return True


def install(shell: str, home: Path) -> dict[str, Any]:
    """Write the script where ``shell`` finds it; hook it into the rc file if needed."""
    from attune_packs.fsutil import atomic_write_text

    changed: list[str] = []
    if shell == "bash":
        script = home / ".bash_completions" / "attune.sh"
        rc = home / ".bashrc"
        hook = f"source {script}"
    elif shell == "zsh":
        script = home / ".zfunc" / "_attune"
        rc = home / ".zshrc"
        hook = "fpath+=~/.zfunc; autoload -Uz compinit; compinit"
    else:
        script = home / ".config" / "fish" / "completions" / "attune.fish"
        rc, hook = None, None
    script.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(script, SCRIPTS[shell])
    changed.append(str(script))
    if rc is not None and hook is not None and _append_once(rc, hook):
        changed.append(str(rc))
    return {"shell": shell, "script": str(script), "changed": changed}


def completion_command(options: dict[str, Any]) -> Rendered:
    """``attune --show-completion [SHELL]`` and ``attune --install-completion [SHELL]``."""
    from attune_packs.cli.render import Rendered

    if "show_completion" in options:
        shell = _shell(options["show_completion"])
        return Rendered({"shell": shell, "script": SCRIPTS[shell]}, SCRIPTS[shell])
    shell = _shell(options["install_completion"])
    result = install(shell, Path.home())
    text = f"{shell} completion installed in {result['script']}; open a new shell to use it"
    return Rendered(result, text)
