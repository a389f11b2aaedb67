/**
 * Hinted handoff (Dynamo §4.6, Cassandra's hints): a replicated write that one owner missed
 * (down, refused, or too slow) is kept on the replica that coordinated it as a *hint* — the
 * stamped copy it would have sent — and replayed when that owner is up again. The copy is
 * applied there put-if-newer by stamp, so replaying a hint late, twice, or after a newer
 * write changes nothing it should not.
 *
 * Hints are durable: one NDJSON file per missing node in `<data dir>/hints/`, appended and
 * synced before the hint counts; a restart finds them again. They are bounded — at most
 * `maxHintsPerNode` hints per node and `maxHintBytes` in all: a hint over a bound is dropped
 * and counted (`hints_dropped`; anti-entropy, `anti_entropy.ts`, repairs that replica).
 * Hints do not count toward a write's quorum (unlike Dynamo's sloppy quorum).
 *
 * @module
 */

import type { WriteCommand } from "../node/write_command.ts";

/** Default hints kept for one node. */
export const DEFAULT_MAX_HINTS_PER_NODE = 100_000;
/** Default bytes of hints kept in all. */
export const DEFAULT_MAX_HINT_BYTES = 256 * 1024 * 1024;
/** Hints sent to a returning node in one copy message. */
export const HINT_PAGE_COPIES = 500;

/** Counters for `/_metrics` and health. */
export type HintCounters = {
  hints_stored: number;
  hints_replayed: number;
  hints_dropped: number;
  hints_pending: number;
};

/** Sends a page of copies to a node; resolves when every one was applied there. */
export type SendCopies = (node: string, copies: readonly WriteCommand[]) => Promise<void>;

interface NodeHints {
  count: number;
  bytes: number;
  /** Appends and replays of this node's file, one after the other. */
  queue: Promise<unknown>;
  replaying: boolean;
}

/** The hints a node keeps for the others. */
export class HintStore {
  readonly counters: HintCounters = {
    hints_stored: 0,
    hints_replayed: 0,
    hints_dropped: 0,
    hints_pending: 0,
  };
  readonly #dir: string;
  readonly #maxPerNode: number;
  readonly #maxBytes: number;
  readonly #nodes = new Map<string, NodeHints>();
  #bytes = 0;

  private constructor(dir: string, options: { maxHintsPerNode?: number; maxHintBytes?: number }) {
    this.#dir = dir;
    this.#maxPerNode = options.maxHintsPerNode ?? DEFAULT_MAX_HINTS_PER_NODE;
    this.#maxBytes = options.maxHintBytes ?? DEFAULT_MAX_HINT_BYTES;
  }

  /** Opens `<dataDir>/hints`, counting the hints a previous run left. */
  static async open(
    dataDir: string,
    options: { maxHintsPerNode?: number; maxHintBytes?: number } = {},
  ): Promise<HintStore> {
    const store = new HintStore(`${dataDir}/hints`, options);
    await Deno.mkdir(store.#dir, { recursive: true });
    for await (const entry of Deno.readDir(store.#dir)) {
      if (!entry.isFile || !entry.name.endsWith(".ndjson")) continue;
      const node = decodeURIComponent(entry.name.slice(0, -".ndjson".length));
      const text = await Deno.readTextFile(`${store.#dir}/${entry.name}`);
      const hints = store.#of(node);
      hints.count = text.split("\n").filter((line) => line !== "").length;
      hints.bytes = byteLength(text);
      store.#bytes += hints.bytes;
      store.counters.hints_pending += hints.count;
    }
    return store;
  }

  /** Whether hints wait for `node`. */
  has(node: string): boolean {
    return (this.#nodes.get(node)?.count ?? 0) > 0;
  }

  /** Keeps copies `node` missed (durable when the promise resolves; over a bound, dropped). */
  add(node: string, copies: readonly WriteCommand[]): Promise<void> {
    const hints = this.#of(node);
    const lines: string[] = [];
    for (const copy of copies) {
      const line = JSON.stringify(copy) + "\n";
      const bytes = byteLength(line);
      if (hints.count >= this.#maxPerNode || this.#bytes + bytes > this.#maxBytes) {
        this.counters.hints_dropped++;
        continue;
      }
      lines.push(line);
      hints.count++;
      hints.bytes += bytes;
      this.#bytes += bytes;
      this.counters.hints_stored++;
      this.counters.hints_pending++;
    }
    if (lines.length === 0) return Promise.resolve();
    const run = hints.queue.then(() => this.#append(node, lines.join("")));
    hints.queue = run.catch(() => {});
    return run;
  }

  /**
   * Sends every hint kept for `node` (in pages, in the order they were kept), then forgets
   * them; a page that fails stops the replay, and the hints stay for the next one.
   */
  replay(node: string, send: SendCopies): Promise<number> {
    const hints = this.#of(node);
    if (hints.replaying || hints.count === 0) return Promise.resolve(0);
    hints.replaying = true;
    const run = hints.queue.then(() => this.#replay(node, hints, send));
    hints.queue = run.catch(() => {});
    return run.finally(() => (hints.replaying = false)).then(async (sent) =>
      // Hints kept while this replay ran are appended after it: they go next, or they would
      // wait for the node's next reconnection (a Jepsen run saw one wait forever).
      sent > 0 && hints.count > 0 ? sent + await this.replay(node, send) : sent
    );
  }

  async #replay(node: string, hints: NodeHints, send: SendCopies): Promise<number> {
    const path = this.#path(node);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return 0;
      throw error;
    }
    const lines = text.split("\n").filter((line) => line !== "");
    const copies = lines.flatMap((line): WriteCommand[] => {
      try {
        return [JSON.parse(line) as WriteCommand];
      } catch {
        return []; // a line torn by a crash mid-append: its write was never acknowledged as hinted
      }
    });
    for (let at = 0; at < copies.length; at += HINT_PAGE_COPIES) {
      await send(node, copies.slice(at, at + HINT_PAGE_COPIES));
    }
    // Appends wait in the queue behind this replay: the file holds exactly what was sent.
    await Deno.remove(path);
    // Hints added meanwhile are counted but not in the file yet: only the file's are gone.
    const bytes = byteLength(text);
    this.#bytes -= bytes;
    hints.bytes -= bytes;
    hints.count -= lines.length;
    this.counters.hints_pending -= lines.length;
    this.counters.hints_replayed += copies.length;
    return copies.length;
  }

  async #append(node: string, text: string): Promise<void> {
    const file = await Deno.open(this.#path(node), { append: true, create: true });
    try {
      await file.write(new TextEncoder().encode(text));
      await file.syncData();
    } finally {
      file.close();
    }
  }

  #of(node: string): NodeHints {
    let hints = this.#nodes.get(node);
    if (hints === undefined) {
      this.#nodes.set(
        node,
        hints = { count: 0, bytes: 0, queue: Promise.resolve(), replaying: false },
      );
    }
    return hints;
  }

  #path(node: string): string {
    return `${this.#dir}/${encodeURIComponent(node)}.ndjson`;
  }
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
