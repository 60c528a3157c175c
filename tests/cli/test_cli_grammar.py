"""The one declared grammar: global options anywhere, help text, shell completion."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from attune_packs.cli.commands import COMMANDS, GROUPS, load
from attune_packs.cli.parse import parse
from attune_packs.errors import UsageError
from tests.conftest import run_cli, write_pack

BIN = Path(sys.executable).parent


def _minimal_args(words: str) -> list[str]:
    """Just enough arguments and required options for ``words`` to parse."""
    cmd = load(words)
    args: list[str] = []
    for arg in cmd.args:
        if arg.required:
            args.append("x")
    for opt in cmd.options:
        if opt.required:
            args += [opt.flags[0], "x"]
    return args


@pytest.mark.parametrize("words", list(COMMANDS))
def test_global_options_before_and_after_pack_and_after_the_command(words: str) -> None:
    rest = words.split()[1:]
    args = _minimal_args(words)
    for argv in (
        ["-v", "-q", "-o", "json", "pack", *rest, *args],
        ["pack", "-v", "-q", "-o", "json", *rest, *args],
        ["pack", *rest, *args, "-v", "-q", "-o", "json"],
        ["pack", *rest, "-vqojson", *args],
        ["--output=json", "pack", *rest, *args, "--verbose", "--quiet"],
    ):
        inv = parse(argv)
        assert inv.command is not None and inv.words == words, argv
        assert inv.globals["verbose"] and inv.globals["quiet"], argv
        assert inv.globals["output"] == "json", argv


def test_global_options_reach_the_command(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert run_cli("pack", "install", str(write_pack(tmp_path / "p")), home=home).exit_code == 0
    for argv in (
        ("-v", "pack", "list"),
        ("-q", "pack", "list"),
        ("pack", "-o", "json", "list"),
        ("-o", "json", "pack", "list"),
        ("pack", "list", "-o", "json", "-v"),
    ):
        r = run_cli(*argv, home=home)
        assert r.exit_code == 0, (argv, r.stderr)
        if "json" in argv:
            assert r.json[0]["ref"] == "demo"
    r = run_cli("--home", str(home), "pack", "list", "-o", "json")
    assert r.exit_code == 0 and r.json[0]["ref"] == "demo"
    r = run_cli("pack", "show", "demo", "--home", str(home), "-o", "json")
    assert r.exit_code == 0 and r.json["ref"] == "demo"


def test_verbose_error_prints_its_traceback_once(tmp_path: Path) -> None:
    for argv in (
        ("-v", "pack", "validate", str(tmp_path / "missing")),
        ("pack", "validate", str(tmp_path / "missing"), "-v"),
    ):
        r = run_cli(*argv)
        assert r.exit_code == 1
        assert r.stderr.count("Traceback") == 1
        assert r.stderr.rstrip().splitlines()[-1].startswith("error: no such file")
        assert "run with -v" not in r.stderr


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["pack", "instal"], "No such command 'instal'. Did you mean 'install'"),
        (["pack", "list", "--bogus"], "No such option: --bogus"),
        (["pack", "list", "--lim"], "No such option: --lim"),
        (["pack", "history", "--limit", "0"], "Invalid value for '--limit'"),
        (["pack", "history", "-n"], "Option '-n' requires an argument (see"),
        (["pack", "list", "extra"], "Got unexpected extra argument (extra)"),
        (["pack", "list", "-o", "xml"], "Invalid value for '--output'"),
        (["pack", "install", "--force=yes", "x"], "Option '--force' does not take a value (see"),
        (["pack", "index-update", "p"], "Missing option '--index' (see"),
        (["pack", "index", "nope"], "No such command 'nope' (see"),
        (["pack", "cache", "clean", "--older-than", "-1"], "Invalid value for '--older-than'"),
    ],
)
def test_usage_errors(argv: list[str], fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(argv)
    assert fragment in info.value.message
    assert info.value.message.endswith("--help')")
    r = run_cli(*argv, "-o", "json")
    assert r.exit_code == 2 and r.json["error"]["code"] == "usage_error"
    assert len(r.stderr.splitlines()) == 1


# --------------------------------------------------------------------------- help


def _all_help() -> dict[str, str]:
    texts = {}
    for words in [*GROUPS, *COMMANDS]:
        argv = [*words.split(), "--help"]
        r = run_cli(*argv)
        assert r.exit_code == 0, (argv, r.stderr)
        texts[words] = r.stdout
    return texts


def test_help_of_every_command_and_group_is_clean() -> None:
    for words, text in _all_help().items():
        for bad in ("<str>", "<list", "<path>", "...]...", "[SOURCE...]...", "\\b", "<int>"):
            assert bad not in text, (words, bad)
        assert text.startswith("Usage: attune"), words
        assert "-o, --output FORMAT" in text and "-h, --help" in text, words


def test_group_help_lists_whole_sentences() -> None:
    text = run_cli("pack", "--help").stdout
    listing = text.split("Commands:\n", 1)[1]
    entries: dict[str, str] = {}
    current = ""
    for line in listing.splitlines():
        if line.startswith("  ") and not line.startswith("    "):
            current, _, summary = line.strip().partition("  ")
            entries[current] = summary.strip()
        elif current:
            entries[current] += " " + line.strip()
    assert set(entries) >= {"install", "list", "index", "cache", "index-merge"}
    for name, summary in entries.items():
        assert summary.endswith("."), (name, summary)
        assert "..." not in summary and "…" not in summary, (name, summary)


def test_examples_keep_their_line_breaks() -> None:
    text = run_cli("pack", "install", "--help").stdout
    lines = [line.strip() for line in text.splitlines()]
    assert "attune pack install my-pack-1.2.0.tar.gz --expect-checksum sha256:..." in lines
    assert "attune pack install --locked attune-packs.lock" in lines
    assert "my- pack" not in text
    text = run_cli("pack", "index-update", "--help").stdout
    assert any(line.strip().startswith("--git-url https://") for line in text.splitlines())


def test_help_anywhere_and_group_alone() -> None:
    assert run_cli("pack", "install", "-h").stdout.startswith("Usage: attune pack install")
    assert run_cli("--help").stdout.startswith("Usage: attune [OPTIONS] COMMAND")
    r = run_cli("pack", "index")
    assert r.exit_code == 2 and "Commands:" in r.stdout and "validate" in r.stdout


# --------------------------------------------------------------------------- completion


def _complete(*words: str, home: Path | None = None) -> list[str]:
    env = {"_ATTUNE_COMPLETE": "1", "NO_COLOR": "1"}
    if home is not None:
        env["ATTUNE_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "attune_packs", *words],
        capture_output=True,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}, **env},
        check=True,
    )
    return proc.stdout.splitlines()


@pytest.fixture
def installed_home(tmp_path: Path) -> Path:
    home = tmp_path / "h"
    for ref in ("slack", "core_utils"):
        r = run_cli("pack", "install", str(write_pack(tmp_path / ref, ref=ref)), home=home)
        assert r.exit_code == 0, r.stderr
    return home


def test_completion_engine(installed_home: Path) -> None:
    from attune_packs.cli.completion import candidates

    assert candidates(["pa"]) == ["pack"]
    assert "install" in candidates(["pack", ""]) and "index" in candidates(["pack", ""])
    assert candidates(["pack", "ins"]) == ["install"]
    assert candidates(["pack", "index", ""]) == ["show", "validate"]
    assert "--dry-run" in candidates(["pack", "install", "--d"])
    assert "--output" in candidates(["pack", "list", "--o"])
    assert candidates(["pack", "list", "-o", ""]) == ["table", "json", "yaml"]
    assert candidates(["pack", "install", "--progress", "j"]) == ["json"]
    assert candidates(["pack", "install", ""]) == ["__files__"]
    assert candidates(["--install-completion", "z"]) in (["zsh"], [])
    assert candidates(["pack", "nosuch", ""]) == []
    for cmd in ("show", "uninstall", "rollback", "verify"):
        assert _complete("pack", cmd, "", home=installed_home) == ["core_utils", "slack"], cmd
    assert _complete("pack", "show", "sl", home=installed_home) == ["slack"]
    assert _complete("pack", "verify", "slack", "c", home=installed_home) == ["core_utils"]


def _tool(name: str) -> str:
    """A real shell for the completion tests: required in CI (.ci/run installs it)."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (.ci/run installs it)")
        pytest.skip(f"{name} is not installed")
    return found


def _shell_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    env.update({"ATTUNE_HOME": str(home), "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"})
    return env


def test_bash_completion_for_real(
    installed_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bash = _tool("bash")
    script = run_cli("--show-completion", "bash").stdout
    (tmp_path / "c.sh").write_text(script)

    def complete(*words: str) -> list[str]:
        quoted = " ".join(shlex.quote(w) for w in words)
        program = (
            f"source {tmp_path / 'c.sh'}\n"
            f"COMP_WORDS=(attune {quoted})\n"
            f"COMP_CWORD={len(words)}\n"
            "_attune_complete\n"
            'printf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        out = subprocess.run(
            [bash, "--norc", "-c", program],
            capture_output=True,
            text=True,
            env=_shell_env(installed_home),
            check=True,
        )
        return [line for line in out.stdout.splitlines() if line]

    assert complete("pack", "ins") == ["install"]
    assert complete("pack", "uninstall", "") == ["core_utils", "slack"]
    assert "--ref-spec" in complete("pack", "install", "--r")
    (tmp_path / "mypack").mkdir()
    monkeypatch.chdir(tmp_path)
    assert "mypack" in complete("pack", "validate", "my")


def test_zsh_completion_for_real(installed_home: Path, tmp_path: Path) -> None:
    zsh = _tool("zsh")
    (tmp_path / "_attune").write_text(run_cli("--show-completion", "zsh").stdout)
    # compadd is zsh's own completion builtin, only usable inside the line editor:
    # stand in for it with a function that prints what it was given.
    program = (
        "autoload -Uz compinit && compinit -u -d $TMPDIR/zcompdump\n"
        f"source {tmp_path / '_attune'}\n"
        'compadd() { shift; print -l -- "$@" }\n'
        "words=(attune pack uninstall ''); CURRENT=4; _attune\n"
        "words=(attune pack ins); CURRENT=3; _attune\n"
    )
    env = _shell_env(installed_home)
    env["TMPDIR"] = str(tmp_path)
    out = subprocess.run(
        [zsh, "-f", "-c", program], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.splitlines() == ["core_utils", "slack", "install"], out.stderr


def test_fish_completion_for_real(installed_home: Path, tmp_path: Path) -> None:
    fish = _tool("fish")
    (tmp_path / "attune.fish").write_text(run_cli("--show-completion", "fish").stdout)
    env = _shell_env(installed_home)
    env["HOME"] = str(tmp_path)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    program = (
        f"source {tmp_path / 'attune.fish'}; "
        "complete -C 'attune pack rollback '; complete -C 'attune pack ins'"
    )
    out = subprocess.run(
        [fish, "--no-config", "-c", program], capture_output=True, text=True, env=env, check=True
    )
    words = [line.split("\t")[0] for line in out.stdout.splitlines()]
    assert words == ["core_utils", "slack", "install"], out.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_install_completion(tmp_path: Path, shell: str) -> None:
    env = {"HOME": str(tmp_path), "SHELL": f"/bin/{shell}"}
    r = run_cli("--install-completion", env=env)
    assert r.exit_code == 0, r.stderr
    assert f"{shell} completion installed" in r.stdout
    script = {
        "bash": tmp_path / ".bash_completions" / "attune.sh",
        "zsh": tmp_path / ".zfunc" / "_attune",
        "fish": tmp_path / ".config" / "fish" / "completions" / "attune.fish",
    }[shell]
    assert script.read_text() == run_cli("--show-completion", shell).stdout
    rc = {"bash": tmp_path / ".bashrc", "zsh": tmp_path / ".zshrc"}.get(shell)
    if rc is not None:
        first = rc.read_text()
        assert run_cli("--install-completion", shell, env=env).exit_code == 0
        assert rc.read_text() == first  # the hook is added once


def test_completion_shell_must_be_known(tmp_path: Path) -> None:
    r = run_cli("--show-completion", env={"SHELL": "/bin/tcsh"})
    assert r.exit_code == 2 and "name one" in r.stderr
    r = run_cli("--show-completion", "tcsh")
    assert r.exit_code == 2


def test_help_text_is_the_docstring_cleaned_as_inspect_does() -> None:
    import inspect

    from attune_packs.cli.grammar import _cleandoc

    for words in COMMANDS:
        doc = load(words).func.__doc__
        assert _cleandoc(doc) == inspect.cleandoc(doc), words
