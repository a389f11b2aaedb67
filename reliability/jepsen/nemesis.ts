/**
 * The nemesis of a Jepsen-style run: a seeded schedule of faults on the real processes,
 * one at a time — a quiet spell, a fault held for a while, the heal, and a wait for the
 * cluster to turn green again before the next. Every fault is logged in the history from
 * its start to its end (the end is when the cluster is green again).
 *
 * | fault    | start                                   | heal                                        |
 * | -------- | --------------------------------------- | ------------------------------------------- |
 * | `kill`   | SIGKILL                                 | restart on the same data directory          |
 * | `pause`  | SIGSTOP                                 | SIGCONT                                     |
 * | `wipe`   | SIGKILL, the data directory emptied (identity kept) | restart on the emptied directory |
 * | `join`   | a new node starts and joins             | (it stays)                                  |
 * | `leave`  | `POST /_cluster/nodes/{id}/_leave`      | the node's process stops once it has left   |
 * | `remove` | SIGKILL, then `DELETE /_cluster/nodes/{id}` once down | a replacement node joins      |
 *
 * `join`, `leave` and `remove` are for the membership issue (they change who owns which
 * slots); a refused `_leave` (today's 409) is logged with its answer and changes nothing.
 *
 * @module
 */

import { call } from "../../testing/http.ts";
import { SeededRandom } from "../../testing/random.ts";
import type { ClusterUnderTest, TestNode } from "./cluster_under_test.ts";
import type { History } from "./history.ts";

/** The faults the nemesis knows. */
export const FAULTS = ["kill", "pause", "wipe", "join", "leave", "remove"] as const;

/** One fault kind. */
export type Fault = (typeof FAULTS)[number];

/** Options of {@linkcode runNemesis}. */
export interface NemesisOptions {
  cluster: ClusterUnderTest;
  history: History;
  seed: number;
  faults: readonly Fault[];
  /** Resolves when no new fault may start (the one in force is healed first). */
  stop: Promise<void>;
  /** A quiet spell before each fault lasts between these, in ms. */
  quietMs?: [number, number];
  /** A fault is held between these before it is healed, in ms. */
  holdMs?: [number, number];
  log?: (line: string) => void;
}

/** What the nemesis did. */
export interface NemesisReport {
  faults: number;
  byKind: Record<string, number>;
  /** Monotonic time (ms) at which the last heal ended, or `null` if none ran. */
  lastHealMs: number | null;
}

/** Runs faults one at a time until `stop`; resolves once the last one is healed. */
export async function runNemesis(options: NemesisOptions): Promise<NemesisReport> {
  const random = new SeededRandom(options.seed);
  const report: NemesisReport = { faults: 0, byKind: {}, lastHealMs: null };
  let stopped = false;
  const stop = options.stop.then(() => stopped = true);
  const [quietMin, quietMax] = options.quietMs ?? [1_000, 3_000];
  const [holdMin, holdMax] = options.holdMs ?? [2_000, 5_000];
  while (!stopped && options.faults.length > 0) {
    // The faults land at random moments of the load: waiting is the schedule itself.
    await Promise.race([stop, delay(random.int(quietMin, quietMax))]);
    if (stopped) break;
    const fault = random.pick(options.faults);
    await inject(fault, random, random.int(holdMin, holdMax), options);
    report.faults++;
    report.byKind[fault] = (report.byKind[fault] ?? 0) + 1;
    report.lastHealMs = options.history.now().monoMs;
  }
  return report;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts `fault`, holds it `holdMs`, heals it and waits for green; logs start and end. */
async function inject(
  fault: Fault,
  random: SeededRandom,
  holdMs: number,
  options: NemesisOptions,
): Promise<void> {
  const { cluster, history } = options;
  const log = options.log ?? (() => {});
  const victim = random.pick(cluster.live());
  // A join acts on the node it starts; the others on their victim.
  const subject = fault === "join" ? cluster.nextLabel() : victim.label;
  const held = HELD.has(fault) ? `held ${holdMs} ms` : undefined;
  history.nemesis("start", fault, subject, held);
  log(`nemesis: ${fault} ${subject}${held === undefined ? "" : ` ${held}`}`);
  let detail: string | undefined;
  switch (fault) {
    case "kill":
      await cluster.kill(victim);
      await delay(holdMs);
      await cluster.restart(victim);
      break;
    case "pause":
      cluster.pause(victim);
      await delay(holdMs);
      cluster.resume(victim);
      break;
    case "wipe":
      await cluster.kill(victim);
      await cluster.wipe(victim);
      await delay(holdMs);
      await cluster.restart(victim);
      break;
    case "join":
      await cluster.add();
      break;
    case "leave":
      detail = await leave(cluster, victim, random);
      break;
    case "remove":
      detail = await remove(cluster, victim, random);
      break;
  }
  await cluster.green();
  history.nemesis("end", fault, subject, detail);
  log(`nemesis: ${fault} ${subject} healed${detail === undefined ? "" : ` (${detail})`}`);
}

/** The faults that are held for a while before they are healed. */
const HELD: ReadonlySet<Fault> = new Set(["kill", "pause", "wipe"]);

function other(cluster: ClusterUnderTest, node: TestNode, random: SeededRandom): TestNode {
  return random.pick(cluster.live().filter((n) => n !== node));
}

/** Asks `victim` to leave through another node; once it has left, stops its process. */
async function leave(
  cluster: ClusterUnderTest,
  victim: TestNode,
  random: SeededRandom,
): Promise<string> {
  const through = other(cluster, victim, random);
  const answer = await call(
    through.process!.url,
    "POST",
    `/_cluster/nodes/${victim.nodeId}/_leave`,
  );
  if (answer.status !== 200) {
    return `refused ${answer.status}: ${(answer.body as { details?: string }).details}`;
  }
  // The answer comes once the node has handed its slots off: it may stop now.
  await cluster.kill(victim);
  victim.state = "gone";
  return `left through ${through.label}`;
}

/** SIGKILLs `victim`, removes it once another node sees it down, and adds a replacement. */
async function remove(
  cluster: ClusterUnderTest,
  victim: TestNode,
  random: SeededRandom,
): Promise<string> {
  const through = other(cluster, victim, random);
  await cluster.kill(victim);
  await cluster.sees(through, victim, "down");
  const answer = await call(through.process!.url, "DELETE", `/_cluster/nodes/${victim.nodeId}`);
  victim.state = "gone";
  const lost = (answer.body as { slots_lost?: number }).slots_lost;
  const replacement = await cluster.add();
  return `removed through ${through.label} (${answer.status}, slots_lost ${lost}); ${replacement.label} joined`;
}
