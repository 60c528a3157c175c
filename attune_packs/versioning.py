"""Pack versions (semver 2.0.0) and npm node-semver constraints (DESIGN.md section 10).

OWNER: dependencies helper (issue 5). Public API (keep these names):
  satisfies(version: str, constraint: str) -> bool     # ValueError on a bad constraint
  parse_constraint(constraint: str) -> Constraint       # ValueError on a bad constraint
  Constraint.allows(version: str) -> bool
  is_valid_version(version: str) -> bool
  compare_versions(a: str, b: str) -> int               # semver precedence
  max_satisfying(versions: Iterable[str], constraint: str) -> str | None
"""

from __future__ import annotations
