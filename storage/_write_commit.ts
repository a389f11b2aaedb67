/**
 * Committing a staged write batch: to KV (index metadata, then the changes packed into as
 * few atomic operations as fit, each moving the shard's sequence number), then to the
 * search engines (in slices, letting reads in between), then housekeeping that must not
 * fail the batch (unreferenced blobs, pruning the change log).
 *
 * @module
 */

import { APPLY_SLICE_OPS, applyTo, yieldToReads } from "./_engines.ts";
import { adoptMeta } from "./_index_lifecycle.ts";
import { catchUp, prune } from "./_recovery.ts";
import type { OpenIndex, ShardState } from "./_shard_state.ts";
import type { Change, Failure } from "./_write_plan.ts";
import { StorageUnavailableError } from "./errors.ts";
import { type IndexMeta, keys, pack } from "./kv_layout.ts";
import type { IndexOp } from "./search_index.ts";
import { NUMBER_VALUE_BYTES } from "./_document_store.ts";

/** Bytes budgeted for an index's metadata (its schema) in an atomic operation. */
export const INDEX_META_BYTES = 4_096;
/** Mutations each atomic operation keeps free for the shard's sequence number. */
const SEQ_MUTATIONS = 1;

/** What reached KV: the changes committed, and the failures of those that did not. */
export interface KvCommit {
  readonly committed: readonly Change[];
  readonly failures: readonly Failure[];
}

/**
 * Commits a batch to KV: changed index metadata first (a schema with unused fields is
 * harmless), then the changes in order — a blob's chunks before its header's operation.
 * When a commit fails (a full disk), the changes not yet committed fail with
 * `StorageUnavailableError`; nothing of them is in KV. Then the metadata is adopted.
 */
export async function commitToKv(
  state: ShardState,
  metas: ReadonlyMap<string, IndexMeta>,
  changes: readonly Change[],
): Promise<KvCommit> {
  const committed: Change[] = [];
  const adopted: IndexMeta[] = [];
  // Through here no document of an index this batch creates is in KV (see `adoptMeta`).
  const seqBefore = state.seq;
  let failures: Failure[] = [];
  try {
    for (const [index, meta] of metas) {
      if (state.indexes.get(index)?.meta === meta) continue;
      await state.store.commit([
        { type: "set", key: keys.index(index), value: meta, bytes: INDEX_META_BYTES },
      ]);
      adopted.push(meta);
    }
    for (const operation of pack(changes, SEQ_MUTATIONS)) {
      for (const change of operation) {
        for (const group of change.blobWrites) await state.store.commit(group);
      }
      const last = operation[operation.length - 1]!.seq;
      await state.store.commit([
        ...operation.flatMap((change) => change.mutations),
        { type: "set", key: keys.seq, value: last, bytes: NUMBER_VALUE_BYTES },
      ]);
      state.seq = last;
      committed.push(...operation);
      for (const change of operation) state.lastTouch.set(change.index, change.seq);
      await state.faults.afterKvCommit?.();
    }
  } catch (error) {
    const reason = new StorageUnavailableError(`Cannot commit to KV: ${(error as Error).message}`);
    failures = changes.slice(committed.length).map((change) => ({
      request: change.request,
      error: reason,
    }));
  }
  for (const meta of adopted) await adoptMeta(state, meta, seqBefore);
  return { committed, failures };
}

/**
 * Applies committed changes to each index's engine; returns the failures of changes an
 * engine could not take (`StorageUnavailableError`: in KV, not yet searchable).
 */
export async function applyToEngines(
  state: ShardState,
  committed: readonly Change[],
): Promise<Failure[]> {
  const perIndex = new Map<string, Change[]>();
  for (const change of committed) {
    const list = perIndex.get(change.index);
    if (list === undefined) perIndex.set(change.index, [change]);
    else list.push(change);
  }
  const failures: Failure[] = [];
  for (const [index, changes] of perIndex) {
    const open = state.indexes.get(index)!;
    try {
      await applyChanges(state, open, changes);
    } catch (error) {
      failures.push(...await recoverEngine(state, open, changes, error as Error));
    }
  }
  return failures;
}

/**
 * Applies one index's changes in slices of {@linkcode APPLY_SLICE_OPS}, letting reads in
 * between: a slice records its last sequence number, so a crash between slices replays only
 * the rest. An engine behind from an earlier batch catches up from the change log instead,
 * which brings it level with KV, this batch included.
 */
async function applyChanges(
  state: ShardState,
  open: OpenIndex,
  changes: readonly Change[],
): Promise<void> {
  if (state.behind.has(open.meta.name)) {
    await catchUp(state, [open]);
    state.behind.delete(open.meta.name);
    return;
  }
  for (let at = 0; at < changes.length; at += APPLY_SLICE_OPS) {
    if (at > 0) await yieldToReads();
    const slice = changes.slice(at, at + APPLY_SLICE_OPS);
    const last = at + APPLY_SLICE_OPS >= changes.length;
    const ops = slice.map((change): IndexOp =>
      change.header === undefined
        ? { op: "delete", id: change.id }
        : { op: "put", id: change.id, values: change.values! }
    );
    applyTo(state, open, ops, last ? state.seq : slice[slice.length - 1]!.seq);
  }
}

/**
 * An engine failed to apply committed changes: KV holds them, so the engine is marked
 * behind and catches up from the change log — now if it can (the batch is acknowledged),
 * else before the next batch for its index or at the next open (the batch fails).
 */
async function recoverEngine(
  state: ShardState,
  open: OpenIndex,
  changes: readonly Change[],
  error: Error,
): Promise<Failure[]> {
  state.behind.add(open.meta.name);
  try {
    await catchUp(state, [open]);
    state.behind.delete(open.meta.name);
    return [];
  } catch {
    const reason = new StorageUnavailableError(
      `Cannot index into "${open.meta.name}": ${error.message}`,
    );
    return changes.map((change) => ({ request: change.request, error: reason }));
  }
}

/**
 * After the answer is decided: removes the blobs the batch left unreferenced and prunes the
 * change log when due. A failure here (a full disk refuses deletes too) must not turn a
 * committed write into a failure; what is left, marked as garbage, goes at the next prune
 * or open.
 */
export async function housekeep(state: ShardState, committed: readonly Change[]): Promise<void> {
  try {
    const garbage = committed.flatMap((change) =>
      change.garbageBlob === undefined ? [] : [change.garbageBlob.id]
    );
    if (garbage.length > 0) await state.store.deleteBlobs(garbage);
    state.sincePrune += committed.length;
    if (state.sincePrune >= state.pruneEveryEntries) await prune(state);
  } catch {
    // Retried by the next prune or the next open.
  }
}
