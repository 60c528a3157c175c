"""The typer application: ``attune`` and its ``pack`` group."""

from __future__ import annotations

from typing import Annotated

import typer

from attune_packs import __version__
from attune_packs.cli.common import STATE

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


def _load_commands() -> None:
    # Each module registers its commands on pack_app when imported.
    from attune_packs.cli import (  # noqa: F401
        authoring_cmd,
        checksum_cmd,
        deps_cmd,
        install_cmd,
        query_cmd,
        registry_cmd,
        validate_cmd,
    )


def run(args: list[str]) -> None:
    _load_commands()
    app(args=args, prog_name="attune")
