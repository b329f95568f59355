/**
 * The exactly-once example (docs/exactly_once.md): shouts every word of
 * `racecar-demo-words` into `racecar-demo-shouts`. With `transactional`, each
 * batch's shouts and its offsets commit in one Kafka transaction. A word that
 * ends in `!` fails its first try after its shout was produced: that
 * transaction aborts, and read_committed readers never see the first shout.
 */

// The package by its name, as an application imports it (deno.json names this package).
import { Consumer, type Message } from "@racecar/cli";

export class ShoutConsumer extends Consumer {
  static {
    this.subscribesTo("racecar-demo-words");
  }
  static override transactional = true;

  /** Words that failed once in this process. */
  readonly #failed = new Set<string>();

  override async process(message: Message): Promise<void> {
    const shout = (message.text() ?? "").toUpperCase();
    this.produce(shout, { topic: "racecar-demo-shouts", key: message.key });
    const where = `${message.partition}/${message.offset}`;
    if (shout.endsWith("!") && !this.#failed.has(where)) {
      this.#failed.add(where);
      // Wait until the shout is written, so the aborted copy is in the log to see: an abort
      // drops what was still queued in the client.
      await this.deliver();
      throw new Error(`${shout} fails once, after producing: its transaction aborts`);
    }
    console.log(`shouted ${shout}`);
  }
}
