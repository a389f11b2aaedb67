/**
 * One slot's contents on this node as the copies its receiver applies (put-if-newer by
 * stamp): for every index and every local shard, its tombstones and then its documents, page
 * by page in id order, each with its stamp and version. What a moving slot is streamed as.
 *
 * @module
 */

import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { UNSTAMPED } from "../storage/hlc.ts";
import type { SlotDocument, SlotTombstone } from "../storage/microshard.ts";

/** One page of a slot's stream: its copies, and how many of them are documents. */
export interface SlotCopyPage {
  readonly copies: WriteCommand[];
  readonly documents: number;
}

/**
 * Every page of a slot's tombstones and documents here, at most `pageDocs` a page; each page
 * is read when the one before it has been taken.
 */
export async function* slotCopies(
  node: NodeOrchestrator,
  slot: number,
  options: { readonly pageDocs: number },
): AsyncGenerator<SlotCopyPage> {
  for (const { index } of node.schemaList()) {
    for (let shard = 0; shard < node.shardCount; shard++) {
      const at = { shard, limit: options.pageDocs };
      for await (
        const page of paged((from) => node.slotTombstones(index, slot, { ...at, ...from }))
      ) {
        yield { copies: page.tombstones.map((t) => tombstoneCopy(index, t)), documents: 0 };
      }
      for await (const page of paged((from) => node.slotPage(index, slot, { ...at, ...from }))) {
        const copies = page.documents.map((d) => documentCopy(index, d));
        yield { copies, documents: page.documents.length };
      }
    }
  }
}

/** Pages read one after another, each from where the one before ended, to the last. */
async function* paged<P extends { readonly next?: string }>(
  read: (from: { readonly afterId?: string }) => Promise<P>,
): AsyncGenerator<P> {
  let after: string | undefined;
  do {
    const page = await read(after === undefined ? {} : { afterId: after });
    yield page;
    after = page.next;
  } while (after !== undefined);
}

/** A tombstone as the stamped delete that copies it. */
function tombstoneCopy(index: string, t: SlotTombstone): WriteCommand {
  return {
    op: "delete",
    index,
    id: t.id,
    stamp: t.stamp,
    version: t.version,
    ...(t.routingKey === undefined ? {} : { routingKey: t.routingKey }),
  };
}

/** A document as the stamped put that copies it (an unstamped one older than any write). */
function documentCopy(index: string, d: SlotDocument): WriteCommand {
  return {
    op: "put",
    index,
    id: d.id,
    doc: d.doc,
    stamp: d.stamp ?? UNSTAMPED,
    version: d.version,
    ...(d.routingKey === undefined ? {} : { routingKey: d.routingKey }),
  };
}
