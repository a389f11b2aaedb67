/**
 * A point read of a replicated slot, after Dynamo (DeCandia et al., SOSP 2007, §4.5) and
 * Cassandra: the coordinator asks `read_quorum` reachable replicas (itself first when it is
 * one), another in place of one that fails or is slow, answers with the first `read_quorum`
 * replies, and of those returns the newest — by hybrid-logical-clock stamp, a
 * delete's tombstone included, so a replica that missed a delete cannot resurrect it. The
 * replicas found older are repaired with a stamped copy of the newest (Cassandra's read
 * repair; blocking for the replies the answer used, as Cassandra 4 does for monotonic quorum
 * reads, and in the background for replies that come later). The pure steps are functions
 * here; `ReplicaReads` runs them for the cluster's executor.
 *
 * @module
 */

import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { isStamp, UNSTAMPED } from "../storage/hlc.ts";
import { slotOf } from "../storage/slot.ts";
import type { StampedRead, StoredDocument } from "../storage/microshard.ts";
import { MalformedFrameError } from "./errors.ts";
import type { ClusterExecutorSettings, ClusterExecutorStats } from "./executor_settings.ts";
import { NodeUnavailableError } from "../node/errors.ts";
import type { RebuildingSlots } from "./rebuilding.ts";
import type { RemoteCalls } from "./remote_calls.ts";
import { type ClusterView, isLive } from "./view.ts";

/** A replica's answer to a stamped read. */
export interface ReplicaAnswer {
  readonly node: string;
  readonly read: StampedRead;
}

/**
 * A replica's stamped read as it crosses the wire: `rebuilding` when the replica is still
 * rebuilding the slot (`rebuilding.ts`) — its copy is used, but it does not count toward the
 * read quorum.
 */
export type ReplicaRead = StampedRead & { readonly rebuilding?: true };

/**
 * The stamp that orders an answer: its document's (`UNSTAMPED` for one stored before stamps
 * were) or its tombstone's; `""`, older than every stamp, when the replica holds nothing.
 */
export function stampOf(read: StampedRead): string {
  if (read.document !== undefined) return read.document.stamp ?? UNSTAMPED;
  return read.tombstone?.stamp ?? "";
}

/** The newest of the answers (the first of the highest stamp); `{}` when there are none. */
export function newestOf(answers: readonly ReplicaAnswer[]): StampedRead {
  let best: StampedRead = {};
  for (const { read } of answers) if (stampOf(read) > stampOf(best)) best = read;
  return best;
}

/** What a client is answered for the newest answer: its document, or none. */
export function documentOf(read: StampedRead): StoredDocument | null {
  const document = read.document;
  return document === undefined
    ? null
    : { id: document.id, version: document.version, doc: document.doc };
}

/**
 * The stamped copy that brings an older replica up to `newest` (a document stored before
 * stamps were goes as `UNSTAMPED`: it lands only where nothing is held); none when `newest` is
 * nothing.
 */
export function repairOf(index: string, newest: StampedRead): WriteCommand | undefined {
  const { document, tombstone } = newest;
  if (document !== undefined) {
    const placed = document.routingKey === undefined ? {} : { routingKey: document.routingKey };
    return {
      op: "put",
      index,
      id: document.id,
      doc: document.doc,
      stamp: document.stamp ?? UNSTAMPED,
      version: document.version,
      ...placed,
    };
  }
  if (tombstone === undefined) return undefined;
  const placed = tombstone.routingKey === undefined ? {} : { routingKey: tombstone.routingKey };
  return {
    op: "delete",
    index,
    id: tombstone.id,
    stamp: tombstone.stamp,
    version: tombstone.version,
    ...placed,
  };
}

/** The answers older than `newest`: the replicas a repair copy goes to. */
export function staleOf(
  answers: readonly ReplicaAnswer[],
  newest: StampedRead,
): ReplicaAnswer[] {
  const stamp = stampOf(newest);
  return answers.filter(({ read }) => stampOf(read) < stamp);
}

/** How long a read waits for its first replicas before it also asks the next one, in ms. */
export const SPECULATIVE_READ_MS = 50;

/**
 * Asks every node of `first` at once, and the nodes of `then` one at a time: in place of each
 * that fails, to make up `wanted` when `first` is short, and one more each `speculativeMs`
 * while too few have answered (Cassandra's speculative retry: a replica that hangs costs a
 * read that much, not its timeout). Resolves with the first `wanted` answers, and hands each
 * later one to `onLate` with the answers resolved (an `onLate` that throws is ignored).
 * Rejects with the last error when fewer than `wanted` nodes can answer.
 */
export function firstAnswers<T>(
  nodes: { readonly first: readonly string[]; readonly then: readonly string[] },
  wanted: number,
  ask: (node: string) => Promise<T>,
  options: {
    readonly speculativeMs?: number;
    readonly onLate?: (
      node: string,
      value: T,
      answers: ReadonlyArray<{ node: string; value: T }>,
    ) => void;
  } = {},
): Promise<Array<{ node: string; value: T }>> {
  const speculativeMs = options.speculativeMs ?? SPECULATIVE_READ_MS;
  return new Promise((resolve, reject) => {
    const got: Array<{ node: string; value: T }> = [];
    const queue = [...nodes.then];
    let pending = 0;
    let done = false;
    let lastError: unknown = new Error("no replica to read from");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = () => {
      if (done) return;
      if (got.length >= wanted) {
        done = true;
        resolve(got);
      } else if (pending === 0 && queue.length === 0) {
        done = true;
        reject(lastError);
      }
      if (done) clearTimeout(timer);
    };
    const speculate = () => {
      timer = undefined;
      const next = done ? undefined : queue.shift();
      if (next === undefined) return;
      start(next);
      if (queue.length > 0) timer = setTimeout(speculate, speculativeMs);
    };
    const start = (node: string) => {
      pending++;
      Promise.resolve().then(() => ask(node)).then((value) => {
        pending--;
        if (!done) got.push({ node, value });
        else late(node, value);
        settle();
      }, (error) => {
        pending--;
        lastError = error;
        const next = done ? undefined : queue.shift();
        if (next !== undefined) start(next);
        settle();
      });
    };
    const late = (node: string, value: T) => {
      try {
        options.onLate?.(node, value, got);
      } catch {
        // A late answer only repairs; nothing waits on it.
      }
    };
    for (const node of nodes.first) start(node);
    while (pending < wanted && queue.length > 0) start(queue.shift()!);
    if (queue.length > 0 && speculativeMs > 0) timer = setTimeout(speculate, speculativeMs);
    settle();
  });
}

/** A point read as it names its document. */
export interface PointRead {
  readonly index: string;
  readonly id: string;
  readonly routingKey?: string;
}

/** What the replicated point read works with. */
export interface ReplicaReadsDeps {
  readonly node: NodeOrchestrator;
  readonly calls: RemoteCalls;
  readonly settings: ClusterExecutorSettings;
  readonly counters: ClusterExecutorStats;
  /** The slots this node is rebuilding (its own answer for them does not count). */
  readonly rebuilding?: RebuildingSlots;
}

/** The replicated point reads coordinated by this node, with their read repair. */
export class ReplicaReads {
  readonly #node: NodeOrchestrator;
  readonly #calls: RemoteCalls;
  readonly #settings: ClusterExecutorSettings;
  readonly #counters: ClusterExecutorStats;
  /** Turns the replicated reads take over the other live owners of a slot. */
  #readTurn = 0;
  readonly #rebuilding: RebuildingSlots | undefined;

  constructor(deps: ReplicaReadsDeps) {
    this.#node = deps.node;
    this.#calls = deps.calls;
    this.#settings = deps.settings;
    this.#counters = deps.counters;
    this.#rebuilding = deps.rebuilding;
  }

  /**
   * A point read of a replicated slot: `read_quorum` live owners are asked, another in place
   * of one that fails or is slow, and the first `read_quorum` answers decide, by stamp (a
   * tombstone included); a down owner is asked last, so the slot stays readable while any
   * owner lives. The owners found older get a stamped copy of the newest before the answer;
   * an answer that comes later is compared too, and whichever side is older repaired after it.
   */
  async read(
    view: ClusterView,
    read: PointRead,
    owners: readonly string[],
  ): Promise<StoredDocument | null> {
    const wanted = Math.min(Math.max(this.#settings.readQuorum ?? 1, 1), owners.length);
    const order = this.#askOrder(view, owners);
    // Answers of replicas still rebuilding the slot: used, but another owner is asked instead;
    // one that comes after the read was answered is repaired like any late answer.
    const rebuilding: ReplicaAnswer[] = [];
    const settled = { answered: undefined as ReplicaAnswer[] | undefined };
    const got = await firstAnswers(
      { first: order.slice(0, wanted), then: order.slice(wanted) },
      wanted,
      async (node) => {
        const answer = await this.#stampedRead(view, node, read);
        if (answer.rebuilding !== true) return answer;
        const answered = settled.answered;
        if (answered === undefined) rebuilding.push({ node, read: answer });
        else {
          this.#repairStale(view, read.index, [...answered, { node, read: answer }])
            .catch(() => {});
        }
        throw new NodeUnavailableError(node, "it is still rebuilding this document's slot");
      },
      {
        onLate: (node, late, got) => {
          const all = [...answersOf(got), { node, read: late }];
          this.#repairStale(view, read.index, all).catch(() => {});
        },
      },
    );
    settled.answered = answersOf(got);
    return documentOf(
      await this.#repairStale(view, read.index, [...settled.answered, ...rebuilding]),
    );
  }

  /**
   * The owners in the order a read asks them: this node first when it is an owner, the other
   * live owners taken in turn (so reads spread over them), down owners last.
   */
  #askOrder(view: ClusterView, owners: readonly string[]): string[] {
    const others = owners.filter((node) => node !== view.self && isLive(view, node));
    const turn = others.length === 0 ? 0 : this.#readTurn++ % others.length;
    return [
      ...owners.filter((node) => node === view.self),
      ...others.slice(turn),
      ...others.slice(0, turn),
      ...owners.filter((node) => node !== view.self && !isLive(view, node)),
    ];
  }

  /** One owner's copy of a document with its stamp (this node's own, or a peer's, checked). */
  async #stampedRead(view: ClusterView, node: string, read: PointRead): Promise<ReplicaRead> {
    const { index, id, routingKey } = read;
    if (node === view.self) {
      const held = await this.#node.getStamped(index, id, routingKey);
      const rebuilding = this.#rebuilding?.has(slotOf(routingKey ?? id)) === true;
      return rebuilding ? { ...held, rebuilding } : held;
    }
    const answer = await this.#calls.unicast(view, node, {
      type: "getStamped",
      index,
      id,
      ...(routingKey === undefined ? {} : { routingKey }),
    });
    return answerFor(read, parseStampedRead(answer));
  }

  /** Repairs the answers older than the newest of them; resolves with the newest. */
  async #repairStale(
    view: ClusterView,
    index: string,
    answers: readonly ReplicaAnswer[],
  ): Promise<StampedRead> {
    const newest = newestOf(answers);
    const stale = staleOf(answers, newest).map(({ node }) => node);
    if (stale.length > 0) await this.#repair(view, index, newest, stale);
    return newest;
  }

  /**
   * Read repair: a stamped copy of the newest answer to the owners found older (applied only
   * where it is newer; a repair that fails leaves the replica to hints and anti-entropy).
   */
  async #repair(
    view: ClusterView,
    index: string,
    newest: StampedRead,
    nodes: readonly string[],
  ): Promise<void> {
    const copy = repairOf(index, newest);
    if (copy === undefined) return;
    await Promise.all(nodes.map(async (node) => {
      try {
        const [answer] = node === view.self
          ? await this.#node.write([copy])
          : await this.#calls.unicast(view, node, { type: "copy", commands: [copy] });
        if (answer?.ok === true && answer.result !== "unchanged") this.#counters.read_repairs++;
      } catch {
        // Not repaired now: hints and anti-entropy bring the replica up to date.
      }
    }));
  }
}

/** Gathered answers as replica answers. */
function answersOf(
  got: ReadonlyArray<{ node: string; value: StampedRead }>,
): ReplicaAnswer[] {
  return got.map(({ node, value }) => ({ node, read: value }));
}

/** Longest document id or routing key a peer's answer may carry, in characters. */
const MAX_KEY_CHARS = 4_096;

/**
 * A peer's answer checked against what was asked: the same id, in the same slot. Anything else
 * is refused, so it is neither answered nor copied to other replicas by a repair.
 */
export function answerFor<T extends StampedRead>(read: PointRead, answer: T): T {
  const held = answer.document ?? answer.tombstone;
  if (held === undefined) return answer;
  const asked = slotOf(read.routingKey ?? read.id);
  if (held.id !== read.id || slotOf(held.routingKey ?? held.id) !== asked) {
    throw new MalformedFrameError(`a replica answered "${held.id}" for "${read.id}"`);
  }
  return answer;
}

/** A peer's answer to a stamped read, checked in shape (a malformed one is refused). */
export function parseStampedRead(value: unknown): ReplicaRead {
  const read = record(value, "a stamped read");
  const rebuilding = read.rebuilding === true ? { rebuilding: true as const } : {};
  if (read.document !== undefined) {
    const document = record(read.document, "its document");
    return {
      document: {
        ...keyed(document, "its document"),
        doc: record(document.doc, "its document's body"),
        ...(document.stamp === undefined ? {} : { stamp: stamp(document.stamp) }),
      },
      ...rebuilding,
    };
  }
  if (read.tombstone === undefined) return rebuilding;
  const tombstone = record(read.tombstone, "its tombstone");
  return {
    tombstone: { ...keyed(tombstone, "its tombstone"), stamp: stamp(tombstone.stamp) },
    ...rebuilding,
  };
}

type Obj = Record<string, unknown>;

function record(value: unknown, what: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedFrameError(`${what} is not a map`);
  }
  return value as Obj;
}

function keyed(value: Obj, what: string): { id: string; version: number; routingKey?: string } {
  const { id, version, routingKey } = value;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_KEY_CHARS) {
    throw new MalformedFrameError(`${what}'s id is not a document id`);
  }
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0) {
    throw new MalformedFrameError(`${what}'s version is not a count`);
  }
  if (
    routingKey !== undefined &&
    (typeof routingKey !== "string" || routingKey.length > MAX_KEY_CHARS)
  ) {
    throw new MalformedFrameError(`${what}'s routing key is not a string`);
  }
  return { id, version, ...(routingKey === undefined ? {} : { routingKey }) };
}

function stamp(value: unknown): string {
  if (typeof value !== "string" || !isStamp(value)) {
    throw new MalformedFrameError("a stamp is not a hybrid-logical-clock stamp");
  }
  return value;
}
