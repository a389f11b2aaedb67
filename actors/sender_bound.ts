/**
 * A mailbox bound kept on the sending side, for refs whose actor lives elsewhere (a worker,
 * another node): at most `capacity + 1` messages are accepted and not yet handled (the +1
 * is the one being handled, as a local mailbox counts only those waiting). A full bound
 * makes `tell` fail at once and `ask` wait, in order, for a slot. Internal to refs.
 *
 * @module
 */

/** The slots of one ref. */
export class SenderBound {
  /** The mailbox capacity the bound enforces. */
  readonly capacity: number;
  /** The slots: the capacity, plus the message being handled. */
  readonly limit: number;
  #load = 0;
  #waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];

  constructor(capacity: number) {
    this.capacity = capacity;
    this.limit = capacity + 1;
  }

  /** Takes a slot if one is free and nobody waits for one. */
  tryReserve(): boolean {
    if (this.#load >= this.limit || this.#waiters.length > 0) return false;
    this.#load++;
    return true;
  }

  /** Waits until a released slot is handed to this caller (already counted). */
  waitForRoom(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#waiters.push(waiter);
      signal.addEventListener("abort", () => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** One message is done: its slot goes to the oldest waiter. */
  release(): void {
    this.#load--;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#load++;
      waiter.resolve();
    }
  }

  /** Forgets `count` messages that will never be answered (their worker died). */
  drop(count: number): void {
    this.#load = Math.max(0, this.#load - count);
  }

  /** Rejects every waiter with `error`. */
  rejectWaiters(error: unknown): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  /** Forgets every slot (the ref stopped). */
  reset(): void {
    this.#load = 0;
  }
}
