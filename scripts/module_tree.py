#!/usr/bin/env python3
"""Print the package tree for the README's Development section: one line per module,
each with the first sentence of its docstring.  ``--check README.md`` exits 1 when the
README's copy (between the ``module-tree`` markers) differs from the code."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "attune_packs"
BEGIN, END = "<!-- module-tree:begin -->", "<!-- module-tree:end -->"


def _summary(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.split("\n\n", 1)[0].split())
    cuts = [i for i in (first.find(". "), first.find(": ")) if i > 0]
    if cuts:
        first = first[: min(cuts)]
    return first.rstrip(".") or "(no docstring)"


def tree() -> str:
    lines = ["```text", "attune_packs/"]
    top = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    for path in top:
        lines.append(f"  {path.name:<22} {_summary(path)}")
    for folder in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        lines.append(f"  {folder.name + '/':<22} {_summary(folder / '__init__.py')}")
        for path in sorted(folder.glob("*.py")):
            if path.name != "__init__.py":
                lines.append(f"    {path.name:<20} {_summary(path)}")
    lines.append("```")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = tree()
    if argv[:1] == ["--check"]:
        readme = Path(argv[1]).read_text(encoding="utf-8")
        current = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip() if BEGIN in readme else ""
        if current != text:
            print("the README's module tree is out of date: python scripts/module_tree.py")
            return 1
        return 0
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
