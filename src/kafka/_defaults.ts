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
 * @module
 */

import type { ConfigMap } from "./transport.ts";

const V2_2_0 = 0x02020000;

/** The consumer configuration with Racecar's version-dependent defaults added. */
export function withConsumerDefaults(config: ConfigMap, versionNumber: number): ConfigMap {
  if (versionNumber < V2_2_0 || "fetch.queue.backoff.ms" in config) return config;
  return { "fetch.queue.backoff.ms": "10", ...config };
}
