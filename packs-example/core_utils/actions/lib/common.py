"""Helpers shared by the core_utils actions."""

from __future__ import annotations

import json
import sys
from typing import Any


def emit(result: Any) -> None:
    """Print an action result as one JSON document on stdout."""
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


def dig(document: Any, path: str) -> Any:
    """Follow a dotted path (``a.b.0.c``) through mappings and lists."""
    current = document
    for part in filter(None, path.split(".")):
        if isinstance(current, list):
            current = current[int(part)]
        elif isinstance(current, dict):
            current = current[part]
        else:
            raise KeyError(part)
    return current
