"""attune-packs: a pack manager for Attune/StackStorm-style automation packs."""

from __future__ import annotations

__version__ = "0.1.0"
