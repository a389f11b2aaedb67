/**
 * Model-based test: random puts, updates, deletes, bulks, invalid documents, big
 * documents, index drops and reopens are applied both to a microshard and to a plain
 * in-memory model; after every step the shard must agree with the model, by id and by
 * search — for both engines.
 */
import assert from "node:assert/strict";
import { Microshard, type WriteOutcome, type WriteRequest } from "./microshard.ts";
import type { EngineName, Plan } from "./search_index.ts";
import { SeededRandom, testSeed } from "../testing/random.ts";

const WORDS = ["amber", "basil", "cedar", "dune", "ember", "fjord", "grove", "heath"];
const INDEXES = ["alpha", "beta"];
const STEPS = Number(Deno.env.get("CAMEODB_MODEL_STEPS") ?? "150");

type Doc = { title: string; n: number; flag: boolean; big?: string };
type Model = Map<string, Map<string, { doc: Doc; version: number }>>;

function randomDoc(random: SeededRandom): Doc {
  const title = Array.from({ length: random.int(1, 4) }, () => random.pick(WORDS)).join(" ");
  const doc: Doc = { title, n: random.int(0, 20), flag: random.next() < 0.5 };
  if (random.next() < 0.05) doc.big = "z".repeat(random.int(61_000, 200_000));
  return doc;
}

function modelSearch(model: Model, index: string, plan: Plan): string[] {
  const docs = model.get(index) ?? new Map();
  const matches = (doc: Doc, node: Plan): boolean => {
    switch (node.kind) {
      case "all":
        return true;
      case "term":
        return doc.title.split(" ").includes(node.term);
      case "eq":
        return (doc as Record<string, unknown>)[node.field] === node.value;
      case "range":
        return doc.n >= (node.gte as number) && doc.n < (node.lt as number);
      case "and":
        return node.children.every((child) => matches(doc, child));
      case "not":
        return !matches(doc, node.child);
      default:
        throw new Error(`model does not evaluate ${node.kind}`);
    }
  };
  return [...docs].filter(([, entry]) => matches(entry.doc, plan)).map(([id]) => id).sort();
}

/** A random batch for one index: deletes, invalid documents, puts. */
function randomBatch(random: SeededRandom, index: string, roll: number): WriteRequest[] {
  const id = () => `d${random.int(0, 25)}`;
  const requests: WriteRequest[] = [];
  const count = roll < 0.3 ? random.int(2, 20) : 1;
  for (let i = 0; i < count; i++) {
    const r = random.next();
    if (r < 0.2) requests.push({ op: "delete", index, id: id() });
    else if (r < 0.27) {
      requests.push({ op: "put", index, id: id(), doc: { _reserved: "not allowed" } });
    } else requests.push({ op: "put", index, id: id(), doc: randomDoc(random) });
  }
  return requests;
}

/** Checks a batch's outcomes against the model, and applies the batch to the model. */
function applyToModel(
  model: Model,
  requests: readonly WriteRequest[],
  outcomes: readonly WriteOutcome[],
  where: string,
): void {
  requests.forEach((request, i) => {
    const outcome = outcomes[i]!;
    let docs = model.get(request.index);
    const previous = docs?.get(request.id);
    if (request.op === "delete") {
      assert.ok(outcome.ok, where);
      assert.equal(outcome.result, previous === undefined ? "not_found" : "deleted", where);
      docs?.delete(request.id);
    } else if ("_reserved" in (request.doc as object)) {
      assert.equal(outcome.ok, false, `${where}: an invalid document was accepted`);
    } else {
      assert.ok(outcome.ok, `${where}: ${JSON.stringify(outcome)}`);
      const version = (previous?.version ?? 0) + 1;
      assert.equal(outcome.version, version, where);
      if (docs === undefined) model.set(request.index, docs = new Map());
      docs.set(request.id, { doc: request.doc as Doc, version });
    }
  });
}

/** Compares the shard with the model, by id and by search, for every index. */
async function compareWithModel(
  shard: Microshard,
  model: Model,
  random: SeededRandom,
  where: string,
): Promise<void> {
  for (const name of INDEXES) {
    const docs = model.get(name) ?? new Map();
    for (let k = 0; k <= 25; k++) {
      const stored = await shard.get(name, `d${k}`);
      const want = docs.get(`d${k}`);
      assert.deepEqual(
        stored && { doc: stored.doc, version: stored.version },
        want,
        `${where}: ${name}/d${k}`,
      );
    }
    if (!model.has(name)) continue;
    const word = random.pick(WORDS);
    const lo = random.int(0, 20);
    const notWord: Plan = { kind: "not", child: { kind: "term", field: "title", term: word } };
    const plans: Plan[] = [
      { kind: "all" },
      { kind: "term", field: "title", term: word },
      { kind: "eq", field: "flag", value: random.next() < 0.5 },
      { kind: "range", field: "n", gte: lo, lt: lo + 5 },
      { kind: "and", children: [{ kind: "all" }, notWord] },
    ];
    for (const plan of plans) {
      const result = await shard.search(name, plan, { limit: 1_000, offset: 0 });
      assert.deepEqual(
        result.hits.map((hit) => hit.id).sort(),
        modelSearch(model, name, plan),
        `${where}: ${name} ${JSON.stringify(plan)}`,
      );
      assert.equal(result.total, result.hits.length);
    }
  }
}

for (const engine of ["fts5", "orama"] as EngineName[]) {
  Deno.test(`microshard model (${engine}): random operations agree with a plain model`, async () => {
    const random = new SeededRandom(testSeed(`model ${engine}`));
    const dir = await Deno.makeTempDir();
    let shard = await Microshard.open({ dir, defaultEngine: engine });
    const model: Model = new Map();
    try {
      for (let step = 0; step < STEPS; step++) {
        const roll = random.next();
        const index = random.pick(INDEXES);
        const where = `step ${step} (seed ${random.seed})`;
        if (roll < 0.08) {
          await shard.close();
          shard = await Microshard.open({ dir, defaultEngine: engine });
        } else if (roll < 0.11) {
          assert.equal(await shard.dropIndex(index), model.has(index), where);
          model.delete(index);
        } else {
          const requests = randomBatch(random, index, roll);
          applyToModel(model, requests, await shard.write(requests), where);
        }
        await compareWithModel(shard, model, random, where);
      }
    } finally {
      await shard.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
