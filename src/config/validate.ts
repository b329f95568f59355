/**
 * Rules that involve more than one setting (racecar's `validate!` and the
 * constraints librdkafka would otherwise reject at start-up).
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { brokerProblem, show, type ValueSource } from "./decode.ts";
import { type RacecarConfig, type SettingName, snakeCase } from "./schema.ts";

/** Where each value came from, when known. */
export type SourceMap = Partial<Record<SettingName, ValueSource>>;

const ASSIGNORS = ["range", "roundrobin", "cooperative-sticky"];

/** The longest `group.instance.id` Kafka accepts (it checks it like a topic name). */
export const MAX_GROUP_INSTANCE_ID_LENGTH = 249;

/**
 * What is wrong with a `group_instance_id` by Kafka's rules (1 to 249 ASCII
 * letters, digits, `.`, `_` and `-`, and not `.` or `..`), or `undefined` when
 * the broker will accept it. librdkafka does not check it, and the broker's
 * refusal would only show as a failing group join.
 *
 * @example
 * ```ts
 * import { groupInstanceIdProblem } from "./validate.ts";
 * console.assert(groupInstanceIdProblem("payments-consumer-0") === undefined);
 * console.assert(groupInstanceIdProblem("pod 0")!.includes("letters, digits"));
 * ```
 */
export function groupInstanceIdProblem(id: string): string | undefined {
  const got = `got ${show(id)}`;
  if (id === "") return `must not be empty: unset it to be a dynamic member, ${got}`;
  if (id.length > MAX_GROUP_INSTANCE_ID_LENGTH) {
    return `must be at most ${MAX_GROUP_INSTANCE_ID_LENGTH} characters long, got ${id.length}`;
  }
  if (!/^[A-Za-z0-9._-]+$/.test(id)) {
    return `may contain only ASCII letters, digits, ".", "_" and "-", ${got}`;
  }
  if (id === "." || id === "..") return `must not be "." or "..", ${got}`;
  return undefined;
}

/**
 * Checks rules between settings. Single values were already checked when they
 * were read; this is for configurations built or changed in code.
 *
 * @throws {ConfigError} whose `key` is the setting at fault and whose message
 * names it as the user wrote it and where it came from.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./schema.ts";
 * import { validateConfig } from "./validate.ts";
 * const config = defaultConfig();
 * config.brokers = [];
 * try {
 *   validateConfig(config);
 * } catch (error) {
 *   console.assert((error as Error).message.includes("'brokers'"));
 * }
 * ```
 */
export function validateConfig(config: RacecarConfig, sources: SourceMap = {}): void {
  const fail = (name: SettingName, detail: string): never => {
    const source = sources[name];
    const key = source?.key ?? snakeCase(name);
    const from = source && source.kind !== "default" ? ` from ${source.label}` : "";
    throw new ConfigError(`Invalid configuration '${key}'${from}: ${detail}`, { key: name });
  };
  const other = (name: SettingName): string => {
    const source = sources[name];
    const value = show(config[name]);
    return source && source.kind !== "default"
      ? `'${snakeCase(name)}' (${value} from ${source.label})`
      : `'${snakeCase(name)}' (${value})`;
  };

  if (config.brokers.length === 0 || config.brokers.some((b) => b.trim() === "")) {
    fail("brokers", `must list at least one broker as "host:port", got ${show(config.brokers)}`);
  }
  for (const broker of config.brokers) {
    const problem = typeof broker === "string" ? brokerProblem(broker.trim()) : "not a string";
    if (problem !== undefined) {
      fail("brokers", `expected "host:port" entries, got ${show(broker)}: ${problem}`);
    }
  }
  if (config.socketTimeout <= config.maxWaitTime) {
    fail(
      "socketTimeout",
      `must be longer than ${other("maxWaitTime")}, got ${config.socketTimeout}`,
    );
  }
  if (config.maxPauseTimeout !== undefined && !config.pauseWithExponentialBackoff) {
    fail(
      "maxPauseTimeout",
      "only makes sense when 'pause_with_exponential_backoff' is enabled: enable it or unset " +
        "'max_pause_timeout'",
    );
  }
  if (config.transactional && config.isolationLevel !== "read_committed") {
    fail(
      "isolationLevel",
      `must be "read_committed" when 'transactional' is enabled (a transaction must not build ` +
        `on messages that may still be aborted), got ${show(config.isolationLevel)}`,
    );
  }
  if (config.maxPollInterval < config.sessionTimeout) {
    fail(
      "maxPollInterval",
      `must be at least ${other("sessionTimeout")}, got ${config.maxPollInterval}`,
    );
  }
  if (config.heartbeatInterval >= config.sessionTimeout) {
    fail(
      "heartbeatInterval",
      `must be shorter than ${other("sessionTimeout")}, got ${config.heartbeatInterval}`,
    );
  }

  const assignors = config.partitionAssignmentStrategy.split(",").map((s) => s.trim());
  for (const assignor of assignors) {
    if (!ASSIGNORS.includes(assignor)) {
      fail(
        "partitionAssignmentStrategy",
        `expected a comma-separated list of ${ASSIGNORS.map((a) => `"${a}"`).join(", ")}, ` +
          `got ${show(assignor)}`,
      );
    }
  }
  if (assignors.includes("cooperative-sticky") && assignors.length > 1) {
    fail(
      "partitionAssignmentStrategy",
      `"cooperative-sticky" cannot be combined with other assignors, got ` +
        show(config.partitionAssignmentStrategy),
    );
  }

  if (config.groupInstanceId !== undefined) {
    const problem = groupInstanceIdProblem(config.groupInstanceId);
    if (problem !== undefined) fail("groupInstanceId", problem);
  }

  if (config.maxRetries !== undefined && config.deadLetterTopic === undefined) {
    fail(
      "maxRetries",
      "needs 'dead_letter_topic': without it, a message that exhausts its retries would be " +
        "lost; set 'dead_letter_topic' or unset 'max_retries' to retry forever",
    );
  }
  if (config.deadLetterTopic !== undefined && config.maxRetries === undefined) {
    fail(
      "deadLetterTopic",
      "needs 'max_retries': without it, failing messages are retried forever and never " +
        "dead-lettered",
    );
  }
  if (config.deadLetterTopic !== undefined && config.deadLetterTopic.trim() === "") {
    fail("deadLetterTopic", "must not be empty");
  }
  if (config.maxRetries !== undefined && config.pauseTimeout <= 0) {
    fail(
      "pauseTimeout",
      `must be positive when 'max_retries' is set, got ${config.pauseTimeout}: ` +
        (config.pauseTimeout === 0
          ? "0 stops the consumer on the first error, so nothing is retried"
          : "-1 pauses until restart, so the retry count never grows"),
    );
  }
}
