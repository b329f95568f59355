/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof` or
 * `node --cpu-prof`) as text: self time per function, total (inclusive) time
 * per function of the repository's own code, and self time per file, each in
 * ms, share of all samples and µs per message.
 *
 * Usage: `deno run -R bench/profile_summary.ts FILE.cpuprofile [--messages=N] [--top=N]`
 * (defaults: 1,000,000 messages, top 25). How the profiles are made: bench/README.md.
 *
 * @module
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One row of a summary. */
export interface Row {
  key: string;
  micros: number;
}

const ROOT = new URL("..", import.meta.url).pathname;

/** `file:///<repo>/src/runner.ts` -> `src/runner.ts`; other URLs without `file://`. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
}

function frameKey(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  const url = shortUrl(frame.url);
  return url === "" ? name : `${name} ${url}:${frame.lineNumber + 1}`;
}

/** Self time per function, total time per own function, self time per file (µs each). */
export function summarise(profile: Profile): {
  self: Row[];
  total: Row[];
  files: Row[];
  allMicros: number;
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  let allMicros = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i + 1] is the time until the next sample: the time spent in sample i.
    const micros = profile.timeDeltas[i + 1] ?? 0;
    allMicros += micros;
    const node = byId.get(profile.samples[i]!)!;
    const key = frameKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + micros);
    const file = shortUrl(node.callFrame.url) || node.callFrame.functionName;
    files.set(file, (files.get(file) ?? 0) + micros);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (!/^(src|npm\/dist\/src|bench)\//.test(shortUrl(frame.url))) continue;
      const k = frameKey(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + micros);
    }
  }
  const rows = (map: Map<string, number>) =>
    [...map].map(([key, micros]) => ({ key, micros })).sort((a, b) => b.micros - a.micros);
  return { self: rows(self), total: rows(total), files: rows(files), allMicros };
}

function table(title: string, rows: Row[], allMicros: number, messages: number): string {
  const lines = [`${title}`, "      ms      %   µs/msg  function"];
  for (const row of rows) {
    lines.push(
      `${(row.micros / 1000).toFixed(0).padStart(8)} ${
        (row.micros / allMicros * 100).toFixed(1).padStart(6)
      } ${(row.micros / messages).toFixed(3).padStart(8)}  ${row.key}`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const file = Deno.args.find((a) => !a.startsWith("--"));
  const flag = (name: string, fallback: number) => {
    const raw = Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    return raw === undefined ? fallback : Number(raw);
  };
  if (file === undefined) {
    console.error(
      "Usage: deno run -R bench/profile_summary.ts FILE.cpuprofile [--messages=N] [--top=N]",
    );
    Deno.exit(2);
  }
  const messages = flag("messages", 1_000_000);
  const top = flag("top", 25);
  const profile = JSON.parse(await Deno.readTextFile(file)) as Profile;
  const { self, total, files, allMicros } = summarise(profile);
  // Idle is the main thread waiting (for librdkafka, timers, I/O): shares are of the busy time.
  const idle = self.find((row) => row.key === "(idle)")?.micros ?? 0;
  const busy = allMicros - idle;
  const notIdle = (rows: Row[]) => rows.filter((row) => row.key !== "(idle)").slice(0, top);
  console.log(
    `${file}: ${(allMicros / 1e6).toFixed(2)} s sampled on the main thread, ` +
      `${(idle / 1e6).toFixed(2)} s idle, ${(busy / 1e6).toFixed(2)} s busy: ` +
      `${(busy / messages).toFixed(2)} µs per message over ${messages} messages`,
  );
  console.log(table("\nSelf time by function (% of busy)", notIdle(self), busy, messages));
  console.log(table("\nSelf time by file", notIdle(files), busy, messages));
  console.log(table("\nTotal time, own code (src/, bench/)", notIdle(total), busy, messages));
}

if (import.meta.main) await main();
