/**
 * The relevance benchmark (`deno task bench:relevance`): known-item search on Debian's
 * package catalogue and the GCIDE dictionary (`tasks.ts`), run on CameoDB's engines (fts5,
 * orama) over 1 and 4 microshards, and on Lucene 8 and Xapian side by side, with the same
 * terms (our tokenizer) for every system. Reports MRR@10, recall@1/@10, and query latency
 * p50/p99 (after one warm-up pass over the queries, for every system), as a Markdown table
 * and as JSON (`docs/relevance.json`).
 *
 *     deno task bench:relevance [--queries 1000] [--corpora debian,gcide] [--gcide-docs 50000]
 *       [--systems fts5,orama,fts5-http,orama-http,lucene,xapian] [--shards 1,4]
 *       [--out docs/relevance.json]
 *
 * `fts5-http` and `orama-http` run a real server process and time each query over HTTP
 * (`http_runner.ts`); `fts5` and `orama` run the pipeline in process (`cameodb_runner.ts`).
 *
 * Each row is also written to stderr as JSON as soon as it is measured.
 *
 * Installs what it reads and runs with apt when missing (`apt-get update` for the package
 * catalogue, `dict-gcide`, and for the chosen anchors `default-jdk-headless`,
 * `liblucene8-java`, `python3-xapian`: `bench/compare/packages.ts`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runCameo } from "./cameodb_runner.ts";
import { runCameoHttp } from "./http_runner.ts";
import { installedSystems, runExternal } from "./external_runner.ts";
import { type Figures, figures, type RunResult } from "./metrics.ts";
import { debianTask, gcideTask, type Task } from "./tasks.ts";
import { gcideInstalled } from "../compare/gcide.ts";
import { ensureCorpusPackages, ensureLibraryPackages } from "../compare/packages.ts";

/** One line of the report. */
interface Row extends Figures {
  readonly corpus: string;
  readonly system: string;
  readonly documents: number;
  readonly queries: number;
  readonly loadMs: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    queries: { type: "string", default: "1000" },
    corpora: { type: "string", default: "debian,gcide" },
    "gcide-docs": { type: "string", default: "50000" },
    systems: { type: "string", default: "fts5,orama,lucene,xapian" },
    shards: { type: "string", default: "1,4" },
    out: { type: "string", default: "docs/relevance.json" },
  },
});

function row(task: Task, system: string, run: RunResult & { loadMs: number }): Row {
  const result = figures(run, task.queries.map((query) => query.answer));
  const line: Row = {
    corpus: task.name,
    system,
    documents: task.docs.length,
    queries: task.queries.length,
    loadMs: Math.round(run.loadMs),
    ...result,
  };
  console.error(JSON.stringify(line));
  return line;
}

function markdown(rows: readonly Row[]): string {
  const lines = [
    "| corpus | system | docs | queries | MRR@10 | recall@1 | recall@10 | p50 ms | p99 ms |",
    "| ------ | ------ | ---: | ------: | -----: | -------: | --------: | -----: | -----: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.corpus} | ${r.system} | ${r.documents} | ${r.queries} | ${r.mrr10.toFixed(3)} | ` +
        `${r.recall1.toFixed(3)} | ${r.recall10.toFixed(3)} | ${r.p50Ms.toFixed(2)} | ` +
        `${r.p99Ms.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

const queries = Number(values.queries);
const chosenSystems = new Set(values.systems.split(","));
const log = (line: string) => console.error(line);
await ensureCorpusPackages(log);
await ensureLibraryPackages(
  { lucene: chosenSystems.has("lucene"), xapian: chosenSystems.has("xapian") },
  log,
);
const installed = await installedSystems();
const rows: Row[] = [];
for (const corpus of values.corpora.split(",")) {
  if (corpus === "gcide" && !(await gcideInstalled())) {
    console.error("gcide: dict-gcide is not installed, skipped");
    continue;
  }
  const task = corpus === "debian"
    ? await debianTask(queries)
    : await gcideTask(queries, Number(values["gcide-docs"]));
  const systems = new Set(values.systems.split(","));
  const shardCounts = values.shards.split(",").map(Number);
  for (const engine of (["fts5", "orama"] as const)) {
    for (const http of [false, true]) {
      if (!systems.has(http ? `${engine}-http` : engine)) continue;
      for (const shards of shardCounts) {
        const run = await (http ? runCameoHttp : runCameo)(task, { engine, shards, warmup: true });
        const name = `cameodb ${engine}${http ? " over HTTP" : ""}, ${shards} shard${
          shards === 1 ? "" : "s"
        }`;
        rows.push(row(task, name, run));
      }
    }
  }
  for (const system of (["lucene", "xapian"] as const).filter((name) => systems.has(name))) {
    if (!installed[system]) {
      console.error(`${system}: not installed, skipped`);
      continue;
    }
    rows.push(
      row(
        task,
        system === "lucene" ? "Lucene 8.7 (BM25)" : "Xapian 1.4 (BM25)",
        await runExternal(task, system),
      ),
    );
  }
}
console.log(markdown(rows));
await Deno.writeTextFile(
  values.out,
  JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + "\n",
);
