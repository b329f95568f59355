// The files a local single-node KRaft broker runs from: server.properties and the log4j2 configs.
// Everything here is tuned for tests on a small machine (fast group joins, tiny heap buffers,
// replication factor 1 for every internal topic), not for benchmarks.

/** Ports and paths one broker needs. */
export interface ServerLayout {
  /** Client (PLAINTEXT) port on 127.0.0.1. */
  port: number;
  /** KRaft controller port on 127.0.0.1. */
  controllerPort: number;
  /** Directory holding the log segments and the KRaft metadata log. */
  dataDir: string;
}

/** Renders server.properties for a combined broker+controller node with a static quorum. */
export function serverProperties(layout: ServerLayout): string {
  const { port, controllerPort, dataDir } = layout;
  const settings: [string, string | number | boolean][] = [
    // Static quorum of one: format WITHOUT --standalone.
    ["process.roles", "broker,controller"],
    ["node.id", 1],
    ["controller.quorum.voters", `1@127.0.0.1:${controllerPort}`],
    ["controller.listener.names", "CONTROLLER"],
    // 127.0.0.1, not localhost: Node >= 17 may resolve localhost to ::1 first.
    ["listeners", `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`],
    ["advertised.listeners", `PLAINTEXT://127.0.0.1:${port}`],
    ["inter.broker.listener.name", "PLAINTEXT"],
    ["listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"],
    ["log.dirs", dataDir],
    // One node: the default RF 3 / min ISR 2 of internal topics would leave groups and
    // transactions without a coordinator forever.
    ["default.replication.factor", 1],
    ["min.insync.replicas", 1],
    ["offsets.topic.replication.factor", 1],
    ["offsets.topic.num.partitions", 3],
    ["transaction.state.log.replication.factor", 1],
    ["transaction.state.log.min.isr", 1],
    ["transaction.state.log.num.partitions", 3],
    ["share.coordinator.state.topic.replication.factor", 1],
    ["share.coordinator.state.topic.min.isr", 1],
    ["share.coordinator.state.topic.num.partitions", 1],
    ["num.partitions", 1],
    ["auto.create.topics.enable", true],
    ["delete.topic.enable", true],
    // Classic groups: rebalance at once and allow short session timeouts in tests.
    ["group.initial.rebalance.delay.ms", 0],
    ["group.min.session.timeout.ms", 1000],
    // KIP-848 consumer groups (enabled by default in 4.x; group.coordinator.rebalance.protocols
    // is deprecated in 4.4 and setting it would disable the streams protocol): the defaults
    // (5 s heartbeat, 45 s session) make tests slow.
    ["group.consumer.min.heartbeat.interval.ms", 500],
    ["group.consumer.heartbeat.interval.ms", 1000],
    ["group.consumer.min.session.timeout.ms", 3000],
    ["group.consumer.session.timeout.ms", 10000],
    // The cleaner allocates its dedupe buffer on the heap at startup (128 MiB by default); it
    // must stay above 1 MiB per cleaner thread.
    ["log.cleaner.threads", 1],
    ["log.cleaner.dedupe.buffer.size", 8 * 1024 * 1024],
    ["log.cleaner.backoff.ms", 1000],
    ["log.retention.check.interval.ms", 5000],
    ["log.segment.bytes", 1024 * 1024],
    // Two cores are the norm in CI: keep the thread pools small.
    ["num.network.threads", 2],
    ["num.io.threads", 4],
    ["background.threads", 4],
    ["num.recovery.threads.per.data.dir", 1],
    ["num.replica.fetchers", 1],
    ["group.coordinator.threads", 2],
    // Must be at most half of the session timeout.
    ["broker.heartbeat.interval.ms", 500],
    ["broker.session.timeout.ms", 3000],
  ];
  const lines = settings.map(([key, value]) => `${key}=${value}`);
  return `# Written by scripts/kafka.ts for a local test broker; rewritten on every 'up'.\n${
    lines.join("\n")
  }\n`;
}

/** log4j2 config of the broker: INFO to stdout (which the script sends to broker.log). */
export const BROKER_LOG4J2 = `# Written by scripts/kafka.ts
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
# One line per request or partition state change buries everything else.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.channel.name = kafka.network.RequestChannel$
logger.channel.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
`;

/** log4j2 config of the CLI tools (StorageTool, TopicCommand): warnings only, to stderr. */
export const TOOLS_LOG4J2 = `# Written by scripts/kafka.ts
status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
`;

/**
 * A fresh KRaft cluster id: 16 random bytes, base64url without padding (22 characters). Like
 * Kafka's Uuid.randomUuid(), never one starting with "-", which the tools would parse as an option.
 */
export function randomClusterId(): string {
  while (true) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
      .replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}
