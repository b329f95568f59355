/**
 * docs/parallelism.md's example: events of many accounts on one partition,
 * each taking a slow call to handle. `keyConcurrency` handles up to 10
 * accounts at the same time, and the events of one account one after another,
 * in the order they were produced.
 */

// The package by its name, as an application imports it (deno.json names this package).
import { Consumer, type Message } from "@racecar/cli";

export class AccountEventsConsumer extends Consumer {
  static {
    this.subscribesTo("racecar-demo-accounts");
  }
  static override keyConcurrency = 10;

  override async process(message: Message): Promise<void> {
    // A call to a slow service.
    await new Promise((resolve) => setTimeout(resolve, 200));
    console.log(`${message.keyText}: ${message.text()} (offset ${message.offset})`);
  }
}
