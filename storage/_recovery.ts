/**
 * Bringing a microshard's engines level with KV: recovery when the shard opens, catch-up
 * from the change log (after a crash, or when an engine could not take a batch), and
 * pruning the change log once every engine that needs its entries has applied them.
 *
 * @module
 */

import { APPLY_SLICE_OPS, applyTo, openEngine, rebuildEngine } from "./_engines.ts";
import { finishDrop } from "./_index_lifecycle.ts";
import type { OpenIndex, ShardState } from "./_shard_state.ts";
import { type IndexMeta, keys, LAYOUT_VERSION } from "./kv_layout.ts";
import { flatten } from "./schema.ts";
import { slotOf, slotValue } from "./slot.ts";
import { migrateSlots } from "./_slot_migration.ts";
import type { IndexOp } from "./search_index.ts";

/** Bytes budgeted for the layout marker. */
const LAYOUT_MARKER_BYTES = 8;

/** What recovery counts. */
export interface RecoveryStats {
  replayedEntries: number;
  rebuiltIndexes: string[];
  removedBlobs: number;
  /** Headers given their slot by the layout migration (documents written before slots). */
  migratedDocuments: number;
}

/**
 * Recovers a shard: migrates a layout written before slots were stored, removes half-written and unreferenced blobs, finishes interrupted
 * drops, opens every engine (rebuilding those that cannot replay), replays the change log
 * and prunes it.
 */
export async function recover(state: ShardState): Promise<RecoveryStats> {
  const layoutBefore = await state.store.layoutVersion();
  const migratedDocuments = await migrateSlots(state.store);
  const counters = await state.store.counters();
  state.seq = counters.seq;
  state.pruned = counters.pruned;
  const stats: RecoveryStats = {
    replayedEntries: 0,
    rebuiltIndexes: [],
    removedBlobs: 0,
    migratedDocuments,
  };
  stats.removedBlobs = await state.store.collectBlobs();
  for await (const meta of state.store.indexMetas()) {
    if (meta.dropping === true) {
      await finishDrop(state, meta.name);
      continue;
    }
    // Engines written before they indexed `_slot` are rebuilt from KV.
    const rebuild = layoutBefore < LAYOUT_VERSION;
    if (await openForRecovery(state, meta, rebuild) === "rebuilt") {
      stats.rebuiltIndexes.push(meta.name);
    }
  }
  if (layoutBefore < LAYOUT_VERSION) {
    await state.store.commitInBatches([], [{
      type: "set",
      key: keys.layout,
      value: LAYOUT_VERSION,
      bytes: LAYOUT_MARKER_BYTES,
    }]);
  }
  stats.replayedEntries = await catchUp(
    state,
    [...state.indexes.values()].filter((open) => open.engine.appliedSeq() < state.seq),
  );
  await prune(state);
  return stats;
}

/**
 * Collects the tombstones older than the grace period, except those of held slots (a slot
 * being moved keeps its deletes until the move ends) and, on a node with replicas, those
 * not yet held by every replica of their slot; returns how many.
 *
 * With replicas (`state.tombstoneHorizons` defined) a tombstone goes only when it was
 * written before its slot's horizon: the start of the last anti-entropy round that completed
 * with every other owner, so every replica holds it (or something newer). This is Cassandra's
 * rule — a tombstone is purged only past `gc_grace_seconds` *and* once repaired (its
 * "only purge repaired tombstones") — and Riak's reaping of a delete once every primary has
 * it (`delete_mode`). A slot without a horizon (none known yet, after a restart) keeps them
 * all; without replicas the grace alone decides, as a replica that missed the delete cannot
 * give the document back.
 */
export async function collectTombstones(state: ShardState): Promise<number> {
  const nowMs = state.nowMs();
  state.tombstonesCollectedAtMs = nowMs;
  const held = state.heldSlots;
  const horizons = state.tombstoneHorizons;
  const collected = await state.store.collectTombstones({
    beforeMs: nowMs - state.tombstoneGraceMs,
    keep: (slot, deletedAtMs) =>
      held.has(slot) ||
      (horizons !== undefined && !(deletedAtMs < (horizons.get(slot) ?? -Infinity))),
  });
  state.tombstonesCollected += collected;
  return collected;
}

/** Collects the tombstones when the last collection is `tombstoneCollectIntervalMs` old. */
export async function collectTombstonesIfDue(state: ShardState): Promise<number> {
  const sinceMs = state.nowMs() - state.tombstonesCollectedAtMs;
  return sinceMs >= state.tombstoneCollectIntervalMs ? await collectTombstones(state) : 0;
}

/** Opens an index's engine; rebuilds it when the change log cannot bring it level. */
async function openForRecovery(
  state: ShardState,
  meta: IndexMeta,
  rebuild: boolean,
): Promise<"opened" | "rebuilt"> {
  const engine = openEngine(state.dir, meta);
  state.indexes.set(meta.name, { meta, engine });
  const applied = engine.appliedSeq();
  // Replay needs the log entries after `applied`; pruned ones force a rebuild.
  const replayable = !rebuild && engine.durable && applied <= state.seq &&
    (applied === state.seq || applied >= state.pruned);
  if (replayable) return "opened";
  await rebuildEngine(state, meta.name);
  return "rebuilt";
}

/**
 * Brings engines level with KV: every document named in the change log after an engine's
 * applied sequence number is re-read from KV and applied as it is now. Idempotent; a crash
 * during it only means catching up again. Returns the log entries read.
 */
export async function catchUp(state: ShardState, opens: readonly OpenIndex[]): Promise<number> {
  if (opens.length === 0) return 0;
  const from = Math.min(...opens.map((open) => open.engine.appliedSeq()));
  const touched = new Map<string, Set<string>>();
  let entries = 0;
  for await (const { seq, entry } of state.store.logAfter(from)) {
    const open = state.indexes.get(entry.index);
    if (open === undefined || open.engine.appliedSeq() >= seq) continue;
    state.lastTouch.set(entry.index, seq);
    const ids = touched.get(entry.index);
    if (ids === undefined) touched.set(entry.index, new Set([entry.id]));
    else ids.add(entry.id);
    entries++;
  }
  for (const open of opens) {
    const ids = [...(touched.get(open.meta.name) ?? [])];
    for (let at = 0; at < ids.length; at += APPLY_SLICE_OPS) {
      const ops = await currentOps(state, open.meta, ids.slice(at, at + APPLY_SLICE_OPS));
      // Intermediate slices keep the old applied number: a crash mid-replay replays again.
      const last = at + APPLY_SLICE_OPS >= ids.length;
      applyTo(state, open, ops, last ? state.seq : open.engine.appliedSeq());
    }
    if (ids.length === 0) applyTo(state, open, [], state.seq);
  }
  return entries;
}

/** Index operations that make the engine agree with KV for `ids`. */
async function currentOps(
  state: ShardState,
  meta: IndexMeta,
  ids: readonly string[],
): Promise<IndexOp[]> {
  const headers = await state.store.headers(meta.name, ids);
  const ops: IndexOp[] = [];
  for (const id of ids) {
    const header = headers.get(id);
    if (header === undefined) {
      ops.push({ op: "delete", id });
    } else {
      const doc = await state.store.body(header);
      const slot = slotValue(header.slot ?? slotOf(id));
      ops.push({ op: "put", id, values: [...flatten(meta.schema, doc), slot] });
    }
  }
  return ops;
}

/**
 * Prunes the change-log entries every engine that needs them has applied. An engine holds
 * pruning back only while it misses entries naming its own index: a durable one (it replays
 * them at the next open) or any that is behind (it catches up).
 */
export async function prune(state: ShardState): Promise<void> {
  const applied = [...state.indexes.values()]
    .filter((open) => open.engine.durable || state.behind.has(open.meta.name))
    .filter((open) => open.engine.appliedSeq() < (state.lastTouch.get(open.meta.name) ?? 0))
    .map((open) => open.engine.appliedSeq());
  await collectTombstonesIfDue(state);
  const through = Math.min(state.seq, ...applied);
  if (through <= state.pruned) return;
  await state.store.pruneLog(state.pruned, through);
  state.pruned = through;
  state.sincePrune = 0;
}
