#!/usr/bin/env bash
# `make demo`: a short tour of attune-packs against a throwaway home, with no network.
#
#   validate and checksum an example pack, show the dependency tree and install plan
#   of a pack, install it by name from the example registry index
#   (packs-example/index.json, whose archive sources are relative paths) with its
#   dependencies, list, show and audit what was installed, then lock the set and
#   reproduce it in a second home with `install --locked`.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
EXAMPLES="$REPO/packs-example"

ATTUNE_HOME=$(mktemp -d "${TMPDIR:-/tmp}/attune-demo.XXXXXX")
export ATTUNE_HOME
unset ATTUNE_CONFIG ATTUNE_DATABASE_URL
trap 'rm -rf "$ATTUNE_HOME"' EXIT

step=0
heading() {
    step=$((step + 1))
    if [ -n "${NO_COLOR:-}" ] || [ ! -t 1 ]; then
        printf '\n== %d. %s\n' "$step" "$1"
    else
        printf '\n\033[1m== %d. %s\033[0m\n' "$step" "$1"
    fi
}
run() {
    printf '$ %s\n' "$*"
    "$@"
}

heading "The tool"
run attune --version
echo "throwaway home: $ATTUNE_HOME"

heading "Validate an example pack (manifest, dependencies, components)"
run attune pack validate packs-example/core_utils

heading "Checksum it (the Attune directory checksum, .git pruned)"
run attune pack checksum packs-example/core_utils
sum=$(attune pack checksum packs-example/core_utils -o json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["checksum"])')

heading "Use the checksum as a CI gate: --expect passes on a match, exits 1 otherwise"
run attune pack checksum packs-example/core_utils --expect "$sum"
wrong="sha256:$(printf '0%.0s' $(seq 64))"
printf '$ %s\n' "attune pack checksum packs-example/core_utils --expect $wrong"
if attune pack checksum packs-example/core_utils --expect "$wrong"; then
    echo "expected a mismatch" >&2
    exit 1
else
    echo "(exit $? as expected)"
fi

heading "Configure the example registry (a local index.json, no network)"
cat >"$ATTUNE_HOME/config.yaml" <<EOF
registries:
  - name: examples
    url: $EXAMPLES/index.json
    priority: 1
EOF
cat "$ATTUNE_HOME/config.yaml"
run attune pack registries

heading "The dependency tree of a pack that needs core_utils@^1.0 and shell_tools@~2.0"
run attune pack deps incident_response

heading "Preview the install: the plan, nothing changed"
run attune pack install incident_response --dry-run --progress none

heading "Install it by name: its dependencies are resolved and installed first"
run attune pack install incident_response --progress plain

heading "Installing from a local folder with the same content is a no-op"
run attune pack install packs-example/shell_tools --progress none

if command -v node >/dev/null 2>&1; then
    heading "Install a Node.js pack with a version constraint"
    run attune pack install 'node_notify@^0.3' --progress plain
fi

heading "List installed packs"
run attune pack list

heading "Show one pack: provenance, checksum and dependencies"
run attune pack show incident_response

heading "Verify the installed folders against the recorded checksums"
run attune pack verify

heading "The audit trail (dependencies are recorded as such)"
run attune pack history

heading "Dependents protect what they need"
printf '$ %s\n' "attune pack uninstall core_utils --yes"
if attune pack uninstall core_utils --yes; then
    echo "expected a refusal" >&2
    exit 1
else
    echo "(exit $? as expected)"
fi

heading "Lock the set: exact versions, sources and checksums"
LOCK="$ATTUNE_HOME/attune-packs.lock"
run attune pack lock incident_response --file "$LOCK"
run cat "$LOCK"

heading "Reproduce it in a second, empty home (no registry configured there)"
SECOND=$(mktemp -d "${TMPDIR:-/tmp}/attune-demo2.XXXXXX")
trap 'rm -rf "$ATTUNE_HOME" "$SECOND"' EXIT
run env ATTUNE_HOME="$SECOND" attune pack install --locked "$LOCK" --progress none
run env ATTUNE_HOME="$SECOND" attune pack verify

printf '\nDemo finished; the throwaway home is removed on exit.\n'
