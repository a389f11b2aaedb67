/**
 * Side by side: this server (both engines, over HTTP), raw Orama, SQLite FTS5 and
 * PostgreSQL 15 on the same machine, documents and queries, in one run.
 *
 *   deno task bench:compare            # 100,000 documents; writes docs/comparison.{md,json,svg}
 *   deno task bench:compare --quick    # a smoke run of a few thousand documents (< 2 min)
 *
 * Figures per system: ingest documents/s (single writes at concurrency 1 and 16; bulks of
 * 50, 500 and 5,000; an NDJSON stream where the system has one), query p50/p99 and QPS at
 * concurrency 1, 8 and 32 for each query, point-read p50/p99 idle and during a bulk ingest,
 * memory (PSS) per 100k documents, and the time to answer again after SIGKILL (separate processes).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { chooseQueries, type CompareQuery, type CorpusDoc, loadCorpus } from "./corpus.ts";
import { CameoSystem } from "./cameodb_system.ts";
import { OramaSystem } from "./orama_system.ts";
import { SqliteSystem } from "./sqlite_system.ts";
import { ensurePostgres, PostgresSystem } from "./postgres_system.ts";
import { gcideInstalled } from "./gcide.ts";
import type { System } from "./system.ts";
import { renderChart, renderReport } from "./report.ts";
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
}

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
  queryRequests: 24,
  pointReads: 100,
  concurrencies: [1, 8, 32],
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
  pointRead: { idle: Latency; duringIngest: Latency };
  rssPer100kMb: number;
  recoveryMs: number | null;
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

async function measure(
  system: System,
  docs: readonly CorpusDoc[],
  queries: readonly CompareQuery[],
  plan: Plan,
  log: (line: string) => void,
): Promise<SystemFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await system.start();
  // Memory is counted from the empty, started system: what the documents cost.
  const baseline = await system.rssBytes();
  let at = 0;
  const take = (n: number) => docs.slice(at, at += n);
  const ingest: Record<string, number | null> = {};
  const inBulks = (slice: readonly CorpusDoc[], size: number) => async () => {
    for (let i = 0; i < slice.length; i += size) await system.bulk(slice.slice(i, i + size));
  };
  let slice = take(plan.bulk5000);
  ingest["bulk 5000"] = await docsPerSecond(slice.length, inBulks(slice, 5_000));
  slice = take(plan.bulk500);
  ingest["bulk 500"] = await docsPerSecond(slice.length, inBulks(slice, 500));
  slice = take(plan.bulk50);
  ingest["bulk 50"] = await docsPerSecond(slice.length, inBulks(slice, 50));
  slice = take(plan.single1);
  const single1 = slice;
  ingest["single, c=1"] = (await timed(single1.length, 1, (i) => system.put(single1[i]!))).qps;
  slice = take(plan.single16);
  const single16 = slice;
  ingest["single, c=16"] = (await timed(single16.length, 16, (i) => system.put(single16[i]!))).qps;
  slice = take(plan.ndjson);
  const ndjson = system.ndjson;
  ingest["NDJSON stream"] = ndjson === undefined
    ? null
    : await docsPerSecond(slice.length, () => ndjson.call(system, slice));
  if (ndjson === undefined) await system.bulk(slice);
  log(`  ${system.name}: ingest ${JSON.stringify(ingest)}`);

  const stored = docs.slice(0, at);
  const ids = stored.map((doc) => doc.id);
  const idle = await timed(plan.pointReads, 1, (i) => system.get(ids[(i * 7919) % ids.length]!));
  const rest = take(plan.during);
  let ingesting = true;
  const ingestion = inBulks(rest, 1_000)().finally(() => (ingesting = false));
  const duringTimes: number[] = [];
  const readsStarted = performance.now();
  let k = 0;
  // Reads go on until the ingest is done (at least a few, so the figure exists).
  while (ingesting || duringTimes.length < 5) {
    const t0 = performance.now();
    await system.get(ids[(k++ * 104729) % ids.length]!);
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
  const documents = at;
  log(
    `  ${system.name}: point reads idle ${JSON.stringify(idle)}, during ${
      JSON.stringify(duringIngest)
    }`,
  );

  const results: SystemFigures["queries"] = [];
  for (const query of queries) {
    const byConcurrency: Record<string, Latency> = {};
    await system.search(query); // warm
    for (const concurrency of plan.concurrencies) {
      byConcurrency[`c=${concurrency}`] = await timed(
        plan.queryRequests,
        concurrency,
        () => system.search(query),
      );
    }
    const caveat = system.caveat?.(query);
    results.push({ query: query.name, ...(caveat === undefined ? {} : { caveat }), byConcurrency });
  }
  log(`  ${system.name}: queries done`);

  gc?.();
  const rss = Math.max(0, (await system.rssBytes()) - baseline);
  const rssPer100kMb = round(rss / 1024 / 1024 / documents * 100_000, 1);
  const recoveryMs = system.killAndRecover === undefined
    ? null
    : Math.round(await system.killAndRecover());
  if (recoveryMs !== null) {
    // Recovered means answering with the data: one known document must be there.
    if (!(await system.get(ids[0]!))) throw new Error(`${system.name} lost data after SIGKILL`);
  }
  await system.stop();
  return {
    name: system.name,
    how: system.how,
    documents,
    ingest,
    queries: results,
    pointRead: { idle, duringIngest },
    rssPer100kMb,
    recoveryMs,
  };
}

/** Whether apt has package lists (`apt-get update` has run). */
async function aptListsPresent(): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir("/var/lib/apt/lists")) {
      if (entry.name.includes("_Packages")) return true;
    }
  } catch {
    // No directory: no lists.
  }
  return false;
}

/** Machine facts for the report. */
async function machine(): Promise<Record<string, string>> {
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
  const pg = await new Deno.Command("/usr/lib/postgresql/15/bin/postgres", { args: ["--version"] })
    .output().then((o) => new TextDecoder().decode(o.stdout).trim(), () => "?");
  return {
    cpu: `${cpu} × ${navigator.hardwareConcurrency}`,
    memory: `${Math.round(Deno.systemMemoryInfo().total / 1024 / 1024 / 1024)} GiB`,
    os: Deno.osRelease(),
    deno: Deno.version.deno,
    postgres: pg,
  };
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: { quick: { type: "boolean" }, out: { type: "string" } },
  });
  const plan = values.quick === true ? QUICK : FULL;
  const log = (line: string) => console.error(line);
  if (!(await aptListsPresent())) {
    // A fresh machine has no package lists: the Debian catalogue is read from them.
    log("apt-get update (Debian's package lists are the package catalogue) …");
    const update = await new Deno.Command("apt-get", {
      args: ["update"],
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!update.success) throw new Error("apt-get update failed");
  }
  if (!(await gcideInstalled())) {
    log("installing dict-gcide (the GCIDE dictionary) with apt-get …");
    const apt = await new Deno.Command("apt-get", {
      args: ["install", "-y", "dict-gcide"],
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!apt.success) throw new Error("apt-get install dict-gcide failed");
  }
  await ensurePostgres(log);
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
  const systems: System[] = [
    new CameoSystem("fts5"),
    new CameoSystem("orama"),
    new OramaSystem(),
    new SqliteSystem(),
    new PostgresSystem(),
  ];
  const figures: SystemFigures[] = [];
  for (const system of systems) {
    log(`${system.name} …`);
    figures.push(await measure(system, docs, queries, plan, log));
  }
  const result = {
    date: new Date().toISOString().slice(0, 10),
    command: `deno task bench:compare${plan.quick ? " --quick" : ""}`,
    seconds: Math.round((performance.now() - started) / 1000),
    machine: await machine(),
    documents: docs.length,
    queries: queries.map((q) => q.name),
    systems: figures,
  };
  const out = values.out ?? (plan.quick ? undefined : "docs/comparison");
  if (out !== undefined) {
    await Deno.writeTextFile(`${out}.json`, JSON.stringify(result, null, 2) + "\n");
    await Deno.writeTextFile(`${out}.md`, renderReport(result));
    await Deno.writeTextFile(`${out}.svg`, renderChart(result));
    log(`wrote ${out}.md, ${out}.json and ${out}.svg`);
  }
  console.log(JSON.stringify(result));
}

/** The whole result, as written to JSON. */
export type CompareResult = {
  date: string;
  command: string;
  seconds: number;
  machine: Record<string, string>;
  documents: number;
  queries: string[];
  systems: SystemFigures[];
};

if (import.meta.main) await main();
