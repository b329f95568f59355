/**
 * librdkafka defaults Racecar changes, applied by every adapter when the user
 * did not set the property and the loaded library knows it.
 *
 * `fetch.queue.backoff.ms` (librdkafka 2.2+, default 1000 ms) pauses fetching
 * a partition whenever its local queue holds `queued.min.messages`. With
 * racecar's `min_message_queue_size` of 2000, that capped a fast consumer at
 * about 27,000 messages/s on 6 partitions here; 10 ms gives about 280,000/s
 * (bench/README.md). The queue size still bounds memory.
 *
 * `fetch.wait.max.ms` is how long a broker may hold a fetch that found nothing.
 * librdkafka sends one fetch at a time per broker, so a partition resumed (or
 * assigned) while such a fetch is held waits for it: racecar derived it from
 * `max_wait_time` (1 s by default), which made retries and first messages up
 * to that late. {@link FETCH_WAIT_MAX_MS} bounds that wait; the cost is an
 * idle consumer's fetch requests (10 per second per broker instead of 1).
 *
 * @module
 */

import type { ConfigMap } from "./transport.ts";

const V2_2_0 = 0x02020000;

/** Racecar's default `fetch.wait.max.ms`, whatever `max_wait_time` is. */
export const FETCH_WAIT_MAX_MS = 100;

/** The consumer configuration with Racecar's version-dependent defaults added. */
export function withConsumerDefaults(config: ConfigMap, versionNumber: number): ConfigMap {
  const defaults: ConfigMap = { "fetch.wait.max.ms": String(FETCH_WAIT_MAX_MS) };
  if (versionNumber >= V2_2_0) defaults["fetch.queue.backoff.ms"] = "10";
  return { ...defaults, ...config };
}
