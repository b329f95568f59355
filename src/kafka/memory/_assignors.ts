/**
 * The partition assignment strategies of librdkafka's consumer groups:
 * `range` and `roundrobin` (eager) and `cooperative-sticky` (cooperative).
 * Pure functions from members and topic metadata to a target assignment.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import type { TopicPartition } from "../transport.ts";

/** The values librdkafka accepts in `partition.assignment.strategy`. */
export const STRATEGIES = ["range", "roundrobin", "cooperative-sticky"] as const;

/** One of {@link STRATEGIES}. */
export type Strategy = typeof STRATEGIES[number];

/** What an assignor needs to know about one member. */
export interface AssignorMember {
  /** Member id; members are ordered by it, as the Kafka assignors do. */
  id: string;
  /** Topics (resolved names, not patterns) the member is subscribed to. */
  topics: ReadonlySet<string>;
}

/** memberId -> partitions. */
export type Assignment = Map<string, TopicPartition[]>;

/**
 * The target assignment under `strategy`. `partitionCounts` holds every topic
 * that exists; `previous` is the last target, which `cooperative-sticky` keeps
 * as much of as balance allows.
 */
export function assign(
  strategy: Strategy,
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
  previous: Assignment,
): Assignment {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const result: Assignment = new Map(sorted.map((member) => [member.id, []]));
  const topics = [...new Set(sorted.flatMap((member) => [...member.topics]))]
    .filter((topic) => partitionCounts.has(topic))
    .sort();
  switch (strategy) {
    case "range":
      for (const topic of topics) {
        const takers = sorted.filter((member) => member.topics.has(topic));
        const count = partitionCounts.get(topic)!;
        const each = Math.floor(count / takers.length);
        const extra = count % takers.length;
        takers.forEach((member, i) => {
          const start = i * each + Math.min(i, extra);
          const length = each + (i < extra ? 1 : 0);
          for (let p = start; p < start + length; p++) {
            result.get(member.id)!.push({ topic, partition: p });
          }
        });
      }
      return result;
    case "roundrobin": {
      let next = 0;
      for (const tp of allPartitions(topics, partitionCounts)) {
        for (let tries = 0; tries < sorted.length; tries++) {
          const member = sorted[next % sorted.length]!;
          next++;
          if (member.topics.has(tp.topic)) {
            result.get(member.id)!.push(tp);
            break;
          }
        }
      }
      return result;
    }
    case "cooperative-sticky":
      return sticky(sorted, topics, partitionCounts, previous, result);
  }
}

function allPartitions(
  topics: readonly string[],
  partitionCounts: ReadonlyMap<string, number>,
): TopicPartition[] {
  return topics.flatMap((topic) =>
    Array.from({ length: partitionCounts.get(topic)! }, (_, partition) => ({ topic, partition }))
  );
}

function sticky(
  sorted: readonly AssignorMember[],
  topics: readonly string[],
  partitionCounts: ReadonlyMap<string, number>,
  previous: Assignment,
  result: Assignment,
): Assignment {
  const taken = new Set<string>();
  const key = (tp: TopicPartition) => topicPartitionKey(tp.topic, tp.partition);
  // Keep what each member had, while it still exists and is still subscribed.
  for (const member of sorted) {
    for (const tp of previous.get(member.id) ?? []) {
      const count = partitionCounts.get(tp.topic);
      if (count === undefined || tp.partition >= count || !member.topics.has(tp.topic)) continue;
      if (taken.has(key(tp))) continue;
      taken.add(key(tp));
      result.get(member.id)!.push(tp);
    }
  }
  const load = (member: AssignorMember) => result.get(member.id)!.length;
  const lightest = (candidates: readonly AssignorMember[]) =>
    candidates.reduce((best, member) => (load(member) < load(best) ? member : best));
  // Hand out partitions nobody has, to the least loaded eligible member.
  for (const tp of allPartitions(topics, partitionCounts)) {
    if (taken.has(key(tp))) continue;
    const takers = sorted.filter((member) => member.topics.has(tp.topic));
    if (takers.length === 0) continue;
    result.get(lightest(takers).id)!.push(tp);
    taken.add(key(tp));
  }
  // Move partitions from the most to the least loaded member until balanced.
  for (let moves = 0; moves < 100_000; moves++) {
    let moved = false;
    const byLoad = [...sorted].sort((a, b) => load(b) - load(a));
    for (const donor of byLoad) {
      const owned = result.get(donor.id)!;
      for (let i = owned.length - 1; i >= 0 && !moved; i--) {
        const tp = owned[i]!;
        const takers = sorted.filter((member) => member.topics.has(tp.topic));
        const taker = lightest(takers);
        if (load(donor) - load(taker) > 1) {
          owned.splice(i, 1);
          result.get(taker.id)!.push(tp);
          moved = true;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
  }
  for (const owned of result.values()) {
    owned.sort((
      a,
      b,
    ) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }
  return result;
}
