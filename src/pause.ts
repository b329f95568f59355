/**
 * Per-partition pause and backoff after a processing error. Pure: the clock is
 * passed in, so the rules can be tested without waiting.
 *
 * @module
 */

/** How pauses are timed. */
export interface PauseOptions {
  /**
   * Seconds to pause after the first error. `-1` pauses until the process
   * restarts (or the partition moves to another member). `0` means no pause.
   * @default 10
   */
  timeout?: number;
  /** Upper bound in seconds for the exponential backoff. @default undefined (no cap) */
  maxTimeout?: number | undefined;
  /** Double the pause after each consecutive error. @default false */
  exponentialBackoff?: boolean;
}

/**
 * The pause state of one partition.
 *
 * @example
 * ```ts
 * import { Pause } from "./pause.ts";
 * const pause = new Pause({ timeout: 10, exponentialBackoff: true });
 * pause.pause(0);
 * console.assert(pause.pausedUntil === 10_000);
 * pause.resume();
 * pause.pause(10_000);
 * console.assert(pause.pausedUntil === 30_000); // 20 s the second time
 * ```
 */
export class Pause {
  readonly #timeout: number;
  readonly #maxTimeout: number | undefined;
  readonly #exponential: boolean;
  #pausesCount = 0;
  #pausedAt: number | undefined;
  #until: number | undefined;

  /** Creates the state of a partition that is not paused. */
  constructor(options: PauseOptions = {}) {
    this.#timeout = options.timeout ?? 10;
    this.#maxTimeout = options.maxTimeout;
    this.#exponential = options.exponentialBackoff ?? false;
    if (this.#timeout < 0 && this.#timeout !== -1) {
      throw new RangeError(
        `Invalid pause timeout ${this.#timeout}: use -1, 0 or a positive number`,
      );
    }
  }

  /** Consecutive failures since the last success. */
  get pausesCount(): number {
    return this.#pausesCount;
  }

  /** Whether the partition is paused now. */
  get paused(): boolean {
    return this.#pausedAt !== undefined;
  }

  /** When the pause ends (ms since epoch); `Infinity` for an endless pause. */
  get pausedUntil(): number | undefined {
    return this.#until;
  }

  /** The pause the next failure will cause, in seconds (`Infinity` for endless). */
  backoffInterval(): number {
    if (this.#timeout === -1) return Infinity;
    const factor = this.#exponential ? 2 ** this.#pausesCount : 1;
    const seconds = this.#timeout * factor;
    return this.#maxTimeout === undefined ? seconds : Math.min(seconds, this.#maxTimeout);
  }

  /** Records a failure at `now` (ms) and starts the pause. */
  pause(now: number): void {
    const seconds = this.backoffInterval();
    this.#pausedAt = now;
    this.#until = seconds === Infinity ? Infinity : now + seconds * 1000;
    this.#pausesCount += 1;
  }

  /** Whether a running pause has ended at `now`. */
  expired(now: number): boolean {
    return this.#until !== undefined && now >= this.#until;
  }

  /** Seconds the partition has been paused at `now`; 0 when it is not. */
  duration(now: number): number {
    return this.#pausedAt === undefined ? 0 : (now - this.#pausedAt) / 1000;
  }

  /** Ends the pause; the failure count stays until {@link reset}. */
  resume(): void {
    this.#pausedAt = undefined;
    this.#until = undefined;
  }

  /** Forgets failures after a success. */
  reset(): void {
    this.resume();
    this.#pausesCount = 0;
  }
}
