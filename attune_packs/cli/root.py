"""The typer application: ``attune`` and its ``pack`` group."""

from __future__ import annotations

from typing import Annotated

import typer

from attune_packs import __version__
from attune_packs.cli.common import STATE, OutputFormat, fail
from attune_packs.errors import AttuneError, UsageError

app = typer.Typer(
    name="attune",
    help="attune-packs: install, verify and publish Attune automation packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
pack_app = typer.Typer(
    name="pack",
    help="Manage packs: install, inspect, verify, and author registry indices.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(pack_app, name="pack")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"attune-packs {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="More detail; tracebacks on errors.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors.")] = False,
    home: Annotated[
        str | None,
        typer.Option(
            "--home", envvar="ATTUNE_HOME", help="Home folder (config, database, packs, cache)."
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", envvar="ATTUNE_CONFIG", help="Config file (default: HOME/config.yaml)."
        ),
    ] = None,
) -> None:
    """attune-packs: install, verify and publish Attune automation packs.

    Home: --home, else $ATTUNE_HOME, else the platform data folder
    (e.g. ~/.local/share/attune). $ATTUNE_DATABASE_URL overrides the database.
    """
    STATE.verbose = verbose
    STATE.quiet = quiet
    STATE.home = home
    STATE.config = config


#: Command modules, in the order their commands appear in ``attune pack --help``.
COMMAND_MODULES = (
    "checksum_cmd",
    "validate_cmd",
    "install_cmd",
    "query_cmd",
    "deps_cmd",
    "registry_cmd",
    "authoring_cmd",
)


def _load_commands() -> None:
    """Import the command modules; each registers its commands on ``pack_app``."""
    from importlib import import_module

    for name in COMMAND_MODULES:
        import_module(f"attune_packs.cli.{name}")


def _requested_output(args: list[str]) -> OutputFormat:
    """The ``-o/--output`` asked for, read leniently (for errors found before parsing ends)."""
    for i, arg in enumerate(args):
        value = None
        if arg in ("-o", "--output") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--output="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-o") and not arg.startswith("--") and len(arg) > 2:
            value = arg[2:]
        if value and value.lower() in OutputFormat.__members__:
            return OutputFormat(value.lower())
    return OutputFormat.table


def run(args: list[str]) -> None:
    """Run typer with click's usage errors turned into our one-line error path."""
    from typer.main import get_command

    _load_commands()
    try:
        code = get_command(app).main(args=args, prog_name="attune", standalone_mode=False)
    except typer.Abort:  # Ctrl-C or EOF at a prompt
        STATE.output = _requested_output(args)
        raise SystemExit(
            fail(AttuneError("interrupted", code="interrupted", exit_code=130))
        ) from None
    except typer.TyperException as exc:  # click's usage and file errors
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # `attune pack` alone: the help text
            raise SystemExit(exc.exit_code) from None
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "attune"
        STATE.output = _requested_output(args)
        message = f"{exc.format_message()} (see '{where} --help')"
        raise SystemExit(fail(UsageError(message))) from None
    raise SystemExit(code if isinstance(code, int) else 0)
