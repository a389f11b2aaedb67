/**
 * Crash loop: concurrent clients send bulk writes, single writes and deletes to the real
 * server process, which is SIGKILLed at a random moment and restarted, cycle after cycle.
 * After every restart:
 *
 * - every acknowledged write is there by id with the acknowledged content, and found by
 *   search (each document exactly once, with the same content) and by a term only it has;
 * - every acknowledged delete is gone;
 * - a write cut short by the kill (no answer) left its documents either as they were or as
 *   written — wholly, never torn;
 * - health answers within `healthBoundMs` of the restart's spawn.
 *
 * Each client owns its ids and sends one operation at a time, so at a kill at most one
 * operation per client is in doubt.
 *
 * ```sh
 * deno task reliability:crash-loop                 # 20 cycles
 * deno task reliability:crash-loop --cycles=50
 * ```
 *
 * @module
 */

import { call } from "../testing/http.ts";
import { SeededRandom } from "../testing/random.ts";
import { type ServerProcess, startServerProcess } from "../testing/server_process.ts";

/** One document's state as a client knows it: its version tag, or absent. */
type State = number | null;

/** Options of {@linkcode runCrashLoop}. */
export interface CrashLoopOptions {
  cycles?: number;
  clients?: number;
  idsPerClient?: number;
  seed?: number;
  /** Longest a restarted server may take to answer health, from spawn. */
  healthBoundMs?: number;
  log?: (line: string) => void;
}

/** What a run found. */
export interface CrashLoopReport {
  seed: number;
  cycles: number;
  acknowledged: { puts: number; deletes: number; bulks: number };
  inDoubtAtKills: number;
  /** Milliseconds from spawn to a healthy answer, per restart. */
  healthMs: number[];
  documentsCheckedLastCycle: number;
  problems: string[];
}

const INDEX = "crash";

function content(id: string, v: number) {
  // `key`, not `id`: a top-level `id` field is reserved for the document id.
  return { key: id, v, tag: `${id.replace("-", "x")}v${v}`, text: `version ${v} of ${id}` };
}

/** Runs the loop; resolves with what it found (problems empty when everything held). */
export async function runCrashLoop(options: CrashLoopOptions = {}): Promise<CrashLoopReport> {
  const cycles = options.cycles ?? 20;
  const clients = options.clients ?? 6;
  const idsPerClient = options.idsPerClient ?? 60;
  const healthBoundMs = options.healthBoundMs ?? 15_000;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = new SeededRandom(seed);
  const log = options.log ?? (() => {});
  const report: CrashLoopReport = {
    seed,
    cycles,
    acknowledged: { puts: 0, deletes: 0, bulks: 0 },
    inDoubtAtKills: 0,
    healthMs: [],
    documentsCheckedLastCycle: 0,
    problems: [],
  };
  const dataDir = await Deno.makeTempDir({ prefix: "cameodb-crash-loop-" });
  const env = { CAMEODB_LOG: "error" };
  /** What each id is known to be (acknowledged). */
  const known = new Map<string, State>();
  /** Per id, the states an unanswered operation may have left. */
  const doubt = new Map<string, Set<State>>();
  let version = 0;
  let server: ServerProcess | undefined;
  try {
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const spawned = performance.now();
      server = await startServerProcess({ dataDir, env });
      const health = await call(server.url, "GET", "/_cluster/health");
      const healthMs = performance.now() - spawned;
      report.healthMs.push(Math.round(healthMs));
      if (health.status !== 200 || healthMs > healthBoundMs) {
        report.problems.push(
          `cycle ${cycle}: health ${health.status} after ${Math.round(healthMs)} ms`,
        );
      }
      if (cycle > 1) {
        report.documentsCheckedLastCycle = await verify(server.url, known, doubt, report, cycle);
      }
      if (report.problems.length > 0) break;

      // Load, then a kill at a random moment.
      let killed = false;
      const base = server.url;
      const client = async (k: number) => {
        const clientRandom = new SeededRandom(random.int(0, 2 ** 31));
        while (!killed) {
          const pick = clientRandom.next();
          const id = () => `c${k}-${clientRandom.int(0, idsPerClient - 1)}`;
          let intents: Array<[string, State]>;
          let send: () => Promise<boolean>;
          if (pick < 0.5) {
            const target = id();
            const v = ++version;
            intents = [[target, v]];
            send = async () => {
              const answer = await call(base, "PUT", `/api/${INDEX}/document`, {
                id: target,
                doc: content(target, v),
              });
              if (answer.status === 200) report.acknowledged.puts++;
              return answer.status === 200;
            };
          } else if (pick < 0.7) {
            const target = id();
            intents = [[target, null]];
            send = async () => {
              const answer = await call(base, "DELETE", `/api/${INDEX}/document?id=${target}`);
              if (answer.status === 200) report.acknowledged.deletes++;
              return answer.status === 200 || answer.status === 404;
            };
          } else {
            const targets = [...new Set(Array.from({ length: 20 }, id))];
            intents = targets.map((target) => [target, ++version]);
            send = async () => {
              const answer = await call(
                base,
                "POST",
                `/api/${INDEX}/_bulk`,
                intents.map(([target, v]) => ({ id: target, doc: content(target, v!) })),
              );
              const body = answer.body as { errors?: unknown[] };
              const ok = answer.status === 200 && (body.errors ?? []).length === 0;
              if (ok) report.acknowledged.bulks++;
              return ok;
            };
          }
          let acknowledged = false;
          try {
            acknowledged = await send();
          } catch {
            // No answer: the kill came first.
          }
          if (acknowledged) {
            for (const [target, state] of intents) known.set(target, state);
          } else if (killed) {
            report.inDoubtAtKills++;
            for (const [target, state] of intents) {
              const states = doubt.get(target) ?? new Set([known.get(target) ?? null]);
              states.add(state);
              doubt.set(target, states);
            }
            return;
          } else {
            report.problems.push(`cycle ${cycle}: an operation failed while the server was up`);
            return;
          }
        }
      };
      const running = Array.from({ length: clients }, (_, k) => client(k));
      const killAfterMs = random.int(150, 1_500);
      // The kill must land at a random moment of the load: waiting is the point here.
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      killed = true;
      await server.stop("SIGKILL");
      server = undefined;
      await Promise.all(running);
      log(
        `cycle ${cycle}: killed after ${killAfterMs} ms; health took ${
          report.healthMs.at(-1)
        } ms; ${known.size} ids known, ${doubt.size} in doubt`,
      );
    }
    if (report.problems.length === 0) {
      server = await startServerProcess({ dataDir, env });
      report.documentsCheckedLastCycle = await verify(server.url, known, doubt, report, cycles + 1);
    }
  } finally {
    await server?.stop("SIGKILL");
    await Deno.remove(dataDir, { recursive: true });
  }
  return report;
}

/** Checks every known id after a restart and settles the doubts with what is there. */
async function verify(
  base: string,
  known: Map<string, State>,
  doubt: Map<string, Set<State>>,
  report: CrashLoopReport,
  cycle: number,
): Promise<number> {
  const problem = (text: string) => report.problems.push(`after restart ${cycle}: ${text}`);
  const ids = new Set([...known.keys(), ...doubt.keys()]);
  const observed = new Map<string, State>();
  for (const id of ids) {
    const answer = await call(base, "GET", `/api/${INDEX}/document/${id}`);
    if (answer.status === 404) {
      observed.set(id, null);
      continue;
    }
    const doc = (answer.body as { doc?: ReturnType<typeof content> }).doc;
    if (answer.status !== 200 || doc === undefined) {
      problem(`GET ${id} answered ${answer.status}`);
      continue;
    }
    const expected = content(id, doc.v);
    if (JSON.stringify(doc) !== JSON.stringify(expected)) {
      problem(`${id} is torn: ${JSON.stringify(doc)}`);
    }
    observed.set(id, doc.v);
  }
  for (const id of ids) {
    const state = observed.get(id);
    if (state === undefined) continue;
    const allowed = doubt.get(id) ?? new Set([known.get(id) ?? null]);
    if (!allowed.has(state)) {
      problem(
        `${id} is ${state === null ? "absent" : `v${state}`}, expected one of ${
          [...allowed].map(String)
        }`,
      );
    }
    if (state === null) known.delete(id);
    else known.set(id, state);
  }
  doubt.clear();
  // Search: every present document exactly once, with the content read by id.
  const response = await fetch(`${base}/api/${INDEX}/search/stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "*", limit: 10_000 }),
  });
  if (response.status === 404) {
    if (known.size > 0) problem(`the index is gone with ${known.size} documents acknowledged`);
    return 0;
  }
  const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
  lines.pop();
  const seen = new Map<string, number>();
  for (const hit of lines as Array<{ id: string; v: number }>) {
    seen.set(hit.id, (seen.get(hit.id) ?? 0) + 1);
    if (known.get(hit.id) !== hit.v) {
      problem(`search found ${hit.id} v${hit.v}, by id it is ${known.get(hit.id)}`);
    }
  }
  for (const [id, count] of seen) if (count > 1) problem(`search found ${id} ${count} times`);
  for (const id of known.keys()) if (!seen.has(id)) problem(`search does not find ${id}`);
  // A term only the acknowledged version has.
  for (const [id, v] of [...known].slice(0, 40)) {
    const tag = content(id, v!).tag;
    const answer = await call(base, "POST", `/api/${INDEX}/search`, { query: `tag:${tag}` });
    const hits = (answer.body as { hits?: Array<{ id: string }> }).hits ?? [];
    if (hits.length !== 1 || hits[0]!.id !== id) {
      problem(`tag:${tag} found ${hits.map((h) => h.id)}`);
    }
  }
  return known.size;
}

if (import.meta.main) {
  const arg = (name: string) => Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const report = await runCrashLoop({
    cycles: Number(arg("cycles") ?? 20),
    ...(arg("seed") === undefined ? {} : { seed: Number(arg("seed")) }),
    log: (line) => console.log(line),
  });
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length > 0) Deno.exit(1);
}
