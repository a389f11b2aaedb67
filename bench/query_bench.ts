/**
 * Query benchmark: latency per query form, both engines, on Debian's package catalogue,
 * in process (no HTTP), over two microshards. Run: `deno task bench:query` — it writes
 * `docs/query-benchmarks.md`. Each engine runs in its own child process.
 *
 * Terms are picked from the data by document frequency: rare (df 5–20), mid (df 200–2000)
 * and common (the 20 most frequent terms).
 *
 * @module
 */

import { Microshard } from "../storage/microshard.ts";
import type { EngineName } from "../storage/search_index.ts";
import { tokenize } from "../storage/tokenizer.ts";
import { searchShards } from "../query/pipeline.ts";
import { loadDebianPackages } from "./data/debian.ts";
import { percentile } from "../testing/stats.ts";

const RUNS = 30;

interface Form {
  readonly name: string;
  readonly requests: ReadonlyArray<Record<string, unknown>>;
}

async function measure(engine: EngineName) {
  const docs = await loadDebianPackages();
  const df = new Map<string, number>();
  for (const { doc } of docs) {
    for (const term of new Set(tokenize(doc.description))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const byFrequency = [...df].filter(([term]) => term.length > 3 && !/^\d+$/.test(term))
    .sort((a, b) => b[1] - a[1]);
  const pick = (min: number, max: number) =>
    byFrequency.filter(([, n]) => n >= min && n <= max).filter((_, i) => i % 7 === 0).slice(0, RUNS)
      .map(([term]) => term);
  const rare = pick(5, 20);
  const mid = pick(200, 2_000);
  const common = byFrequency.slice(0, 20).map(([term]) => term);
  const cycle = (terms: string[], make: (term: string, i: number) => Record<string, unknown>) =>
    Array.from({ length: RUNS }, (_, i) => make(terms[i % terms.length]!, i));

  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const shards = await Promise.all(
    dirs.map((dir) => Microshard.open({ dir, defaultEngine: engine })),
  );
  try {
    for (const shard of shards) {
      await shard.configure("packages", {
        fields: [{ name: "section", type: "string" }, { name: "priority", type: "string" }],
      });
    }
    const started = performance.now();
    for (let at = 0; at < docs.length; at += 1_000) {
      await Promise.all(shards.map((shard, s) =>
        shard.write(
          docs.slice(at, at + 1_000).filter((_, i) => i % 2 === s)
            .map(({ id, doc }) => ({ op: "put" as const, index: "packages", id, doc })),
        )
      ));
    }
    const loadSeconds = (performance.now() - started) / 1000;
    const forms: Form[] = [
      { name: "rare term", requests: cycle(rare, (t) => ({ query: `description:${t}` })) },
      { name: "mid term", requests: cycle(mid, (t) => ({ query: `description:${t}` })) },
      { name: "common term", requests: cycle(common, (t) => ({ query: `description:${t}` })) },
      {
        name: "bare terms, every text field",
        requests: cycle(mid, (t, i) => ({ query: `${t} ${mid[(i + 3) % mid.length]}` })),
      },
      {
        name: "two-term OR",
        requests: cycle(
          mid,
          (t, i) => ({ query: `description:${t} OR description:${rare[i % rare.length]}` }),
        ),
      },
      {
        name: "AND of two terms",
        requests: cycle(
          common,
          (t, i) => ({ query: `+description:${t} +description:${mid[i % mid.length]}` }),
        ),
      },
      {
        name: 'phrase "development files"',
        requests: cycle(["x"], () => ({ query: 'description:"development files"' })),
      },
      {
        name: "phrase with slop 2",
        requests: cycle(["x"], () => ({ query: 'description:"python library"~2' })),
      },
      { name: "prefix", requests: cycle(mid, (t) => ({ query: `description:${t.slice(0, 4)}*` })) },
      {
        name: "fuzzy ~1",
        requests: cycle(mid, (t) => ({ query: `description:${t.slice(0, -1)}x~1` })),
      },
      {
        name: "filtered range",
        requests: cycle(
          mid,
          (t) => ({ query: `description:${t} AND installed_size:[100 TO 5000]` }),
        ),
      },
      {
        name: "range only",
        requests: cycle(
          ["x"],
          (_, i) => ({ query: `installed_size:[${i * 100} TO ${i * 100 + 500}]` }),
        ),
      },
      {
        name: "sort by a number",
        requests: cycle(common, (t) => ({ query: `description:${t} sort installed_size:desc` })),
      },
      {
        name: "facet on section",
        requests: cycle(mid, (t) => ({ query: `description:${t}`, facets: { section: {} } })),
      },
      {
        name: "id lookup",
        requests: cycle(["x"], (_, i) => ({ query: `id:${docs[i * 997 % docs.length]!.id}` })),
      },
    ];
    const results = [];
    for (const form of forms) {
      await searchShards(shards, "packages", form.requests[0]); // warm
      const times: number[] = [];
      let hits = 0;
      for (const request of form.requests) {
        const t = performance.now();
        const answer = await searchShards(shards, "packages", request);
        times.push(performance.now() - t);
        hits += answer.total_hits;
      }
      times.sort((a, b) => a - b);
      results.push({
        form: form.name,
        p50: Math.round(percentile(times, 0.5) * 100) / 100,
        p99: Math.round(percentile(times, 0.99) * 100) / 100,
        meanHits: Math.round(hits / form.requests.length),
      });
    }
    return {
      engine,
      documents: docs.length,
      loadSeconds: Math.round(loadSeconds * 10) / 10,
      results,
    };
  } finally {
    for (const shard of shards) await shard.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args[0] === "--engine") {
  console.log(JSON.stringify(await measure(Deno.args[1] as EngineName)));
} else {
  const runs = [];
  for (const engine of ["fts5", "orama"]) {
    console.error(`measuring ${engine}…`);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL(import.meta.url).pathname, "--engine", engine],
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error(`the ${engine} run failed`);
    runs.push(JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!));
  }
  const [fts5, orama] = runs;
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ??
    "unknown";
  const rows = fts5.results.map(
    (r: { form: string; p50: number; p99: number; meanHits: number }, i: number) => {
      const o = orama.results[i];
      return `| ${r.form} | ${r.meanHits} | ${r.p50} / ${r.p99} | ${o.p50} / ${o.p99} |`;
    },
  );
  const report = `# Query benchmarks

Command: \`deno task bench:query\` (this file is its output). Date: ${
    new Date().toISOString().slice(0, 10)
  }.
Machine: ${navigator.hardwareConcurrency} cores (${cpu}), Deno ${Deno.version.deno}.
Data: Debian's package catalogue (\`apt-cache dumpavail\`), ${fts5.documents} documents over two
microshards, in process through \`searchShards\` (parse, compile, both shards, merge, documents read
from KV for the page of 10). ${RUNS} runs per form; terms picked by document frequency.
Load time: fts5 ${fts5.loadSeconds} s, orama ${orama.loadSeconds} s.

| query form | mean hits | fts5 p50 / p99 (ms) | orama p50 / p99 (ms) |
| --- | --- | --- | --- |
${rows.join("\n")}
`;
  await Deno.writeTextFile(new URL("../docs/query-benchmarks.md", import.meta.url), report);
  console.log(report);
}
