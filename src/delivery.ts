/**
 * Delivery scopes: which produced messages a piece of work waits for. The
 * runner runs each processing call in a scope and settles it before the
 * offset is stored; `Producer.waitForDelivery` runs its work in one too.
 * A message produced inside a scope (with a consumer's `produce` or a
 * producer's `produceAsync`) joins the innermost one, so concurrent
 * partitions and concurrent requests each wait only for their own messages.
 *
 * @example
 * ```ts
 * import { DeliveryScope } from "./delivery.ts";
 * const scope = new DeliveryScope();
 * await scope.run(() => {
 *   DeliveryScope.current()!.track(Promise.resolve("delivered"));
 * });
 * console.assert(scope.size === 1);
 * console.assert((await scope.settle()) === 1 && scope.size === 0);
 * ```
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

/** What the context holds: the current scope, which a {@link DeliveryLane} changes in place. */
interface Holder {
  scope: DeliveryScope | undefined;
}

const current = new AsyncLocalStorage<Holder>();

/** Deliveries that one piece of work waits for. */
export class DeliveryScope {
  readonly #pending: Promise<unknown>[] = [];

  /** The scope of the work running now, if any. */
  static current(): DeliveryScope | undefined {
    return current.getStore()?.scope;
  }

  /** Runs `work` with this scope as the current one. */
  run<T>(work: () => T): T {
    return current.run({ scope: this }, work);
  }

  /** Deliveries tracked and not yet settled. */
  get size(): number {
    return this.#pending.length;
  }

  /** Adds a delivery to wait for; its failure surfaces at {@link settle}. */
  track(delivery: Promise<unknown>): void {
    // Handled by settle(); keep an unhandled rejection from surfacing first.
    delivery.catch(() => {});
    this.#pending.push(delivery);
  }

  /**
   * Waits for every delivery tracked so far and forgets them; rejects with the
   * first failure once all settled. Resolves with how many there were.
   */
  async settle(): Promise<number> {
    if (this.#pending.length === 1) {
      // The usual case, one delivery: no allSettled and its result objects.
      await this.#pending.pop();
      return 1;
    }
    const batch = this.#pending.splice(0, this.#pending.length);
    const results = await Promise.allSettled(batch);
    const failed = results.find((result) => result.status === "rejected");
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return batch.length;
  }
}

/**
 * One context for a sequence of pieces of work that never overlap (the
 * messages of one partition run, processed one after another), whose current
 * scope is switched in place: entering an `AsyncLocalStorage` context per
 * message was the largest single cost per message on Deno (bench/README.md).
 *
 * @example
 * ```ts
 * import { DeliveryLane, DeliveryScope } from "./delivery.ts";
 * const lane = new DeliveryLane();
 * const scopes = [new DeliveryScope(), new DeliveryScope()];
 * await lane.run(async () => {
 *   for (const scope of scopes) {
 *     await lane.within(scope, () => DeliveryScope.current()!.track(Promise.resolve()));
 *   }
 * });
 * console.assert(scopes.every((scope) => scope.size === 1));
 * ```
 */
export class DeliveryLane {
  readonly #holder: Holder = { scope: undefined };

  /** Runs `work` (the whole sequence) in the lane's context. */
  run<T>(work: () => T): T {
    return current.run(this.#holder, work);
  }

  /**
   * Runs one piece of work, inside {@link run}, with `scope` current until it
   * settled; afterwards no scope is current (as outside any).
   */
  async within(scope: DeliveryScope, work: () => void | Promise<void>): Promise<void> {
    this.enter(scope);
    try {
      await work();
    } finally {
      this.leave();
    }
  }

  /**
   * {@link within} in two halves, for a caller that awaits the work itself:
   * `scope` is current from `enter` until `leave`.
   */
  enter(scope: DeliveryScope): void {
    this.#holder.scope = scope;
  }

  /** Ends what {@link enter} began: no scope is current. */
  leave(): void {
    this.#holder.scope = undefined;
  }
}
