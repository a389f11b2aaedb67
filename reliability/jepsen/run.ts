/**
 * A Jepsen-style run against real cluster processes on loopback: start the cluster,
 * create the index, run the clients and the nemesis side by side for the duration, stop
 * both (the nemesis heals its last fault), wait for convergence, read everything back,
 * check, and print a JSON report and a one-line summary.
 *
 * ```sh
 * deno task reliability:jepsen --seed=7 --nodes=3 --clients=8 --duration-s=60 --faults=kill,pause,wipe
 * deno task reliability:jepsen --rf=3 --faults=kill,pause   # with replication
 * deno task reliability:jepsen --rf=3 --read-quorum=2      # reads that see every acknowledged write
 * ```
 *
 * `--hold-ms=MIN-MAX` and `--quiet-ms=MIN-MAX` set how long a fault is held and the quiet
 * spell before each (2000-5000 and 1000-3000 by default); `--history=FILE` writes the
 * history as JSON; `--anti-entropy-ms=N` sets the nodes' anti-entropy interval, `--await-sweep`
 * makes convergence wait for one whole anti-entropy sweep after the last heal, `--converge-s=N`
 * and `--green-s=N` bound the waits for convergence and for green after a fault (a wiped node's
 * rebuild). Exit status 1 when any anomaly count is non-zero. `jepsen_test.ts` and
 * `replicated_test.ts` run short versions.
 *
 * @module
 */

import { call } from "../../testing/http.ts";
import { withMachineLock } from "../../testing/machine_lock.ts";
import { ANOMALIES, check, type CheckResult } from "./checker.ts";
import { JEPSEN_INDEX, type OperationMix, runClients, type Target } from "./clients.ts";
import { ClusterUnderTest } from "./cluster_under_test.ts";
import { converge, finalRead } from "./final_read.ts";
import { type FaultWindow, History, type Operation } from "./history.ts";
import { type Fault, FAULTS, type NemesisReport, runNemesis } from "./nemesis.ts";

/** Options of {@linkcode runJepsen}. */
export interface JepsenOptions {
  seed?: number;
  nodes?: number;
  /** `network.cluster.replication_factor` of the nodes; the server's default when absent. */
  replicationFactor?: number;
  /** `network.cluster.read_quorum` of the nodes; the server's default when absent. */
  readQuorum?: number;
  clients?: number;
  durationMs?: number;
  faults?: readonly Fault[];
  mix?: OperationMix;
  /** The nemesis's quiet spells and fault holds, in ms (see `nemesis.ts`). */
  quietMs?: [number, number];
  holdMs?: [number, number];
  /** Longest wait for convergence after the last heal, in ms. */
  convergeTimeoutMs?: number;
  /** Longest wait for the cluster to be green after a fault (a wiped node's rebuild), in ms. */
  greenTimeoutMs?: number;
  /** `network.cluster.anti_entropy_interval_ms` of the nodes; the server's default when absent. */
  antiEntropyIntervalMs?: number;
  /**
   * Convergence also waits for one whole anti-entropy sweep after the last heal (on some
   * node), so every replica of every slot was compared after the faults: the final reads
   * then see one value per id through every node.
   */
  awaitSweep?: boolean;
  /** Where to write the whole history as JSON (optional). */
  historyFile?: string;
  log?: (line: string) => void;
}

/** What a run found. */
export interface JepsenReport {
  seed: number;
  nodes: number;
  clients: number;
  durationMs: number;
  faultKinds: readonly Fault[];
  nemesis: NemesisReport;
  faults: FaultWindow[];
  /** Operations by function and outcome (`put.ok`, `bulk.info`, …). */
  ops: { total: number; byKind: Record<string, number> };
  /** From the end of the load and of the last heal until every node agreed, in ms. */
  convergedMs: number | null;
  check: CheckResult;
}

/** Runs the test; the cluster is gone when it resolves. */
export async function runJepsen(options: JepsenOptions = {}): Promise<JepsenReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const nodes = options.nodes ?? 3;
  const clients = options.clients ?? 8;
  const durationMs = options.durationMs ?? 60_000;
  const faultKinds = options.faults ?? ["kill", "pause", "wipe"];
  const log = options.log ?? (() => {});
  const cluster = await ClusterUnderTest.start({
    nodes,
    ...(options.replicationFactor === undefined
      ? {}
      : { replicationFactor: options.replicationFactor }),
    ...(options.readQuorum === undefined ? {} : { readQuorum: options.readQuorum }),
    ...(options.greenTimeoutMs === undefined ? {} : { waitMs: options.greenTimeoutMs }),
    ...(options.antiEntropyIntervalMs === undefined
      ? {}
      : { antiEntropyIntervalMs: options.antiEntropyIntervalMs }),
  });
  try {
    await createIndex(cluster);
    log(`seed ${seed}: ${nodes} nodes green, ${clients} clients for ${durationMs} ms`);
    const history = new History();
    const stop = Promise.withResolvers<void>();
    const timer = setTimeout(() => stop.resolve(), durationMs);
    const targets = (): Target[] =>
      cluster.live().map((node) => ({ label: node.label, url: node.process!.url }));
    const [nemesis] = await Promise.all([
      runNemesis({
        cluster,
        history,
        seed: seed ^ 0x5eed,
        faults: faultKinds,
        stop: stop.promise,
        ...(options.quietMs === undefined ? {} : { quietMs: options.quietMs }),
        ...(options.holdMs === undefined ? {} : { holdMs: options.holdMs }),
        log,
      }),
      runClients({
        clients,
        seed,
        history,
        live: targets,
        stop: stop.promise,
        ...(options.mix === undefined ? {} : { mix: options.mix }),
      }),
    ]);
    clearTimeout(timer);
    await cluster.green();
    const convergedMs = await converge(
      targets(),
      options.convergeTimeoutMs ?? 30_000,
      (seen) => log(`not converged; last seen: ${seen}`),
      options.awaitSweep === true,
    );
    const operations = history.operations();
    const ids = [
      ...new Set(operations.flatMap((op) => op.f === "get" ? [] : op.items.map((i) => i.id))),
    ];
    log(`load done: ${operations.length} operations on ${ids.length} ids; reading back`);
    const final = await finalRead(ids, targets());
    const faults = history.faultWindows();
    if (options.historyFile !== undefined) {
      await Deno.writeTextFile(
        options.historyFile,
        JSON.stringify({ operations, faults: history.faultEvents(), events: history.events() }),
      );
    }
    return {
      seed,
      nodes,
      clients,
      durationMs,
      faultKinds,
      nemesis,
      faults,
      ops: { total: operations.length, byKind: countByKind(operations) },
      convergedMs,
      check: check(operations, final, faults),
    };
  } finally {
    await cluster.close();
  }
}

/** The index the clients write: `key` sortable (the scan pages by it), `token` a string. */
async function createIndex(cluster: ClusterUnderTest): Promise<void> {
  const first = cluster.live()[0]!.process!;
  const config = await call(first.url, "PUT", `/api/${JEPSEN_INDEX}/_config`, {
    fields: [{ name: "key", type: "string" }, { name: "token", type: "string" }],
  });
  if (config.status !== 200) throw new Error(`_config: ${JSON.stringify(config.body)}`);
}

/** Operations counted by function and outcome (`put.ok`, `bulk.info`, …). */
function countByKind(operations: readonly Operation[]): Record<string, number> {
  const byKind: Record<string, number> = {};
  for (const op of operations) {
    const key = `${op.f}.${op.type ?? "pending"}`;
    byKind[key] = (byKind[key] ?? 0) + 1;
  }
  return byKind;
}

/** Whether the run found anything that must not happen. */
export function failed(report: JepsenReport): boolean {
  return ANOMALIES.some((name) => report.check[name] > 0) || report.convergedMs === null;
}

function pct(value: number | null): string {
  return value === null ? "n/a" : `${value.toFixed(2)} %`;
}

/** The one-line summary: anomaly counts, availability, faults, operations, convergence. */
export function summaryLine(report: JepsenReport): string {
  const c = report.check;
  const { overall, duringFaults } = c.availability;
  return [
    ANOMALIES.map((name) => `${name} ${c[name]}`).join(", "),
    `availability reads ${pct(overall.reads.percent)} writes ${pct(overall.writes.percent)}` +
    ` (during faults: reads ${pct(duringFaults.reads.percent)} writes ${
      pct(duringFaults.writes.percent)
    })`,
    `faults ${report.nemesis.faults}`,
    `ops ${report.ops.total}`,
    report.convergedMs === null ? "not converged" : `converged in ${report.convergedMs} ms`,
  ].join(" | ");
}

/** Reads `--name=value` flags. */
export function parseArgs(args: readonly string[]): JepsenOptions {
  const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const number = (name: string) => {
    const value = arg(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${name} must be a number, got "${value}"`);
    return parsed;
  };
  const options: JepsenOptions = {};
  const seed = number("seed");
  const nodes = number("nodes");
  const clients = number("clients");
  const duration = number("duration-s");
  if (seed !== undefined) options.seed = seed;
  if (nodes !== undefined) options.nodes = nodes;
  const rf = number("rf");
  if (rf !== undefined) options.replicationFactor = rf;
  const readQuorum = number("read-quorum");
  if (readQuorum !== undefined) options.readQuorum = readQuorum;
  if (clients !== undefined) options.clients = clients;
  if (duration !== undefined) options.durationMs = duration * 1_000;
  const faults = arg("faults");
  if (faults !== undefined) {
    const list = faults === "" || faults === "none" ? [] : faults.split(",");
    for (const fault of list) {
      if (!(FAULTS as readonly string[]).includes(fault)) {
        throw new Error(`unknown fault "${fault}" (known: ${FAULTS.join(", ")}, none)`);
      }
    }
    options.faults = list as Fault[];
  }
  for (const [flag, key] of [["hold-ms", "holdMs"], ["quiet-ms", "quietMs"]] as const) {
    const value = arg(flag);
    if (value === undefined) continue;
    const range = value.split("-").map(Number);
    if (range.length !== 2 || !range.every(Number.isFinite) || range[0]! > range[1]!) {
      throw new Error(`--${flag} is MIN-MAX in ms, got "${value}"`);
    }
    options[key] = [range[0]!, range[1]!];
  }
  const historyFile = arg("history");
  if (historyFile !== undefined) options.historyFile = historyFile;
  const interval = number("anti-entropy-ms");
  if (interval !== undefined) options.antiEntropyIntervalMs = interval;
  const converge = number("converge-s");
  if (converge !== undefined) options.convergeTimeoutMs = converge * 1_000;
  const green = number("green-s");
  if (green !== undefined) options.greenTimeoutMs = green * 1_000;
  if (args.includes("--await-sweep")) options.awaitSweep = true;
  return options;
}

if (import.meta.main) {
  const options = parseArgs(Deno.args);
  // Several server processes: never beside a cluster test or another suite's cluster.
  const report = await withMachineLock(
    "cluster",
    () => runJepsen({ ...options, log: (line) => console.error(line) }),
  );
  console.log(JSON.stringify(report, null, 2));
  console.log(summaryLine(report));
  if (failed(report)) Deno.exit(1);
}
