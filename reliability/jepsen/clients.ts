/**
 * The clients of a Jepsen-style run: `clients` concurrent loops, each running one
 * operation at a time through a random live node — a put of a new id, a put updating an
 * existing id, a delete, a point read, a `_bulk` of several documents — every one recorded
 * in the history as an invocation and its completion. Seeded (`testing/random.ts`): the
 * same seed makes the same choices (the timing of a real cluster still differs).
 *
 * Every value written carries a unique token (`t<client>-<n>`), so a read names the write
 * it returns. Documents are `{key, token, n}`; `key` repeats the id so a scan can be
 * sorted and paged by it.
 *
 * How an answer is classified (read from what the server answers, `http/status.ts`):
 * 2xx is `ok` (a 404 read is an `ok` read of nothing, a delete of a missing id is an `ok`
 * delete); any other 4xx is `fail` (refused before anything was written); a 503 is `fail`
 * only when the server says nothing was applied (a node still joining refuses every data
 * request at its edge); any other 5xx — a 503 naming a node that did not answer, a 507 —
 * is `info`, since the write may have reached its owner before the link broke (the
 * cluster's unicast retries such a write, so even "it is down" can follow a sent
 * attempt). A request without an answer — a timeout, a reset, even a refused connection
 * (see {@linkcode outcomeOfError}) — is `info`.
 *
 * @module
 */

import { SeededRandom } from "../../testing/random.ts";
import type { History, Item, ItemOutcome, OpFunction, Outcome } from "./history.ts";

/** The index the run writes. */
export const JEPSEN_INDEX = "jepsen";

/** A node a client can send to. */
export interface Target {
  readonly label: string;
  readonly url: string;
}

/** The operation mix, as weights. */
export interface OperationMix {
  putNew: number;
  putUpdate: number;
  delete: number;
  get: number;
  bulk: number;
}

/** The default mix: half writes, a third reads. */
export const DEFAULT_MIX: OperationMix = {
  putNew: 20,
  putUpdate: 25,
  delete: 10,
  get: 35,
  bulk: 10,
};

/** Options of {@linkcode runClients}. */
export interface ClientOptions {
  clients: number;
  seed: number;
  history: History;
  /** The nodes live now (asked before every operation). */
  live: () => readonly Target[];
  /** Resolves when the clients are to stop (each finishes its operation in flight). */
  stop: Promise<void>;
  mix?: OperationMix;
  /** Longest a request may take before it is `info`, in ms. */
  requestTimeoutMs?: number;
  /** Documents per `_bulk`, at most. */
  maxBulkItems?: number;
}

/** Details that say a 503 wrote nothing: refused at the node's edge. */
const NOT_APPLIED = [/is joining the cluster/];

/** The outcome of an HTTP status (see the module doc). */
export function outcomeOf(status: number, details?: string): Outcome {
  if (status >= 200 && status < 300) return "ok";
  if (status >= 400 && status < 500) return "fail";
  if (status === 503 && NOT_APPLIED.some((pattern) => pattern.test(details ?? ""))) return "fail";
  return "info";
}

/**
 * The outcome of a request that got no answer: always `info`. Not even a refused
 * connection is `fail`: `fetch` keeps connections alive, and when a pooled connection dies
 * under a request it tries again on a new one, so "Connection refused" can follow a
 * request the server had read and applied — a run caught exactly that (a `_bulk` sent 16 ms
 * before its node was SIGKILLed, answered "tcp connect error: Connection refused", whose
 * documents were read back; docs/reliability.md).
 */
export function outcomeOfError(_error: unknown): Outcome {
  return "info";
}

/** An error and its causes as one line (`fetch` puts what happened in `cause`). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(" <- ");
}

/** Runs the clients until `stop`; resolves when every operation has completed. */
export async function runClients(options: ClientOptions): Promise<void> {
  const random = new SeededRandom(options.seed);
  const pool = new IdPool();
  let stopped = false;
  options.stop.then(() => stopped = true);
  await Promise.all(
    Array.from({ length: options.clients }, (_, process) => {
      const client = new Client(process, new SeededRandom(random.int(0, 2 ** 31)), pool, options);
      return (async () => {
        while (!stopped) await client.step();
      })();
    }),
  );
}

/** The ids written so far, shared by the clients (so they contend on ids). */
class IdPool {
  readonly ids: string[] = [];
  #next = 0;

  fresh(): string {
    const id = `k${String(this.#next++).padStart(6, "0")}`;
    this.ids.push(id);
    return id;
  }

  /** An existing id: half the time one of the 32 newest (contention), else any. */
  existing(random: SeededRandom): string | undefined {
    if (this.ids.length === 0) return undefined;
    const recent = random.next() < 0.5;
    const from = recent ? Math.max(0, this.ids.length - 32) : 0;
    return this.ids[random.int(from, this.ids.length - 1)];
  }
}

class Client {
  readonly #process: number;
  readonly #random: SeededRandom;
  readonly #pool: IdPool;
  readonly #options: ClientOptions;
  #written = 0;

  constructor(process: number, random: SeededRandom, pool: IdPool, options: ClientOptions) {
    this.#process = process;
    this.#random = random;
    this.#pool = pool;
    this.#options = options;
  }

  #token(): string {
    return `t${this.#process}-${++this.#written}`;
  }

  /** Picks an operation and runs it through a random live node. */
  async step(): Promise<void> {
    const live = this.#options.live();
    if (live.length === 0) {
      // Nobody to send to (never with one fault at a time on 2+ nodes): yield a moment.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return;
    }
    const target = this.#random.pick(live);
    const mix = this.#options.mix ?? DEFAULT_MIX;
    const weights: Array<[keyof OperationMix, number]> = Object.entries(mix) as Array<
      [keyof OperationMix, number]
    >;
    let roll = this.#random.next() * weights.reduce((sum, [, w]) => sum + w, 0);
    let kind: keyof OperationMix = "get";
    for (const [name, weight] of weights) {
      if (roll < weight) {
        kind = name;
        break;
      }
      roll -= weight;
    }
    const existing = this.#pool.existing(this.#random);
    if (kind === "bulk") return this.#bulk(target);
    if (kind === "putNew" || existing === undefined) {
      return this.#single(target, "put", { id: this.#pool.fresh(), value: this.#token() });
    }
    if (kind === "putUpdate") {
      return this.#single(target, "put", { id: existing, value: this.#token() });
    }
    if (kind === "delete") return this.#single(target, "delete", { id: existing, value: null });
    return this.#single(target, "get", { id: existing, value: null });
  }

  async #single(target: Target, f: OpFunction, item: Item): Promise<void> {
    const history = this.#options.history;
    const op = history.invoke(this.#process, f, target.label, [item]);
    const path = `/api/${JEPSEN_INDEX}/document`;
    const id = encodeURIComponent(item.id);
    try {
      const answer = f === "put"
        ? await this.#send(target, "PUT", path, {
          id: item.id,
          doc: document(item.id, item.value!),
        })
        : f === "delete"
        ? await this.#send(target, "DELETE", `${path}?id=${id}`)
        : await this.#send(target, "GET", `${path}/${id}`);
      const details = (answer.body as { details?: string } | undefined)?.details;
      if (f === "get" && (answer.status === 200 || answer.status === 404)) {
        const value = answer.status === 404 ? null : tokenOf(answer.body);
        history.complete(op, "ok", {
          outcomes: [{ id: item.id, value, type: "ok", status: answer.status }],
          status: answer.status,
        });
        return;
      }
      const type = outcomeOf(answer.status, details);
      history.complete(op, type, {
        status: answer.status,
        ...(type === "ok" || details === undefined ? {} : { error: details }),
      });
    } catch (error) {
      history.complete(op, outcomeOfError(error), { error: describeError(error) });
    }
  }

  async #bulk(target: Target): Promise<void> {
    const count = this.#random.int(2, this.#options.maxBulkItems ?? 8);
    const items: Item[] = [];
    const ids = new Set<string>();
    for (let k = 0; k < count; k++) {
      const existing = this.#random.next() < 0.5 ? this.#pool.existing(this.#random) : undefined;
      const id = existing ?? this.#pool.fresh();
      if (ids.has(id)) continue; // one write per id in a bulk
      ids.add(id);
      items.push({ id, value: this.#token() });
    }
    const history = this.#options.history;
    const op = history.invoke(this.#process, "bulk", target.label, items);
    try {
      const answer = await this.#send(
        target,
        "POST",
        `/api/${JEPSEN_INDEX}/_bulk`,
        items.map((item) => ({ id: item.id, doc: document(item.id, item.value!) })),
      );
      const body = answer.body as {
        details?: string;
        errors?: Array<{ item: number; status: number; error: string }>;
      };
      const whole = outcomeOf(answer.status, body?.details);
      if (whole !== "ok") {
        history.complete(op, whole, {
          status: answer.status,
          ...(body?.details === undefined ? {} : { error: body.details }),
        });
        return;
      }
      const refused = new Map((body.errors ?? []).map((e) => [e.item, e]));
      const outcomes: ItemOutcome[] = items.map((item, k) => {
        const error = refused.get(k);
        return error === undefined
          ? { ...item, type: "ok", status: 200 }
          : { ...item, type: outcomeOf(error.status, error.error), status: error.status };
      });
      const types = new Set(outcomes.map((o) => o.type));
      const type = types.size === 1 ? outcomes[0]!.type : "info";
      history.complete(op, type, { outcomes, status: answer.status });
    } catch (error) {
      history.complete(op, outcomeOfError(error), { error: describeError(error) });
    }
  }

  async #send(target: Target, method: string, path: string, body?: unknown) {
    const init: RequestInit = {
      method,
      signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 5_000),
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const response = await fetch(`${target.url}${path}`, init);
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body: parsed };
  }
}

/** The document written for `id` with `token`. */
export function document(id: string, token: string): Record<string, unknown> {
  return { key: id, token, n: Number(token.split("-")[1] ?? 0) };
}

/** The token of a read document, or a marker the checker counts as stale when malformed. */
export function tokenOf(body: unknown): string {
  const token = (body as { doc?: { token?: unknown } } | undefined)?.doc?.token;
  return typeof token === "string" ? token : `malformed:${JSON.stringify(body)}`;
}
