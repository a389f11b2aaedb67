(globalThis as any).PROF = { full: 0, nfull: 0, among: 0, namong: 0, cands: 0 };
import { debianTask } from "./tasks.ts";
import { Fts5Index } from "../../storage/fts5_index.ts";
import { tokenize } from "../../storage/tokenizer.ts";
const task = await debianTask(200);
const schema = { version: 1, fields: { title: { type: "text" }, text: { type: "text" } } } as never;
const dir = await Deno.makeTempDir();
const index = Fts5Index.open({ path: `${dir}/x.sqlite`, schema });
const ops = task.docs.map((d) => ({
  op: "put" as const,
  id: d.id,
  values: [
    { path: "title", type: "text", values: [d.title] },
    { path: "text", type: "text", values: [d.text] },
  ],
})) as never[];
let t = performance.now();
for (let i = 0; i < ops.length; i += 2000) index.apply(ops.slice(i, i + 2000), i + 1);
console.log("load", (performance.now() - t).toFixed(0));
const plans = task.queries.map((q) =>
  ({ kind: "or", children: q.words.map((term) => ({ kind: "term", field: null, term })) }) as never
);
const time = (name: string, fn: (p: never) => unknown) => {
  const t0 = performance.now();
  for (const p of plans) fn(p);
  console.log(name, ((performance.now() - t0) / plans.length).toFixed(2), "ms/query");
};
const stats = plans.map((p) => index.stats(p));
time("stats", (p) => index.stats(p));
let i = 0;
time(
  "search+stats",
  (p) => index.search(p, { limit: 10, offset: 0, stats: stats[i++ % plans.length] }),
);
time("search local", (p) => index.search(p, { limit: 10, offset: 0 }));
console.log((globalThis as any).PROF);
index.close();
await Deno.remove(dir, { recursive: true });
import { DatabaseSync } from "node:sqlite";
{
  const dir2 = await Deno.makeTempDir();
  const idx = Fts5Index.open({ path: `${dir2}/x.sqlite`, schema });
  for (let i = 0; i < ops.length; i += 2000) idx.apply(ops.slice(i, i + 2000), i + 1);
  idx.close();
  const db = new DatabaseSync(`${dir2}/x.sqlite`);
  const words = task.queries.map((q) => q.words);
  const tm = (name: string, fn: (w: string[]) => unknown) => {
    const t0 = performance.now();
    for (const w of words) fn(w);
    console.log(name, ((performance.now() - t0) / words.length).toFixed(2), "ms/query");
  };
  const full = db.prepare(
    "SELECT rid, col, tf, len FROM postings WHERE term = ? AND col IN (0, 1)",
  );
  tm("fts5 count", (w) => db.prepare("SELECT count(*) AS n FROM fts WHERE fts MATCH ?").get(w.map((t) => `("${t}")`).join(" OR ")));
  tm("full reads all terms", (w) => w.forEach((t) => full.all(t)));
  const cnt = db.prepare(
    "SELECT count(DISTINCT rid) AS n FROM postings WHERE term = ? AND col IN (0, 1)",
  );
  tm("df all terms", (w) => w.forEach((t) => cnt.get(t)));
  tm(
    "union count",
    (w) =>
      db.prepare(
        `SELECT count(*) AS n FROM (${
          w.map(() => "SELECT rid FROM postings WHERE term = ? AND col IN (0, 1)").join(" UNION ")
        })`,
      ).get(...w),
  );
  console.log(
    db.prepare("SELECT term, count(*) n FROM postings GROUP BY term ORDER BY n DESC LIMIT 8").all(),
  );
  db.close();
}
