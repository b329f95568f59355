#!/bin/sh
# Packaging check: builds npm/dist, packs it, checks the tarball's contents, then
# follows docs/node.md literally in an empty directory with the tarball
# (tests/journey/node_journey.ts: node-rdkafka builds from source there, 2-3
# minutes) against the broker at RACECAR_BROKERS.
#
#   deno task test:pack            (or: sh tests/node/pack_test.sh)
#   KEEP=1 sh tests/node/pack_test.sh   keeps the temp project for inspection
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BROKERS=${RACECAR_BROKERS:-127.0.0.1:9092}
export RACECAR_BROKERS="$BROKERS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/racecar-pack-XXXXXX")
cleanup() { if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi; }
trap cleanup EXIT
# node-gyp: use the local Node headers instead of downloading them.
export npm_config_nodedir=${npm_config_nodedir:-/usr}

echo "== build"
(cd "$ROOT" && "${DENO:-deno}" run -A scripts/build_npm.ts)

echo "== pack"
TARBALL=$(cd "$ROOT/npm/dist" && npm pack --silent --pack-destination "$WORK" | tail -n 1)
tar -tzf "$WORK/$TARBALL" > "$WORK/contents.txt"
if ! grep -q "package/src/kafka/ffi/mod.js" "$WORK/contents.txt"; then
  echo "FAIL: the package lacks the Deno FFI adapter (deno run npm:racecar needs it)" >&2
  exit 1
fi
if grep -q "package/tests/" "$WORK/contents.txt"; then
  echo "FAIL: the package contains tests" >&2
  exit 1
fi
echo "$(wc -l < "$WORK/contents.txt") files in $TARBALL"

echo "== docs/node.md, followed literally from the tarball"
cd "$ROOT"
"${DENO:-deno}" run -A tests/journey/node_journey.ts "$WORK/$TARBALL"
echo "== pack check passed"
