/**
 * Opening a microshard's search engines, applying operations to them, and rebuilding one
 * from the documents in KV (an engine is derived data: it can always be rebuilt).
 *
 * @module
 */

import type { OpenIndex, ShardState } from "./_shard_state.ts";
import { Fts5Index, IndexCorruptError, removeDatabaseFiles } from "./fts5_index.ts";
import type { IndexMeta } from "./kv_layout.ts";
import { OramaIndex } from "./orama_index.ts";
import { flatten } from "./schema.ts";
import { slotOf, slotValue } from "./slot.ts";
import type { IndexOp, SearchIndex } from "./search_index.ts";

/** Index operations applied in one synchronous step before reads get a turn. */
export const APPLY_SLICE_OPS = 500;

/** The FTS5 file of an index in a shard's directory. */
export function indexPath(dir: string, index: string): string {
  return `${dir}/indexes/${index}.fts5.sqlite`;
}

/**
 * Opens an index's engine. A corrupt FTS5 file is derived data: it is deleted and the
 * engine starts empty (at sequence number 0, so recovery rebuilds it from KV).
 */
export function openEngine(dir: string, meta: IndexMeta): SearchIndex {
  if (meta.engine === "orama") return new OramaIndex(meta.schema);
  const path = indexPath(dir, meta.name);
  try {
    return Fts5Index.open({ path, schema: meta.schema });
  } catch (error) {
    if (!(error instanceof IndexCorruptError)) throw error;
    removeDatabaseFiles(path);
    const fresh = Fts5Index.open({ path, schema: meta.schema });
    fresh.reset(meta.schema, 0);
    return fresh;
  }
}

/** Lets queued reads run between slices of a long synchronous step. */
export function yieldToReads(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Applies operations to an engine, recording `seq` as applied (after the fault hook). */
export function applyTo(
  state: ShardState,
  open: OpenIndex,
  ops: readonly IndexOp[],
  seq: number,
): void {
  state.faults.beforeIndexApply?.(open.meta.name);
  open.engine.apply(ops, seq);
}

/**
 * Rebuilds an index's engine from the documents in KV, in slices of
 * {@linkcode APPLY_SLICE_OPS}; only the last slice records the shard's sequence number. Reads
 * of the shard queue behind a rebuild (`state.rebuilding`).
 */
export async function rebuildEngine(state: ShardState, index: string): Promise<void> {
  const open = state.indexes.get(index)!;
  state.rebuilding++;
  try {
    open.engine.reset(open.meta.schema, 0);
    let ops: IndexOp[] = [];
    for await (const { id, header } of state.store.documents(index)) {
      const doc = await state.store.body(header);
      const slot = slotValue(header.slot ?? slotOf(id));
      ops.push({ op: "put", id, values: [...flatten(open.meta.schema, doc), slot] });
      if (ops.length === APPLY_SLICE_OPS) {
        open.engine.apply(ops, 0);
        ops = [];
      }
    }
    open.engine.apply(ops, state.seq);
  } finally {
    state.rebuilding--;
  }
}
