/**
 * What the main isolate spends on one bulk of 5,000 documents of the corpus, step by step (the
 * median of 15 runs each): decoding and parsing the body, checking every item
 * (`parseBatchItem`), planning the schema when it is known (`planSchema`), and a structured
 * clone of the commands (what sending them to a worker costs, both sides). The budget behind
 * the decision in `docs/profile.md` not to parse bulks in a worker.
 *
 * ```sh
 * deno run -A bench/profile/main_budget.ts
 * ```
 *
 * @module
 */
import { loadCorpus } from "../compare/corpus.ts";
import { parseBatchItem } from "../../node/write_command.ts";
import { EMPTY_SCHEMA, planSchema } from "../../storage/schema.ts";
const corpus = await loadCorpus(5000);
const body = new TextEncoder().encode(
  JSON.stringify(corpus.map((d) => ({ id: d.id, doc: d.doc }))),
);
const time = (label: string, fn: () => unknown) => {
  for (let i = 0; i < 3; i++) fn();
  const runs: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    fn();
    runs.push(performance.now() - t);
  }
  runs.sort((a, b) => a - b);
  console.log(`${label}: median ${runs[7]!.toFixed(1)} ms`);
};
console.log(`body ${(body.length / 1e6).toFixed(2)} MB`);
let items: unknown[] = [];
time("decode + JSON.parse", () => (items = JSON.parse(new TextDecoder().decode(body))));
let commands: ReturnType<typeof parseBatchItem>[] = [];
time(
  "parseBatchItem x5000",
  () => (commands = items.map((item) => parseBatchItem("put", "docs", item))),
);
const docs = commands.flatMap((c) => c.ok && c.command.op === "put" ? [c.command.doc] : []);
const schema = planSchema(EMPTY_SCHEMA, docs).schema;
time("planSchema (schema known)", () => planSchema(schema, docs));
time("structuredClone of the commands (serialize + deserialize)", () => structuredClone(commands));
