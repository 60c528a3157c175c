"""Console entry point ``attune``.

``attune --version`` is answered before typer (and everything else) is
imported, so CI jobs that probe the tool pay only for the interpreter; the hot
commands in ``cli/fast.py`` (``pack checksum``, ``pack search``) are answered
without typer too.  Everything else, and anything the fast dispatcher does not
fully understand (help, usage errors, ...), goes to typer.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"] or args == ["-V"]:
        from attune_packs import __version__

        sys.stdout.write(f"attune-packs {__version__}\n")
        raise SystemExit(0)
    if args[:1] == ["pack"]:
        from attune_packs.cli.fast import dispatch

        code = dispatch(args)
        if code is not None:
            raise SystemExit(code)
    from attune_packs.cli.root import run

    run(args)


if __name__ == "__main__":  # pragma: no cover
    main()
