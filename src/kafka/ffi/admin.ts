/**
 * The FFI admin client: topic creation and deletion through librdkafka's
 * Admin API, each request answered on its own temporary queue; topics from the
 * cluster's metadata; consumer groups through `rd_kafka_list_groups` (in every
 * librdkafka from 2.0, unlike the newer `ListConsumerGroups` family); offsets
 * through `rd_kafka_query_watermark_offsets` and `rd_kafka_offsets_for_times`.
 *
 * @module
 */

import { topicPartitionKey } from "../../_topic_partition.ts";
import type {
  AdminOptions,
  AdminTransport,
  GroupDescription,
  GroupListing,
  GroupMember,
  NewTopic,
  TopicListing,
  TopicPartition,
  TopicPartitionOffset,
  Watermarks,
} from "../transport.ts";
import { ADMIN_OP, ERR, EVENT, type Librdkafka, RD_KAFKA_PRODUCER } from "./symbols.ts";
import { decodeAssignment } from "../_consumer_protocol.ts";
import { NativeClient } from "./_client.ts";
import { configError, decodeC, kafkaError } from "./_errors.ts";
import { cstr, newPartitionList, readPartitionList } from "./_memory.ts";
import type { Pointer } from "./_layer.ts";

/** Extra time to wait for the result event beyond the broker-side timeout. */
const RESULT_GRACE_MS = 5_000;

/** An admin client over librdkafka's C API. */
export class FfiAdmin implements AdminTransport {
  readonly #lib: Librdkafka;
  readonly #client: NativeClient;
  #closed: Promise<void> | null = null;

  /** Creates the admin client; throws a `ConfigError` for a refused property. */
  constructor(lib: Librdkafka, options: AdminOptions) {
    this.#lib = lib;
    this.#client = new NativeClient(lib, {
      type: RD_KAFKA_PRODUCER,
      kind: "admin client",
      config: options.config,
      forced: { "log.queue": "true" },
      events: EVENT.ERROR | EVENT.STATS | EVENT.LOG,
      listeners: options,
    });
    this.#client.start();
  }

  /** Creates topics; one that already exists is not an error. */
  async createTopics(topics: readonly NewTopic[], timeoutMs: number): Promise<void> {
    if (topics.length === 0) return;
    const lib = this.#lib;
    const errstr = new Uint8Array(512);
    const handles: Pointer[] = [];
    try {
      for (const topic of topics) {
        const handle = lib.rd_kafka_NewTopic_new(
          cstr(topic.name),
          topic.partitions,
          topic.replicationFactor ?? -1,
          errstr,
          BigInt(errstr.length),
        );
        if (handle === null) {
          throw new RangeError(`Cannot create topic "${topic.name}": ${decodeC(errstr)}`);
        }
        handles.push(handle);
        for (const [key, value] of Object.entries(topic.config ?? {})) {
          const errno = lib.rd_kafka_NewTopic_set_config(handle, cstr(key), cstr(value));
          if (errno !== 0) throw configError(key, errText(lib, errno));
        }
      }
      await this.#run(ADMIN_OP.CREATETOPICS, handles, timeoutMs, ERR.TOPIC_ALREADY_EXISTS);
    } finally {
      for (const handle of handles) lib.rd_kafka_NewTopic_destroy(handle);
    }
  }

  /** Deletes topics; one that does not exist is not an error. */
  async deleteTopics(names: readonly string[], timeoutMs: number): Promise<void> {
    if (names.length === 0) return;
    const lib = this.#lib;
    const handles = names.map((name) => lib.rd_kafka_DeleteTopic_new(cstr(name)));
    try {
      await this.#run(ADMIN_OP.DELETETOPICS, handles, timeoutMs, ERR.UNKNOWN_TOPIC_OR_PART);
    } finally {
      for (const handle of handles) lib.rd_kafka_DeleteTopic_destroy(handle);
    }
  }

  /** Grows a topic to `totalCount` partitions. */
  async createPartitions(topic: string, totalCount: number, timeoutMs: number): Promise<void> {
    const lib = this.#lib;
    const errstr = new Uint8Array(512);
    const handle = lib.rd_kafka_NewPartitions_new(
      cstr(topic),
      BigInt(totalCount),
      errstr,
      BigInt(errstr.length),
    );
    if (handle === null) {
      throw new RangeError(`Cannot add partitions to topic "${topic}": ${decodeC(errstr)}`);
    }
    try {
      await this.#run(ADMIN_OP.CREATEPARTITIONS, [handle], timeoutMs, ERR.NO_ERROR);
    } finally {
      lib.rd_kafka_NewPartitions_destroy(handle);
    }
  }

  async #run(
    op: number,
    handles: readonly Pointer[],
    timeoutMs: number,
    harmless: number,
  ): Promise<void> {
    if (this.#closed !== null) {
      throw new TypeError("Cannot run admin request: the client is closed");
    }
    const lib = this.#lib;
    const rk = this.#client.rk;
    const timeout = Math.max(1, Math.floor(timeoutMs));
    const errstr = new Uint8Array(512);
    const queue = lib.rd_kafka_queue_new(rk);
    const options = lib.rd_kafka_AdminOptions_new(rk, op);
    let event: Pointer = null;
    try {
      lib.rd_kafka_AdminOptions_set_request_timeout(
        options,
        timeout,
        errstr,
        BigInt(errstr.length),
      );
      lib.rd_kafka_AdminOptions_set_operation_timeout(
        options,
        timeout,
        errstr,
        BigInt(errstr.length),
      );
      const array = new BigUint64Array(handles.map((handle) => lib.mem.address(handle)));
      const count = BigInt(handles.length);
      if (op === ADMIN_OP.CREATETOPICS) lib.rd_kafka_CreateTopics(rk, array, count, options, queue);
      else if (op === ADMIN_OP.DELETETOPICS) {
        lib.rd_kafka_DeleteTopics(rk, array, count, options, queue);
      } else lib.rd_kafka_CreatePartitions(rk, array, count, options, queue);
      event = await lib.rd_kafka_queue_poll(queue, timeout + RESULT_GRACE_MS);
      if (event === null) throw kafkaError(lib, ERR._TIMED_OUT);
      const errno = lib.rd_kafka_event_error(event);
      if (errno !== 0) {
        throw kafkaError(lib, errno, lib.mem.cstring(lib.rd_kafka_event_error_string(event)));
      }
      const countOut = new BigUint64Array(1);
      const results = op === ADMIN_OP.CREATETOPICS
        ? lib.rd_kafka_CreateTopics_result_topics(
          lib.rd_kafka_event_CreateTopics_result(event),
          countOut,
        )
        : op === ADMIN_OP.DELETETOPICS
        ? lib.rd_kafka_DeleteTopics_result_topics(
          lib.rd_kafka_event_DeleteTopics_result(event),
          countOut,
        )
        : lib.rd_kafka_CreatePartitions_result_topics(
          lib.rd_kafka_event_CreatePartitions_result(event),
          countOut,
        );
      const n = Number(countOut[0] ?? 0n);
      if (results === null || n === 0) return;
      const view = lib.mem.view(results, n * 8);
      for (let i = 0; i < n; i++) {
        const result = view.getPointer(i * 8);
        const err = lib.rd_kafka_topic_result_error(result);
        if (err === 0 || err === harmless) continue;
        const name = lib.mem.cstring(lib.rd_kafka_topic_result_name(result)) ?? "";
        const text = lib.mem.cstring(lib.rd_kafka_topic_result_error_string(result)) ??
          errText(lib, err);
        throw kafkaError(lib, err, `Topic "${name}": ${text}`);
      }
    } finally {
      if (event !== null) lib.rd_kafka_event_destroy(event);
      lib.rd_kafka_AdminOptions_destroy(options);
      lib.rd_kafka_queue_destroy(queue);
    }
  }

  /** The cluster's topics, by name. */
  async listTopics(timeoutMs: number): Promise<TopicListing[]> {
    this.#assertOpen("list topics");
    const lib = this.#lib;
    const out = new BigUint64Array(1);
    const errno = await lib.rd_kafka_metadata(this.#client.rk, 1, null, out, ms(timeoutMs));
    if (errno !== 0) throw kafkaError(lib, errno);
    const mem = lib.mem;
    const metadata = mem.pointer(out[0] ?? 0n);
    if (metadata === null) throw kafkaError(lib, ERR._FAIL, "No metadata returned");
    try {
      // rd_kafka_metadata_t: topic_cnt @16, topics @24; each topic 32 bytes:
      // name @0, partition_cnt @8, partitions @16, err @24.
      const view = mem.view(metadata, 48);
      const count = view.getInt32(16);
      const topics = view.getPointer(24);
      if (topics === null || count <= 0) return [];
      const items = mem.view(topics, count * 32);
      const result: TopicListing[] = [];
      for (let i = 0; i < count; i++) {
        if (items.getInt32(i * 32 + 24) !== 0) continue;
        result.push({
          name: mem.cstring(items.getPointer(i * 32)) ?? "",
          partitions: items.getInt32(i * 32 + 8),
        });
      }
      return result.sort((a, b) => a.name.localeCompare(b.name));
    } finally {
      lib.rd_kafka_metadata_destroy(metadata);
    }
  }

  /** The consumer groups the brokers know, by id. */
  async listGroups(timeoutMs: number): Promise<GroupListing[]> {
    const groups = await this.#groups(null, timeoutMs);
    return groups.map(({ groupId, state, protocolType }) => ({ groupId, state, protocolType }))
      .sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /** A group's state and members. */
  async describeGroup(groupId: string, timeoutMs: number): Promise<GroupDescription> {
    const [group] = await this.#groups(groupId, timeoutMs);
    return group ?? { groupId, state: "Dead", protocolType: "", protocol: "", members: [] };
  }

  async #groups(groupId: string | null, timeoutMs: number): Promise<GroupDescription[]> {
    this.#assertOpen(groupId === null ? "list groups" : "describe group");
    const lib = this.#lib;
    const out = new BigUint64Array(1);
    const errno = await lib.rd_kafka_list_groups(
      this.#client.rk,
      groupId === null ? null : cstr(groupId),
      out,
      ms(timeoutMs),
    );
    if (errno !== 0) throw kafkaError(lib, errno);
    const mem = lib.mem;
    const list = mem.pointer(out[0] ?? 0n);
    if (list === null) return [];
    try {
      // rd_kafka_group_list: groups @0, group_cnt @8. rd_kafka_group_info (80 bytes):
      // broker @0 (24), group @24, err @32, state @40, protocol_type @48,
      // protocol @56, members @64, member_cnt @72.
      const view = mem.view(list, 16);
      const groups = view.getPointer(0);
      const count = view.getInt32(8);
      if (groups === null || count <= 0) return [];
      const items = mem.view(groups, count * 80);
      const result: GroupDescription[] = [];
      for (let i = 0; i < count; i++) {
        const base = i * 80;
        const err = items.getInt32(base + 32);
        const name = mem.cstring(items.getPointer(base + 24)) ?? "";
        if (err !== 0) throw kafkaError(lib, err, `Group "${name}": ${errText(lib, err)}`);
        result.push({
          groupId: name,
          state: mem.cstring(items.getPointer(base + 40)) ?? "",
          protocolType: mem.cstring(items.getPointer(base + 48)) ?? "",
          protocol: mem.cstring(items.getPointer(base + 56)) ?? "",
          members: readMembers(lib, items.getPointer(base + 64), items.getInt32(base + 72)),
        });
      }
      return result;
    } finally {
      lib.rd_kafka_group_list_destroy(list);
    }
  }

  /** The first and next offset of each partition. */
  async watermarks(
    partitions: readonly TopicPartition[],
    timeoutMs: number,
  ): Promise<Watermarks[]> {
    this.#assertOpen("read watermarks");
    const lib = this.#lib;
    const result: Watermarks[] = [];
    for (const { topic, partition } of partitions) {
      const low = new BigInt64Array(1);
      const high = new BigInt64Array(1);
      const errno = await lib.rd_kafka_query_watermark_offsets(
        this.#client.rk,
        cstr(topic),
        partition,
        low,
        high,
        ms(timeoutMs),
      );
      if (errno !== 0) {
        throw kafkaError(
          lib,
          errno,
          `${topicPartitionKey(topic, partition)}: ${errText(lib, errno)}`,
        );
      }
      result.push({ topic, partition, low: Number(low[0]), high: Number(high[0]) });
    }
    return result;
  }

  /** The earliest offset at or after each timestamp; `-1` when none is that recent. */
  async offsetsForTimes(
    partitions: readonly TopicPartitionOffset[],
    timeoutMs: number,
  ): Promise<TopicPartitionOffset[]> {
    this.#assertOpen("look up offsets by time");
    if (partitions.length === 0) return [];
    const lib = this.#lib;
    const list = newPartitionList(lib, partitions);
    try {
      const errno = await lib.rd_kafka_offsets_for_times(this.#client.rk, list, ms(timeoutMs));
      if (errno !== 0) throw kafkaError(lib, errno);
      return readPartitionList(lib, list).map(({ topic, partition, offset, err }) => {
        if (err !== 0) {
          throw kafkaError(
            lib,
            err,
            `${topicPartitionKey(topic, partition)}: ${errText(lib, err)}`,
          );
        }
        return { topic, partition, offset };
      });
    } finally {
      lib.rd_kafka_topic_partition_list_destroy(list);
    }
  }

  #assertOpen(action: string): void {
    if (this.#closed !== null) throw new TypeError(`Cannot ${action}: the admin client is closed`);
  }

  /** Frees the client. Idempotent. */
  close(): Promise<void> {
    return this.#closed ??= this.#client.destroy();
  }
}

function ms(timeoutMs: number): number {
  return Math.max(1, Math.floor(timeoutMs));
}

function errText(lib: Librdkafka, errno: number): string {
  return lib.mem.cstring(lib.rd_kafka_err2str(errno)) ?? String(errno);
}

/** `rd_kafka_group_member_info` (56 bytes): member_id @0, client_id @8, client_host @16, assignment @40, size @48. */
function readMembers(lib: Librdkafka, members: Pointer, count: number): GroupMember[] {
  if (members === null || count <= 0) return [];
  const mem = lib.mem;
  const items = mem.view(members, count * 56);
  const result: GroupMember[] = [];
  for (let i = 0; i < count; i++) {
    const base = i * 56;
    const assignment = items.getPointer(base + 40);
    const size = items.getInt32(base + 48);
    result.push({
      memberId: mem.cstring(items.getPointer(base)) ?? "",
      clientId: mem.cstring(items.getPointer(base + 8)) ?? "",
      host: mem.cstring(items.getPointer(base + 16)) ?? "",
      assignment: assignment === null || size <= 0
        ? []
        : decodeAssignment(mem.copy(assignment, size) ?? new Uint8Array(0)),
    });
  }
  return result;
}
