import { debianTask } from "./tasks.ts";
import { runCameo } from "./cameodb_runner.ts";
import { figures } from "./metrics.ts";
const task = await debianTask(200);
console.log(task.docs.length, task.queries.length, task.queries[0]);
for (const engine of ["fts5"] as const) {
  const run = await runCameo(task, { engine, shards: Number(Deno.args[0] ?? 1) });
  console.log(engine, run.loadMs.toFixed(0), figures(run, task.queries.map((q) => q.answer)));
}
