/**
 * Side by side: this server (both engines, over HTTP), raw Orama, SQLite FTS5, PostgreSQL
 * 15, Redis 7 (reads and writes by id, AOF fsync always and everysec) and Sphinx 2.2
 * (searches) on the same machine, documents and queries, in one run.
 *
 *   deno task bench:compare               # 100,000 documents, a 10-minute mixed load;
 *                                         # writes docs/comparison.{md,json,svg}
 *   deno task bench:compare --minutes 2   # the same with a 2-minute mixed load
 *   deno task bench:compare --quick       # a smoke run of a few thousand documents
 *   deno task bench:compare --systems cameodb-fts5,postgres,lucene,xapian --out docs/x
 *                                         # only those systems (names: SYSTEM_NAMES)
 *
 * Figures per system: ingest documents/s (single writes at concurrency 1 and 16; bulks of
 * 50, 500 and 5,000; an NDJSON stream where the system has one), query p50/p99 and QPS at
 * concurrency 1, 8 and 32 for each query, point-read p50/p99 idle and during a bulk ingest,
 * point reads and the mid-term query at concurrency 64, memory (PSS) and disk bytes per 100k
 * documents, the worst minute (p99, QPS) of a mixed load of reads, searches and writes, and
 * the time to answer again after SIGKILL (separate processes).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { chooseQueries, type CompareQuery, type CorpusDoc, loadCorpus } from "./corpus.ts";
import { CameoSystem } from "./cameodb_system.ts";
import { OramaSystem } from "./orama_system.ts";
import { SqliteSystem } from "./sqlite_system.ts";
import { BIN as PG_BIN, ensurePostgres, PostgresSystem } from "./postgres_system.ts";
import type { System } from "./system.ts";
import { renderChart, renderReport } from "./report.ts";
import { REDIS_SERVER, RedisSystem } from "./redis_system.ts";
import { SEARCHD, SphinxSystem } from "./sphinx_system.ts";
import { LuceneSystem, XapianSystem } from "./library_system.ts";
import { ensureDebianPackage, versionOf } from "./apt.ts";
import { ensureCorpusPackages, ensureLibraryPackages } from "./packages.ts";
import { mixedLoad, type MixedLoadFigures } from "./mixed_load.ts";
import { percentile } from "../../testing/stats.ts";

/** Sizes of one run. */
export interface Plan {
  readonly quick: boolean;
  readonly bulk5000: number;
  readonly bulk500: number;
  readonly bulk50: number;
  readonly single1: number;
  readonly single16: number;
  readonly ndjson: number;
  readonly during: number;
  readonly queryRequests: number;
  readonly pointReads: number;
  readonly concurrencies: readonly number[];
  /** Point reads and mid-term queries at concurrency 64. */
  readonly c64PointReads: number;
  readonly c64Queries: number;
  /** How long the mixed load runs, in minutes (cut into one-minute windows). */
  readonly minutes: number;
}

/** Clients of the mixed load. */
const MIXED_LANES = 16;

const FULL: Plan = {
  quick: false,
  bulk5000: 80_000,
  bulk500: 5_000,
  bulk50: 2_000,
  single1: 1_000,
  single16: 2_000,
  ndjson: 5_000,
  during: 5_000,
  queryRequests: 200,
  pointReads: 1_000,
  concurrencies: [1, 8, 32],
  c64PointReads: 4_000,
  c64Queries: 320,
  minutes: 10,
};

const QUICK: Plan = {
  quick: true,
  bulk5000: 3_000,
  bulk500: 500,
  bulk50: 200,
  single1: 100,
  single16: 200,
  ndjson: 500,
  during: 1_000,
  queryRequests: 16,
  pointReads: 100,
  concurrencies: [1, 8, 32],
  c64PointReads: 256,
  c64Queries: 64,
  minutes: 0.01,
};

/** Latency figures, in ms. */
export interface Latency {
  p50: number;
  p99: number;
  qps: number;
}

/** What one system measured. */
export interface SystemFigures {
  name: string;
  how: string;
  documents: number;
  ingest: Record<string, number | null>;
  queries: Array<{ query: string; caveat?: string; byConcurrency: Record<string, Latency> }>;
  /** Absent on a system that does not read by id (Sphinx). */
  pointRead: { idle: Latency; duringIngest: Latency } | null;
  /** Point reads and the mid-term query at concurrency 64, where the system does them. */
  c64: { pointRead: Latency | null; midTerm: Latency | null };
  rssPer100kMb: number;
  /** The data directory after the ingest, per 100k documents, MB; null if nothing is on disk. */
  diskPer100kMb: { apparent: number; allocated: number } | null;
  mixed: MixedLoadFigures;
  /** Null for an in-process system; `failed` when it did not answer again after SIGKILL. */
  recoveryMs: number | null | { failed: string };
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Runs `count` calls of `task` with `concurrency` lanes; latency per call. */
async function timed(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<Latency> {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await task(i);
      times.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return {
    p50: round(percentile(times, 0.5)),
    p99: round(percentile(times, 0.99)),
    qps: Math.round(count / seconds),
  };
}

async function docsPerSecond(count: number, work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return Math.round(count / ((performance.now() - started) / 1000));
}

/** Takes the next documents of the corpus, in order, for each phase. */
class Feed {
  at = 0;
  constructor(readonly docs: readonly CorpusDoc[]) {}
  take(n: number): readonly CorpusDoc[] {
    return this.docs.slice(this.at, this.at += n);
  }
}

const inBulks = (system: System, slice: readonly CorpusDoc[], size: number) => async () => {
  for (let i = 0; i < slice.length; i += size) await system.bulk(slice.slice(i, i + size));
};

async function ingestPhase(system: System, feed: Feed, plan: Plan) {
  const ingest: Record<string, number | null> = {};
  let slice = feed.take(plan.bulk5000);
  ingest["bulk 5000"] = await docsPerSecond(slice.length, inBulks(system, slice, 5_000));
  slice = feed.take(plan.bulk500);
  ingest["bulk 500"] = await docsPerSecond(slice.length, inBulks(system, slice, 500));
  slice = feed.take(plan.bulk50);
  ingest["bulk 50"] = await docsPerSecond(slice.length, inBulks(system, slice, 50));
  const single1 = feed.take(plan.single1);
  ingest["single, c=1"] = (await timed(single1.length, 1, (i) => system.put(single1[i]!))).qps;
  const single16 = feed.take(plan.single16);
  ingest["single, c=16"] = (await timed(single16.length, 16, (i) => system.put(single16[i]!))).qps;
  slice = feed.take(plan.ndjson);
  const ndjson = system.ndjson;
  ingest["NDJSON stream"] = ndjson === undefined
    ? null
    : await docsPerSecond(slice.length, () => ndjson.call(system, slice));
  if (ndjson === undefined) await system.bulk(slice);
  return ingest;
}

/** Point reads idle, then during a bulk ingest of the next documents (which it stores). */
async function pointReadPhase(
  system: System,
  get: (id: string) => Promise<boolean>,
  feed: Feed,
  plan: Plan,
): Promise<{ idle: Latency; duringIngest: Latency }> {
  const ids = feed.docs.slice(0, feed.at).map((doc) => doc.id);
  const idle = await timed(plan.pointReads, 1, (i) => get(ids[(i * 7919) % ids.length]!));
  let ingesting = true;
  const ingestion = inBulks(system, feed.take(plan.during), 1_000)().finally(() =>
    ingesting = false
  );
  const duringTimes: number[] = [];
  const readsStarted = performance.now();
  let k = 0;
  // Reads go on until the ingest is done (at least a few, so the figure exists).
  while (ingesting || duringTimes.length < 5) {
    const t0 = performance.now();
    await get(ids[(k++ * 104729) % ids.length]!);
    duringTimes.push(performance.now() - t0);
    // An in-process system runs the bulk on this thread: let it proceed between reads.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await ingestion;
  duringTimes.sort((a, b) => a - b);
  const duringIngest = {
    p50: round(percentile(duringTimes, 0.5)),
    p99: round(percentile(duringTimes, 0.99)),
    qps: Math.round(duringTimes.length / ((performance.now() - readsStarted) / 1000)),
  };
  return { idle, duringIngest };
}

async function queryPhase(
  system: System,
  search: (query: CompareQuery) => Promise<string[]>,
  queries: readonly CompareQuery[],
  plan: Plan,
): Promise<SystemFigures["queries"]> {
  const results: SystemFigures["queries"] = [];
  for (const query of queries) {
    const byConcurrency: Record<string, Latency> = {};
    await search(query); // warm
    for (const concurrency of plan.concurrencies) {
      byConcurrency[`c=${concurrency}`] = await timed(
        plan.queryRequests,
        concurrency,
        () => search(query),
      );
    }
    const caveat = system.caveat?.(query);
    results.push({ query: query.name, ...(caveat === undefined ? {} : { caveat }), byConcurrency });
  }
  return results;
}

/** The middle query: the mid-frequency term. */
function midTerm(queries: readonly CompareQuery[]): CompareQuery {
  return queries.find((q) => q.name.startsWith("mid term")) ?? queries[0]!;
}

async function measure(
  system: System,
  docs: readonly CorpusDoc[],
  queries: readonly CompareQuery[],
  plan: Plan,
  log: (line: string) => void,
): Promise<SystemFigures> {
  (globalThis as { gc?: () => void }).gc?.();
  await system.start();
  // Memory is counted from the empty, started system: what the documents cost.
  const baseline = await system.rssBytes();
  const feed = new Feed(docs);
  const ingest = await ingestPhase(system, feed, plan);
  log(`  ${system.name}: ingest ${JSON.stringify(ingest)}`);
  const get = system.get?.bind(system);
  const search = system.search?.bind(system);
  let pointRead: SystemFigures["pointRead"] = null;
  if (get !== undefined) pointRead = await pointReadPhase(system, get, feed, plan);
  else await system.bulk(feed.take(plan.during));
  log(`  ${system.name}: point reads ${JSON.stringify(pointRead)}`);
  const stored = docs.slice(0, feed.at);
  const documents = stored.length;
  const results = search === undefined ? [] : await queryPhase(system, search, queries, plan);
  const ids = stored.map((doc) => doc.id);
  const c64 = {
    pointRead: get === undefined
      ? null
      : await timed(plan.c64PointReads, 64, (i) => get(ids[(i * 15485863) % ids.length]!)),
    midTerm: search === undefined
      ? null
      : await timed(plan.c64Queries, 64, () => search(midTerm(queries))),
  };
  log(`  ${system.name}: queries done; c=64 ${JSON.stringify(c64)}`);
  (globalThis as { gc?: () => void }).gc?.();
  const rss = Math.max(0, (await system.rssBytes()) - baseline);
  const per100k = (bytes: number) => round(bytes / 1024 / 1024 / documents * 100_000, 1);
  const disk = await system.diskBytes?.();
  const mixed = await mixedLoad(system, stored, midTerm(queries), {
    durationMs: plan.minutes * 60_000,
    windowMs: 60_000,
    lanes: MIXED_LANES,
  });
  log(`  ${system.name}: mixed load ${JSON.stringify(mixed)}`);
  const recoveryMs = await recover(system, get, search, ids[0]!, queries[0]!);
  await system.stop();
  return {
    name: system.name,
    how: system.how,
    documents,
    ingest,
    queries: results,
    pointRead,
    c64,
    rssPer100kMb: per100k(rss),
    diskPer100kMb: disk === undefined
      ? null
      : { apparent: per100k(disk.apparent), allocated: per100k(disk.allocated) },
    mixed,
    recoveryMs,
  };
}

/** SIGKILL and restart (separate processes); the data must be there after. */
async function recover(
  system: System,
  get: ((id: string) => Promise<boolean>) | undefined,
  search: ((query: CompareQuery) => Promise<string[]>) | undefined,
  knownId: string,
  query: CompareQuery,
): Promise<SystemFigures["recoveryMs"]> {
  if (system.killAndRecover === undefined) return null;
  let recoveryMs: number;
  try {
    recoveryMs = Math.round(await system.killAndRecover());
  } catch (error) {
    // A system that does not come back is a figure, not the end of the run.
    return { failed: String(error instanceof Error ? error.message : error).slice(0, 300) };
  }
  // Recovered means answering with the data: a known document, or a query's hits.
  const there = get !== undefined ? await get(knownId) : (await search!(query)).length > 0;
  if (!there) throw new Error(`${system.name} lost data after SIGKILL`);
  return recoveryMs;
}

/** Machine facts for the report. */
async function machine(): Promise<Record<string, string>> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
  return {
    cpu: `${cpu} × ${navigator.hardwareConcurrency}, shared with other jobs during the run`,
    memory: `${Math.round(Deno.systemMemoryInfo().total / 1024 / 1024 / 1024)} GiB`,
    os: Deno.osRelease(),
    deno: Deno.version.deno,
    postgres: await versionOf(`${PG_BIN}/postgres`, ["--version"]),
    redis: await versionOf(REDIS_SERVER, ["--version"]),
    sphinx: await versionOf(SEARCHD, ["--help"]),
  };
}

/** Every system the comparison knows, by the name `--systems` takes, in the report's order. */
const SYSTEMS: Record<string, () => System> = {
  "cameodb-fts5": () => new CameoSystem("fts5"),
  "cameodb-orama": () => new CameoSystem("orama"),
  orama: () => new OramaSystem(),
  sqlite: () => new SqliteSystem(),
  postgres: () => new PostgresSystem(),
  lucene: () => new LuceneSystem(),
  xapian: () => new XapianSystem(),
  "redis-always": () => new RedisSystem("always"),
  "redis-everysec": () => new RedisSystem("everysec"),
  sphinx: () => new SphinxSystem(),
};

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean" },
      out: { type: "string" },
      minutes: { type: "string" },
      systems: { type: "string" },
    },
  });
  const chosen = values.systems?.split(",") ?? Object.keys(SYSTEMS);
  const unknown = chosen.filter((name) => !Object.hasOwn(SYSTEMS, name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown systems ${unknown.join(", ")}: use ${Object.keys(SYSTEMS).join(", ")}`,
    );
  }
  const base = values.quick === true ? QUICK : FULL;
  const minutes = values.minutes === undefined ? base.minutes : Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes wants a positive number, not ${values.minutes}`);
  const plan: Plan = { ...base, minutes };
  const log = (line: string) => console.error(line);
  await ensureCorpusPackages(log);
  if (chosen.includes("postgres")) await ensurePostgres(log);
  if (chosen.some((name) => name.startsWith("redis"))) {
    await ensureDebianPackage(REDIS_SERVER, ["redis-server"], log);
  }
  if (chosen.includes("sphinx")) await ensureDebianPackage(SEARCHD, ["sphinxsearch"], log);
  await ensureLibraryPackages({
    lucene: chosen.includes("lucene"),
    xapian: chosen.includes("xapian"),
  }, log);
  const total = plan.bulk5000 + plan.bulk500 + plan.bulk50 + plan.single1 + plan.single16 +
    plan.ndjson + plan.during;
  const started = performance.now();
  const docs = await loadCorpus(total);
  const queries = chooseQueries(docs);
  log(
    `corpus: ${docs.length} documents (Debian packages + GCIDE entries); queries: ${
      queries.map((q) => q.name).join("; ")
    }`,
  );
  const systems: System[] = chosen.map((name) => SYSTEMS[name]!());
  const figures: SystemFigures[] = [];
  for (const system of systems) {
    log(`${system.name} …`);
    const began = performance.now();
    figures.push(await measure(system, docs, queries, plan, log));
    log(`  ${system.name}: ${Math.round((performance.now() - began) / 1000)} s`);
  }
  const result = {
    date: new Date().toISOString().slice(0, 10),
    command: `deno task bench:compare${plan.quick ? " --quick" : ""}${
      values.minutes === undefined ? "" : ` --minutes ${values.minutes}`
    }${values.systems === undefined ? "" : ` --systems ${values.systems}`}`,
    minutes: plan.minutes,
    seconds: Math.round((performance.now() - started) / 1000),
    machine: await machine(),
    documents: docs.length,
    queries: queries.map((q) => q.name),
    systems: figures,
  };
  const out = values.out ?? (plan.quick ? undefined : "docs/comparison");
  if (out !== undefined) {
    await Deno.writeTextFile(`${out}.json`, JSON.stringify(result, null, 2) + "\n");
    await Deno.writeTextFile(`${out}.md`, renderReport(result, out.split("/").pop()));
    await Deno.writeTextFile(`${out}.svg`, renderChart(result));
    log(`wrote ${out}.md, ${out}.json and ${out}.svg`);
  }
  console.log(JSON.stringify(result));
}

/** The whole result, as written to JSON. */
export type CompareResult = {
  date: string;
  command: string;
  /** Length of the mixed load, in minutes. */
  minutes: number;
  seconds: number;
  machine: Record<string, string>;
  documents: number;
  queries: string[];
  systems: SystemFigures[];
};

if (import.meta.main) await main();
