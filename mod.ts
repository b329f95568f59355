/**
 * Racecar: a friendly Kafka consumer framework for Deno and Node.
 *
 * Write a small consumer class, run it with `racecar MyConsumer`, and Racecar
 * takes care of the group, offsets, pauses and retries, delivery of what you
 * produce, and a clean shutdown.
 *
 * @example
 * ```ts
 * import { Consumer, type Message } from "./mod.ts";
 *
 * export class OrdersConsumer extends Consumer {
 *   static {
 *     this.subscribesTo("orders");
 *   }
 *
 *   override async process(message: Message) {
 *     const order = message.json<{ id: string }>();
 *     this.produce(JSON.stringify({ id: order.id }), { topic: "invoices", key: order.id });
 *   }
 * }
 * ```
 *
 * @module
 */

export {
  Consumer,
  type ConsumerClass,
  defaultGroupId,
  type SubscribeOptions,
  type Subscription,
} from "./src/consumer.ts";
export { Message } from "./src/message.ts";
export {
  type Bytes,
  type HeadersInit,
  type ProduceOptions,
  Producer,
  type ProducerSettings,
} from "./src/producer.ts";
export { Runner, type RunnerOptions, type RunnerSettings } from "./src/runner.ts";
export { createRunner, type CreateRunnerOptions } from "./src/assembly.ts";
export { Pause, type PauseOptions } from "./src/pause.ts";
export {
  closeDefaultProducer,
  configureDefaultProducer,
  createProducer,
  type CreateProducerOptions,
  defaultProducer,
  type DefaultProducerOptions,
  produceAsync,
  produceSync,
  waitForDelivery,
} from "./src/app_producer.ts";
export {
  checkLiveness,
  installLivenessProbe,
  installReadinessProbe,
  type LivenessResult,
} from "./src/probes.ts";
export {
  consumerConfig,
  herokuConfig,
  loadConfig,
  type LoadConfigOptions,
  producerConfig,
  type RacecarConfig,
} from "./src/config/mod.ts";
export { loadDefaultTransport } from "./src/kafka/default_transport.ts";
export { VERSION } from "./src/version.ts";
export { type EventMap, type EventName, Instrumenter, type Listener } from "./src/events.ts";
export {
  ConfigError,
  DeliveryError,
  ErrorCode,
  type ErrorInfo,
  isUsageError,
  KafkaError,
  LibraryNotFoundError,
  RacecarError,
  type RacecarErrorCode,
} from "./src/errors.ts";
export type {
  ConsumerTransport,
  DeliveryReport,
  Header,
  ProducerTransport,
  TopicPartition,
  TopicPartitionOffset,
  Transport,
} from "./src/kafka/transport.ts";
