#!/bin/sh
# Offline checks of the shell_tools actions; prints one line per check, exits 1 on a failure.
set -u
cd "$(dirname "$0")/../actions"
failures=0
check() {
    if "$@" >/dev/null 2>&1; then echo "ok   $*"; else echo "FAIL $*"; failures=$((failures + 1)); fi
}
check sh disk_usage.sh / 101
check sh -c '! sh disk_usage.sh / 0'
check sh -c 'sh service_status.sh no-such-process-xyz | grep -q "\"running\": false"'
tmp=$(mktemp -d)
check sh rotate_logs.sh "$tmp" 7 5
check sh -c "! sh rotate_logs.sh '$tmp/missing' 7 5"
rm -rf "$tmp"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
