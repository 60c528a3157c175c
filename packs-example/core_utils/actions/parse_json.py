"""core_utils.parse_json: parse JSON text and pick a value by dotted path."""

from __future__ import annotations

import argparse
import json
from typing import Any

from lib.common import dig, emit


def parse_json(document: str, path: str = "") -> Any:
    return dig(json.loads(document), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--document", required=True)
    parser.add_argument("--path", default="")
    args = parser.parse_args()
    emit({"value": parse_json(args.document, args.path)})


if __name__ == "__main__":
    main()
