/**
 * A write batch grouped per shard: each valid command placed in its microshard
 * (`fnv1a(routing_key ?? id) % shardCount`) as the request its shard stores, with the
 * schemas the batch was planned against.
 *
 * @module
 */

import type { WriteRequest } from "../storage/microshard.ts";
import type { IndexSchema, WriteResult } from "./executor.ts";
import { slotOf } from "./hash.ts";
import { placementKey, type WriteCommand } from "./write_command.ts";

/** A batch's writes for one shard, with the schemas they were planned against. */
export interface ShardBatch {
  readonly positions: number[];
  readonly requests: WriteRequest[];
  readonly schemas: Record<string, IndexSchema>;
}

/** What grouping a batch needs of the node. */
export interface BatchPlacement {
  /** The microshard of a placement key. */
  readonly shardOf: (key: string) => number;
  /** The (planned) schema of an index the batch writes to. */
  readonly schemaOf: (index: string) => IndexSchema;
}

/** The batch's valid writes (no outcome yet) grouped per shard, each with its index's schema. */
export function shardBatches(
  commands: readonly WriteCommand[],
  options: BatchPlacement & { readonly outcomes: ReadonlyArray<WriteResult | undefined> },
): Map<number, ShardBatch> {
  const batches = new Map<number, ShardBatch>();
  commands.forEach((command, i) => {
    if (options.outcomes[i] !== undefined) return;
    const shard = options.shardOf(placementKey(command));
    let batch = batches.get(shard);
    if (batch === undefined) {
      batches.set(shard, batch = { positions: [], requests: [], schemas: {} });
    }
    batch.positions.push(i);
    batch.requests.push(shardRequest(command));
    batch.schemas[command.index] ??= options.schemaOf(command.index);
  });
  return batches;
}

/**
 * A command as its shard stores it: with its cluster slot (computed here, where the placement
 * hash is) and its routing key, so the slot's documents can be read as a range and moved.
 */
function shardRequest(command: WriteCommand): WriteRequest {
  const { index, id } = command;
  const slot = slotOf(placementKey(command));
  const placed = {
    slot,
    ...(command.routingKey === undefined ? {} : { routingKey: command.routingKey }),
    ...(command.stamp === undefined ? {} : { stamp: command.stamp }),
    ...(command.version === undefined ? {} : { version: command.version }),
  };
  return command.op === "put"
    ? { op: "put", index, id, doc: command.doc, ...placed }
    : { op: "delete", index, id, ...placed };
}
