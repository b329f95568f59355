// The consumer bench/latency.ts runs under Node.js, through the built package
// (npm/dist) as a Node user would: prints, per message, how many milliseconds
// passed between the message's create time and its processing. Topic from
// LATENCY_TOPIC. The Deno twin is bench/latency_consumer.ts (lines written in
// chunks every 20 ms, as there).

// Computed, so type-checking bench/ does not need the npm build.
const { Consumer } = await import(new URL("../npm/dist/mod.js", import.meta.url).href);

let pending = "";
let timer;

function flush() {
  timer = undefined;
  process.stdout.write(pending);
  pending = "";
}

export class LatencyConsumer extends Consumer {
  static {
    this.subscribesTo(process.env.LATENCY_TOPIC ?? "racecar-latency");
  }

  process(message) {
    pending += `latency ${Date.now() - (message.createTime?.getTime() ?? 0)}\n`;
    if (timer === undefined) timer = setTimeout(flush, 20).unref();
  }
}
