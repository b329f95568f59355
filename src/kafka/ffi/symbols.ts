/**
 * The librdkafka C functions the FFI adapters bind, checked against
 * `rdkafka.h` of librdkafka 2.0. Written once in `Deno.dlopen`'s notation;
 * each call layer (`_layer.ts`) maps it to its runtime.
 *
 * Every call that can wait on the network or on another librdkafka thread is
 * declared `nonblocking`, so the layer runs it on a worker thread and the event
 * loop keeps turning. A few functions are bound twice under different keys:
 * once blocking for the cheap zero-timeout case, once `nonblocking` for waits.
 *
 * @module
 */

import type { BoundSymbols, CallbackSpec, FfiLayer, SymbolTable } from "./_layer.ts";

/** Symbols every supported librdkafka (>= 2.0) exports. */
export const SYMBOLS = {
  rd_kafka_version: { parameters: [], result: "i32" },
  rd_kafka_version_str: { parameters: [], result: "pointer" },
  rd_kafka_err2str: { parameters: ["i32"], result: "pointer" },
  rd_kafka_err2name: { parameters: ["i32"], result: "pointer" },

  rd_kafka_conf_new: { parameters: [], result: "pointer" },
  rd_kafka_conf_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_conf_set: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
  },
  rd_kafka_conf_get: {
    parameters: ["pointer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  rd_kafka_conf_set_events: { parameters: ["pointer", "i32"], result: "void" },
  rd_kafka_conf_set_rebalance_cb: { parameters: ["pointer", "function"], result: "void" },

  rd_kafka_new: { parameters: ["i32", "pointer", "buffer", "usize"], result: "pointer" },
  rd_kafka_destroy: { parameters: ["pointer"], result: "void", nonblocking: true },
  rd_kafka_fatal_error: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  rd_kafka_set_log_queue: { parameters: ["pointer", "pointer"], result: "i32" },

  rd_kafka_queue_get_main: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_queue_get_consumer: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_queue_new: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_queue_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_queue_yield: { parameters: ["pointer"], result: "void" },
  rd_kafka_queue_poll: {
    name: "rd_kafka_queue_poll",
    parameters: ["pointer", "i32"],
    result: "pointer",
    nonblocking: true,
  },
  /** The same function, for `timeout_ms = 0` where a worker thread would only add latency. */
  rd_kafka_queue_poll_now: {
    name: "rd_kafka_queue_poll",
    parameters: ["pointer", "i32"],
    result: "pointer",
  },

  rd_kafka_event_type: { parameters: ["pointer"], result: "i32" },
  rd_kafka_event_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_event_error: { parameters: ["pointer"], result: "i32" },
  rd_kafka_event_error_string: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_event_error_is_fatal: { parameters: ["pointer"], result: "i32" },
  rd_kafka_event_log: {
    parameters: ["pointer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  rd_kafka_event_stats: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_event_message_count: { parameters: ["pointer"], result: "usize" },
  rd_kafka_event_message_array: {
    parameters: ["pointer", "buffer", "usize"],
    result: "usize",
  },
  rd_kafka_event_topic_partition_list: { parameters: ["pointer"], result: "pointer" },

  rd_kafka_consume_batch_queue: {
    parameters: ["pointer", "i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  /** The same function, for `timeout_ms = 0`: takes what is queued without a worker thread. */
  rd_kafka_consume_batch_queue_now: {
    name: "rd_kafka_consume_batch_queue",
    parameters: ["pointer", "i32", "buffer", "usize"],
    result: "isize",
  },
  rd_kafka_message_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_message_timestamp: { parameters: ["pointer", "buffer"], result: "i64" },
  rd_kafka_message_headers: { parameters: ["pointer", "buffer"], result: "i32" },
  rd_kafka_header_get_all: {
    parameters: ["pointer", "usize", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  rd_kafka_topic_name: { parameters: ["pointer"], result: "pointer" },

  rd_kafka_subscribe: { parameters: ["pointer", "pointer"], result: "i32" },
  rd_kafka_rebalance_protocol: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_assign: { parameters: ["pointer", "pointer"], result: "i32" },
  rd_kafka_incremental_assign: { parameters: ["pointer", "pointer"], result: "pointer" },
  rd_kafka_incremental_unassign: { parameters: ["pointer", "pointer"], result: "pointer" },
  rd_kafka_assignment_lost: { parameters: ["pointer"], result: "i32" },
  rd_kafka_offsets_store: { parameters: ["pointer", "pointer"], result: "i32" },
  rd_kafka_commit: {
    parameters: ["pointer", "pointer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  /** `rd_kafka_commit` with `async = 1` only enqueues, so it needs no worker thread. */
  rd_kafka_commit_async: {
    name: "rd_kafka_commit",
    parameters: ["pointer", "pointer", "i32"],
    result: "i32",
  },
  rd_kafka_committed: {
    parameters: ["pointer", "pointer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  rd_kafka_pause_partitions: { parameters: ["pointer", "pointer"], result: "i32" },
  rd_kafka_resume_partitions: { parameters: ["pointer", "pointer"], result: "i32" },
  rd_kafka_seek_partitions: {
    parameters: ["pointer", "pointer", "i32"],
    result: "pointer",
    nonblocking: true,
  },
  /** Zero-timeout seek: librdkafka only enqueues it. */
  rd_kafka_seek_partitions_async: {
    name: "rd_kafka_seek_partitions",
    parameters: ["pointer", "pointer", "i32"],
    result: "pointer",
  },
  rd_kafka_consumer_close: { parameters: ["pointer"], result: "i32", nonblocking: true },

  rd_kafka_topic_partition_list_new: { parameters: ["i32"], result: "pointer" },
  rd_kafka_topic_partition_list_add: {
    parameters: ["pointer", "buffer", "i32"],
    result: "pointer",
  },
  rd_kafka_topic_partition_list_destroy: { parameters: ["pointer"], result: "void" },

  rd_kafka_error_code: { parameters: ["pointer"], result: "i32" },
  rd_kafka_error_string: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_error_is_fatal: { parameters: ["pointer"], result: "i32" },
  rd_kafka_error_is_retriable: { parameters: ["pointer"], result: "i32" },
  rd_kafka_error_txn_requires_abort: { parameters: ["pointer"], result: "i32" },
  rd_kafka_error_destroy: { parameters: ["pointer"], result: "void" },

  // Transactions (KIP-98, with KIP-447's group metadata). Every call that talks
  // to the transaction coordinator waits for it, so it runs on a worker thread.
  rd_kafka_init_transactions: {
    parameters: ["pointer", "i32"],
    result: "pointer",
    nonblocking: true,
  },
  /** Only changes local state: no worker thread. */
  rd_kafka_begin_transaction: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_send_offsets_to_transaction: {
    parameters: ["pointer", "pointer", "pointer", "i32"],
    result: "pointer",
    nonblocking: true,
  },
  rd_kafka_commit_transaction: {
    parameters: ["pointer", "i32"],
    result: "pointer",
    nonblocking: true,
  },
  rd_kafka_abort_transaction: {
    parameters: ["pointer", "i32"],
    result: "pointer",
    nonblocking: true,
  },
  rd_kafka_consumer_group_metadata: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_consumer_group_metadata_destroy: { parameters: ["pointer"], result: "void" },

  rd_kafka_produceva: { parameters: ["pointer", "buffer", "usize"], result: "pointer" },
  // rkt, partition, msgflags, payload, len, key, keylen, msg_opaque (an id, not an address).
  rd_kafka_produce: {
    parameters: ["pointer", "i32", "i32", "buffer", "usize", "buffer", "usize", "usize"],
    result: "i32",
  },
  rd_kafka_last_error: { parameters: [], result: "i32" },
  rd_kafka_flush: { parameters: ["pointer", "i32"], result: "i32", nonblocking: true },
  rd_kafka_outq_len: { parameters: ["pointer"], result: "i32" },

  rd_kafka_topic_new: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  rd_kafka_topic_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_metadata: {
    parameters: ["pointer", "i32", "pointer", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  rd_kafka_metadata_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_list_groups: {
    parameters: ["pointer", "buffer", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  rd_kafka_group_list_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_query_watermark_offsets: {
    parameters: ["pointer", "buffer", "i32", "buffer", "buffer", "i32"],
    result: "i32",
    nonblocking: true,
  },
  rd_kafka_offsets_for_times: {
    parameters: ["pointer", "pointer", "i32"],
    result: "i32",
    nonblocking: true,
  },

  rd_kafka_AdminOptions_new: { parameters: ["pointer", "i32"], result: "pointer" },
  rd_kafka_AdminOptions_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_AdminOptions_set_operation_timeout: {
    parameters: ["pointer", "i32", "buffer", "usize"],
    result: "i32",
  },
  rd_kafka_AdminOptions_set_request_timeout: {
    parameters: ["pointer", "i32", "buffer", "usize"],
    result: "i32",
  },
  rd_kafka_NewTopic_new: {
    parameters: ["buffer", "i32", "i32", "buffer", "usize"],
    result: "pointer",
  },
  rd_kafka_NewTopic_set_config: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
  },
  rd_kafka_NewTopic_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_DeleteTopic_new: { parameters: ["buffer"], result: "pointer" },
  rd_kafka_DeleteTopic_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_CreateTopics: {
    parameters: ["pointer", "buffer", "usize", "pointer", "pointer"],
    result: "void",
  },
  rd_kafka_DeleteTopics: {
    parameters: ["pointer", "buffer", "usize", "pointer", "pointer"],
    result: "void",
  },
  rd_kafka_NewPartitions_new: {
    parameters: ["buffer", "usize", "buffer", "usize"],
    result: "pointer",
  },
  rd_kafka_NewPartitions_destroy: { parameters: ["pointer"], result: "void" },
  rd_kafka_CreatePartitions: {
    parameters: ["pointer", "buffer", "usize", "pointer", "pointer"],
    result: "void",
  },
  rd_kafka_event_CreatePartitions_result: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_CreatePartitions_result_topics: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
  },
  rd_kafka_event_CreateTopics_result: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_event_DeleteTopics_result: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_CreateTopics_result_topics: { parameters: ["pointer", "buffer"], result: "pointer" },
  rd_kafka_DeleteTopics_result_topics: { parameters: ["pointer", "buffer"], result: "pointer" },
  rd_kafka_topic_result_error: { parameters: ["pointer"], result: "i32" },
  rd_kafka_topic_result_error_string: { parameters: ["pointer"], result: "pointer" },
  rd_kafka_topic_result_name: { parameters: ["pointer"], result: "pointer" },
} as const satisfies SymbolTable;

/**
 * Symbols of newer librdkafka releases. Missing ones resolve to `null`; the
 * adapter reports which exist in `features` and works without them.
 */
export const OPTIONAL_SYMBOLS = {
  /** librdkafka >= 2.1: the leader epoch of a fetched message (KIP-320). */
  rd_kafka_message_leader_epoch: { parameters: ["pointer"], result: "i32", optional: true },
  /** librdkafka >= 2.3: the broker's own text for a failed delivery, better than err2str. */
  rd_kafka_message_produce_errstr: { parameters: ["pointer"], result: "pointer", optional: true },
} as const satisfies SymbolTable;

/** Everything the adapter binds. */
export const ALL_SYMBOLS = { ...SYMBOLS, ...OPTIONAL_SYMBOLS } as const;

/** The bound functions, and the call layer that reads the memory they return. */
export type Librdkafka = BoundSymbols<typeof ALL_SYMBOLS> & { readonly mem: FfiLayer };

/** `rd_kafka_conf_set_rebalance_cb`'s callback: `(rk, err, partitions, opaque)`. */
export const REBALANCE_CB = {
  parameters: ["pointer", "i32", "pointer", "pointer"],
  result: "void",
} as const satisfies CallbackSpec;

/** `rd_kafka_type_t`. */
export const RD_KAFKA_PRODUCER = 0;
/** `rd_kafka_type_t`. */
export const RD_KAFKA_CONSUMER = 1;

/** `RD_KAFKA_EVENT_*` types. */
export const EVENT = {
  NONE: 0x0,
  DR: 0x1,
  FETCH: 0x2,
  LOG: 0x4,
  ERROR: 0x8,
  REBALANCE: 0x10,
  OFFSET_COMMIT: 0x20,
  STATS: 0x40,
  CREATETOPICS_RESULT: 100,
  DELETETOPICS_RESULT: 101,
} as const;

/** `rd_kafka_vtype_t` for `rd_kafka_produceva`. */
export const VTYPE = {
  END: 0,
  TOPIC: 1,
  RKT: 2,
  PARTITION: 3,
  VALUE: 4,
  KEY: 5,
  OPAQUE: 6,
  MSGFLAGS: 7,
  TIMESTAMP: 8,
  HEADER: 9,
  HEADERS: 10,
} as const;

/** `RD_KAFKA_MSG_F_COPY`: librdkafka copies the payload, so JS memory may move afterwards. */
export const MSG_F_COPY = 0x2;

/** `RD_KAFKA_OFFSET_*`: logical start offsets of a partition list element. */
export const OFFSET = { BEGINNING: -2, END: -1, INVALID: -1001 } as const;

/** `RD_KAFKA_PARTITION_UA`: let the partitioner choose. */
export const PARTITION_UA = -1;

/** `rd_kafka_admin_op_t` values used here. */
export const ADMIN_OP = { CREATETOPICS: 1, DELETETOPICS: 2, CREATEPARTITIONS: 3 } as const;

/** `rd_kafka_resp_err_t` values by librdkafka's name (`src/_librdkafka.ts`). */
export { ERR } from "../../_librdkafka.ts";
