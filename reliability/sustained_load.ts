/**
 * Sustained load: 32 concurrent clients send a mix of point reads, searches, updates and
 * deletes to the real server process for a fixed time (10 minutes by default). The id space
 * is fixed, so the data stops growing once warm; the server's memory should too. Words are
 * drawn log-uniformly from 1,000 (a few in most documents, most rare). Every
 * interval reports operations, errors, p50/p99 latency and the server's RSS.
 *
 * ```sh
 * deno task reliability:sustained                       # 10 minutes, 32 clients
 * deno task reliability:sustained --seconds=60 --clients=16
 * ```
 *
 * @module
 */

import { call } from "../testing/http.ts";
import { SeededRandom } from "../testing/random.ts";
import { type ServerProcess, startServerProcess } from "../testing/server_process.ts";
import { percentile } from "../testing/stats.ts";

/** One interval of the run. */
export interface Interval {
  /** Seconds since the load started, at the interval's end. */
  atSeconds: number;
  operations: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  /** The server process's resident set (all its threads: HTTP and the shard workers). */
  rssMb: number;
}

/** What a run found. */
export interface SustainedReport {
  seconds: number;
  clients: number;
  ids: number;
  mix: Record<string, number>;
  intervals: Interval[];
  totalOperations: number;
  totalErrors: number;
  /** A few of the errors, for the reader. */
  sampleErrors: string[];
}

/** A vocabulary of 1,000 words drawn log-uniformly: a few are everywhere, most are rare. */
const WORDS = Array.from({ length: 1_000 }, (_, i) => `w${i.toString(36)}`);

function word(random: SeededRandom): string {
  return WORDS[Math.floor(Math.pow(WORDS.length, random.next())) - 1]!;
}

function doc(random: SeededRandom, i: number) {
  const words = Array.from({ length: 12 }, () => word(random)).join(" ");
  return { title: `item ${i} ${word(random)}`, body: words, n: i, score: random.int(0, 1000) };
}

async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Runs the load; `onInterval` sees each interval as it ends. */
export async function runSustainedLoad(
  options: {
    seconds?: number;
    clients?: number;
    ids?: number;
    intervalSeconds?: number;
    seed?: number;
    onInterval?: (interval: Interval) => void;
  } = {},
): Promise<SustainedReport> {
  const seconds = options.seconds ?? 600;
  const clients = options.clients ?? 32;
  const ids = options.ids ?? 20_000;
  const intervalMs = (options.intervalSeconds ?? 30) * 1000;
  const random = new SeededRandom(options.seed ?? 1);
  const mix = { get: 0.5, search: 0.25, put: 0.2, delete: 0.05 };
  const report: SustainedReport = {
    seconds,
    clients,
    ids,
    mix,
    intervals: [],
    totalOperations: 0,
    totalErrors: 0,
    sampleErrors: [],
  };
  const dataDir = await Deno.makeTempDir({ prefix: "cameodb-sustained-" });
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({ dataDir, env: { CAMEODB_LOG: "error" } });
    const base = server.url;
    // Load every id once, in bulks.
    for (let at = 0; at < ids; at += 1_000) {
      const batch = Array.from(
        { length: Math.min(1_000, ids - at) },
        (_, k) => ({ id: `d${at + k}`, doc: doc(random, at + k) }),
      );
      const answer = await call(base, "POST", "/api/load/_bulk", batch);
      if (answer.status !== 200) throw new Error(`loading failed: ${JSON.stringify(answer.body)}`);
    }
    let latencies: number[] = [];
    let operations = 0;
    let errors = 0;
    const error = (text: string) => {
      errors++;
      if (report.sampleErrors.length < 10) report.sampleErrors.push(text);
    };
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const client = async (k: number) => {
      const own = new SeededRandom(random.int(0, 2 ** 31) + k);
      while (performance.now() < deadline) {
        const pick = own.next();
        const i = own.int(0, ids - 1);
        const t0 = performance.now();
        try {
          if (pick < mix.get) {
            const answer = await call(base, "GET", `/api/load/document/d${i}`);
            if (answer.status !== 200 && answer.status !== 404) error(`GET ${answer.status}`);
          } else if (pick < mix.get + mix.search) {
            const answer = await call(base, "POST", "/api/load/search", {
              query: own.next() < 0.5 ? `body:${word(own)}` : `${word(own)} OR title:${word(own)}`,
              limit: 10,
            });
            if (answer.status !== 200) {
              error(`search ${answer.status}: ${JSON.stringify(answer.body)}`);
            }
          } else if (pick < mix.get + mix.search + mix.put) {
            const answer = await call(base, "PUT", "/api/load/document", {
              id: `d${i}`,
              doc: doc(own, i),
            });
            if (answer.status !== 200) {
              error(`PUT ${answer.status}: ${JSON.stringify(answer.body)}`);
            }
          } else {
            const answer = await call(base, "DELETE", `/api/load/document?id=d${i}`);
            if (answer.status !== 200 && answer.status !== 404) error(`DELETE ${answer.status}`);
          }
        } catch (caught) {
          error(`no answer: ${(caught as Error).message}`);
        }
        latencies.push(performance.now() - t0);
        operations++;
      }
    };
    const pid = server.child.pid;
    const sampler = (async () => {
      let next = started + intervalMs;
      while (next <= deadline + 1) {
        // Sampling at fixed times is the point: wait for the interval's end.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
        const sorted = latencies.sort((a, b) => a - b);
        const interval: Interval = {
          atSeconds: Math.round((performance.now() - started) / 1000),
          operations,
          errors,
          p50Ms: Math.round(percentile(sorted, 0.5) * 100) / 100,
          p99Ms: Math.round(percentile(sorted, 0.99) * 100) / 100,
          rssMb: await rssMb(pid),
        };
        report.intervals.push(interval);
        report.totalOperations += operations;
        report.totalErrors += errors;
        options.onInterval?.(interval);
        latencies = [];
        operations = 0;
        errors = 0;
        next += intervalMs;
      }
    })();
    await Promise.all(Array.from({ length: clients }, (_, k) => client(k)));
    await sampler;
  } finally {
    await server?.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  return report;
}

/** The intervals as a markdown table. */
export function intervalTable(report: SustainedReport): string {
  return [
    "| at (s) | operations | ops/s | errors | p50 (ms) | p99 (ms) | RSS (MB) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...report.intervals.map((row, k) => {
      const span = row.atSeconds - (report.intervals[k - 1]?.atSeconds ?? 0);
      return `| ${row.atSeconds} | ${row.operations} | ${
        Math.round(row.operations / span)
      } | ${row.errors} | ${row.p50Ms} | ${row.p99Ms} | ${row.rssMb} |`;
    }),
  ].join("\n");
}

if (import.meta.main) {
  const arg = (name: string) => Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const report = await runSustainedLoad({
    seconds: Number(arg("seconds") ?? 600),
    clients: Number(arg("clients") ?? 32),
    intervalSeconds: Number(arg("interval") ?? 30),
    onInterval: (row) => console.log(JSON.stringify(row)),
  });
  console.log(intervalTable(report));
  console.log(JSON.stringify({ ...report, intervals: undefined }));
  if (report.totalErrors > 0) Deno.exit(1);
}
