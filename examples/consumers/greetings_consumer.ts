/**
 * The demo's consumer: prints each greeting, and forwards a reply for every
 * tenth one, which shows `produce` (delivered before the offset is stored).
 */

// The package by its name, as an application imports it (deno.json names this package).
import { Consumer, type Message } from "@racecar/cli";

export class GreetingsConsumer extends Consumer {
  static {
    this.subscribesTo("racecar-demo-greetings");
  }

  #seen = 0;

  override process(message: Message): void {
    this.#seen += 1;
    console.log(
      `processed ${message.topic}/${message.partition}@${message.offset} ` +
        `key=${message.keyText} value=${message.text()}`,
    );
    if (this.#seen % 10 === 0) {
      this.produce(`reply to ${message.text()}`, {
        topic: "racecar-demo-replies",
        key: message.key,
      });
    }
  }

  override teardown(): void {
    console.log(`GreetingsConsumer processed ${this.#seen} message(s) in this run`);
  }
}
