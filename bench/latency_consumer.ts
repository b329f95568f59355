/**
 * The consumer `bench/latency.ts` runs under Deno: prints, per message, how
 * many milliseconds passed between the message's create time (set by the
 * benchmark's producer just before sending) and its processing. Topic from
 * `LATENCY_TOPIC`. `bench/latency_consumer.mjs` is its Node twin.
 *
 * @module
 */

import { Consumer, type Message } from "../mod.ts";
import { getEnv, writeStdout } from "../src/_runtime.ts";

/** Prints `latency <ms>` for each message. */
export class LatencyConsumer extends Consumer {
  static {
    this.subscribesTo(getEnv("LATENCY_TOPIC") ?? "racecar-latency");
  }

  override process(message: Message): void {
    writeStdout(`latency ${Date.now() - (message.createTime?.getTime() ?? 0)}\n`);
  }
}
