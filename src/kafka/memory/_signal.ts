/**
 * A wake-up signal for the memory adapter: waiters sleep until something
 * changes in the broker or their deadline passes. Every waiter's timer is
 * cleared when it wakes, so nothing is left running once the waits end.
 *
 * @module
 */

/** setTimeout's largest delay; longer waits are capped to it. */
const MAX_DELAY = 2_147_483_647;

/**
 * Wakes every pending waiter at once; waiters re-check their own condition.
 * A waiter passes the {@link Signal.version} it saw before checking, so a
 * notification between its check and its wait is not lost.
 */
export class Signal {
  #waiters = new Set<() => void>();
  #version = 0;

  /** Counts notifications. */
  get version(): number {
    return this.#version;
  }

  /**
   * Resolves on the next {@link Signal.notify} or after `ms`, whichever comes
   * first; at once when a notification came after version `seen`.
   */
  wait(ms: number, seen: number = this.#version): Promise<void> {
    if (seen !== this.#version) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(ms, MAX_DELAY)));
      this.#waiters.add(done);
    });
  }

  /** Wakes every waiter. */
  notify(): void {
    this.#version++;
    for (const done of [...this.#waiters]) done();
  }

  /** Waits until `ready()` holds (true) or `timeoutMs` passed (false). */
  async until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.#version;
      if (ready()) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.wait(left, seen);
    }
  }
}
