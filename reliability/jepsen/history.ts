/**
 * The history of a Jepsen-style run: every client operation as an invocation and its
 * completion, and every fault the nemesis injected, in the order they happened.
 *
 * The vocabulary is Jepsen's (`jepsen.history`): a completion is `ok` (acknowledged),
 * `fail` (definitely not applied) or `info` (indeterminate: it may or may not have taken
 * effect, now or later — a timeout, a reset connection, a 5xx that may have applied). An
 * `info` operation is treated as concurrent with everything after its invocation, forever.
 * Each event carries the wall-clock time (for people) and the monotonic time (for order).
 *
 * @module
 */

/** How an operation ended. */
export type Outcome = "ok" | "fail" | "info";

/** What a client asked: a write of one document, a delete, a point read, or a `_bulk`. */
export type OpFunction = "put" | "delete" | "get" | "bulk";

/** A moment: wall clock (ms since the epoch) and monotonic time (ms since the run began). */
export interface Stamp {
  readonly wallMs: number;
  readonly monoMs: number;
}

/** Where the history takes its times from (injected by tests). */
export interface Clock {
  now(): Stamp;
}

/** The real clock: `Date.now()` and `performance.now()` from the clock's creation. */
export function realClock(): Clock {
  const origin = performance.now();
  return { now: () => ({ wallMs: Date.now(), monoMs: performance.now() - origin }) };
}

/**
 * One document an operation touches. For writes, `value` is the unique write token sent
 * (`null` for a delete); for a read's completion, the token read (`null` for 404).
 */
export interface Item {
  readonly id: string;
  readonly value: string | null;
}

/** One document's part of a completion: bulk items can end differently. */
export interface ItemOutcome extends Item {
  readonly type: Outcome;
  /** The HTTP status that decided it, when there was one. */
  readonly status?: number;
}

/** A client operation, invoked and (unless still pending) completed. */
export interface Operation {
  /** Its position among the run's operations, from 0. */
  readonly index: number;
  /** The client that ran it (a client runs one operation at a time). */
  readonly process: number;
  readonly f: OpFunction;
  /** The label of the node it was sent through. */
  readonly node: string;
  /** What was sent: for a read, the id with `value: null`. */
  readonly items: readonly Item[];
  readonly invoke: Stamp;
  /** Absent while pending; a run's history completes every operation before checking. */
  complete?: Stamp;
  type?: Outcome;
  /** Per document: for writes, each item's outcome; for a read, the value read. */
  outcomes?: readonly ItemOutcome[];
  status?: number;
  error?: string;
}

/** A fault the nemesis started or ended. */
export interface FaultEvent {
  readonly phase: "start" | "end";
  /** The kind: `kill`, `pause`, `wipe`, `join`, `leave`, `remove`. */
  readonly fault: string;
  /** The node label it acted on. */
  readonly node: string;
  readonly at: Stamp;
  readonly detail?: string;
}

/** A fault from its start to its end (`endMs` is `Infinity` if it never ended). */
export interface FaultWindow {
  readonly fault: string;
  readonly node: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly detail?: string;
}

/** One entry of the event log, in the order things happened. */
export type HistoryEvent =
  | { readonly kind: "invoke"; readonly op: number; readonly at: Stamp }
  | { readonly kind: Outcome; readonly op: number; readonly at: Stamp }
  | { readonly kind: "nemesis"; readonly fault: FaultEvent };

/** The recorder: clients and the nemesis append to it; the checker reads it. */
export class History {
  readonly #clock: Clock;
  readonly #operations: Operation[] = [];
  readonly #faults: FaultEvent[] = [];
  readonly #events: HistoryEvent[] = [];

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? realClock();
  }

  /** The current time on this history's clock. */
  now(): Stamp {
    return this.#clock.now();
  }

  /** Records an invocation; returns the operation's index for {@linkcode History.complete}. */
  invoke(process: number, f: OpFunction, node: string, items: readonly Item[]): number {
    const index = this.#operations.length;
    const at = this.#clock.now();
    this.#operations.push({ index, process, f, node, items, invoke: at });
    this.#events.push({ kind: "invoke", op: index, at });
    return index;
  }

  /**
   * Records a completion. `outcomes` defaults to every item ending as `type`; a read
   * passes the value it read.
   */
  complete(
    op: number,
    type: Outcome,
    options: { outcomes?: readonly ItemOutcome[]; status?: number; error?: string } = {},
  ): void {
    const operation = this.#operations[op];
    if (operation === undefined) throw new Error(`no operation ${op} was invoked`);
    if (operation.type !== undefined) throw new Error(`operation ${op} completed twice`);
    const at = this.#clock.now();
    operation.complete = at;
    operation.type = type;
    operation.outcomes = options.outcomes ??
      operation.items.map((item) => ({
        ...item,
        type,
        ...(options.status === undefined ? {} : { status: options.status }),
      }));
    if (options.status !== undefined) operation.status = options.status;
    if (options.error !== undefined) operation.error = options.error;
    this.#events.push({ kind: type, op, at });
  }

  /** Records a fault's start or end. */
  nemesis(phase: "start" | "end", fault: string, node: string, detail?: string): void {
    const event: FaultEvent = {
      phase,
      fault,
      node,
      at: this.#clock.now(),
      ...(detail === undefined ? {} : { detail }),
    };
    this.#faults.push(event);
    this.#events.push({ kind: "nemesis", fault: event });
  }

  /** Every operation, in invocation order. */
  operations(): readonly Operation[] {
    return this.#operations;
  }

  /** Every fault event, in order. */
  faultEvents(): readonly FaultEvent[] {
    return this.#faults;
  }

  /** The log: invocations, completions and faults as they happened. */
  events(): readonly HistoryEvent[] {
    return this.#events;
  }

  /** Each fault paired from its start to its end (by kind and node, in order). */
  faultWindows(): FaultWindow[] {
    return pairFaults(this.#faults);
  }
}

/** Pairs start and end events of the same fault on the same node. */
export function pairFaults(events: readonly FaultEvent[]): FaultWindow[] {
  const open = new Map<string, FaultEvent>();
  const windows: FaultWindow[] = [];
  const close = (start: FaultEvent, endMs: number, end?: FaultEvent) => {
    const detail = [start.detail, end?.detail].filter((d) => d !== undefined).join("; ");
    windows.push({
      fault: start.fault,
      node: start.node,
      startMs: start.at.monoMs,
      endMs,
      ...(detail === "" ? {} : { detail }),
    });
  };
  for (const event of events) {
    const key = `${event.fault}\u0000${event.node}`;
    if (event.phase === "start") {
      open.set(key, event);
      continue;
    }
    const start = open.get(key);
    if (start === undefined) continue;
    open.delete(key);
    close(start, event.at.monoMs, event);
  }
  for (const start of open.values()) close(start, Infinity);
  return windows.sort((a, b) => a.startMs - b.startMs);
}
