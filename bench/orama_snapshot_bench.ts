/**
 * Orama snapshot versus rebuild: is it faster to restore an Orama index from a JSON
 * snapshot or to rebuild it from the documents? Same data as the storage benchmark.
 * Run: `deno run --allow-all bench/orama_snapshot_bench.ts`.
 *
 * @module
 */

import { create, insertMultiple, load, save } from "@orama/orama";
import { tokenize } from "../storage/tokenizer.ts";
import { loadDebianPackages } from "./data/debian.ts";

function makeDb() {
  return create({
    schema: { p0: "string", p1: "string", p2: "string", p3: "string" } as const,
    components: { tokenizer: { stemming: false, stopWords: false } },
    sort: { enabled: false },
  });
}

const docs = (await loadDebianPackages()).map(({ id, doc }) => ({
  id,
  p0: tokenize(doc.name).join(" "),
  p1: tokenize(doc.description).join(" "),
  p2: tokenize(doc.maintainer.name).join(" "),
  p3: tokenize(doc.tags.join(" ")).join(" "),
}));

let started = performance.now();
const db = makeDb();
for (let at = 0; at < docs.length; at += 500) insertMultiple(db, docs.slice(at, at + 500));
const buildMs = performance.now() - started;

started = performance.now();
const json = JSON.stringify(save(db));
const saveMs = performance.now() - started;

started = performance.now();
const restored = makeDb();
load(restored, JSON.parse(json));
const loadMs = performance.now() - started;

console.log(JSON.stringify({
  documents: docs.length,
  rebuildFromDocumentsMs: Math.round(buildMs),
  snapshotSaveMs: Math.round(saveMs),
  snapshotBytes: json.length,
  snapshotLoadMs: Math.round(loadMs),
}));
