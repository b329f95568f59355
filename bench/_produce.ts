/**
 * Fills a benchmark topic: N messages of {@link MESSAGE_BYTES} bytes through
 * `kcat -P`, shared by the Deno benchmarks (bench/consume_node.mjs has its own
 * Node copy, as it cannot import TypeScript).
 *
 * @module
 */

/** The size of every benchmark message. */
export const MESSAGE_BYTES = 100;

/** Produces `total` messages of {@link MESSAGE_BYTES} bytes to `topic` with `kcat -P`. */
export async function produceWithKcat(
  brokers: string,
  topic: string,
  total: number,
): Promise<void> {
  const child = new Deno.Command("kcat", {
    args: [
      "-P",
      "-b",
      brokers,
      "-t",
      topic,
      "-X",
      "linger.ms=20",
      "-X",
      "batch.num.messages=10000",
    ],
    stdin: "piped",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const writer = child.stdin.getWriter();
  const chunk = new TextEncoder().encode(("x".repeat(MESSAGE_BYTES - 1) + "\n").repeat(10_000));
  for (let sent = 0; sent < total; sent += 10_000) {
    await writer.write(
      sent + 10_000 <= total ? chunk : chunk.subarray(0, (total - sent) * MESSAGE_BYTES),
    );
  }
  await writer.close();
  const status = await child.status;
  if (!status.success) throw new Error(`kcat -P failed with exit code ${status.code}`);
}
