/**
 * The sustained mixed load: for a set time, `lanes` clients each issue one operation after
 * another from a fixed cycle — point reads, the mid-term search, and a write (a stored
 * document written again, so the data's size stays put) — as the system supports them. The
 * time is cut into equal windows (a minute each on a full run); the figure is the worst
 * window: the one with the highest p99, with its QPS, and the lowest QPS of any window.
 *
 * @module
 */

import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import type { System } from "./system.ts";
import { percentile } from "../../testing/stats.ts";

/** What the mixed load measured. */
export interface MixedLoadFigures {
  /** The cycle of operations, e.g. "8 × point read : 1 × mid-term search : 1 × write". */
  mix: string;
  lanes: number;
  seconds: number;
  windowSeconds: number;
  windows: number;
  /** All operations over the whole run. */
  overall: { p99: number; qps: number };
  /** The window with the highest p99. */
  worst: { window: number; p99: number; qps: number };
  /** The lowest QPS of any window. */
  minQps: number;
}

type Op = "read" | "search" | "write";

/** The cycle of ten operations this system can run. */
export function mixCycle(system: System): Op[] {
  const reads = system.get !== undefined;
  const searches = system.search !== undefined;
  const main: Op[] = reads && searches
    ? [...Array<Op>(8).fill("read"), "search"]
    : Array<Op>(9).fill(reads ? "read" : "search");
  return [...main, "write"];
}

function describeCycle(cycle: readonly Op[]): string {
  const count = (op: Op) => cycle.filter((o) => o === op).length;
  const parts: Array<[number, string]> = [
    [count("read"), "point read"],
    [count("search"), "mid-term search"],
    [count("write"), "write"],
  ];
  return parts.filter(([n]) => n !== 0).map(([n, what]) => `${n} × ${what}`).join(" : ");
}

const round = (value: number) => Number(value.toFixed(2));

/** Runs the mixed load on a started system that holds `stored`. */
export async function mixedLoad(
  system: System,
  stored: readonly CorpusDoc[],
  midTerm: CompareQuery,
  options: { durationMs: number; windowMs: number; lanes: number },
): Promise<MixedLoadFigures> {
  const cycle = mixCycle(system);
  const windows = Math.max(1, Math.round(options.durationMs / options.windowMs));
  const windowMs = options.durationMs / windows;
  const times: number[][] = Array.from({ length: windows }, () => []);
  const run = (op: Op, i: number): Promise<unknown> => {
    const doc = stored[(i * 7919) % stored.length]!;
    if (op === "read") return system.get!(doc.id);
    if (op === "search") return system.search!(midTerm);
    return system.put(doc);
  };
  let next = 0;
  const started = performance.now();
  const end = started + options.durationMs;
  await Promise.all(Array.from({ length: options.lanes }, async () => {
    while (performance.now() < end) {
      const i = next++;
      const t0 = performance.now();
      await run(cycle[i % cycle.length]!, i);
      const t1 = performance.now();
      times[Math.min(windows - 1, Math.floor((t1 - started) / windowMs))]!.push(t1 - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const perWindow = times.map((list, window) => {
    list.sort((a, b) => a - b);
    const length = window === windows - 1 ? seconds - window * windowMs / 1000 : windowMs / 1000;
    return { window, p99: round(percentile(list, 0.99)), qps: Math.round(list.length / length) };
  });
  const all = times.flat().sort((a, b) => a - b);
  const worst = perWindow.reduce((a, b) => (b.p99 > a.p99 ? b : a));
  return {
    mix: describeCycle(cycle),
    lanes: options.lanes,
    seconds: round(seconds),
    windowSeconds: round(windowMs / 1000),
    windows,
    overall: { p99: round(percentile(all, 0.99)), qps: Math.round(all.length / seconds) },
    worst,
    minQps: Math.min(...perWindow.map((w) => w.qps)),
  };
}
