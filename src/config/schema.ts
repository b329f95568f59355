/**
 * The one configuration schema. Every setting is declared here once; file keys,
 * `RACECAR_*` variables, `--flags`, help text, validation, the librdkafka
 * mapping and `docs/configuration.md` are all derived from it, and the
 * {@link RacecarConfig} type is computed from it so the two cannot drift.
 *
 * @module
 */

import { kebabCase, snakeCase } from "../_case.ts";
import { KEY_PARTITIONERS, LIBRDKAFKA_DEFAULTS } from "../_librdkafka.ts";
import { tempDir } from "../_runtime.ts";
import type { ErrorInfo } from "../errors.ts";
import { FETCH_WAIT_MAX_MS } from "../kafka/_defaults.ts";

/** The kinds of value a setting holds. `duration` is a number of seconds. */
export type SettingType = "string" | "integer" | "float" | "duration" | "boolean" | "list" | "enum";

/** Headings settings are grouped under in help and in the documentation. */
export const GROUPS = [
  "Basic",
  "Consuming and batches",
  "Errors, retries and dead letters",
  "Offset commits",
  "Timeouts and intervals",
  "Memory and network",
  "SSL",
  "SASL",
  "Producing",
  "Pass-through librdkafka properties",
  "Logging",
  "Daemon",
  "Liveness and readiness probes",
  "Datadog",
  "Prometheus",
  "OpenTelemetry",
] as const;

/** One of {@link GROUPS}. */
export type SettingGroup = (typeof GROUPS)[number];

/** Where a librdkafka property is sent. */
export type RdkafkaScope = "consumer" | "producer" | "both";

/** What every setting declares, whatever its type. */
export interface SettingBase {
  /** The heading it is listed under. */
  readonly group: SettingGroup;
  /** One or two sentences for help and docs. */
  readonly description: string;
  /** The value must never be printed (passwords, keys, tokens). */
  readonly secret?: boolean;
  /** The librdkafka property it becomes, if any. */
  readonly rdkafka?: string;
  /** Which clients receive {@link SettingBase.rdkafka}. */
  readonly scope?: RdkafkaScope;
  /**
   * `racecar`: as in Ruby racecar (the default). `changed`: racecar has it but we
   * fixed its meaning or mapping. `new`: ours.
   */
  readonly origin?: "racecar" | "changed" | "new";
  /** Extra remarks shown in the documentation. */
  readonly notes?: string;
  /** Shown instead of the default when the default is computed at run time. */
  readonly defaultText?: string;
  /** A consumer class may set it as a static field of the same name (`static maxWaitTime = 5`). */
  readonly perClass?: boolean;
}

/** A free-form text setting. */
export interface StringSetting extends SettingBase {
  readonly type: "string";
  readonly default?: string;
  /** Computes the default at load time (e.g. from the temp directory). */
  readonly computeDefault?: () => string;
  /** An empty string means something (otherwise `""` is rejected as a mistake). */
  readonly allowEmpty?: boolean;
}

/** A numeric setting; `duration`s are seconds and may be fractional. */
export interface NumberSetting extends SettingBase {
  readonly type: "integer" | "float" | "duration";
  readonly default?: number;
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** Unit for help text when not seconds, e.g. `ms` or `bytes`. */
  readonly unit?: string;
}

/** An on/off setting. */
export interface BooleanSetting extends SettingBase {
  readonly type: "boolean";
  readonly default: boolean;
}

/** A list of strings; comma-separated in environment variables and flags. */
export interface ListSetting extends SettingBase {
  readonly type: "list";
  readonly default?: readonly string[];
  /** `keyValue`: every entry must read `key=value`; `hostPort`: `host:port`. */
  readonly itemFormat?: "keyValue" | "hostPort";
}

/** One value out of a fixed set. */
export interface EnumSetting extends SettingBase {
  readonly type: "enum";
  readonly allowed: readonly string[];
  readonly default?: string;
}

/** The declaration of one setting. */
export type SettingSpec =
  | StringSetting
  | NumberSetting
  | BooleanSetting
  | ListSetting
  | EnumSetting;

/**
 * Every setting, keyed by its camelCase name, in documentation order.
 *
 * @example
 * ```ts
 * import { SETTINGS } from "./schema.ts";
 * console.assert(SETTINGS.maxWaitTime.default === 1);
 * ```
 */
export const SETTINGS = {
  // Basic
  brokers: {
    group: "Basic",
    type: "list",
    default: ["localhost:9092"],
    itemFormat: "hostPort",
    description: "The Kafka brokers to bootstrap from, as `host:port`.",
    rdkafka: "bootstrap.servers",
    scope: "both",
  },
  clientId: {
    group: "Basic",
    type: "string",
    default: "racecar",
    description: "Identifies this client in broker logs and metrics.",
    rdkafka: "client.id",
    scope: "both",
  },
  groupId: {
    group: "Basic",
    type: "string",
    description: "The consumer group. Must differ for every consumer class. When unset it is " +
      "derived from the class name, e.g. `BaconConsumer` becomes `bacon-consumer`.",
    rdkafka: "group.id",
    scope: "consumer",
    perClass: true,
  },
  groupIdPrefix: {
    group: "Basic",
    type: "string",
    allowEmpty: true,
    description: "Prepended to generated group ids, e.g. `kevin.` gives `kevin.bacon-consumer`.",
  },
  groupInstanceId: {
    group: "Basic",
    type: "string",
    origin: "new",
    description: "Makes this process a static member of the group (Kafka's static membership): " +
      "restarted within `session_timeout`, it gets its partitions back without a rebalance. " +
      "Must be unique among the running members; parallel workers append `-<n>`. Up to 249 " +
      "letters, digits, `.`, `_` and `-`.",
    rdkafka: "group.instance.id",
    scope: "consumer",
    notes: "A static member does not leave the group when it stops, even cleanly: its " +
      'partitions wait `session_timeout` for it. See docs/operations.md, "Restarts without ' +
      'rebalances".',
  },
  consumersDir: {
    group: "Basic",
    type: "string",
    default: "consumers",
    origin: "new",
    description: "The directory, relative to the working directory, where consumer classes " +
      "are looked up by name.",
  },

  // Consuming and batches
  fetchMessages: {
    group: "Consuming and batches",
    type: "integer",
    default: 1000,
    min: 1,
    perClass: true,
    description: "The most messages one poll hands over (to `processBatch`, split by " +
      "partition, or to `process` one by one). A poll never waits to fill a batch: it returns " +
      "what has arrived, up to this many, so batches grow only when messages arrive faster " +
      "than they are processed. Can be set per consumer class.",
  },
  concurrency: {
    group: "Consuming and batches",
    type: "integer",
    default: 1,
    min: 1,
    origin: "new",
    perClass: true,
    description: "How many partitions are processed at the same time. Messages of one " +
      "partition are always processed in order.",
  },
  keyConcurrency: {
    group: "Consuming and batches",
    type: "integer",
    default: 1,
    min: 1,
    origin: "new",
    perClass: true,
    description: "How many keys of one partition `process` works on at the same time. " +
      "Messages with the same key are processed one after another in offset order, messages " +
      "with different keys in parallel; messages without a key are one key of their own. `1` " +
      "processes a partition strictly in order. Only for consumers that implement `process`.",
    notes: "A failure pauses the whole partition; after the pause it is processed again from " +
      "the failed message, including later messages of other keys that had finished. See " +
      "docs/parallelism.md.",
  },
  maxPendingDeliveries: {
    group: "Consuming and batches",
    type: "integer",
    default: 1000,
    min: 1,
    origin: "new",
    description: "How many processed messages of one partition may wait for the delivery of " +
      "what they produced before `process` waits for the oldest. Their offsets are stored " +
      "once they and every message before them were delivered.",
  },
  maxPendingDeliveriesTotal: {
    group: "Consuming and batches",
    type: "integer",
    default: 10000,
    min: 1,
    origin: "new",
    description: "The same bound as `max_pending_deliveries` over all partitions of the " +
      "process together.",
  },
  multiSubscriptionStrategy: {
    group: "Consuming and batches",
    type: "enum",
    allowed: ["round-robin", "exhaust-topic"],
    default: "exhaust-topic",
    origin: "changed",
    description: "Accepted for compatibility with racecar, and has no effect: one librdkafka " +
      "consumer reads all of a class's topics, fetching from them together, so no topic " +
      "waits for another (racecar's one-consumer-per-topic design starved quiet topics).",
  },
  partitionAssignmentStrategy: {
    group: "Consuming and batches",
    type: "string",
    default: "range,roundrobin",
    description: "Comma-separated assignors in order of preference: `range`, `roundrobin` " +
      "or `cooperative-sticky` (which cannot be mixed with the others).",
    rdkafka: "partition.assignment.strategy",
    scope: "consumer",
  },

  // Errors, retries and dead letters
  pauseTimeout: {
    group: "Errors, retries and dead letters",
    type: "duration",
    default: 10,
    min: -1,
    origin: "changed",
    description: "How long to pause a partition after processing fails, then retry. `-1` " +
      "pauses it until the process restarts. `0` does not pause: the error propagates and " +
      "stops the consumer. Must be positive with `max_retries` (with `-1` or `0` no retry " +
      "would ever happen).",
    notes: "Racecar's README says `0` disables pausing; in fact the error crashed the " +
      "process. We keep that behaviour and say so.",
  },
  pauseWithExponentialBackoff: {
    group: "Errors, retries and dead letters",
    type: "boolean",
    default: false,
    description: "Double the pause after each consecutive failure of the same partition.",
  },
  maxPauseTimeout: {
    group: "Errors, retries and dead letters",
    type: "duration",
    min: 0,
    description: "The longest pause when `pause_with_exponential_backoff` is on. Unset: no cap.",
  },
  maxRetries: {
    group: "Errors, retries and dead letters",
    type: "integer",
    min: 0,
    origin: "new",
    description: "How many times a failing message is retried before it is sent to " +
      "`dead_letter_topic` and skipped (so at most `max_retries + 1` attempts; `0` dead-letters " +
      "on the first failure). Unset: retry forever, as racecar does.",
  },
  deadLetterTopic: {
    group: "Errors, retries and dead letters",
    type: "string",
    origin: "new",
    description: "Where messages that exhausted `max_retries` are produced, with headers " +
      "describing the failure. Required with `max_retries`.",
  },
  deadLetterSafetyLimit: {
    group: "Errors, retries and dead letters",
    type: "integer",
    default: 100,
    min: 0,
    origin: "new",
    description: "Stop the consumer instead of dead-lettering when this many failures in a row " +
      "of one partition went to `dead_letter_topic`, which usually means a broken dependency " +
      "rather than bad messages. A failure is one message with `process` and one whole batch " +
      "with `processBatch`; a success on the partition starts the count again. `0`: no limit.",
  },

  // Offset commits
  offsetCommitInterval: {
    group: "Offset commits",
    type: "duration",
    default: 10,
    min: 0,
    description: "How often processed offsets are committed to Kafka.",
    rdkafka: "auto.commit.interval.ms",
    scope: "consumer",
  },
  synchronousCommits: {
    group: "Offset commits",
    type: "boolean",
    default: false,
    origin: "changed",
    description: "Wait for the broker to acknowledge the final offset commit at shutdown " +
      "instead of committing asynchronously.",
    notes: 'Racecar described this as "Automatically store offset of last message provided ' +
      'to application", which it never did.',
  },
  transactional: {
    group: "Offset commits",
    type: "boolean",
    default: false,
    origin: "new",
    perClass: true,
    description: "Exactly-once processing: each polled batch (at most `fetch_messages` " +
      "messages) is processed in one Kafka transaction, and the messages the consumer produced " +
      "(dead letters included) commit together with the batch's offsets, or not at all. A " +
      "processing error aborts the transaction and the partitions go back to their last " +
      "commit. Needs librdkafka (not the memory transport). See docs/exactly_once.md.",
  },
  transactionalId: {
    group: "Offset commits",
    type: "string",
    origin: "new",
    defaultText: "`<group_id>`",
    description: "The producer's `transactional.id` when `transactional` is on. Parallel " +
      "workers append `-<n>`. A restarted worker with the same id fences its predecessor; two " +
      "processes running at once must not share one, so give each host its own (e.g. its " +
      "StatefulSet ordinal).",
  },
  isolationLevel: {
    group: "Offset commits",
    type: "enum",
    allowed: ["read_committed", "read_uncommitted"],
    default: "read_committed",
    origin: "new",
    description: "Which messages of transactional producers the consumer reads: only those of " +
      "committed transactions, or also those of open and aborted ones. A `transactional` " +
      "consumer must read committed.",
    rdkafka: "isolation.level",
    scope: "consumer",
  },

  // Timeouts and intervals
  sessionTimeout: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 30,
    min: 0,
    description: "How long the group waits for a heartbeat before removing this consumer.",
    rdkafka: "session.timeout.ms",
    scope: "consumer",
  },
  heartbeatInterval: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 10,
    min: 0,
    description: "How often to send heartbeats to the group coordinator.",
    rdkafka: "heartbeat.interval.ms",
    scope: "consumer",
  },
  maxPollInterval: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 300,
    min: 0,
    description: "The longest time between two polls before the consumer is removed from the " +
      "group: processing a batch must finish sooner.",
    rdkafka: "max.poll.interval.ms",
    scope: "consumer",
  },
  socketTimeout: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 30,
    min: 0,
    description: "How long network requests to brokers may take. Must exceed `max_wait_time`.",
    rdkafka: "socket.timeout.ms",
    scope: "consumer",
  },
  maxWaitTime: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 1,
    // The runner waits in whole milliseconds, and a wait of 0 would spin.
    min: 0.001,
    perClass: true,
    description: "How long a poll waits when no message has arrived (it returns as soon as " +
      "one has): it bounds idle waits, not latency, and has no effect on batch size. The loop " +
      "waits at most 1 s and never past the end of a pause, and a stop wakes it. Unlike " +
      "racecar's, it does not set librdkafka's `fetch.wait.max.ms`, how long a broker holds " +
      `a fetch that found nothing: Racecar sets that to ${FETCH_WAIT_MAX_MS} ms, as a longer ` +
      "hold delays a resumed partition's retry. Can be set per consumer class.",
  },
  messageTimeout: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 300,
    min: 0,
    description: "How long to keep trying to deliver a produced message before giving up.",
    rdkafka: "message.timeout.ms",
    scope: "producer",
  },
  statisticsInterval: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 1,
    min: 0,
    origin: "changed",
    description: "How often librdkafka emits statistics. Only used when something asks for " +
      "statistics (a consumer's `statisticsCallback` or a metrics exporter); otherwise off.",
    rdkafka: "statistics.interval.ms",
    scope: "both",
  },
  revokeTimeout: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 30,
    min: 0,
    origin: "new",
    description: "How long a rebalance waits for the in-flight work of revoked partitions " +
      "before committing what finished and giving them up. Work that finishes later is not " +
      "committed: the partitions' next owner processes it again.",
  },
  shutdownTimeout: {
    group: "Timeouts and intervals",
    type: "duration",
    default: 60,
    min: 1,
    origin: "new",
    description: "How long a stop (SIGTERM, SIGINT) may take: finishing the work in hand, the " +
      "final commit and leaving the group. After it the process exits 1 without committing " +
      "more; uncommitted work is processed again by the partitions' next owner.",
    notes: "Karafka's name. Racecar waited forever, e.g. for an unreachable coordinator.",
  },

  // Memory and network
  maxBytes: {
    group: "Memory and network",
    type: "integer",
    default: 10485760,
    min: 1,
    unit: "bytes",
    description: "The most data a broker returns for one fetch request.",
    rdkafka: "fetch.max.bytes",
    scope: "consumer",
  },
  minMessageQueueSize: {
    group: "Memory and network",
    type: "integer",
    default: 2000,
    min: 1,
    description: "The minimum number of messages librdkafka tries to keep queued locally per " +
      "partition. Memory use is roughly `max_bytes * min_message_queue_size`.",
    rdkafka: "queued.min.messages",
    scope: "consumer",
  },
  fetchMinBytes: {
    group: "Memory and network",
    type: "integer",
    default: 1,
    min: 1,
    unit: "bytes",
    description: "The least data a broker waits for before answering a fetch.",
    rdkafka: "fetch.min.bytes",
    scope: "consumer",
  },

  // SSL
  securityProtocol: {
    group: "SSL",
    type: "enum",
    allowed: ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"],
    description: "How to talk to brokers. Unset: librdkafka's default, `plaintext`.",
    rdkafka: "security.protocol",
    scope: "both",
  },
  sslCaLocation: {
    group: "SSL",
    type: "string",
    description: "File or directory of CA certificates to verify the brokers' certificates.",
    rdkafka: "ssl.ca.location",
    scope: "both",
  },
  sslCaPem: {
    group: "SSL",
    type: "string",
    origin: "new",
    description: "CA certificate(s) as a PEM string, instead of `ssl_ca_location`.",
    rdkafka: "ssl.ca.pem",
    scope: "both",
  },
  sslCrlLocation: {
    group: "SSL",
    type: "string",
    description: "Certificate revocation list used to verify the brokers' certificates.",
    rdkafka: "ssl.crl.location",
    scope: "both",
  },
  sslKeystoreLocation: {
    group: "SSL",
    type: "string",
    description: "The client's PKCS#12 keystore.",
    rdkafka: "ssl.keystore.location",
    scope: "both",
  },
  sslKeystorePassword: {
    group: "SSL",
    type: "string",
    secret: true,
    description: "The password of `ssl_keystore_location`.",
    rdkafka: "ssl.keystore.password",
    scope: "both",
  },
  sslCertificateLocation: {
    group: "SSL",
    type: "string",
    description: "The client's certificate (PEM file).",
    rdkafka: "ssl.certificate.location",
    scope: "both",
  },
  sslCertificatePem: {
    group: "SSL",
    type: "string",
    origin: "new",
    description: "The client's certificate as a PEM string, instead of " +
      "`ssl_certificate_location`.",
    rdkafka: "ssl.certificate.pem",
    scope: "both",
  },
  sslKeyLocation: {
    group: "SSL",
    type: "string",
    description: "The client's private key (PEM file).",
    rdkafka: "ssl.key.location",
    scope: "both",
  },
  sslKeyPem: {
    group: "SSL",
    type: "string",
    secret: true,
    origin: "new",
    description: "The client's private key as a PEM string, instead of `ssl_key_location`.",
    rdkafka: "ssl.key.pem",
    scope: "both",
  },
  sslKeyPassword: {
    group: "SSL",
    type: "string",
    secret: true,
    description: "The password of the client's private key.",
    rdkafka: "ssl.key.password",
    scope: "both",
  },
  sslVerifyHostname: {
    group: "SSL",
    type: "boolean",
    default: true,
    origin: "changed",
    description: "Check that a broker's certificate names the host connected to " +
      "(`https`), or skip that check (`none`).",
    rdkafka: "ssl.endpoint.identification.algorithm",
    scope: "both",
    notes: "Racecar mapped this to `enable.ssl.certificate.verification`, which turns off all " +
      "certificate checks; that is now `ssl_verify_certificate`.",
  },
  sslVerifyCertificate: {
    group: "SSL",
    type: "boolean",
    default: true,
    origin: "new",
    description: "Verify brokers' certificates at all. Turn off only for local testing.",
    rdkafka: "enable.ssl.certificate.verification",
    scope: "both",
  },

  // SASL
  saslMechanism: {
    group: "SASL",
    type: "enum",
    allowed: ["GSSAPI", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"],
    origin: "changed",
    description: "The SASL mechanism to authenticate with.",
    rdkafka: "sasl.mechanism",
    scope: "both",
    notes: "`OAUTHBEARER` is new.",
  },
  saslKerberosServiceName: {
    group: "SASL",
    type: "string",
    description: "The Kerberos principal name Kafka runs as.",
    rdkafka: "sasl.kerberos.service.name",
    scope: "both",
  },
  saslKerberosPrincipal: {
    group: "SASL",
    type: "string",
    description: "This client's Kerberos principal name.",
    rdkafka: "sasl.kerberos.principal",
    scope: "both",
  },
  saslKerberosKinitCmd: {
    group: "SASL",
    type: "string",
    description: "The full kinit command; `%{config.prop.name}` is replaced by that property " +
      "and `%{broker.name}` by the broker's host name.",
    rdkafka: "sasl.kerberos.kinit.cmd",
    scope: "both",
  },
  saslKerberosKeytab: {
    group: "SASL",
    type: "string",
    description: "The Kerberos keytab file. Unset: the system default.",
    rdkafka: "sasl.kerberos.keytab",
    scope: "both",
  },
  saslKerberosMinTimeBeforeRelogin: {
    group: "SASL",
    type: "integer",
    min: 0,
    unit: "ms",
    description: "The least time between key refreshes, in milliseconds.",
    rdkafka: "sasl.kerberos.min.time.before.relogin",
    scope: "both",
  },
  saslUsername: {
    group: "SASL",
    type: "string",
    description: "The user name for `PLAIN` and `SCRAM-*`.",
    rdkafka: "sasl.username",
    scope: "both",
  },
  saslPassword: {
    group: "SASL",
    type: "string",
    secret: true,
    description: "The password for `PLAIN` and `SCRAM-*`.",
    rdkafka: "sasl.password",
    scope: "both",
  },
  saslOauthbearerConfig: {
    group: "SASL",
    type: "string",
    secret: true,
    origin: "new",
    description: "librdkafka's `sasl.oauthbearer.config` for `OAUTHBEARER`, e.g. " +
      "`principal=admin` for unsecured test tokens.",
    rdkafka: "sasl.oauthbearer.config",
    scope: "both",
  },

  // Producing
  partitioner: {
    group: "Producing",
    type: "enum",
    allowed: KEY_PARTITIONERS,
    default: LIBRDKAFKA_DEFAULTS.partitioner,
    description: "How a produced message's partition is chosen from its key.",
    rdkafka: "partitioner",
    scope: "producer",
  },
  producerCompressionCodec: {
    group: "Producing",
    type: "enum",
    allowed: ["none", "gzip", "snappy", "lz4", "zstd"],
    origin: "changed",
    description: "Compress produced messages. Unset: librdkafka's default (none).",
    rdkafka: "compression.codec",
    scope: "producer",
    notes: "`zstd` is new.",
  },

  // Pass-through
  consumer: {
    group: "Pass-through librdkafka properties",
    type: "list",
    default: [],
    itemFormat: "keyValue",
    description: "Extra librdkafka consumer properties as `key=value` entries. They override " +
      "the properties Racecar derives. In a variable or flag the entries are separated by " +
      "commas, and a value may hold commas itself (`debug=cgrp,fetch`).",
  },
  producer: {
    group: "Pass-through librdkafka properties",
    type: "list",
    default: [],
    itemFormat: "keyValue",
    description: "Extra librdkafka producer properties as `key=value` entries. They override " +
      "the properties Racecar derives. In a variable or flag the entries are separated by " +
      "commas, and a value may hold commas itself (`debug=cgrp,fetch`).",
    notes: "Producers run with `enable.idempotence=true` by default, so librdkafka's retries " +
      "neither duplicate nor reorder messages within a partition (this needs `acks=all`, " +
      "librdkafka's default). Turn it off with `enable.idempotence=false` here, e.g. for " +
      "brokers older than 0.11 or principals without the `IdempotentWrite` permission on " +
      "Kafka before 3.0.",
  },

  // Logging
  logfile: {
    group: "Logging",
    type: "string",
    description: "Write logs to this file. Unset: standard error.",
  },
  logLevel: {
    group: "Logging",
    type: "enum",
    allowed: ["trace", "debug", "info", "warn", "error", "fatal"],
    default: "info",
    description: "The least severe log level written.",
  },
  logFormat: {
    group: "Logging",
    type: "enum",
    allowed: ["text", "json"],
    default: "text",
    origin: "new",
    description: "`text`: one readable line per record. `json`: one JSON object per line " +
      "(LogTape's JSON Lines: `@timestamp`, `level`, `logger`, `message`, `properties`), for " +
      "Loki, ELK and the like.",
  },
  librdkafkaLogLevel: {
    group: "Logging",
    type: "enum",
    allowed: ["trace", "debug", "info", "warn", "error", "fatal"],
    default: "warn",
    origin: "new",
    description: "The least severe level of librdkafka's own lines (category " +
      "`racecar.librdkafka`); `log_level` still applies. librdkafka's connection failures " +
      "are logged by Racecar instead, once and then in a summary.",
  },
  logSummaryInterval: {
    group: "Logging",
    type: "duration",
    default: 60,
    min: 1,
    origin: "new",
    description: "How often a lasting Kafka problem (no broker reachable, a subscribed topic " +
      "missing) is logged again, as one summary line.",
  },

  // Daemon
  daemonize: {
    group: "Daemon",
    type: "boolean",
    default: false,
    description: "Run in the background.",
  },
  pidfile: {
    group: "Daemon",
    type: "string",
    defaultText: "`<group_id>.pid`",
    description: "Where the background process writes its process id.",
  },

  // Probes
  livenessProbeEnabled: {
    group: "Liveness and readiness probes",
    type: "boolean",
    default: false,
    description: "Touch `liveness_probe_file_path` on every loop and delete it at shutdown.",
  },
  livenessProbeFilePath: {
    group: "Liveness and readiness probes",
    type: "string",
    computeDefault: () => `${tempDir().replace(/\/+$/, "")}/racecar-liveness`,
    defaultText: "`$TMPDIR/racecar-liveness`",
    description: "The file the liveness probe touches.",
  },
  livenessProbeMaxInterval: {
    group: "Liveness and readiness probes",
    type: "duration",
    default: 5,
    min: 0,
    description: "`racecarctl liveness_probe` fails when the file is older than this. Must " +
      "exceed 1 s (the loop turns at least every second, whatever `max_wait_time`) plus the " +
      "time a batch takes.",
  },
  livenessProbeSkipConfigFiles: {
    group: "Liveness and readiness probes",
    type: "boolean",
    default: false,
    description: "`racecarctl liveness_probe` reads only defaults and the environment, not " +
      "`config/racecar.yml` or `config/racecar.ts`.",
  },
  readinessProbeFilePath: {
    group: "Liveness and readiness probes",
    type: "string",
    origin: "new",
    description: "Create this file once the consumer joined its group and got its first " +
      "assignment, even an empty one (an idle member is ready), and delete it at shutdown. " +
      "Unset: no readiness probe.",
  },

  // Datadog
  datadogEnabled: {
    group: "Datadog",
    type: "boolean",
    default: false,
    description: "Send metrics to a Datadog agent over DogStatsD.",
  },
  datadogHost: {
    group: "Datadog",
    type: "string",
    defaultText: "`127.0.0.1`",
    description: "The Datadog agent's host.",
  },
  datadogPort: {
    group: "Datadog",
    type: "integer",
    min: 1,
    max: 65535,
    defaultText: "`8125`",
    description: "The Datadog agent's port.",
  },
  datadogSocketPath: {
    group: "Datadog",
    type: "string",
    description: "The Datadog agent's Unix socket; takes precedence over host and port.",
  },
  datadogNamespace: {
    group: "Datadog",
    type: "string",
    default: "racecar",
    description: "The prefix of every metric name.",
  },
  datadogTags: {
    group: "Datadog",
    type: "list",
    default: [],
    description: "Tags added to every metric, e.g. `env:production`.",
  },

  // Prometheus
  prometheusEnabled: {
    group: "Prometheus",
    type: "boolean",
    default: false,
    origin: "new",
    description: "Serve metrics for Prometheus at `http://<prometheus_host>:<prometheus_port>" +
      "/metrics`.",
  },
  prometheusPort: {
    group: "Prometheus",
    type: "integer",
    default: 9394,
    min: 1,
    max: 65535,
    origin: "new",
    description: "The port of the metrics endpoint.",
  },
  prometheusHost: {
    group: "Prometheus",
    type: "string",
    default: "0.0.0.0",
    origin: "new",
    description: "The address the metrics endpoint listens on.",
  },

  // OpenTelemetry
  tracingEnabled: {
    group: "OpenTelemetry",
    type: "boolean",
    default: false,
    origin: "new",
    description: "Trace processing and producing, and record metrics, through " +
      "`@opentelemetry/api` and the SDK the application registers (see docs/tracing.md).",
  },
} as const satisfies Record<string, SettingSpec>;

/** The camelCase name of a setting. */
export type SettingName = keyof typeof SETTINGS;

type Specs = typeof SETTINGS;

/** The TypeScript type of a setting's value, computed from its declaration. */
export type ValueOf<S> = S extends { type: "enum"; allowed: readonly (infer A)[] } ? A
  : S extends { type: "list" } ? string[]
  : S extends { type: "boolean" } ? boolean
  : S extends { type: "integer" | "float" | "duration" } ? number
  : string;

/** Every schema setting with its value; settings without a default may be `undefined`. */
export type Settings = {
  -readonly [K in SettingName]: Specs[K] extends { default: unknown } ? ValueOf<Specs[K]>
    : Specs[K] extends { computeDefault: unknown } ? ValueOf<Specs[K]>
    : ValueOf<Specs[K]> | undefined;
};

/** What racecar passes to an error handler besides the error. */
export type { ErrorInfo };

/** Called for every processing error; errors it throws are logged and ignored. */
export type ErrorHandler = (error: unknown, info: ErrorInfo) => void | Promise<void>;

/**
 * Values that only code can provide: set in `config/racecar.ts`, never in files,
 * the environment or flags.
 */
export interface CodeSettings {
  /** Reports processing errors, e.g. to an exception tracker. */
  onError?: ErrorHandler;
}

/** Names of {@link CodeSettings}. */
export const CODE_SETTINGS: readonly (keyof CodeSettings)[] = ["onError"];

/** The full configuration: every schema setting, plus code-only hooks. */
export type RacecarConfig = Settings & CodeSettings;

/** A setting with its derived names, as listed by {@link schema}. */
export type SettingDefinition = SettingSpec & {
  /** camelCase, e.g. `maxWaitTime`. */
  readonly name: SettingName;
  /** The key in `config/racecar.yml`, e.g. `max_wait_time`. */
  readonly fileKey: string;
  /** The environment variable, e.g. `RACECAR_MAX_WAIT_TIME`. */
  readonly envVar: string;
  /** The command-line flag, e.g. `--max-wait-time`. */
  readonly flag: string;
};

export { camelCase, kebabCase, snakeCase } from "../_case.ts";

/** `maxWaitTime` -> `RACECAR_MAX_WAIT_TIME`. */
export function envVarName(name: string): string {
  return `RACECAR_${snakeCase(name).toUpperCase()}`;
}

/** Environment variable prefix. */
export const ENV_PREFIX = "RACECAR_";

const DEFINITIONS: readonly SettingDefinition[] = (Object.keys(SETTINGS) as SettingName[]).map(
  (name) => ({
    ...(SETTINGS[name] as SettingSpec),
    name,
    fileKey: snakeCase(name),
    envVar: envVarName(name),
    flag: `--${kebabCase(name)}`,
  }),
);

/**
 * Every setting with its derived names, in documentation order.
 *
 * @example
 * ```ts
 * import { schema } from "./schema.ts";
 * const wait = schema().find((s) => s.name === "maxWaitTime")!;
 * console.assert(wait.envVar === "RACECAR_MAX_WAIT_TIME" && wait.flag === "--max-wait-time");
 * ```
 */
export function schema(): readonly SettingDefinition[] {
  return DEFINITIONS;
}

/** The declaration of one setting. */
export function settingSpec(name: SettingName): SettingSpec {
  return SETTINGS[name];
}

/** Whether `name` is a schema setting. */
export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SETTINGS, name);
}

/**
 * A fresh configuration holding every default. Lists are copied, so callers may
 * change the result freely.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./schema.ts";
 * const config = defaultConfig();
 * console.assert(config.brokers[0] === "localhost:9092" && config.groupId === undefined);
 * ```
 */
export function defaultConfig(): RacecarConfig {
  const config: Record<string, unknown> = {};
  for (const def of DEFINITIONS) config[def.name] = defaultValue(def);
  return config as unknown as RacecarConfig;
}

/** The default of one setting, computed or copied; `undefined` when it has none. */
export function defaultValue(spec: SettingSpec): unknown {
  if (spec.type === "string" && spec.computeDefault) return spec.computeDefault();
  if (spec.type === "list") return spec.default ? [...spec.default] : undefined;
  return spec.default;
}
