#!/bin/sh
# shell_tools.service_status NAME -> {"name": ..., "running": true|false}
set -eu
name=$1
if command -v ps >/dev/null 2>&1; then
    names=$(ps -e -o comm=)
else
    names=$(cat /proc/[0-9]*/comm 2>/dev/null || true)
fi
if printf '%s\n' "$names" | grep -qx -- "$name"; then running=true; else running=false; fi
printf '{"name": "%s", "running": %s}\n' "$name" "$running"
