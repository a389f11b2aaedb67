/**
 * The schema step of planning a write batch (see `_write_plan.ts`), as pure functions: each
 * index the batch writes gets the metadata it writes with — planned and evolved from its
 * documents, or, when the node carried a planned schema, checked against it.
 *
 * @module
 */

import type { CarriedSchema, CarriedSchemas, WriteRequest } from "./_shard_types.ts";
import { AssertionError, InvalidInputError } from "./errors.ts";
import type { IndexMeta } from "./kv_layout.ts";
import { EMPTY_SCHEMA, findMisfit, planSchema } from "./schema.ts";
import type { EngineName } from "./search_index.ts";
import type { Failure, IndexGroups } from "./_write_plan.ts";

/** What {@linkcode planIndexes} takes. */
export interface IndexPlanInput {
  readonly requests: readonly WriteRequest[];
  /** The live requests per index. */
  readonly groups: IndexGroups;
  /** The shard's current metadata of an index. */
  readonly current: (index: string) => IndexMeta | undefined;
  readonly defaultEngine: EngineName;
  /** Schemas the node planned for this batch. */
  readonly schemas?: CarriedSchemas | undefined;
}

/** Per index, the metadata the batch writes with (the current object when unchanged). */
export interface IndexPlan {
  readonly metas: ReadonlyMap<string, IndexMeta>;
  readonly failures: readonly Failure[];
}

/**
 * Decides each index's schema for the batch: indexes the batch carries a schema for are
 * checked against it ({@linkcode checkCarried}), the others are planned and evolved once
 * ({@linkcode evolveIndex}). An index without a live write gets no metadata.
 */
export function planIndexes(input: IndexPlanInput): IndexPlan {
  const metas = new Map<string, IndexMeta>();
  const failures: Failure[] = [];
  for (const [index, positions] of input.groups) {
    const carried = input.schemas?.[index];
    const planned = carried === undefined
      ? evolveIndex(input, index, positions)
      : checkCarried(input, index, positions, carried);
    failures.push(...planned.failures);
    if (planned.meta !== undefined) metas.set(index, planned.meta);
  }
  return { metas, failures };
}

interface PlannedIndex {
  readonly meta?: IndexMeta;
  readonly failures: readonly Failure[];
}

/** Plans one index's schema from its documents: new fields make one new version. */
export function evolveIndex(
  input: IndexPlanInput,
  index: string,
  positions: readonly number[],
): PlannedIndex {
  const current = input.current(index);
  const puts = positions.filter((i) => input.requests[i]!.op === "put");
  if (current === undefined && puts.length === 0) return { failures: [] };
  const base: IndexMeta = current ??
    { name: index, engine: input.defaultEngine, schema: EMPTY_SCHEMA };
  const plan = planSchema(base.schema, puts.map((i) => documentOf(input.requests[i]!)));
  const failures: Failure[] = [];
  plan.errors.forEach((error, k) => {
    if (error === undefined) return;
    const i = puts[k]!;
    const message = `Cannot write document "${input.requests[i]!.id}" to index "${index}"`;
    failures.push({ request: i, error: new InvalidInputError(`${message}: ${error.message}`) });
  });
  if (current === undefined && failures.length === puts.length) return { failures };
  const unchanged = plan.schema === base.schema && current !== undefined;
  return { meta: unchanged ? current : { ...base, schema: plan.schema }, failures };
}

/**
 * Checks one index's documents against the schema the node planned: the carried one when it
 * is newer than the shard's (adopted; a missing index is created with its engine), else the
 * shard's own (the node serializes schema changes, so a newer schema holds every older
 * one). A document that does not fit fails with `AssertionError`; nothing is evolved.
 */
export function checkCarried(
  input: IndexPlanInput,
  index: string,
  positions: readonly number[],
  carried: CarriedSchema,
): PlannedIndex {
  const current = input.current(index);
  const adopt = current === undefined || carried.schema.version > current.schema.version;
  const schema = adopt ? carried.schema : current.schema;
  const failures: Failure[] = [];
  for (const i of positions) {
    const request = input.requests[i]!;
    if (request.op !== "put") continue;
    const misfit = findMisfit(schema, request.doc);
    if (misfit === undefined) continue;
    const error = new AssertionError(
      `Cannot write document "${request.id}" to index "${index}": it does not fit schema version ${schema.version} (the write carried a planned schema, so its caller should have refused the document): ${misfit.message}`,
    );
    failures.push({ request: i, error });
  }
  if (failures.length === positions.length) return { failures };
  if (!adopt) return { meta: current, failures };
  return { meta: { ...(current ?? { name: index, engine: carried.engine }), schema }, failures };
}

function documentOf(request: WriteRequest): unknown {
  return request.op === "put" ? request.doc : undefined;
}
