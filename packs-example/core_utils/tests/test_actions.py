"""Offline tests of the core_utils actions and sensor (python3 -m unittest)."""

from __future__ import annotations

import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "actions"), os.path.join(HERE, "..", "sensors")]

from file_watch_sensor import FileWatchSensor  # noqa: E402
from parse_json import parse_json  # noqa: E402
from render_template import render_template  # noqa: E402


class ParseJsonTest(unittest.TestCase):
    def test_whole_document(self) -> None:
        self.assertEqual(parse_json('{"a": [1, 2]}'), {"a": [1, 2]})

    def test_dotted_path(self) -> None:
        self.assertEqual(parse_json('{"items": [{"name": "x"}]}', "items.0.name"), "x")

    def test_missing_key(self) -> None:
        with self.assertRaises(KeyError):
            parse_json('{"a": 1}', "b")


class RenderTemplateTest(unittest.TestCase):
    def test_fill(self) -> None:
        self.assertEqual(render_template("hi {who}", {"who": "ops"}), "hi ops")

    def test_missing_value(self) -> None:
        with self.assertRaises(KeyError):
            render_template("hi {who}", {})


class SensorTest(unittest.TestCase):
    def test_detects_change(self) -> None:
        events: list[tuple[str, dict]] = []
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "watched.txt")
            with open(path, "w") as fh:
                fh.write("one")
            sensor = FileWatchSensor([path], lambda t, p: events.append((t, p)))
            self.assertEqual(sensor.poll(), 0)
            with open(path, "a") as fh:
                fh.write(" two")
            self.assertEqual(sensor.poll(), 1)
        self.assertEqual(events[0][0], "core_utils.file_changed")
        self.assertEqual(events[0][1]["change"], "modified")


if __name__ == "__main__":
    unittest.main()
