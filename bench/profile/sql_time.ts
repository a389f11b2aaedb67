/**
 * Where one fts5 microshard's small writes spend their SQL time: the first `--preload`
 * documents of `bench:compare`'s corpus in batches of 1,000, then `--docs` more in batches of
 * `--batch` (with `--updates`, preloaded documents written again), with node:sqlite's `run`,
 * `get`, `all` and `exec` timed per statement (a wrapper around each, installed after the
 * preload). Prints documents/s, a write's p50 and p99, the
 * slowest write (and its SQL), and per statement its µs per document and its calls.
 *
 * ```sh
 * deno run -A --unstable-kv bench/profile/sql_time.ts [--batch 4] [--docs 2000] [--preload 10000]
 *   [--updates]
 * ```
 *
 * @module
 */

import { DatabaseSync, StatementSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { Microshard } from "../../storage/microshard.ts";
import { type CorpusDoc, loadCorpus } from "../compare/corpus.ts";
import { percentile } from "../../testing/stats.ts";

const PRELOAD_BATCH = 1_000;
const SHOWN_STATEMENTS = 14;
const SQL_SHOWN_CHARS = 70;
/** A prime: `--updates` visits the preloaded documents in a scattered order. */
const UPDATE_STRIDE = 7_919;

const { values } = parseArgs({
  options: {
    batch: { type: "string", default: "4" },
    docs: { type: "string", default: "2000" },
    preload: { type: "string", default: "10000" },
    updates: { type: "boolean", default: false },
  },
});
const [batch, docs, preload] = [values.batch, values.docs, values.preload].map(Number) as [
  number,
  number,
  number,
];

/** Milliseconds and calls per statement: over the run, and in the write under way. */
const times = new Map<string, { ms: number; calls: number }>();
let inWrite = new Map<string, { ms: number; calls: number }>();

/** Adds a call's milliseconds to `key` in `to`. */
function addTime(to: Map<string, { ms: number; calls: number }>, key: string, ms: number): void {
  const entry = to.get(key) ?? { ms: 0, calls: 0 };
  entry.ms += ms;
  entry.calls++;
  to.set(key, entry);
}

/** Wraps `proto[name]` to add each call's time under `keyOf`'s key. */
function timeMethod(
  proto: Record<string, unknown>,
  name: string,
  keyOf: (self: unknown, args: unknown[]) => string,
): void {
  const original = proto[name] as (...args: unknown[]) => unknown;
  proto[name] = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      const key = keyOf(this, args).replace(/\s+/g, " ").slice(0, SQL_SHOWN_CHARS);
      const ms = performance.now() - started;
      addTime(times, key, ms);
      addTime(inWrite, key, ms);
    }
  };
}

const corpus = await loadCorpus(preload + docs);
const dir = await Deno.makeTempDir();
const shard = await Microshard.open({ dir });
const put = (doc: CorpusDoc) => ({ op: "put" as const, index: "p", id: doc.id, doc: doc.doc });
for (let at = 0; at < preload; at += PRELOAD_BATCH) {
  await shard.write(corpus.slice(at, Math.min(preload, at + PRELOAD_BATCH)).map(put));
}
const statements = StatementSync.prototype as unknown as Record<string, unknown>;
for (const name of ["run", "get", "all"]) {
  timeMethod(statements, name, (self) => `${name} ${(self as StatementSync).sourceSQL}`);
}
timeMethod(
  DatabaseSync.prototype as unknown as Record<string, unknown>,
  "exec",
  (_, args) => `exec ${args[0]}`,
);
const writeMs: number[] = [];
let slowest = { ms: 0, statements: inWrite };
const started = performance.now();
/** With `--updates`, the writes put preloaded documents again (each taking its old version out). */
const written = (at: number) =>
  values.updates ? corpus[(at * UPDATE_STRIDE) % preload]! : corpus[at]!;
for (let at = preload; at < preload + docs; at += batch) {
  const t = performance.now();
  inWrite = new Map();
  const ids = Array.from({ length: Math.min(preload + docs, at + batch) - at }, (_, i) => at + i);
  await shard.write(ids.map((i) => put(written(i))));
  const ms = performance.now() - t;
  writeMs.push(ms);
  if (ms > slowest.ms) slowest = { ms, statements: inWrite };
}
const total = performance.now() - started;
writeMs.sort((a, b) => a - b);
console.log(
  `${docs} documents in batches of ${batch} onto ${preload}: ${
    Math.round(docs / total * 1000)
  } docs/s, ${Math.round(total / docs * 1000)} µs a document; a write p50 ${
    percentile(writeMs, 0.5).toFixed(1)
  } ms, p99 ${percentile(writeMs, 0.99).toFixed(1)} ms, slowest ${slowest.ms.toFixed(1)} ms`,
);
const inSlowest = [...slowest.statements].sort((a, b) => b[1].ms - a[1].ms).slice(0, 3);
console.log(
  `  the slowest write's SQL: ${
    inSlowest.map(([key, { ms, calls }]) => `${ms.toFixed(1)} ms in ${calls} × ${key}`).join("; ")
  }`,
);
const rows = [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, SHOWN_STATEMENTS);
for (const [key, { ms, calls }] of rows) {
  console.log(
    `${(ms / docs * 1000).toFixed(1).padStart(8)} µs/doc ${
      String(calls).padStart(8)
    } calls  ${key}`,
  );
}
await shard.close();
await Deno.remove(dir, { recursive: true });
