/**
 * Which offset of one partition may be stored: the end of the contiguous
 * prefix of messages whose work finished. Work starts in offset order and may
 * finish in any order (a message's deliveries are still in flight while later
 * messages are processed); the stored offset only moves past a message once it
 * and every message before it finished. Pure, so the rule is tested on its own
 * (and reused for key-ordered parallelism).
 *
 * Offsets need not be consecutive (compacted topics, transaction markers): the
 * prefix runs over the offsets begun, in the order they were begun.
 *
 * @example
 * ```ts
 * import { OffsetTracker } from "./offset_tracker.ts";
 * const tracker = new OffsetTracker();
 * tracker.begin(5);
 * tracker.begin(6);
 * tracker.begin(8);
 * tracker.finish(6);
 * console.assert(tracker.take() === undefined); // 5 is not finished
 * tracker.finish(5);
 * console.assert(tracker.take() === 7); // 5 and 6 are done: the next to consume is 7
 * console.assert(tracker.take() === undefined); // nothing new since
 * console.assert(tracker.pending === 1); // 8
 * ```
 *
 * @module
 */

/** The finished prefix of one partition's work. */
export class OffsetTracker {
  /** Offsets begun and not yet part of the finished prefix, ascending. */
  #order: number[] = [];
  #head = 0;
  readonly #finished = new Set<number>();
  #lastBegun = -1;
  /** The offset after the finished prefix, once something finished. */
  #next: number | undefined;
  #taken: number | undefined;

  /**
   * Records that work on `offset` started. Offsets must be begun in ascending
   * order.
   */
  begin(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`Cannot track offset ${offset}: use a non-negative integer`);
    }
    if (offset <= this.#lastBegun) {
      throw new RangeError(
        `Cannot track offset ${offset}: offsets begin in ascending order and ` +
          `${this.#lastBegun} was begun already`,
      );
    }
    this.#lastBegun = offset;
    this.#order.push(offset);
  }

  /**
   * Records that the work on `offset` finished; returns whether the finished
   * prefix grew. Finishing an offset that was not begun (or was discarded)
   * changes nothing.
   */
  finish(offset: number): boolean {
    const first = this.#order[this.#head];
    if (first === undefined || offset < first || offset > this.#lastBegun) return false;
    if (offset !== first) {
      // Finished out of order: it joins the prefix once everything before it finished.
      this.#finished.add(offset);
      return false;
    }
    // The common case, in order: the prefix grows by it, and by what finished after it.
    this.#head += 1;
    this.#next = offset + 1;
    if (this.#finished.size > 0) {
      for (
        let next = this.#order[this.#head];
        next !== undefined && this.#finished.delete(next);
        next = this.#order[this.#head]
      ) {
        this.#head += 1;
        this.#next = next + 1;
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }

  /** Offsets begun and not yet in the finished prefix. */
  get pending(): number {
    return this.#order.length - this.#head;
  }

  /** The offset after the finished prefix (the next to consume), if any finished. */
  get next(): number | undefined {
    return this.#next;
  }

  /** {@link next} when it moved since the last `take`; otherwise undefined. */
  take(): number | undefined {
    if (this.#next === this.#taken) return undefined;
    this.#taken = this.#next;
    return this.#next;
  }

  /**
   * Forgets every offset not in the finished prefix (after a failure, the
   * partition goes back to the first of them): they may be begun again.
   */
  discard(): void {
    this.#order = [];
    this.#head = 0;
    this.#finished.clear();
    this.#lastBegun = this.#next === undefined ? -1 : this.#next - 1;
  }

  /**
   * Starts over at `offset`, forgetting even the finished prefix: after an
   * aborted transaction, whose finished work was rolled back, the partition
   * goes back to `offset` and begins it again.
   */
  rewind(offset: number): void {
    this.#order = [];
    this.#head = 0;
    this.#finished.clear();
    this.#lastBegun = offset - 1;
    this.#next = undefined;
    this.#taken = undefined;
  }
}
