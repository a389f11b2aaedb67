/**
 * The node service: the actor through which other nodes reach this node's data. It is
 * what a remote routing decision lands on — the owner's writes, deletes and point reads,
 * a broadcast's shard pages, schema changes, index listings — and runs each on the local
 * NodeOrchestrator, never routing again (so a request cannot bounce between nodes).
 * Every operation is detached: the service serializes nothing.
 *
 * @module
 */

import { type IndexDrops, parseIndexDrops } from "./index_drops.ts";
import type { Actor, ActorRef } from "../actors/types.ts";
import { type Handlers, receiveBy } from "../actors/handlers.ts";
import type { DroppedIndex, IndexConfig, IndexSummary, WriteResult } from "../node/executor.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import type { PageSet, ShardQuery } from "../query/pipeline.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import { checkRanking } from "../storage/ranking_config.ts";
import { parseCorpusStats } from "./stats_schema.ts";
import type { StoredDocument } from "../storage/microshard.ts";
import type { ReplicaRead } from "./replica_read.ts";
import type { KeyChange, KeySnapshot, KeyStore } from "../security/key_store.ts";
import type { LeaveResult } from "./coordinator_protocol.ts";
import { MembershipRefusedError } from "./errors.ts";
import type { SlotAssignment } from "./cluster_executor.ts";
import { CLUSTER_SLOTS } from "../storage/slot.ts";
import type {
  EntropyDiffMsg,
  EntropyDiffReply,
  EntropyDigestMsg,
  EntropyDigestReply,
} from "./anti_entropy_schema.ts";

/** How the service routes what reaches it (the cluster executor, in a running cluster). */
export interface ServiceRouting {
  serveWrite(commands: readonly WriteCommand[], hops: number): Promise<WriteResult[]>;
  serveGet(
    read: { readonly index: string; readonly id: string; readonly routingKey?: string },
    hops: number,
  ): Promise<StoredDocument | null>;
  /** This node's copy of a document with its stamp, marked when its slot is being rebuilt. */
  serveStamped?(
    read: { readonly index: string; readonly id: string; readonly routingKey?: string },
  ): Promise<ReplicaRead>;
  /** Copies of another node's writes are about to be applied here (see the executor). */
  noteCopies(commands: readonly WriteCommand[]): void;
  /** This node's pages of a search, leaving out the slots assigned to other nodes. */
  servePages(query: ShardQuery, assignment?: SlotAssignment): Promise<PageSet>;
  /** This node's `_leave`. */
  leave(): Promise<LeaveResult>;
  /** Answers other owners' anti-entropy (`cluster/anti_entropy.ts`); it checks what they send. */
  antiEntropy?: {
    serveDigest(raw: unknown): Promise<EntropyDigestReply>;
    serveDiff(raw: unknown): Promise<EntropyDiffReply>;
  };
}

/** A peer's slot assignment, checked: anything malformed is ignored (no slot left out). */
function checkedAssignment(raw: unknown): SlotAssignment | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const { nodes, owners } = raw as { nodes?: unknown; owners?: unknown };
  if (!Array.isArray(nodes) || !Array.isArray(owners) || owners.length !== CLUSTER_SLOTS) {
    return undefined;
  }
  if (!nodes.every((node) => typeof node === "string")) return undefined;
  if (!owners.every((at) => Number.isInteger(at) && at >= 0 && at < nodes.length)) {
    return undefined;
  }
  return { nodes: nodes as string[], owners: owners as number[] };
}

/** A peer's hop count, read defensively: 0 unless it is a positive number. */
function hopsOf(raw: unknown): number {
  return typeof raw === "number" && raw >= 1 ? 1 : 0;
}

/** The name the node service is exposed under. */
export const NODE_SERVICE = "node";

/** A schema as nodes exchange it: the index, its engine and its fields. */
export interface SchemaChange {
  readonly index: string;
  readonly engine: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly type: string }>;
}

/** Messages of the node service. */
export type NodeServiceMsg =
  /** Writes for slots this node serves (`hops`: forwarded that often already; 0 when absent). */
  | { type: "write"; commands: readonly WriteCommand[]; hops?: number }
  | { type: "get"; index: string; id: string; routingKey?: string; hops?: number }
  /** This node's own copy of a document with its stamp, or its tombstone (a replicated read). */
  | { type: "getStamped"; index: string; id: string; routingKey?: string }
  /** Copies of another node's writes (a moving slot's stream or dual writes): applied here. */
  | { type: "copy"; commands: readonly WriteCommand[] }
  /** `POST /_cluster/nodes/{this node}/_leave`, sent through another node. */
  | { type: "leave" }
  /** This node's pages of a search; `assignment`: which node answers each slot (see `SlotAssignment`). */
  | { type: "shardPages"; query: ShardQuery; assignment?: SlotAssignment }
  | { type: "configure"; index: string; config: IndexConfig }
  | { type: "adoptSchemas"; schemas: readonly SchemaChange[] }
  /** `droppedAtMs`: when the coordinating node dropped it (kept as a marker, `index_drops.ts`). */
  | { type: "dropIndex"; index: string; droppedAtMs?: number }
  | { type: "indexes" }
  /** An API key created or deleted on another node. */
  | { type: "applyKeys"; change: KeyChange }
  /** Another node's whole key set, when the two meet (merged: deletions are kept). */
  | { type: "applyKeySnapshot"; snapshot: KeySnapshot }
  /** Anti-entropy: this node's bucket digests of a slot it owns with the sender. */
  | EntropyDigestMsg
  /** Anti-entropy: the sender's entries of differing buckets; answered with the difference. */
  | EntropyDiffMsg;

/** Replies of the node service. */
export type NodeServiceReplies = {
  write: WriteResult[];
  get: StoredDocument | null;
  getStamped: ReplicaRead;
  copy: WriteResult[];
  leave: LeaveResult;
  /** No pages (but the shard count) when the index has no schema on this node yet. */
  shardPages: PageSet;
  configure: { index: string };
  /** The schemas this node refused (a conflicting type), with the reason. */
  adoptSchemas: { refused: string[] };
  dropIndex: DroppedIndex;
  indexes: IndexSummary[];
  applyKeys: { applied: boolean };
  applyKeySnapshot: { applied: boolean };
  entropyDigest: EntropyDigestReply;
  entropyDiff: EntropyDiffReply;
};

/** A ref to a node's service (usually remote). */
export type NodeServiceRef = ActorRef<NodeServiceMsg, NodeServiceReplies>;

/** The answer of a key message on a node without a key store. */
function none(): Promise<{ applied: boolean }> {
  return Promise.resolve({ applied: false });
}

/** The answer of an anti-entropy message on a node that takes no part in it. */
function notInCluster(): Promise<{ refused: string }> {
  return Promise.resolve({ refused: "this node takes no part in anti-entropy" });
}

/**
 * A shard query from another node with the parts that decide scores checked: the summed
 * statistics (shape and ranges, as a peer's answers are) and the ranking settings (against
 * the index's schema here).
 */
function checkedQuery(query: ShardQuery, node: NodeOrchestrator): ShardQuery {
  if (query.stats !== undefined) parseCorpusStats(query.stats, "the search's statistics");
  if (query.ranking !== undefined) {
    const entry = node.schema(query.index);
    if (entry !== undefined) checkRanking(query.ranking, entry.schema);
  }
  return query;
}

/**
 * Applies copies of another node's writes, except those of an index dropped in the cluster that
 * this node does not hold (a returning node's hint, repair or anti-entropy push of a dropped
 * index): those are answered `unchanged` and not applied, so they cannot create it again.
 */
async function writeCopies(
  node: NodeOrchestrator,
  commands: readonly WriteCommand[],
  drops: IndexDrops | undefined,
): Promise<WriteResult[]> {
  const dropped = (command: WriteCommand) =>
    drops?.droppedAt(command.index) !== undefined && node.schema(command.index) === undefined;
  if (!commands.some(dropped)) return await node.write(commands);
  const kept = commands.filter((command) => !dropped(command));
  const written = kept.length === 0 ? [] : await node.write(kept);
  let next = 0;
  return commands.map((command): WriteResult =>
    dropped(command)
      ? { ok: true, id: command.id, result: "unchanged", version: 0 }
      : written[next++]!
  );
}

/** Builds the node service over the local orchestrator (and the node's API keys). */
export function createNodeService(
  node: NodeOrchestrator,
  options: {
    readonly keys?: KeyStore;
    readonly routing?: () => ServiceRouting | undefined;
    /** Where a drop another node made is kept as a marker (`index_drops.ts`). */
    readonly indexDrops?: IndexDrops;
  } = {},
): Actor<NodeServiceMsg, NodeServiceReplies> {
  const keys = options.keys;
  const routing = options.routing ?? (() => undefined);
  const serializable = (results: WriteResult[]) =>
    results.map((result) =>
      result.ok
        ? result
        : { ...result, error: { name: result.error.name, message: result.error.message } }
    );
  const missing = <T>(fallback: T) => (error: unknown): T => {
    if (error instanceof IndexNotFoundError) return fallback;
    throw error;
  };
  const handlers: Handlers<NodeServiceMsg, NodeServiceReplies> = {
    // Outcomes cross to another node: an error keeps its name and message, never its stack.
    write: (msg, ctx) =>
      ctx.detach(
        (routing()?.serveWrite(msg.commands, hopsOf(msg.hops)) ?? node.write(msg.commands))
          .then(serializable),
      ),
    get: (msg, ctx) => {
      const read = {
        index: msg.index,
        id: msg.id,
        ...(msg.routingKey === undefined ? {} : { routingKey: msg.routingKey }),
      };
      const served = routing()?.serveGet(read, hopsOf(msg.hops));
      return ctx.detach(served ?? node.get(msg.index, msg.id, msg.routingKey));
    },
    getStamped: (msg, ctx) => {
      const read = {
        index: msg.index,
        id: msg.id,
        ...(msg.routingKey === undefined ? {} : { routingKey: msg.routingKey }),
      };
      const served = routing()?.serveStamped?.(read);
      return ctx.detach(served ?? node.getStamped(msg.index, msg.id, msg.routingKey));
    },
    copy: (msg, ctx) => {
      // Noted before the write: a search must not count a slot's partial copy.
      routing()?.noteCopies(msg.commands);
      return ctx.detach(writeCopies(node, msg.commands, options.indexDrops).then(serializable));
    },
    leave: (_msg, ctx) =>
      ctx.detach(
        routing()?.leave() ??
          Promise.reject(new MembershipRefusedError("this node is not in a cluster")),
      ),
    shardPages: (msg, ctx) =>
      ctx.detach(
        (routing()?.servePages(checkedQuery(msg.query, node), checkedAssignment(msg.assignment)) ??
          node.shardPages(checkedQuery(msg.query, node)))
          .catch(missing({ pages: [], totalShards: node.shardCount })),
      ),
    configure: (msg, ctx) =>
      ctx.detach(
        node.configure(msg.index, msg.config).then(() => {
          options.indexDrops?.birthOf(msg.index);
          return { index: msg.index };
        }),
      ),
    adoptSchemas: (msg) => {
      const refused = node.adoptSchemas(msg.schemas);
      // Born here now (`index_drops.ts`): a drop learned later must be newer to drop it.
      for (const { index } of msg.schemas) {
        if (!refused.includes(index)) options.indexDrops?.birthOf(index);
      }
      return { refused };
    },
    dropIndex: (msg, ctx) => {
      // Checked before anything is dropped: a malformed time is refused with the whole message.
      const marker = msg.droppedAtMs === undefined
        ? []
        : parseIndexDrops([{ index: msg.index, atMs: msg.droppedAtMs }]);
      return ctx.detach(
        node.dropIndex(msg.index).then(async (dropped) => {
          // Kept only where the index was: that is where a returning node's copy is met.
          await options.indexDrops?.merge(marker, [msg.index]);
          return dropped;
        }).catch(missing({ deleted_from_shards: 0, total_shards: node.shardCount })),
      );
    },
    indexes: (_msg, ctx) => ctx.detach(node.indexes()),
    applyKeys: (msg, ctx) =>
      ctx.detach(keys?.apply(msg.change).then(() => ({ applied: true })) ?? none()),
    applyKeySnapshot: (msg, ctx) =>
      ctx.detach(keys?.applySnapshot(msg.snapshot).then(() => ({ applied: true })) ?? none()),
    entropyDigest: (msg, ctx) =>
      ctx.detach(routing()?.antiEntropy?.serveDigest(msg) ?? notInCluster()),
    entropyDiff: (msg, ctx) => ctx.detach(routing()?.antiEntropy?.serveDiff(msg) ?? notInCluster()),
  };
  return { receive: receiveBy(handlers) };
}
