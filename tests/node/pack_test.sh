#!/bin/sh
# Packaging check: builds npm/dist, packs it, installs the tarball into a fresh
# Node project (node-rdkafka builds from source there: 2-3 minutes) and runs a
# consumer from the installed package against the broker at RACECAR_BROKERS.
#
#   deno task test:pack            (or: sh tests/node/pack_test.sh)
#   KEEP=1 sh tests/node/pack_test.sh   keeps the temp project for inspection
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BROKERS=${RACECAR_BROKERS:-127.0.0.1:9092}
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
if grep -q "kafka/ffi/deno/" "$WORK/contents.txt"; then
  echo "FAIL: the package contains the Deno layer of the FFI adapter" >&2
  exit 1
fi
if grep -q "package/tests/" "$WORK/contents.txt"; then
  echo "FAIL: the package contains tests" >&2
  exit 1
fi
echo "$(wc -l < "$WORK/contents.txt") files in $TARBALL"

echo "== install into a fresh project"
mkdir "$WORK/app"
cd "$WORK/app"
printf '{ "name": "racecar-pack-check", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund --loglevel=error "$WORK/$TARBALL"

TOPIC="pack-check-$$-$(date +%s)"

echo "== import { ... } from \"racecar\""
cat > library.mjs <<'JS'
import * as racecar from "racecar";
const names = Object.keys(racecar);
for (const name of ["Consumer", "Message"]) {
  if (!names.includes(name)) throw new Error(`"racecar" does not export ${name}: ${names}`);
}
console.log(`racecar exports: ${names.join(", ")}`);
JS
node library.mjs

echo "== produce and consume through the installed adapter"
cat > roundtrip.mjs <<'JS'
// The adapter is not part of the public exports; reach it by path.
import { loadDefaultTransport } from "./node_modules/racecar/src/kafka/default_transport.js";
const [brokers, topic, expected = "koffi"] = process.argv.slice(2);
const transport = await loadDefaultTransport();
if (transport.name !== expected) throw new Error(`transport is ${transport.name}, not ${expected}`);
const producer = transport.createProducer({ config: { "bootstrap.servers": brokers } });
const report = await producer.produce({ topic, value: new TextEncoder().encode("hello from npm") });
await producer.close(5000);
const consumer = transport.createConsumer({
  config: { "bootstrap.servers": brokers, "group.id": topic, "auto.offset.reset": "earliest" },
});
consumer.subscribe([topic]);
const deadline = Date.now() + 30_000;
let got;
while (!got && Date.now() < deadline) [got] = await consumer.consume(10, 250);
await consumer.close();
if (!got) throw new Error("no message consumed");
console.log(`librdkafka ${transport.librdkafkaVersion}: produced at offset ${report.offset}, ` +
  `consumed "${new TextDecoder().decode(got.value)}"`);
JS
node roundtrip.mjs "$BROKERS" "$TOPIC"
echo "== the same through the node-rdkafka adapter (RACECAR_TRANSPORT=node-rdkafka)"
RACECAR_TRANSPORT=node-rdkafka node roundtrip.mjs "$BROKERS" "$TOPIC-node-rdkafka" node-rdkafka

echo "== npx racecar"
if [ -x node_modules/.bin/racecar ]; then
  cat > consumer.mjs <<'JS'
import { Consumer } from "racecar";
export class PackCheckConsumer extends Consumer {
  static {
    this.subscribesTo(process.env.PACK_TOPIC, { startFromBeginning: true });
  }
  process(message) {
    console.log(`PACK_CHECK_CONSUMED ${message.value}`);
    process.kill(process.pid, "SIGTERM");
  }
}
JS
  set +e
  PACK_TOPIC="$TOPIC" timeout 60 npx racecar PackCheckConsumer --brokers "$BROKERS" --group-id "$TOPIC" --require ./consumer.mjs > racecar.log 2>&1
  status=$?
  set -e
  cat racecar.log
  if ! grep -q PACK_CHECK_CONSUMED racecar.log; then
    echo "FAIL: npx racecar did not consume (exit $status)" >&2
    exit 1
  fi

  echo "== the exporters' libraries are optional: not installed, named when enabled"
  for optional in hot-shots prom-client unix-dgram; do
    if [ -d "node_modules/$optional" ]; then
      echo "FAIL: installing racecar installed the optional $optional" >&2
      exit 1
    fi
  done
  set +e
  RACECAR_DATADOG_ENABLED=true PACK_TOPIC="$TOPIC" timeout 60 npx racecar PackCheckConsumer --brokers "$BROKERS" --require ./consumer.mjs > datadog.log 2>&1
  status=$?
  set -e
  cat datadog.log
  if [ "$status" -ne 2 ] || ! grep -q "npm install hot-shots" datadog.log; then
    echo "FAIL: datadog_enabled without hot-shots gave exit $status, not 2 naming hot-shots" >&2
    exit 1
  fi
  npm install --no-audit --no-fund --loglevel=error prom-client
  PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
  set +e
  RACECAR_PROMETHEUS_ENABLED=true RACECAR_PROMETHEUS_HOST=127.0.0.1 RACECAR_PROMETHEUS_PORT=$PORT PACK_TOPIC="$TOPIC" timeout 60 npx racecar PackCheckConsumer --brokers "$BROKERS" --group-id "$TOPIC-prometheus" --require ./consumer.mjs > prometheus.log 2>&1
  status=$?
  set -e
  cat prometheus.log
  if ! grep -q PACK_CHECK_CONSUMED prometheus.log; then
    echo "FAIL: with prom-client installed, prometheus_enabled did not run (exit $status)" >&2
    exit 1
  fi
else
  echo "SKIP: the package has no racecar bin yet (cli.ts missing when it was built)"
fi
echo "== pack check passed"
