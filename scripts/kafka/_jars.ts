// The broker's jars: fetched once from Maven Central with `mvn dependency:copy-dependencies`
// driven by scripts/kafka/pom.xml, then reused from the cache.
//
// A marker file written after a complete fetch tells a full libs/ from a half-done one. Jars are
// copied into a private staging directory first and then renamed one by one into libs/, so a
// broker already running from libs/ keeps valid files under every path it may still open.

import { KafkaScriptError, missingTool } from "./_errors.ts";
import { findOnPath } from "./_process.ts";

const POM_URL = new URL("./pom.xml", import.meta.url);
const STAGING_PREFIX = "libs.partial-";
// A fetch takes seconds; a staging dir this old was left by a killed run, not a concurrent one.
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/** Where the jars of one Kafka version live. */
export interface JarCache {
  /** Kafka version, read from the pom's `kafka.version`. */
  version: string;
  /** Directory holding the jars; the classpath is `${libs}/*`. */
  libs: string;
  /** Seconds spent fetching, or undefined when the cache was complete already. */
  fetchSeconds: number | undefined;
  /** Number of jars in libs/. */
  jarCount: number;
}

interface Marker {
  pomSha256: string;
  jars: string[];
  fetchedAt: string;
}

/** The pom text and the Kafka version it pins. */
export async function readPom(): Promise<{ text: string; version: string }> {
  const text = await (await fetch(POM_URL)).text();
  const version = text.match(/<kafka\.version>([^<]+)<\/kafka\.version>/)?.[1]?.trim();
  if (!version) {
    throw new KafkaScriptError(`Cannot read the Kafka version: no <kafka.version> in ${POM_URL}`);
  }
  return { text, version };
}

/** Directory of the jars for `version` under the cache `home`. */
export function libsDir(home: string, version: string): string {
  return `${home}/kafka-${version}/libs`;
}

/** Makes sure every jar is in the cache, fetching with Maven when the marker is missing or stale. */
export async function ensureJars(
  home: string,
  log: (line: string) => void,
): Promise<JarCache> {
  const pom = await readPom();
  const versionDir = `${home}/kafka-${pom.version}`;
  const libs = libsDir(home, pom.version);
  const markerPath = `${versionDir}/libs.complete.json`;
  const pomSha256 = await sha256(pom.text);

  const marker = await readMarker(markerPath);
  if (marker && marker.pomSha256 === pomSha256 && await allPresent(libs, marker.jars)) {
    return { version: pom.version, libs, fetchSeconds: undefined, jarCount: marker.jars.length };
  }

  if (!findOnPath("mvn")) throw missingTool("mvn", `fetch the Kafka ${pom.version} jars`);
  log(`Fetching Kafka ${pom.version} jars from Maven Central into ${libs} (once) ...`);
  const started = performance.now();
  await Deno.mkdir(versionDir, { recursive: true });
  const pomPath = `${versionDir}/pom.xml`;
  await Deno.writeTextFile(pomPath, pom.text);
  await removeAbandonedStaging(versionDir);
  const staging = await Deno.makeTempDir({ dir: versionDir, prefix: STAGING_PREFIX });
  try {
    const { success, stdout, stderr } = await new Deno.Command("mvn", {
      args: [
        "-q",
        "-B",
        "-f",
        pomPath,
        "dependency:copy-dependencies",
        `-DoutputDirectory=${staging}`,
        "-DincludeScope=runtime",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!success) {
      const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      throw new KafkaScriptError(
        `Cannot fetch the Kafka ${pom.version} jars: mvn dependency:copy-dependencies failed`,
        { details: output.trimEnd().split("\n").slice(-30) },
      );
    }
    const jars = (await listJars(staging)).sort();
    if (!jars.some((name) => name.startsWith("kafka_2.13-"))) {
      throw new KafkaScriptError(
        `Cannot fetch the Kafka ${pom.version} jars: Maven copied no kafka_2.13 jar into ${staging}`,
      );
    }
    await Deno.mkdir(libs, { recursive: true });
    for (const name of jars) await Deno.rename(`${staging}/${name}`, `${libs}/${name}`);
    const wanted = new Set(jars);
    for (const name of await listJars(libs)) {
      if (!wanted.has(name)) await Deno.remove(`${libs}/${name}`);
    }
    const record: Marker = { pomSha256, jars, fetchedAt: new Date().toISOString() };
    const tmp = `${markerPath}.tmp-${Deno.pid}`;
    await Deno.writeTextFile(tmp, JSON.stringify(record, null, 2) + "\n");
    await Deno.rename(tmp, markerPath);
    const fetchSeconds = (performance.now() - started) / 1000;
    log(`Fetched ${jars.length} jars in ${fetchSeconds.toFixed(1)} s`);
    return { version: pom.version, libs, fetchSeconds, jarCount: jars.length };
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

async function removeAbandonedStaging(versionDir: string): Promise<void> {
  for await (const entry of Deno.readDir(versionDir)) {
    if (!entry.isDirectory || !entry.name.startsWith(STAGING_PREFIX)) continue;
    const path = `${versionDir}/${entry.name}`;
    const modified = (await Deno.stat(path)).mtime?.getTime() ?? 0;
    if (Date.now() - modified > ABANDONED_AFTER_MS) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}

async function readMarker(path: string): Promise<Marker | undefined> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path)) as Partial<Marker>;
    if (typeof parsed.pomSha256 !== "string" || !Array.isArray(parsed.jars)) return undefined;
    return { pomSha256: parsed.pomSha256, jars: parsed.jars, fetchedAt: String(parsed.fetchedAt) };
  } catch {
    return undefined;
  }
}

async function allPresent(libs: string, jars: string[]): Promise<boolean> {
  if (jars.length === 0) return false;
  const present = new Set(await listJars(libs).catch(() => []));
  return jars.every((name) => present.has(name));
}

async function listJars(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".jar")) names.push(entry.name);
  }
  return names;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
