#!/bin/sh
# shell_tools.rotate_logs DIR DAYS KEEP: gzip *.log older than DAYS, keep KEEP archives each.
set -eu
dir=$1
days=${2:-7}
keep=${3:-5}
[ -d "$dir" ] || { echo "not a directory: $dir" >&2; exit 2; }
rotated=0
for log in $(find "$dir" -maxdepth 1 -type f -name '*.log' -mtime +"$days"); do
    stamp=$(date +%Y%m%d%H%M%S)
    gzip -c "$log" > "$log.$stamp.gz"
    : > "$log"
    rotated=$((rotated + 1))
    ls -1t "$log".*.gz 2>/dev/null | tail -n +"$((keep + 1))" | while read -r old; do rm -f "$old"; done
done
printf '{"directory": "%s", "rotated": %s}\n' "$dir" "$rotated"
