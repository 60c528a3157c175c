"""``python -m attune_packs``: the ``attune`` command."""

from __future__ import annotations

from attune_packs.cli.app import main

if __name__ == "__main__":  # pragma: no cover
    main()
