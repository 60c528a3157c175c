"""core_utils.render_template: str.format_map with a clear error for missing keys."""

from __future__ import annotations

import argparse
import json

from lib.common import emit


class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"template value {key!r} is missing")


def render_template(template: str, values: dict[str, object]) -> str:
    return template.format_map(_Strict(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template", required=True)
    parser.add_argument("--values", default="{}")
    args = parser.parse_args()
    emit({"text": render_template(args.template, json.loads(args.values))})


if __name__ == "__main__":
    main()
