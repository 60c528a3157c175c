#!/bin/sh
# shell_tools.disk_usage PATH THRESHOLD -> {"path": ..., "used_percent": N, "over": true|false}
set -eu
path=${1:-/}
threshold=${2:-90}
used=$(df -P "$path" | awk 'NR==2 { sub("%", "", $5); print $5 }')
over=false
if [ "$used" -ge "$threshold" ]; then over=true; fi
printf '{"path": "%s", "used_percent": %s, "over": %s}\n' "$path" "$used" "$over"
[ "$over" = false ]
