#!/bin/sh
# Runs the node_notify unit tests with Node's built-in test runner (no npm install needed).
set -eu
cd "$(dirname "$0")/.."
exec node --test tests/
