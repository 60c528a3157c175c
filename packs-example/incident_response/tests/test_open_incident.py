"""Offline tests of incident_response.open_incident (python3 -m unittest)."""

from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "actions"))

from open_incident import open_incident  # noqa: E402


class OpenIncidentTest(unittest.TestCase):
    def test_stable_id(self) -> None:
        a = open_incident("disk full", "sev2", "web-1")
        b = open_incident("disk full", "sev2", "web-1")
        self.assertEqual(a["id"], b["id"])
        self.assertTrue(a["id"].startswith("INC-"))

    def test_sev1_pages(self) -> None:
        self.assertTrue(open_incident("down", "sev1")["page"])
        self.assertFalse(open_incident("slow", "sev3")["page"])

    def test_bad_severity(self) -> None:
        with self.assertRaises(ValueError):
            open_incident("x", "sev9")


if __name__ == "__main__":
    unittest.main()
