/**
 * The consumer `bench/latency.ts` runs under Deno: prints, per message, how
 * many milliseconds passed between the message's create time (set by the
 * benchmark's producer just before sending) and its processing. Topic from
 * `LATENCY_TOPIC`. `bench/latency_consumer.mjs` is its Node twin.
 *
 * Lines are written in chunks (every 20 ms), so that at 20,000 messages/s a
 * write per message does not add to what is measured.
 *
 * @module
 */

import { Consumer, type Message } from "../mod.ts";
import { getEnv, writeStdout } from "../src/_runtime.ts";

let pending = "";
let timer: ReturnType<typeof setTimeout> | undefined;

function flush(): void {
  timer = undefined;
  writeStdout(pending);
  pending = "";
}

/** Prints `latency <ms>` for each message. */
export class LatencyConsumer extends Consumer {
  static {
    this.subscribesTo(getEnv("LATENCY_TOPIC") ?? "racecar-latency");
  }

  override process(message: Message): void {
    pending += `latency ${Date.now() - (message.createTime?.getTime() ?? 0)}\n`;
    if (timer === undefined) {
      const id = setTimeout(flush, 20);
      Deno.unrefTimer(id);
      timer = id;
    }
  }
}
