/**
 * A bounded FIFO queue with one consumer: the mailbox of an actor.
 *
 * Producers either `offer` (fails at once when full) or `put` (waits for room, in FIFO
 * order, until an `AbortSignal` fires). An `offer` never overtakes a waiting `put`, so
 * the arrival order is the order of delivery. The consumer `take`s one item at a time
 * or `takeWhile` a run of items at the head.
 *
 * @module
 */

/** Resolves a pending `take` without an item, e.g. to let the consumer see a signal. */
export const INTERRUPTED: unique symbol = Symbol("interrupted");

/** Raised by `put` on a closed mailbox. */
export class MailboxClosedError extends Error {
  override readonly name = "MailboxClosedError";
  constructor() {
    super("The mailbox is closed");
  }
}

interface PutWaiter<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** A bounded FIFO queue with a single consumer. */
export class Mailbox<T> {
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #putWaiters: PutWaiter<T>[] = [];
  #taker: ((item: T | typeof INTERRUPTED) => void) | undefined;
  #closed = false;

  /** Creates a mailbox holding at most `capacity` items. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Mailbox capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  /** Items queued now. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Adds `item` when there is room and nobody waits for room; returns whether it did. */
  offer(item: T): boolean {
    if (this.#closed) throw new MailboxClosedError();
    if (this.size >= this.capacity || this.#putWaiters.length > 0) return false;
    this.#enqueue(item);
    return true;
  }

  /** Adds `item`, waiting for room until `signal` aborts (then rejects with its reason). */
  put(item: T, signal?: AbortSignal): Promise<void> {
    if (this.offer(item)) return Promise.resolve();
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter: PutWaiter<T> = { item, resolve, reject };
      this.#putWaiters.push(waiter);
      signal?.addEventListener("abort", () => {
        const at = this.#putWaiters.indexOf(waiter);
        if (at >= 0) {
          this.#putWaiters.splice(at, 1);
          reject(signal.reason);
        }
      }, { once: true });
    });
  }

  /** Takes the next item, waiting for one; resolves `INTERRUPTED` on `interrupt` or close. */
  take(): Promise<T | typeof INTERRUPTED> {
    if (this.size > 0) return Promise.resolve(this.#dequeue());
    if (this.#closed) return Promise.resolve(INTERRUPTED);
    if (this.#taker !== undefined) throw new Error("Mailbox has a single consumer");
    return new Promise((resolve) => {
      this.#taker = resolve;
    });
  }

  /** Takes at most `max` items from the head while `accept` holds, without waiting. */
  takeWhile(accept: (item: T) => boolean, max: number): T[] {
    const taken: T[] = [];
    while (taken.length < max && this.size > 0 && accept(this.#items[this.#head] as T)) {
      taken.push(this.#dequeue());
    }
    return taken;
  }

  /** Wakes a pending `take` with `INTERRUPTED`. */
  interrupt(): void {
    const taker = this.#taker;
    this.#taker = undefined;
    taker?.(INTERRUPTED);
  }

  /**
   * Closes the mailbox: later `offer`/`put` throw, waiting `put`s reject with
   * `MailboxClosedError`, a pending `take` is interrupted. Returns the queued items,
   * which are no longer delivered.
   */
  close(): T[] {
    this.#closed = true;
    const rest = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    for (const waiter of this.#putWaiters.splice(0)) waiter.reject(new MailboxClosedError());
    this.interrupt();
    return rest;
  }

  #enqueue(item: T): void {
    const taker = this.#taker;
    if (taker !== undefined) {
      this.#taker = undefined;
      taker(item);
      return;
    }
    this.#items.push(item);
  }

  #dequeue(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    // Room was made: admit the oldest waiting producer.
    const waiter = this.#putWaiters.shift();
    if (waiter !== undefined) {
      this.#items.push(waiter.item);
      waiter.resolve();
    }
    return item;
  }
}
