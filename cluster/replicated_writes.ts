/**
 * The write path of a node in a cluster: a batch's new fields spread to every node first,
 * then each command goes to the owner that coordinates its slot (this node when it is an
 * owner, else the first live one — Dynamo §4.5; another owner when that one does not answer),
 * and the coordinating owner applies it with its stamp and copies it to every other owner and
 * to a moving slot's receiver (the dual write) before it answers. A replicated write is
 * acknowledged once `write_quorum` replicas hold it; a copy a replica missed is hinted and
 * replayed when the replica is live again.
 *
 * @module
 */

import { serializeError } from "../actors/errors.ts";
import type { WriteResult } from "../node/executor.ts";
import { NodeUnavailableError, QuorumNotReachedError } from "../node/errors.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import { placementKey, type WriteCommand } from "../node/write_command.ts";
import { slotOf } from "../storage/slot.ts";
import type { ClusterExecutorSettings } from "./executor_settings.ts";
import type { RemoteCalls } from "./remote_calls.ts";
import type { DualWrites, SlotStates } from "./slot_states.ts";
import { type ClusterView, isLive } from "./view.ts";

/** Wait before replaying hints again after a replay failed, in ms. */
const HINT_RETRY_MS = 1_000;

/** What the write path works with. */
export interface ReplicatedWritesDeps {
  readonly node: NodeOrchestrator;
  readonly calls: RemoteCalls;
  readonly slots: SlotStates;
  readonly settings: ClusterExecutorSettings;
  /** The view writes route by now (it changes while a write waits). */
  readonly currentView: () => ClusterView;
}

/** How a write batch is routed: forwarded `hops` times so far; `ingress` where a client sent it. */
interface Routing {
  readonly hops: number;
  readonly ingress: boolean;
}

/** Where the copies of a batch owned here go. */
interface CopyPlan {
  /** Per node, the positions in the batch it gets a copy of. */
  readonly targets: Map<string, number[]>;
  /** The batch's slots that are moving (not fenced yet): their writes are dual writes. */
  readonly moving: ReadonlySet<number>;
  /** Per position, the replicas of its slot (this node included). */
  readonly owners: readonly number[];
}

/** What the copies of a batch reached: replicas per position, and deletes found elsewhere. */
interface CopyTally {
  readonly acks: number[];
  /** Positions this node had not found but another replica deleted, with that version. */
  readonly deletedElsewhere: Map<number, number>;
}

/** The copies of one batch to one node. */
interface CopyRound {
  readonly batch: readonly WriteCommand[];
  readonly results: readonly WriteResult[];
  readonly positions: readonly number[];
  readonly duals: readonly DualWrites[];
  readonly tally: CopyTally;
}

/** Routes writes to their coordinating owner and replicates those owned here. */
export class ReplicatedWrites {
  readonly #node: NodeOrchestrator;
  readonly #calls: RemoteCalls;
  readonly #slots: SlotStates;
  readonly #settings: ClusterExecutorSettings;
  readonly #view: () => ClusterView;
  /** The next replay of hints after a failed one, if one is scheduled. */
  #replayTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: ReplicatedWritesDeps) {
    this.#node = deps.node;
    this.#calls = deps.calls;
    this.#slots = deps.slots;
    this.#settings = deps.settings;
    this.#view = deps.currentView;
  }

  /** Writes a client's batch: new fields reach every node first, then each owner its writes. */
  async write(commands: readonly WriteCommand[]): Promise<WriteResult[]> {
    const changed = this.#node.planSchemas(commands);
    // An index this batch creates is born now (`index_drops.ts`).
    for (const { index } of changed) this.#settings.indexDrops?.birthOf(index);
    await this.#spreadSchemas(this.#view(), changed);
    // The view after the schemas spread: a move may have started meanwhile.
    return await this.#route(this.#view(), commands, { hops: 0, ingress: true });
  }

  /** Writes another node sent here, forwarded `hops` times already (see the facade). */
  serve(commands: readonly WriteCommand[], hops: number): Promise<WriteResult[]> {
    return this.#route(this.#view(), commands, { hops, ingress: false });
  }

  /** Replays the hints kept for every live member that has some (one replay at a time each). */
  replayHints(view: ClusterView): void {
    const hints = this.#settings.hints;
    if (hints === undefined) return;
    for (const node of view.members.keys()) {
      if (node === view.self || !hints.has(node) || !isLive(view, node)) continue;
      hints.replay(node, async (to, copies) => {
        const answers = await this.#calls.unicast(this.#view(), to, {
          type: "copy",
          commands: copies,
        });
        if (answers.some((answer) => !answer.ok)) throw new Error(`${to} refused a hint`);
      }).catch(() => this.#replayLater());
    }
  }

  /** Asks every other reachable node to adopt schema changes (within the broadcast timeout). */
  async #spreadSchemas(view: ClusterView, changed: ReturnType<NodeOrchestrator["schemaList"]>) {
    if (changed.length === 0) return;
    await this.#calls.gather(
      view,
      (node) =>
        this.#calls.unicast(
          view,
          node,
          { type: "adoptSchemas", schemas: changed },
          this.#settings.broadcastTimeoutMs,
        ),
      { local: false },
    );
  }

  /**
   * The replica that coordinates a write of a slot (Dynamo §4.5: any node of the preference
   * list coordinates, usually the first healthy one): this node when it is an owner, else the
   * first live owner. With one owner, the owner (as before replication).
   */
  #writerFor(
    view: ClusterView,
    slot: number,
    hops: number,
    tried: ReadonlySet<string> = new Set(),
  ): string {
    const owners = view.slots?.entry(slot).owners ?? [];
    if (owners.length <= 1 || this.#slots.isFenced(slot)) {
      return this.#slots.ownerFor(view, slot, hops);
    }
    if (owners.includes(view.self)) return view.self;
    const left = owners.filter((node) => !tried.has(node));
    return left.find((node) => isLive(view, node)) ?? left[0] ?? owners[0]!;
  }

  /** Whether a write group that `owner` failed with `error` has another owner to try. */
  #canRetryElsewhere(
    view: ClusterView,
    batch: readonly WriteCommand[],
    owner: string,
    tried: ReadonlySet<string>,
    error: unknown,
  ): boolean {
    const name = (error as Error | undefined)?.name;
    if (name !== "NodeUnavailableError" && name !== "AskTimeoutError") return false;
    return batch.every((command) => {
      const owners = view.slots?.entry(slotOf(placementKey(command))).owners ?? [];
      return owners.some((node) => node !== owner && !tried.has(node));
    }) && owner !== view.self;
  }

  /** Replicas that must take a write of a slot with `owners` replicas. */
  #quorumOf(owners: number): number {
    const asked = this.#settings.writeQuorum ?? 0;
    return asked > 0 ? Math.min(asked, owners) : Math.floor(owners / 2) + 1;
  }

  /**
   * Sends each command to the owner that coordinates its slot, grouped per owner and in
   * parallel; a forwarded write whose owner is another node fails with 503 rather than loop.
   */
  async #route(
    view: ClusterView,
    commands: readonly WriteCommand[],
    how: Routing,
    tried: ReadonlySet<string> = new Set(),
  ): Promise<WriteResult[]> {
    const groups = new Map<string, number[]>();
    commands.forEach((command, i) => {
      pushTo(groups, this.#writerFor(view, slotOf(placementKey(command)), how.hops, tried), i);
    });
    const outcomes: WriteResult[] = new Array(commands.length);
    await Promise.all([...groups].map(async ([owner, positions]) => {
      const batch = positions.map((i) => commands[i]!);
      try {
        if (owner !== view.self && !how.ingress && how.hops > 0) {
          throw new NodeUnavailableError(owner, "its slots are changing owner; retry");
        }
        const results = owner === view.self ? await this.#writeOwned(view, batch) : await this
          .#calls.unicast(
            view,
            owner,
            { type: "write", commands: batch, hops: how.ingress ? 0 : how.hops + 1 },
            // A bulk gets the bulk deadline, a single write the point one.
            batch.length > 1 ? this.#settings.bulkTimeoutMs : undefined,
          );
        positions.forEach((i, k) => (outcomes[i] = results[k]!));
      } catch (error) {
        if (how.ingress && this.#canRetryElsewhere(view, batch, owner, tried, error)) {
          // The replica picked to coordinate did not answer: another owner coordinates.
          const again = await this.#route(view, batch, how, new Set([...tried, owner]));
          positions.forEach((i, k) => (outcomes[i] = again[k]!));
          return;
        }
        for (const i of positions) {
          outcomes[i] = { ok: false, id: commands[i]!.id, error: serializeError(error) };
        }
      }
    }));
    return outcomes;
  }

  /**
   * Writes commands of slots served here. A slot being moved gets a dual write: applied here,
   * then copied (with this node's stamp and version) to its receiver before the answer; a
   * copy that fails makes the move start again (see `fenceSlot`). A slot with several owners
   * is replicated the same way: applied here, copied to every other owner, and acknowledged
   * once `write_quorum` replicas (this one included) hold it — fewer answer
   * `QuorumNotReachedError` (503: it may be present on some replicas).
   */
  #writeOwned(view: ClusterView, batch: readonly WriteCommand[]): Promise<WriteResult[]> {
    const run = this.#writeOwnedNow(view, batch);
    this.#slots.trackLocalWrite(batch, run);
    return run;
  }

  /** Applies a batch here, then (when its slots have other replicas or a receiver) copies it. */
  #writeOwnedNow(view: ClusterView, batch: readonly WriteCommand[]): Promise<WriteResult[]> {
    const plan = this.#copyPlan(view, batch);
    if (plan.targets.size === 0) return this.#node.write(batch);
    const duals = [...plan.moving].map((slot) => this.#slots.dualOf(slot));
    const run = this.#node.write(batch, { withStamps: true }).then(async (results) => {
      const tally: CopyTally = {
        acks: results.map((result) => (result.ok ? 1 : 0)),
        deletedElsewhere: new Map(),
      };
      await Promise.all(
        [...plan.targets].map(([to, positions]) =>
          this.#copyTo(view, to, { batch, results, positions, duals, tally })
        ),
      );
      return this.#answersOf(results, tally, plan.owners);
    });
    this.#slots.trackDual(duals, run);
    return run;
  }

  /** Which nodes get a copy of which commands: the slot's other owners and its receiver. */
  #copyPlan(view: ClusterView, batch: readonly WriteCommand[]): CopyPlan {
    const targets = new Map<string, number[]>();
    const moving = new Set<number>();
    const owners: number[] = new Array(batch.length).fill(1);
    batch.forEach((command, k) => {
      const slot = slotOf(placementKey(command));
      const entry = view.slots?.entry(slot);
      const replicas = (entry?.owners ?? []).filter((node) => node !== view.self);
      owners[k] = replicas.length + 1;
      const to = entry?.pending;
      const isMoving = to !== undefined && to !== view.self && !this.#slots.isFenced(slot);
      if (isMoving) moving.add(slot);
      for (const node of isMoving ? [...replicas, to] : replicas) pushTo(targets, node, k);
    });
    return { targets, moving, owners };
  }

  /**
   * Copies a batch's writes to one node and counts what it took. A replica that misses some
   * gets them hinted; a moving slot's receiver that misses one fails its move's dual writes.
   */
  async #copyTo(view: ClusterView, to: string, round: CopyRound): Promise<void> {
    const { batch, results, positions, duals, tally } = round;
    const isOwner = (k: number) =>
      view.slots?.entry(slotOf(placementKey(batch[k]!))).owners.includes(to) === true;
    const copyFor = (k: number) => copyOf(batch[k]!, results[k]!, { replica: isOwner(k) });
    const sent = positions.filter((k) => copyFor(k).length > 0);
    const copies = sent.flatMap(copyFor);
    if (copies.length === 0) return;
    // A copy to a moving slot's receiver that fails restarts its move.
    const pending = sent.some((k) =>
      view.slots?.entry(slotOf(placementKey(batch[k]!))).pending === to
    );
    try {
      const answers = await this.#calls.unicast(view, to, { type: "copy", commands: copies });
      answers.forEach((answer, j) => {
        if (!answer.ok) return;
        // The quorum counts owners only: a moving slot's receiver is not one yet.
        if (isOwner(sent[j]!)) tally.acks[sent[j]!]!++;
        if (answer.result === "deleted") tally.deletedElsewhere.set(sent[j]!, answer.version);
      });
      if (answers.some((answer) => !answer.ok)) {
        if (pending) throw new Error("refused");
        await this.#hint(to, stampedOnly(copies.filter((_, j) => answers[j]?.ok !== true)));
      }
    } catch {
      if (pending) { for (const dual of duals) dual.failed = true; }
      else await this.#hint(to, stampedOnly(copies));
    }
  }

  /** The answers of a batch owned here, by how many replicas took each write. */
  #answersOf(
    results: readonly WriteResult[],
    tally: CopyTally,
    owners: readonly number[],
  ): WriteResult[] {
    const replicated = owners.some((n) => n > 1);
    return results.map((result, k) => {
      if (!replicated) return withoutStamp(result);
      const version = tally.deletedElsewhere.get(k);
      // Not here, but deleted on another replica (this one had missed the document).
      const answer: WriteResult =
        result.ok && result.result === "not_found" && version !== undefined
          ? { ...result, result: "deleted", version }
          : result;
      return this.#acknowledged(answer, tally.acks[k]!, owners[k]!);
    });
  }

  /** Keeps copies a replica missed, to replay when it is back (never fails the write). */
  async #hint(node: string, copies: readonly WriteCommand[]): Promise<void> {
    await this.#settings.hints?.add(node, copies).catch(() => {});
  }

  /** A replay failed (the node is not quite back): tried again after `HINT_RETRY_MS`. */
  #replayLater(): void {
    if (this.#replayTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#replayTimer = undefined;
      this.replayHints(this.#view());
    }, HINT_RETRY_MS);
    Deno.unrefTimer(timer);
    this.#replayTimer = timer;
  }

  /** A replicated write's answer: how many replicas took it, or 503 below the quorum. */
  #acknowledged(result: WriteResult, acks: number, owners: number): WriteResult {
    if (!result.ok) return result;
    // Unstamped: it changed nothing anywhere. A delete of an id this owner does not hold is
    // stamped (its tombstone) and needs the quorum like any write: another owner may hold the
    // document, so "not found" is only known once a quorum has taken the delete (Cassandra's
    // rule: a delete is a write).
    if (result.stamp === undefined) return { ...result, replicas_acknowledged: acks };
    const quorum = this.#quorumOf(owners);
    if (acks >= quorum) return { ...withoutStamp(result), replicas_acknowledged: acks };
    const error = new QuorumNotReachedError(
      `Cannot acknowledge the write of "${result.id}": ${acks} of ${owners} replicas took it, ` +
        `the write quorum is ${quorum}; it may be present on the replicas that took it`,
    );
    return { ok: false, id: result.id, error: serializeError(error) };
  }
}

/** Adds `value` to the list kept under `key`. */
function pushTo<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list === undefined) lists.set(key, [value]);
  else list.push(value);
}

/** Only stamped copies are hinted: a plain delete replayed late would win over newer puts. */
function stampedOnly(copies: readonly WriteCommand[]): WriteCommand[] {
  return copies.filter((copy) => copy.stamp !== undefined);
}

/**
 * The copy of a write applied here, as its slot's receiver or another replica applies it (none
 * for no change).
 */
function copyOf(
  command: WriteCommand,
  result: WriteResult,
  options: { readonly replica?: boolean } = {},
): WriteCommand[] {
  const { index, id } = command;
  const placed = command.routingKey === undefined ? {} : { routingKey: command.routingKey };
  if (command.op === "delete" && result.ok && result.result === "not_found") {
    // Not held here (this replica missed the put, or no replica has it): the others, and a
    // moving slot's receiver, may hold it. Copied with the stamp of the tombstone left here,
    // so it orders against their put (and can be hinted); the version is each one's own next.
    // Unstamped (never, from an owner's write since absent deletes leave tombstones) it goes
    // to replicas only.
    if (options.replica !== true && result.stamp === undefined) return [];
    return [{
      op: "delete",
      index,
      id,
      ...placed,
      ...(result.stamp === undefined ? {} : { stamp: result.stamp }),
    }];
  }
  if (!result.ok || result.stamp === undefined || result.result === "unchanged") return [];
  const stamped = { stamp: result.stamp, version: result.version };
  return command.op === "put"
    ? [{ op: "put", index, id, doc: command.doc, ...placed, ...stamped }]
    : [{ op: "delete", index, id, ...placed, ...stamped }];
}

/** A result without the stamp it carried for the dual write. */
function withoutStamp(result: WriteResult): WriteResult {
  if (!result.ok || result.stamp === undefined) return result;
  const { stamp: _stamp, ...rest } = result;
  return rest;
}
