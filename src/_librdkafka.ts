/**
 * Facts about librdkafka that several modules need, said once: its error codes
 * (name, text, whether the condition can pass on its own), its partitioners and
 * the defaults of the properties Racecar reads back. `errors.ts`, the config
 * schema and every adapter (FFI, node-rdkafka, memory) take theirs from here.
 *
 * The error table is what librdkafka 2.12 answers to `rd_kafka_err2name` and
 * `rd_kafka_err2str` for every code it knows; tests/librdkafka_test.ts holds it
 * against the loaded library.
 *
 * @module
 */

/**
 * Every `rd_kafka_resp_err_t`, by librdkafka's name for it (`rd_kafka_err2name`,
 * which Racecar prefixes with `ERR_`): `[code, text, retriable]`, the text as
 * `rd_kafka_err2str` gives it, `retriable` when trying again may succeed.
 */
export const LIBRDKAFKA_ERRORS = {
  _BAD_MSG: [-199, "Local: Bad message format"],
  _BAD_COMPRESSION: [-198, "Local: Invalid compressed data"],
  _DESTROY: [-197, "Local: Broker handle destroyed for termination"],
  _FAIL: [-196, "Local: Communication failure with broker"],
  _TRANSPORT: [-195, "Local: Broker transport failure", true],
  _CRIT_SYS_RESOURCE: [-194, "Local: Critical system resource failure"],
  _RESOLVE: [-193, "Local: Host resolution failure"],
  _MSG_TIMED_OUT: [-192, "Local: Message timed out", true],
  _PARTITION_EOF: [-191, "Broker: No more messages"],
  _UNKNOWN_PARTITION: [-190, "Local: Unknown partition"],
  _FS: [-189, "Local: File or filesystem error"],
  _UNKNOWN_TOPIC: [-188, "Local: Unknown topic"],
  _ALL_BROKERS_DOWN: [-187, "Local: All broker connections are down", true],
  _INVALID_ARG: [-186, "Local: Invalid argument or configuration"],
  _TIMED_OUT: [-185, "Local: Timed out", true],
  _QUEUE_FULL: [-184, "Local: Queue full", true],
  _ISR_INSUFF: [-183, "Local: ISR count insufficient"],
  _NODE_UPDATE: [-182, "Local: Broker node update"],
  _SSL: [-181, "Local: SSL error"],
  _WAIT_COORD: [-180, "Local: Waiting for coordinator"],
  _UNKNOWN_GROUP: [-179, "Local: Unknown group"],
  _IN_PROGRESS: [-178, "Local: Operation in progress"],
  _PREV_IN_PROGRESS: [-177, "Local: Previous operation in progress"],
  _EXISTING_SUBSCRIPTION: [-176, "Local: Existing subscription"],
  _ASSIGN_PARTITIONS: [-175, "Local: Assign partitions"],
  _REVOKE_PARTITIONS: [-174, "Local: Revoke partitions"],
  _CONFLICT: [-173, "Local: Conflicting use"],
  _STATE: [-172, "Local: Erroneous state"],
  _UNKNOWN_PROTOCOL: [-171, "Local: Unknown protocol"],
  _NOT_IMPLEMENTED: [-170, "Local: Not implemented"],
  _AUTHENTICATION: [-169, "Local: Authentication failure"],
  _NO_OFFSET: [-168, "Local: No offset stored"],
  _OUTDATED: [-167, "Local: Outdated"],
  _TIMED_OUT_QUEUE: [-166, "Local: Timed out in queue", true],
  _UNSUPPORTED_FEATURE: [-165, "Local: Required feature not supported by broker"],
  _WAIT_CACHE: [-164, "Local: Awaiting cache update"],
  _INTR: [-163, "Local: Operation interrupted"],
  _KEY_SERIALIZATION: [-162, "Local: Key serialization error"],
  _VALUE_SERIALIZATION: [-161, "Local: Value serialization error"],
  _KEY_DESERIALIZATION: [-160, "Local: Key deserialization error"],
  _VALUE_DESERIALIZATION: [-159, "Local: Value deserialization error"],
  _PARTIAL: [-158, "Local: Partial response"],
  _READ_ONLY: [-157, "Local: Read-only object"],
  _NOENT: [-156, "Local: No such entry"],
  _UNDERFLOW: [-155, "Local: Read underflow"],
  _INVALID_TYPE: [-154, "Local: Invalid type"],
  _RETRY: [-153, "Local: Retry operation"],
  _PURGE_QUEUE: [-152, "Local: Purged in queue"],
  _PURGE_INFLIGHT: [-151, "Local: Purged in flight"],
  _FATAL: [-150, "Local: Fatal error"],
  _INCONSISTENT: [-149, "Local: Inconsistent state"],
  _GAPLESS_GUARANTEE: [-148, "Local: Gap-less ordering would not be guaranteed if proceeding"],
  _MAX_POLL_EXCEEDED: [
    -147,
    "Local: Maximum application poll interval (max.poll.interval.ms) exceeded",
    true,
  ],
  _UNKNOWN_BROKER: [-146, "Local: Unknown broker"],
  _NOT_CONFIGURED: [-145, "Local: Functionality not configured"],
  _FENCED: [-144, "Local: This instance has been fenced by a newer instance"],
  _APPLICATION: [-143, "Local: Application generated error"],
  _ASSIGNMENT_LOST: [-142, "Local: Group partition assignment lost", true],
  _NOOP: [-141, "Local: No operation performed"],
  _AUTO_OFFSET_RESET: [-140, "Local: No offset to automatically reset to"],
  _LOG_TRUNCATION: [-139, "Local: Partition log truncation detected"],
  _INVALID_DIFFERENT_RECORD: [
    -138,
    "Local: an invalid record in the same batch caused the failure of this message too",
  ],
  _DESTROY_BROKER: [-137, "Local: Broker handle destroyed without termination"],
  UNKNOWN: [-1, "Unknown broker error"],
  NO_ERROR: [0, "Success"],
  OFFSET_OUT_OF_RANGE: [1, "Broker: Offset out of range"],
  INVALID_MSG: [2, "Broker: Invalid message"],
  UNKNOWN_TOPIC_OR_PART: [3, "Broker: Unknown topic or partition"],
  INVALID_MSG_SIZE: [4, "Broker: Invalid message size"],
  LEADER_NOT_AVAILABLE: [5, "Broker: Leader not available", true],
  NOT_LEADER_FOR_PARTITION: [6, "Broker: Not leader for partition", true],
  REQUEST_TIMED_OUT: [7, "Broker: Request timed out", true],
  BROKER_NOT_AVAILABLE: [8, "Broker: Broker not available"],
  REPLICA_NOT_AVAILABLE: [9, "Broker: Replica not available"],
  MSG_SIZE_TOO_LARGE: [10, "Broker: Message size too large"],
  STALE_CTRL_EPOCH: [11, "Broker: StaleControllerEpochCode"],
  OFFSET_METADATA_TOO_LARGE: [12, "Broker: Offset metadata string too large"],
  NETWORK_EXCEPTION: [13, "Broker: Broker disconnected before response received", true],
  COORDINATOR_LOAD_IN_PROGRESS: [14, "Broker: Coordinator load in progress", true],
  COORDINATOR_NOT_AVAILABLE: [15, "Broker: Coordinator not available", true],
  NOT_COORDINATOR: [16, "Broker: Not coordinator", true],
  TOPIC_EXCEPTION: [17, "Broker: Invalid topic"],
  RECORD_LIST_TOO_LARGE: [18, "Broker: Message batch larger than configured server segment size"],
  NOT_ENOUGH_REPLICAS: [19, "Broker: Not enough in-sync replicas", true],
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: [
    20,
    "Broker: Message(s) written to insufficient number of in-sync replicas",
    true,
  ],
  INVALID_REQUIRED_ACKS: [21, "Broker: Invalid required acks value"],
  ILLEGAL_GENERATION: [22, "Broker: Specified group generation id is not valid"],
  INCONSISTENT_GROUP_PROTOCOL: [23, "Broker: Inconsistent group protocol"],
  INVALID_GROUP_ID: [24, "Broker: Invalid group.id"],
  UNKNOWN_MEMBER_ID: [25, "Broker: Unknown member"],
  INVALID_SESSION_TIMEOUT: [26, "Broker: Invalid session timeout"],
  REBALANCE_IN_PROGRESS: [27, "Broker: Group rebalance in progress", true],
  INVALID_COMMIT_OFFSET_SIZE: [28, "Broker: Commit offset data size is not valid"],
  TOPIC_AUTHORIZATION_FAILED: [29, "Broker: Topic authorization failed"],
  GROUP_AUTHORIZATION_FAILED: [30, "Broker: Group authorization failed"],
  CLUSTER_AUTHORIZATION_FAILED: [31, "Broker: Cluster authorization failed"],
  INVALID_TIMESTAMP: [32, "Broker: Invalid timestamp"],
  UNSUPPORTED_SASL_MECHANISM: [33, "Broker: Unsupported SASL mechanism"],
  ILLEGAL_SASL_STATE: [34, "Broker: Request not valid in current SASL state"],
  UNSUPPORTED_VERSION: [35, "Broker: API version not supported"],
  TOPIC_ALREADY_EXISTS: [36, "Broker: Topic already exists"],
  INVALID_PARTITIONS: [37, "Broker: Invalid number of partitions"],
  INVALID_REPLICATION_FACTOR: [38, "Broker: Invalid replication factor"],
  INVALID_REPLICA_ASSIGNMENT: [39, "Broker: Invalid replica assignment"],
  INVALID_CONFIG: [40, "Broker: Configuration is invalid"],
  NOT_CONTROLLER: [41, "Broker: Not controller for cluster"],
  INVALID_REQUEST: [42, "Broker: Invalid request"],
  UNSUPPORTED_FOR_MESSAGE_FORMAT: [43, "Broker: Message format on broker does not support request"],
  POLICY_VIOLATION: [44, "Broker: Policy violation"],
  OUT_OF_ORDER_SEQUENCE_NUMBER: [45, "Broker: Broker received an out of order sequence number"],
  DUPLICATE_SEQUENCE_NUMBER: [46, "Broker: Broker received a duplicate sequence number"],
  INVALID_PRODUCER_EPOCH: [47, "Broker: Producer attempted an operation with an old epoch"],
  INVALID_TXN_STATE: [
    48,
    "Broker: Producer attempted a transactional operation in an invalid state",
  ],
  INVALID_PRODUCER_ID_MAPPING: [
    49,
    "Broker: Producer attempted to use a producer id which is not currently assigned to its transactional id",
  ],
  INVALID_TRANSACTION_TIMEOUT: [
    50,
    "Broker: Transaction timeout is larger than the maximum value allowed by the broker's max.transaction.timeout.ms",
  ],
  CONCURRENT_TRANSACTIONS: [
    51,
    "Broker: Producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing",
  ],
  TRANSACTION_COORDINATOR_FENCED: [
    52,
    "Broker: Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer",
  ],
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: [53, "Broker: Transactional Id authorization failed"],
  SECURITY_DISABLED: [54, "Broker: Security features are disabled"],
  OPERATION_NOT_ATTEMPTED: [55, "Broker: Operation not attempted"],
  KAFKA_STORAGE_ERROR: [56, "Broker: Disk error when trying to access log file on disk"],
  LOG_DIR_NOT_FOUND: [
    57,
    "Broker: The user-specified log directory is not found in the broker config",
  ],
  SASL_AUTHENTICATION_FAILED: [58, "Broker: SASL Authentication failed"],
  UNKNOWN_PRODUCER_ID: [59, "Broker: Unknown Producer Id"],
  REASSIGNMENT_IN_PROGRESS: [60, "Broker: Partition reassignment is in progress"],
  DELEGATION_TOKEN_AUTH_DISABLED: [61, "Broker: Delegation Token feature is not enabled"],
  DELEGATION_TOKEN_NOT_FOUND: [62, "Broker: Delegation Token is not found on server"],
  DELEGATION_TOKEN_OWNER_MISMATCH: [63, "Broker: Specified Principal is not valid Owner/Renewer"],
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: [
    64,
    "Broker: Delegation Token requests are not allowed on this connection",
  ],
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: [65, "Broker: Delegation Token authorization failed"],
  DELEGATION_TOKEN_EXPIRED: [66, "Broker: Delegation Token is expired"],
  INVALID_PRINCIPAL_TYPE: [67, "Broker: Supplied principalType is not supported"],
  NON_EMPTY_GROUP: [68, "Broker: The group is not empty"],
  GROUP_ID_NOT_FOUND: [69, "Broker: The group id does not exist"],
  FETCH_SESSION_ID_NOT_FOUND: [70, "Broker: The fetch session ID was not found"],
  INVALID_FETCH_SESSION_EPOCH: [71, "Broker: The fetch session epoch is invalid"],
  LISTENER_NOT_FOUND: [72, "Broker: No matching listener"],
  TOPIC_DELETION_DISABLED: [73, "Broker: Topic deletion is disabled"],
  FENCED_LEADER_EPOCH: [74, "Broker: Leader epoch is older than broker epoch"],
  UNKNOWN_LEADER_EPOCH: [75, "Broker: Leader epoch is newer than broker epoch"],
  UNSUPPORTED_COMPRESSION_TYPE: [76, "Broker: Unsupported compression type"],
  STALE_BROKER_EPOCH: [77, "Broker: Broker epoch has changed"],
  OFFSET_NOT_AVAILABLE: [78, "Broker: Leader high watermark is not caught up"],
  MEMBER_ID_REQUIRED: [79, "Broker: Group member needs a valid member ID"],
  PREFERRED_LEADER_NOT_AVAILABLE: [80, "Broker: Preferred leader was not available"],
  GROUP_MAX_SIZE_REACHED: [81, "Broker: Consumer group has reached maximum size"],
  FENCED_INSTANCE_ID: [
    82,
    "Broker: Static consumer fenced by other consumer with same group.instance.id",
  ],
  ELIGIBLE_LEADERS_NOT_AVAILABLE: [83, "Broker: Eligible partition leaders are not available"],
  ELECTION_NOT_NEEDED: [84, "Broker: Leader election not needed for topic partition"],
  NO_REASSIGNMENT_IN_PROGRESS: [85, "Broker: No partition reassignment is in progress"],
  GROUP_SUBSCRIBED_TO_TOPIC: [
    86,
    "Broker: Deleting offsets of a topic while the consumer group is subscribed to it",
  ],
  INVALID_RECORD: [87, "Broker: Broker failed to validate record"],
  UNSTABLE_OFFSET_COMMIT: [88, "Broker: There are unstable offsets that need to be cleared"],
  THROTTLING_QUOTA_EXCEEDED: [89, "Broker: Throttling quota has been exceeded"],
  PRODUCER_FENCED: [
    90,
    "Broker: There is a newer producer with the same transactionalId which fences the current one",
  ],
  RESOURCE_NOT_FOUND: [91, "Broker: Request illegally referred to resource that does not exist"],
  DUPLICATE_RESOURCE: [92, "Broker: Request illegally referred to the same resource twice"],
  UNACCEPTABLE_CREDENTIAL: [
    93,
    "Broker: Requested credential would not meet criteria for acceptability",
  ],
  INCONSISTENT_VOTER_SET: [
    94,
    "Broker: Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters",
  ],
  INVALID_UPDATE_VERSION: [95, "Broker: Invalid update version"],
  FEATURE_UPDATE_FAILED: [96, "Broker: Unable to update finalized features due to server error"],
  PRINCIPAL_DESERIALIZATION_FAILURE: [
    97,
    "Broker: Request principal deserialization failed during forwarding",
  ],
  UNKNOWN_TOPIC_ID: [100, "Broker: Unknown topic id"],
  FENCED_MEMBER_EPOCH: [110, "Broker: The member epoch is fenced by the group coordinator"],
  UNRELEASED_INSTANCE_ID: [
    111,
    "Broker: The instance ID is still used by another member in the consumer group",
  ],
  UNSUPPORTED_ASSIGNOR: [
    112,
    "Broker: The assignor or its version range is not supported by the consumer group",
  ],
  STALE_MEMBER_EPOCH: [113, "Broker: The member epoch is stale"],
  UNKNOWN_SUBSCRIPTION_ID: [
    117,
    "Broker: Client sent a push telemetry request with an invalid or outdated subscription ID",
  ],
  TELEMETRY_TOO_LARGE: [
    118,
    "Broker: Client sent a push telemetry request larger than the maximum size the broker will accept",
  ],
  REBOOTSTRAP_REQUIRED: [
    129,
    "Broker: Client metadata is stale, client should rebootstrap to obtain new metadata",
  ],
} as const satisfies Record<string, readonly [number, string, true?]>;

/** librdkafka's name of an error code, e.g. `_MSG_TIMED_OUT`. */
export type LibrdkafkaErrorName = keyof typeof LIBRDKAFKA_ERRORS;

/** Each error code by librdkafka's name, e.g. `ERR._STATE === -172`, for adapters to branch on. */
export const ERR = Object.fromEntries(
  Object.entries(LIBRDKAFKA_ERRORS).map(([name, [code]]) => [name, code]),
) as { readonly [K in LibrdkafkaErrorName]: typeof LIBRDKAFKA_ERRORS[K][0] };

/** One code's facts, by its number. */
interface ErrorFact {
  name: string;
  text: string;
  retriable: boolean;
}

let byErrno: Map<number, ErrorFact> | undefined;
let byText: Map<string, number> | undefined;

function fact(errno: number): ErrorFact | undefined {
  if (byErrno === undefined) {
    byErrno = new Map();
    for (const [name, [code, text, retriable]] of Object.entries(LIBRDKAFKA_ERRORS)) {
      byErrno.set(code, { name, text, retriable: retriable === true });
    }
  }
  return byErrno.get(errno);
}

/** `ERR_` + librdkafka's name for `errno`, e.g. `ERR__MSG_TIMED_OUT` for -192. */
export function errorName(errno: number): string {
  const name = fact(errno)?.name;
  return name === undefined ? `ERR_${errno}` : `ERR_${name}`;
}

/** librdkafka's text for `errno` (`rd_kafka_err2str`), e.g. `Local: Message timed out`. */
export function errorText(errno: number): string {
  return fact(errno)?.text ?? `Err-${errno}?`;
}

/** The code whose text is `text` (ignoring case), for errors that arrive as text alone. */
export function errnoFromText(text: string): number | undefined {
  if (byText === undefined) {
    byText = new Map();
    for (const [code, message] of Object.values(LIBRDKAFKA_ERRORS)) {
      const key = message.toLowerCase();
      if (!byText.has(key)) byText.set(key, code);
    }
  }
  return byText.get(text.toLowerCase());
}

/** Whether librdkafka's error code names a condition that can pass on its own. */
export function isRetriable(errno: number): boolean {
  return fact(errno)?.retriable ?? false;
}

/** librdkafka's partitioners that hash the message key (Racecar's `partitioner` setting offers these). */
export const KEY_PARTITIONERS = [
  "consistent",
  "consistent_random",
  "murmur2",
  "murmur2_random",
  "fnv1a",
  "fnv1a_random",
] as const;

/** The values librdkafka accepts for the producer's `partitioner` property. */
export const PARTITIONERS = ["random", ...KEY_PARTITIONERS] as const;

/** One of {@link PARTITIONERS}. */
export type PartitionerName = typeof PARTITIONERS[number];

/** librdkafka's defaults of the properties Racecar or an adapter reads back. */
export const LIBRDKAFKA_DEFAULTS = {
  partitioner: "consistent_random",
  "message.timeout.ms": 300_000,
  "max.poll.interval.ms": 300_000,
  "topic.metadata.refresh.interval.ms": 300_000,
} as const satisfies
  & { partitioner: typeof KEY_PARTITIONERS[number] }
  & Record<string, string | number>;
