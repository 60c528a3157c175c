"""incident_response.open_incident: build an incident record (id derived from its content)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

SEVERITIES = ("sev1", "sev2", "sev3")


def open_incident(summary: str, severity: str = "sev3", host: str | None = None) -> dict:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    if not summary.strip():
        raise ValueError("summary must not be empty")
    digest = hashlib.sha256(f"{severity}|{host}|{summary}".encode()).hexdigest()[:12]
    return {
        "id": f"INC-{digest}",
        "summary": summary.strip(),
        "severity": severity,
        "host": host,
        "page": severity == "sev1",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", required=True)
    parser.add_argument("--severity", default="sev3")
    parser.add_argument("--host")
    args = parser.parse_args()
    json.dump(open_incident(args.summary, args.severity, args.host), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
