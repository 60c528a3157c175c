"""``attune pack validate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from attune_packs.cli.facade import manager
from attune_packs.cli.grammar import FILES, Arg, command
from attune_packs.cli.render import Rendered, kv_table, table

if TYPE_CHECKING:
    from attune_packs.pack.model import ValidationReport


def _text_validate(report: ValidationReport) -> str:
    counts = [(kind, len(items)) for kind, items in report.contents.items()]
    summary = kv_table(
        [
            ("path", report.path),
            ("ref", report.ref or "-"),
            ("version", report.version or "-"),
            ("valid", "yes" if report.valid else "no"),
            ("errors", len(report.errors)),
            ("warnings", len(report.warnings)),
            ("contents", ", ".join(f"{n} {kind}" for kind, n in counts)),
        ]
    )
    issues = [("error", i.field, i.code, i.message) for i in report.errors] + [
        ("warning", i.field, i.code, i.message) for i in report.warnings
    ]
    if issues:
        summary += "\n\n" + table(issues, ["severity", "field", "code", "message"])
    return summary


@command(
    "validate",
    Arg("path", type=Path, help="A pack folder (or the path of its pack.yaml).", complete=FILES),
)
def validate(path: Path) -> Rendered:
    """Check a pack: manifest fields, legacy aliases, dependency syntax and components.

    Exit 0 when the pack is valid, 1 when it is not (every problem is listed,
    each with a code, the field and a message). Unknown pack.yaml fields are
    warnings, not errors.

    Example:
      attune pack validate ./my-pack -o json
    """
    report = manager().validate(path)
    messages: list[str] = []
    if not report.valid:
        n = len(report.errors)
        messages.append(
            f"error: {report.path} is not a valid pack: {n} error{'s' if n != 1 else ''}"
            f" (first: {report.errors[0].message})"
        )
    return Rendered(
        report.to_dict(), lambda: _text_validate(report), 0 if report.valid else 1, messages
    )
