/**
 * A quick probe of one microshard's bulk ingest (fts5, in process, no HTTP): 20,000 documents
 * of a 3-word title and a 30-word text (from a 30-word vocabulary), in batches of 1,000; with
 * `--corpus`, the first 20,000 documents of `bench:compare`'s corpus (Debian packages and
 * GCIDE entries: a real vocabulary). Prints docs/s.
 *
 * ```sh
 * deno run -A --unstable-kv bench/ingest_probe.ts
 * deno run -A --unstable-kv bench/ingest_probe.ts --corpus
 * ```
 *
 * @module
 */

import { Microshard } from "../storage/microshard.ts";
import { loadCorpus } from "./compare/corpus.ts";

const WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron " +
  "pi rho sigma tau upsilon phi chi psi omega library tool package data server client").split(" ");
const DOCUMENTS = 20_000;
const BATCH = 1_000;

let seed = 1;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}
function text(words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ");
}

const corpus = Deno.args.includes("--corpus") ? await loadCorpus(DOCUMENTS) : undefined;
const dir = await Deno.makeTempDir();
const shard = await Microshard.open({ dir });
const started = performance.now();
for (let at = 0; at < DOCUMENTS; at += BATCH) {
  await shard.write(Array.from({ length: BATCH }, (_, i) => ({
    op: "put" as const,
    index: "p",
    id: corpus?.[at + i]?.id ?? `d${at + i}`,
    doc: corpus?.[at + i]?.doc ?? { title: text(3), text: text(30), size: at + i },
  })));
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `${DOCUMENTS} documents in ${seconds.toFixed(2)} s: ${Math.round(DOCUMENTS / seconds)} docs/s`,
);
await shard.close();
await Deno.remove(dir, { recursive: true });
