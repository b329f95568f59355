// Tests of scripts/kafka.ts: the CLI lifecycle against a real JVM broker on a free high port,
// plus the cheap paths (usage errors, RACECAR_BROKERS, the ApiVersions probe) without a JVM.
// The broker tests need java 17+ and, on a machine without the cached jars, mvn.

import assert from "node:assert/strict";
import { brokerReady, ensureBroker, type LocalKafkaOptions } from "../../scripts/kafka/mod.ts";
import { randomClusterId } from "../../scripts/kafka/_config.ts";
import { portAccepts } from "../../scripts/kafka/_probe.ts";

const SCRIPT = new URL("../../scripts/kafka.ts", import.meta.url).pathname;
const HOST = "127.0.0.1";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child process, without the caller's RACECAR_BROKERS / RACECAR_KAFKA_PORT. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Deno.env.toObject();
  delete base.RACECAR_BROKERS;
  delete base.RACECAR_KAFKA_PORT;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    env: { ...base, NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** A port P below the Linux ephemeral range such that P and P + 1 are both free right now. */
function freePortPair(): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const held: Deno.Listener[] = [];
    try {
      held.push(Deno.listen({ hostname: HOST, port }));
      held.push(Deno.listen({ hostname: HOST, port: port + 1 }));
      return port;
    } catch {
      // taken: try another
    } finally {
      for (const listener of held) listener.close();
    }
  }
  throw new Error("Cannot find two free adjacent ports in 20000-30000");
}

function assertIncludes(text: string, part: string): void {
  assert.ok(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text}`);
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((done) => setTimeout(done, 100));
  }
  return condition();
}

function cacheHome(): string {
  const explicit = Deno.env.get("RACECAR_KAFKA_HOME");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  return xdg ? `${xdg}/racecar` : `${Deno.env.get("HOME")}/.cache/racecar`;
}

/** Serves one canned ApiVersions v0 reply (or junk) per connection, like a broker would. */
function fakeServer(reply: "kafka" | "junk"): { port: number; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const served = (async () => {
    for await (const conn of listener) {
      try {
        const header = new Uint8Array(14);
        let filled = 0;
        while (filled < header.length) {
          const n = await conn.read(header.subarray(filled));
          if (n === null) break;
          filled += n;
        }
        const view = new DataView(header.buffer);
        const correlationId = view.getInt32(8);
        let body: Uint8Array;
        if (reply === "kafka") {
          // correlation id, error 0, one API: ApiVersions (18) versions 0-4
          body = new Uint8Array(4 + 2 + 4 + 6);
          const out = new DataView(body.buffer);
          out.setInt32(0, correlationId);
          out.setInt16(4, 0);
          out.setInt32(6, 1);
          out.setInt16(10, 18);
          out.setInt16(12, 0);
          out.setInt16(14, 4);
        } else {
          body = new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n");
        }
        const frame = new Uint8Array(4 + body.length);
        new DataView(frame.buffer).setInt32(0, reply === "kafka" ? body.length : 0x48545450);
        frame.set(body, 4);
        await conn.write(frame);
      } catch {
        // the client went away
      } finally {
        conn.close();
      }
    }
  })();
  const { port } = listener.addr as Deno.NetAddr;
  return {
    port,
    close: async () => {
      listener.close();
      await served.catch(() => {});
    },
  };
}

Deno.test("kafka.ts exits 2 with the usage on an unknown command or option", async () => {
  const unknown = await cli(["launch"]);
  assert.equal(unknown.code, 2);
  assertIncludes(unknown.stderr, 'Unknown command "launch"');
  assertIncludes(unknown.stderr, "Usage:");
  const badPort = await cli(["status", "--port", "nine"]);
  assert.equal(badPort.code, 2);
  assertIncludes(badPort.stderr, "--port");
  const outOfRange = await cli(["status", "--port", "70000"]);
  assert.equal(outOfRange.code, 2);
});

Deno.test("kafka.ts up and down only report the external cluster when RACECAR_BROKERS is set", async () => {
  const port = freePortPair();
  const env = { RACECAR_BROKERS: "kafka.example:9092" };
  const up = await cli(["up", "--port", String(port)], env);
  assert.equal(up.code, 0);
  assertIncludes(up.stdout, "RACECAR_BROKERS is set (kafka.example:9092)");
  const down = await cli(["down", "--port", String(port)], env);
  assert.equal(down.code, 0);
  assertIncludes(down.stdout, "nothing to stop");
  assert.equal(await portAccepts(HOST, port), false);
});

Deno.test("kafka.ts up refuses a port held by something that is not Kafka", async () => {
  const server = fakeServer("junk");
  try {
    // Leave the controller port alone: the client port check must be enough to refuse.
    const run = await cli(["up", "--port", String(server.port), "--controller-port", "1"]);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assertIncludes(run.stderr, `client port ${server.port} is taken`);
  } finally {
    await server.close();
    await Deno.remove(`${cacheHome()}/run-${server.port}`, { recursive: true }).catch(() => {});
  }
});

Deno.test("brokerReady() is true only when the peer answers ApiVersions", async () => {
  const kafka = fakeServer("kafka");
  const junk = fakeServer("junk");
  try {
    assert.equal(await brokerReady(HOST, kafka.port), true);
    assert.equal(await brokerReady(HOST, junk.port), false);
  } finally {
    await kafka.close();
    await junk.close();
  }
  assert.equal(await brokerReady(HOST, kafka.port, { timeoutMs: 500 }), false);
});

Deno.test({
  name: "kafka.ts up, up, status, down, down drive a real broker on a free port",
  // The JVM broker outlives single steps by design; everything it needs is awaited here.
  async fn(t) {
    const port = freePortPair();
    const portArgs = ["--port", String(port)];
    const runDir = `${cacheHome()}/run-${port}`;
    try {
      await t.step("up starts a broker and reports it ready", async () => {
        const up = await cli(["up", ...portArgs]);
        assert.equal(up.code, 0, up.stdout + up.stderr);
        assert.match(up.stdout, new RegExp(`Kafka \\S+ ready on 127\\.0\\.0\\.1:${port} in \\d`));
        assert.equal(await brokerReady(HOST, port), true);
        const pid = Number((await Deno.readTextFile(`${runDir}/broker.pid`)).trim());
        assert.ok(pid > 0, "broker.pid holds a pid");
        assertIncludes(await Deno.readTextFile(`${runDir}/broker.log`), "Kafka Server started");
      });

      await t.step("a second up reuses the running broker", async () => {
        const again = await cli(["up", ...portArgs]);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assertIncludes(again.stdout, "reusing it");
      });

      await t.step("status reports the broker running", async () => {
        const status = await cli(["status", ...portArgs]);
        assert.equal(status.code, 0, status.stdout + status.stderr);
        assert.match(
          status.stdout,
          new RegExp(`running on 127\\.0\\.0\\.1:${port} \\(pid \\d+, started by this script`),
        );
      });

      await t.step("ensureBroker() reuses it and its stop() leaves it running", async () => {
        const lines: string[] = [];
        const options: LocalKafkaOptions = { port, log: (line) => lines.push(line) };
        // The suite itself may run with RACECAR_BROKERS naming the shared broker.
        const external = Deno.env.get("RACECAR_BROKERS");
        Deno.env.delete("RACECAR_BROKERS");
        try {
          const kafka = await ensureBroker(options);
          assert.equal(kafka.brokers, `127.0.0.1:${port}`);
          assert.equal(kafka.startedHere, false);
          await kafka.stop();
          assert.equal(await brokerReady(HOST, port), true);
        } finally {
          if (external !== undefined) Deno.env.set("RACECAR_BROKERS", external);
        }
      });

      await t.step("down stops it and the port closes", async () => {
        const down = await cli(["down", ...portArgs]);
        assert.equal(down.code, 0, down.stdout + down.stderr);
        assert.match(down.stdout, /Stopped Kafka on .* in \d/);
        assert.ok(await waitUntil(async () => !await portAccepts(HOST, port), 5000), "port closed");
        assert.equal(await Deno.stat(`${runDir}/broker.pid`).then(() => true, () => false), false);
      });

      await t.step("down again is fine and status says nothing runs", async () => {
        const down = await cli(["down", ...portArgs]);
        assert.equal(down.code, 0, down.stdout + down.stderr);
        assertIncludes(down.stdout, "nothing to stop");
        const status = await cli(["status", ...portArgs]);
        assert.equal(status.code, 3);
        assertIncludes(status.stdout, "No Kafka broker answers");
      });
    } finally {
      await cli(["down", ...portArgs]);
      await Deno.remove(runDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("ensureBroker() starts a broker when none answers and its stop() stops it", async () => {
  const port = freePortPair();
  const runDir = `${cacheHome()}/run-${port}`;
  const lines: string[] = [];
  const external = Deno.env.get("RACECAR_BROKERS");
  Deno.env.delete("RACECAR_BROKERS");
  try {
    const kafka = await ensureBroker({ port, log: (line) => lines.push(line) });
    try {
      assert.equal(kafka.startedHere, true, lines.join("\n"));
      assert.equal(kafka.brokers, `127.0.0.1:${port}`);
      assert.equal(await brokerReady(HOST, port), true);
    } finally {
      await kafka.stop();
    }
    assert.equal(await portAccepts(HOST, port), false);
    assert.match(lines.join("\n"), /ready on .*\n.*Stopped Kafka/s);
  } finally {
    if (external !== undefined) Deno.env.set("RACECAR_BROKERS", external);
    await cli(["down", "--port", String(port)]);
    await Deno.remove(runDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("randomClusterId() makes 22-character base64url ids that never start with a dash", () => {
  for (let i = 0; i < 5000; i++) {
    const id = randomClusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});
