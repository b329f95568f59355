/**
 * A memory transport on a fake clock, for the runner's timers: a poll that
 * finds nothing moves the clock on by the time it was allowed to wait instead
 * of waiting, so the fake times seen are exactly the times the runner chose.
 *
 * @module
 */

import { createMemoryTransport } from "../src/kafka/memory/mod.ts";
import type { ConsumerTransport, Transport } from "../src/kafka/transport.ts";

/** A memory transport on a fake clock that a poll moves on instead of waiting. */
export function fakeTime(): {
  transport: Transport & ReturnType<typeof createMemoryTransport>;
  now: () => number;
} {
  let now = 0;
  const clock = () => now;
  const memory = createMemoryTransport({ clock });
  const transport = {
    ...memory,
    createConsumer(options: Parameters<Transport["createConsumer"]>[0]): ConsumerTransport {
      const inner = memory.createConsumer(options);
      return {
        get rebalanceProtocol() {
          return inner.rebalanceProtocol;
        },
        subscribe: (topics) => inner.subscribe(topics),
        async consume(max, timeoutMs) {
          const messages = await inner.consume(max, 0);
          if (messages.length === 0) now += timeoutMs;
          // Let the test's waitFor look between turns.
          await new Promise((resolve) => setTimeout(resolve, 0));
          return messages;
        },
        wakeup: () => inner.wakeup(),
        storeOffsets: (offsets) => inner.storeOffsets(offsets),
        commit: (offsets, commitOptions) => inner.commit(offsets, commitOptions),
        committed: (partitions, timeoutMs) => inner.committed(partitions, timeoutMs),
        pause: (partitions) => inner.pause(partitions),
        resume: (partitions) => inner.resume(partitions),
        seek: (position, timeoutMs) => inner.seek(position, timeoutMs),
        assignment: () => inner.assignment(),
        assignmentLost: () => inner.assignmentLost(),
        close: () => inner.close(),
      };
    },
  };
  return { transport, now: clock };
}
