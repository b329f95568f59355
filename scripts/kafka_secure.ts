// A second, throw-away local Kafka broker with security listeners, for the SASL and TLS tests:
// PLAINTEXT (setup, inter-broker), SASL_PLAINTEXT with SCRAM-SHA-256/512 (users created at format
// time with --add-scram) and SSL with required client certificates (CA, broker and client
// certificates generated with openssl on every start). It runs on its own ports (29092+) from its
// own directory; only the jars are shared with scripts/kafka.ts's cache. Usage as a module:
// `const broker = await startSecureBroker(); ...; await broker.stop();`, or as a CLI:
// `deno run -A scripts/kafka_secure.ts up|down [--dir D]`.

import { randomClusterId, serverProperties, TOOLS_LOG4J2 } from "./kafka/_config.ts";
import { ensureJars } from "./kafka/_jars.ts";
import { probeApiVersions } from "./kafka/_probe.ts";
import {
  isBrokerProcess,
  requireJava,
  runTool,
  signal,
  spawnDetached,
  waitFor,
} from "./kafka/_process.ts";

/** A SCRAM user created when the broker is formatted. */
export interface ScramUser {
  name: string;
  password: string;
}

/** Options of {@linkcode startSecureBroker}. */
export interface SecureBrokerOptions {
  /**
   * First of four consecutive ports: PLAINTEXT, CONTROLLER, SASL_PLAINTEXT, SSL.
   * @default {29092}
   */
  basePort?: number;
  /**
   * Directory for certificates, data and logs; removed by `stop()` when it was created here.
   * @default {a new temporary directory}
   */
  dir?: string;
  /**
   * SCRAM users (both SHA-256 and SHA-512 credentials).
   * @default {[{ name: "alice", password: "alice-secret" }]}
   */
  users?: ScramUser[];
  /**
   * How long to wait for the broker to answer.
   * @default {90000}
   */
  timeoutMs?: number;
}

/** Files of the generated PKI. */
export interface Certificates {
  /** The CA that signed the broker and client certificates. */
  ca: string;
  /** A client certificate (CN=alice) and its unencrypted key. */
  clientCert: string;
  clientKey: string;
  /** An unrelated CA: trusting only it must fail. */
  rogueCa: string;
}

/** A running secure broker. */
export interface SecureBroker {
  /** `127.0.0.1:<basePort>`. */
  plaintext: string;
  /** `127.0.0.1:<basePort + 2>`, SASL_PLAINTEXT (SCRAM). */
  sasl: string;
  /** `127.0.0.1:<basePort + 3>`, SSL with client certificates. */
  ssl: string;
  /** The users created. */
  users: ScramUser[];
  /** The certificates. */
  certs: Certificates;
  /** The broker's log. */
  logFile: string;
  /** The broker's pid. */
  pid: number;
  /** Seconds from the call to the broker answering. */
  seconds: number;
  /** Stops the broker (SIGTERM, SIGKILL after 20 s) and removes its directory. */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `Cannot generate certificates: ${command} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
}

/** Generates the CA, the broker's PKCS12 keystore, a client certificate and a rogue CA. */
export async function generateCertificates(dir: string): Promise<Certificates> {
  await Deno.mkdir(dir, { recursive: true });
  const days = ["-days", "2"];
  const selfSigned = async (name: string, cn: string) =>
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      ...days,
      "-subj",
      `/CN=${cn}`,
    ], dir);
  const signed = async (name: string, cn: string, extensions?: string) => {
    await run("openssl", [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    ], dir);
    const ext: string[] = [];
    if (extensions !== undefined) {
      await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
      ext.push("-extfile", `${name}.ext`);
    }
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      ...days,
      ...ext,
    ], dir);
  };
  await selfSigned("ca", "racecar-test-ca");
  await selfSigned("rogue-ca", "racecar-rogue-ca");
  // The IP SAN makes host name verification pass for 127.0.0.1.
  await signed("broker", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await signed("alice", "alice");
  await run("openssl", [
    "pkcs12",
    "-export",
    "-in",
    "broker.crt",
    "-inkey",
    "broker.key",
    "-out",
    "broker.p12",
    "-name",
    "broker",
    "-passout",
    "pass:changeit",
  ], dir);
  return {
    ca: `${dir}/ca.crt`,
    clientCert: `${dir}/alice.crt`,
    clientKey: `${dir}/alice.key`,
    rogueCa: `${dir}/rogue-ca.crt`,
  };
}

/** server.properties of the secure broker: the test broker's settings plus two listeners. */
export function secureServerProperties(
  basePort: number,
  dataDir: string,
  sslDir: string,
): string {
  const [plain, controller, sasl, ssl] = [basePort, basePort + 1, basePort + 2, basePort + 3];
  const base = serverProperties({ port: plain, controllerPort: controller, dataDir })
    .split("\n")
    .filter((line) =>
      !/^(listeners|advertised\.listeners|listener\.security\.protocol\.map)=/.test(line)
    );
  const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  return [
    ...base,
    `listeners=PLAINTEXT://${HOST}:${plain},CONTROLLER://${HOST}:${controller},` +
    `SASL_PLAINTEXT://${HOST}:${sasl},SSL://${HOST}:${ssl}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${plain},SASL_PLAINTEXT://${HOST}:${sasl},` +
    `SSL://${HOST}:${ssl}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT," +
    "SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL",
    "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
    `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${scram}`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=${scram}`,
    "listener.name.ssl.ssl.keystore.type=PKCS12",
    `listener.name.ssl.ssl.keystore.location=${sslDir}/broker.p12`,
    "listener.name.ssl.ssl.keystore.password=changeit",
    "listener.name.ssl.ssl.key.password=changeit",
    "listener.name.ssl.ssl.truststore.type=PEM",
    `listener.name.ssl.ssl.truststore.location=${sslDir}/ca.crt`,
    "listener.name.ssl.ssl.client.auth=required",
    "",
  ].join("\n");
}

function defaultJarHome(): string {
  const fromEnv = Deno.env.get("RACECAR_KAFKA_HOME");
  if (fromEnv) return fromEnv;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  return xdg ? `${xdg}/racecar` : `${Deno.env.get("HOME") ?? "/tmp"}/.cache/racecar`;
}

/** Starts the secure broker and waits until its PLAINTEXT listener answers. */
export async function startSecureBroker(options: SecureBrokerOptions = {}): Promise<SecureBroker> {
  const started = performance.now();
  const basePort = options.basePort ?? 29092;
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "racecar-secure-kafka-" });
  const users = options.users ?? [{ name: "alice", password: "alice-secret" }];
  const sslDir = `${dir}/ssl`;
  const dataDir = `${dir}/data`;
  const logFile = `${dir}/broker.log`;
  if (await probeApiVersions(HOST, basePort, { timeoutMs: 500 }) !== undefined) {
    throw new Error(`Cannot start the secure broker: something answers on ${HOST}:${basePort}`);
  }
  await requireJava();
  const jars = await ensureJars(defaultJarHome(), (line) => console.error(line));
  const certs = await generateCertificates(sslDir);
  const props = `${dir}/server.properties`;
  await Deno.writeTextFile(props, secureServerProperties(basePort, dataDir, sslDir));
  const toolsLog4j = `${dir}/tools-log4j2.properties`;
  await Deno.writeTextFile(toolsLog4j, TOOLS_LOG4J2);
  const brokerLog4j = `${dir}/log4j2.properties`;
  await Deno.writeTextFile(
    brokerLog4j,
    TOOLS_LOG4J2.replace("rootLogger.level = WARN", "rootLogger.level = INFO"),
  );
  const scram = users.flatMap((u) => [
    "--add-scram",
    `SCRAM-SHA-256=[name=${u.name},password=${u.password}]`,
    "--add-scram",
    `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`,
  ]);
  const format = await runTool(jars.libs, toolsLog4j, "kafka.tools.StorageTool", [
    "format",
    "--config",
    props,
    "--cluster-id",
    randomClusterId(),
    ...scram,
  ]);
  if (!format.success) {
    throw new Error(`Cannot format the secure broker's data dir: ${format.output}`);
  }
  const pid = await spawnDetached([
    "java",
    "-Xms384m",
    "-Xmx384m",
    "-XX:+UseG1GC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${brokerLog4j}`,
    "-cp",
    `${jars.libs}/*`,
    "kafka.Kafka",
    props,
  ], logFile);
  const stop = async () => {
    if (signal(pid, "SIGTERM")) {
      if (!await waitFor(async () => !await isBrokerProcess(pid), 20_000)) {
        signal(pid, "SIGKILL");
        await waitFor(async () => !await isBrokerProcess(pid), 5000);
      }
    }
    if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const ready = await waitFor(
    async () => {
      if (await probeApiVersions(HOST, basePort, { timeoutMs: 1000 }) !== undefined) return true;
      return !await isBrokerProcess(pid);
    },
    options.timeoutMs ?? 90_000,
    200,
  );
  if (!ready || !await isBrokerProcess(pid)) {
    const log = await Deno.readTextFile(logFile).catch(() => "");
    await stop();
    throw new Error(`Cannot start the secure broker: it did not answer; log:\n${log.slice(-3000)}`);
  }
  return {
    plaintext: `${HOST}:${basePort}`,
    sasl: `${HOST}:${basePort + 2}`,
    ssl: `${HOST}:${basePort + 3}`,
    users,
    certs,
    logFile,
    pid,
    seconds: (performance.now() - started) / 1000,
    stop,
  };
}

if (import.meta.main) {
  const broker = await startSecureBroker();
  console.log(JSON.stringify({ ...broker, stop: undefined }, null, 2));
  console.log("Press Ctrl-C to stop it");
  Deno.addSignalListener("SIGINT", () => void broker.stop().then(() => Deno.exit(0)));
}
