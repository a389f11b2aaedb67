/**
 * The FTS5 engine's apply: a batch of new documents, and a batch that updates documents the
 * index holds (each update removes the old postings before the new ones are staged).
 *
 * deno bench --allow-all storage/fts5_index_bench.ts
 */

import { Fts5Index } from "./fts5_index.ts";
import { EMPTY_SCHEMA, flatten, planSchema } from "./schema.ts";
import type { IndexOp } from "./search_index.ts";

/** Documents in one batch, as a bulk of 500 lands on one shard. */
const BATCH_DOCS = 500;
const WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split(" ");

function doc(i: number, round: number) {
  const words = Array.from({ length: 40 }, (_, k) => WORDS[(i * 7 + k * 3 + round) % 12]);
  return { title: `book ${i} round ${round}`, body: words.join(" ") };
}

const schema = planSchema(EMPTY_SCHEMA, [doc(0, 0)]).schema;
const ops = (round: number): IndexOp[] =>
  Array.from({ length: BATCH_DOCS }, (_, i) => ({
    op: "put",
    id: `d${i}`,
    values: flatten(schema, doc(i, round)),
  }));

const dir = Deno.makeTempDirSync();
let seq = 0;
let round = 0;

Deno.bench(`fts5 apply: ${BATCH_DOCS} new documents`, { group: "apply" }, (b) => {
  const index = Fts5Index.open({ path: `${dir}/new-${seq}.sqlite`, schema });
  const batch = ops(0);
  b.start();
  index.apply(batch, ++seq);
  b.end();
  index.destroy();
});

const held = Fts5Index.open({ path: `${dir}/held.sqlite`, schema });
held.apply(ops(0), ++seq);

Deno.bench(`fts5 apply: ${BATCH_DOCS} updates of held documents`, { group: "apply" }, (b) => {
  const batch = ops(++round);
  b.start();
  held.apply(batch, ++seq);
  b.end();
});

globalThis.addEventListener("unload", () => {
  held.destroy();
  Deno.removeSync(dir, { recursive: true });
});
