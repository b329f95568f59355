/**
 * What producer, consumer and admin clients share: building the
 * `rd_kafka_conf_t`, creating the handle and serving its main queue (errors,
 * logs, statistics, delivery reports, commit results) from a background loop.
 *
 * The queue/event API is used instead of C callbacks so that librdkafka never
 * calls into JS from its own threads; the loop pulls events with a
 * `nonblocking` `rd_kafka_queue_poll` (on a worker thread of the call layer),
 * so it never stalls the event loop.
 *
 * @module
 */

import { ConfigError, type KafkaError } from "../../errors.ts";
import type { ClientListeners, ConfigMap } from "../transport.ts";
import { ERR, EVENT, type Librdkafka } from "./symbols.ts";
import { configError, decodeC, fatalError, kafkaError } from "./_errors.ts";
import { cstr } from "./_memory.ts";
import type { Pointer } from "./_layer.ts";

/** How long one background poll waits; bounds how long stopping the loop takes. */
const POLL_MS = 100;

/** What it takes to create a client handle. */
export interface ClientSetup {
  /** `RD_KAFKA_PRODUCER` or `RD_KAFKA_CONSUMER`. */
  type: number;
  /** For messages: `consumer`, `producer`, `admin client`. */
  kind: string;
  /** The user's properties. */
  config: ConfigMap;
  /** Properties the adapter forces over the user's. */
  forced: ConfigMap;
  /** `RD_KAFKA_EVENT_*` bits to route to the main queue. */
  events: number;
  /** The user's listeners. */
  listeners: ClientListeners;
  /** Extra setup on the conf before `rd_kafka_new`, e.g. a rebalance callback. */
  prepare?: (conf: Pointer) => void;
}

/** A librdkafka handle and the loop serving its main queue. */
export class NativeClient {
  /** The bound library. */
  readonly lib: Librdkafka;
  /** The `rd_kafka_t *`. */
  readonly rk: Pointer;
  /** The first fatal error raised, if any. */
  fatal: KafkaError | null = null;

  readonly #listeners: ClientListeners;
  readonly #mainQueue: Pointer;
  #handlers = new Map<number, (event: Pointer) => void>();
  #stopping = false;
  #loop: Promise<void> | null = null;
  #destroyed = false;

  /** Creates the handle; throws a `ConfigError` for a refused property. */
  constructor(lib: Librdkafka, setup: ClientSetup) {
    this.lib = lib;
    this.#listeners = setup.listeners;
    const conf = lib.rd_kafka_conf_new();
    const errstr = new Uint8Array(512);
    try {
      for (const [key, value] of Object.entries({ ...setup.config, ...setup.forced })) {
        if (typeof value !== "string") {
          throw new ConfigError(
            `Invalid librdkafka property "${key}": the value must be a string, got ${typeof value}`,
            { key },
          );
        }
        const res = lib.rd_kafka_conf_set(
          conf,
          cstr(key),
          cstr(value),
          errstr,
          BigInt(errstr.length),
        );
        if (res !== 0) throw configError(key, decodeC(errstr));
      }
      lib.rd_kafka_conf_set_events(conf, setup.events);
      setup.prepare?.(conf);
    } catch (error) {
      lib.rd_kafka_conf_destroy(conf);
      throw error;
    }
    // rd_kafka_new takes ownership of conf only when it succeeds.
    const rk = lib.rd_kafka_new(setup.type, conf, errstr, BigInt(errstr.length));
    if (rk === null) {
      lib.rd_kafka_conf_destroy(conf);
      throw new ConfigError(`Cannot create ${setup.kind}: ${decodeC(errstr)}`);
    }
    this.rk = rk;
    // With log.queue=true, NULL sends logs to the main queue, served below.
    lib.rd_kafka_set_log_queue(rk, null);
    this.#mainQueue = lib.rd_kafka_queue_get_main(rk);
  }

  /** Routes events of `type` from the main queue to `handler`. */
  on(type: number, handler: (event: Pointer) => void): void {
    this.#handlers.set(type, handler);
  }

  /** Starts the background loop over the main queue. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops the loop, waking a poll in flight, and waits for it to end. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#loop === null) return;
    this.lib.rd_kafka_queue_yield(this.#mainQueue);
    await this.#loop;
  }

  /** Stops the loop (if running) and frees the handle. Idempotent. */
  async destroy(): Promise<void> {
    await this.stop();
    if (this.#destroyed) return;
    this.#destroyed = true;
    // Handles to the handle's queues keep it referenced: drop them first.
    this.lib.rd_kafka_queue_destroy(this.#mainQueue);
    await this.lib.rd_kafka_destroy(this.rk);
  }

  async #run(): Promise<void> {
    const lib = this.lib;
    while (!this.#stopping) {
      let event = await lib.rd_kafka_queue_poll(this.#mainQueue, POLL_MS);
      // Drain what is already there without a worker-thread round trip per event.
      while (event !== null) {
        try {
          this.#dispatch(event);
        } finally {
          lib.rd_kafka_event_destroy(event);
        }
        if (this.#stopping) break;
        event = lib.rd_kafka_queue_poll_now(this.#mainQueue, 0);
      }
    }
  }

  #dispatch(event: Pointer): void {
    const lib = this.lib;
    const type = lib.rd_kafka_event_type(event);
    const handler = this.#handlers.get(type);
    if (handler !== undefined) return guard(() => handler(event));
    switch (type) {
      case EVENT.ERROR: {
        const errno = lib.rd_kafka_event_error(event);
        const text = lib.mem.cstring(lib.rd_kafka_event_error_string(event));
        let error: KafkaError;
        if (lib.rd_kafka_event_error_is_fatal(event) !== 0) {
          error = fatalError(lib, this.rk, text ?? "Fatal error");
          this.fatal ??= error;
        } else {
          error = kafkaError(lib, errno, text);
        }
        this.reportError(error);
        return;
      }
      case EVENT.LOG: {
        const onLog = this.#listeners.onLog;
        if (onLog === undefined) return;
        const facility = new BigUint64Array(1);
        const text = new BigUint64Array(1);
        const level = new Int32Array(1);
        if (lib.rd_kafka_event_log(event, facility, text, level) !== 0) return;
        const entry = {
          level: level[0] ?? 7,
          facility: lib.mem.cstring(lib.mem.pointer(facility[0] ?? 0n)) ?? "",
          message: lib.mem.cstring(lib.mem.pointer(text[0] ?? 0n)) ?? "",
        };
        return guard(() => onLog(entry));
      }
      case EVENT.STATS: {
        const onStatistics = this.#listeners.onStatistics;
        const json = lib.mem.cstring(lib.rd_kafka_event_stats(event));
        if (onStatistics !== undefined && json !== null) guard(() => onStatistics(json));
        return;
      }
      case EVENT.OFFSET_COMMIT: {
        // Only async commits end up here; their failures have no caller to reject.
        const errno = lib.rd_kafka_event_error(event);
        if (errno !== ERR.NO_ERROR && errno !== ERR._NO_OFFSET) {
          this.reportError(
            kafkaError(lib, errno, lib.mem.cstring(lib.rd_kafka_event_error_string(event))),
          );
        }
        return;
      }
    }
  }

  /** Hands an error to the user's `onError`. */
  reportError(error: KafkaError): void {
    const onError = this.#listeners.onError;
    if (onError !== undefined) guard(() => onError(error));
  }
}

/**
 * Runs a user listener; a throw is re-raised outside the poll loop, so it
 * surfaces like any uncaught error instead of killing the loop silently.
 */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    setTimeout(() => {
      throw error;
    }, 0);
  }
}
