/**
 * Key-ordered parallelism inside one partition (`key_concurrency`): the
 * messages of one poll are dealt out to lanes, one lane per key; a lane runs
 * its messages one after another, in offset order, and up to `limit` lanes
 * run at the same time. Messages are admitted (begun) in offset order, so the
 * partition's {@link OffsetTracker} sees them in the order it needs, whatever
 * order they finish in. Pure: what admitting and running mean is passed in.
 *
 * A failure stops the partition: its lane ends and no more messages are
 * admitted. The other lanes go on with the messages they hold, each passed to
 * `run`, which decides whether to process it (the runner finishes those
 * before the failed offset, so everything before it is done when it retries
 * from there) or to end the lane. {@link runByKey} resolves once every lane
 * ended.
 *
 * @example
 * ```ts
 * import { runByKey } from "./key_lanes.ts";
 * const messages = [
 *   { key: "a", offset: 0 },
 *   { key: "b", offset: 1 },
 *   { key: "a", offset: 2 },
 * ];
 * const order: number[] = [];
 * await runByKey(messages, {
 *   limit: 2,
 *   keyOf: (m) => m.key,
 *   admit: () => true,
 *   run: async (m) => {
 *     await new Promise((resolve) => setTimeout(resolve, m.key === "a" ? 10 : 0));
 *     order.push(m.offset);
 *     return true;
 *   },
 * });
 * console.assert(order.join() === "1,0,2"); // b went ahead; a kept its order
 * ```
 *
 * @module
 */

/** How {@link runByKey} deals out and runs messages. */
export interface KeyLanesOptions<T> {
  /** Lanes (distinct keys) running at the same time; at least 1. */
  limit: number;
  /**
   * The lane of a message: messages with equal keys run in order. `null` (a
   * message without a key) is a lane of its own, like any key.
   */
  keyOf(item: T): string | null;
  /**
   * Called for each message in order before it joins its lane (back-pressure
   * and bookkeeping go here); `false` stops the partition.
   */
  admit(item: T): boolean | Promise<boolean>;
  /**
   * Processes one message of a lane; `false` (it failed, or must not run)
   * ends the lane and stops admitting.
   */
  run(item: T): Promise<boolean>;
}

/**
 * Runs `items` (one partition's messages, in offset order) by key, and
 * resolves when every lane finished or stopped. Rejects with the first
 * unexpected error of `admit` or `run`, after every lane stopped.
 */
export async function runByKey<T>(items: readonly T[], options: KeyLanesOptions<T>): Promise<void> {
  const { limit, keyOf, admit, run } = options;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(
      `Cannot run messages by key: the limit must be an integer >= 1, got ${limit}`,
    );
  }
  const lanes = new Map<string | null, T[]>();
  const running = new Set<Promise<void>>();
  /** No more admitting. */
  let stopped = false;
  /** An unexpected error: every lane ends. */
  let thrown: { error: unknown } | undefined;

  const drive = async (key: string | null, queue: T[]): Promise<void> => {
    try {
      while (thrown === undefined && queue.length > 0) {
        if (!(await run(queue.shift()!))) {
          stopped = true;
          break;
        }
      }
    } catch (error) {
      stopped = true;
      thrown ??= { error };
    } finally {
      // Synchronous after the last check: the dealer cannot add to a lane that is ending.
      lanes.delete(key);
    }
  };

  try {
    for (const item of items) {
      if (stopped || !(await admit(item))) break;
      const key = keyOf(item);
      const queue = lanes.get(key);
      if (queue !== undefined) {
        queue.push(item);
        continue;
      }
      // Only this loop opens lanes, so none opened for `key` while it waits.
      while (running.size >= limit && !stopped) await Promise.race(running);
      if (stopped) break;
      const lane = [item];
      lanes.set(key, lane);
      const driven: Promise<void> = drive(key, lane).finally(() => running.delete(driven));
      running.add(driven);
    }
  } catch (error) {
    stopped = true;
    thrown ??= { error };
  } finally {
    await Promise.all(running);
  }
  if (thrown !== undefined) throw thrown.error;
}

/**
 * A message key as a lane name: the bytes as they are (one char per byte), so
 * different keys never share a lane. `null` stays `null`.
 *
 * @example
 * ```ts
 * import { laneOf } from "./key_lanes.ts";
 * console.assert(laneOf(new Uint8Array([104, 105])) === "hi");
 * console.assert(laneOf(null) === null);
 * ```
 */
export function laneOf(key: Uint8Array | null): string | null {
  if (key === null) return null;
  let text = "";
  for (let i = 0; i < key.length; i += 4096) {
    text += String.fromCharCode(...key.subarray(i, i + 4096));
  }
  return text;
}
