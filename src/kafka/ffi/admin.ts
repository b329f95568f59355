/**
 * The FFI admin client: topic creation and deletion through librdkafka's
 * Admin API, each request answered on its own temporary queue.
 *
 * @module
 */

import type { AdminOptions, AdminTransport, NewTopic } from "../transport.ts";
import { ADMIN_OP, ERR, EVENT, type Librdkafka, RD_KAFKA_PRODUCER } from "./symbols.ts";
import { NativeClient } from "./_client.ts";
import { configError, decodeC, kafkaError } from "./_errors.ts";
import { address, cstr, readCString } from "./_memory.ts";

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
    const handles: Deno.PointerValue[] = [];
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
          if (errno !== 0) throw configError(key, readCString(lib.rd_kafka_err2str(errno)) ?? "");
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
    handles: readonly Deno.PointerValue[],
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
    let event: Deno.PointerValue = null;
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
      const array = new BigUint64Array(handles.map(address));
      const count = BigInt(handles.length);
      if (op === ADMIN_OP.CREATETOPICS) lib.rd_kafka_CreateTopics(rk, array, count, options, queue);
      else if (op === ADMIN_OP.DELETETOPICS) {
        lib.rd_kafka_DeleteTopics(rk, array, count, options, queue);
      } else lib.rd_kafka_CreatePartitions(rk, array, count, options, queue);
      event = await lib.rd_kafka_queue_poll(queue, timeout + RESULT_GRACE_MS);
      if (event === null) throw kafkaError(lib, ERR._TIMED_OUT);
      const errno = lib.rd_kafka_event_error(event);
      if (errno !== 0) {
        throw kafkaError(lib, errno, readCString(lib.rd_kafka_event_error_string(event)));
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
      const view = new Deno.UnsafePointerView(results);
      for (let i = 0; i < n; i++) {
        const result = view.getPointer(i * 8);
        const err = lib.rd_kafka_topic_result_error(result);
        if (err === 0 || err === harmless) continue;
        const name = readCString(lib.rd_kafka_topic_result_name(result)) ?? "";
        const text = readCString(lib.rd_kafka_topic_result_error_string(result)) ??
          readCString(lib.rd_kafka_err2str(err));
        throw kafkaError(lib, err, `Topic "${name}": ${text}`);
      }
    } finally {
      if (event !== null) lib.rd_kafka_event_destroy(event);
      lib.rd_kafka_AdminOptions_destroy(options);
      lib.rd_kafka_queue_destroy(queue);
    }
  }

  /** Frees the client. Idempotent. */
  close(): Promise<void> {
    return this.#closed ??= this.#client.destroy();
  }
}
