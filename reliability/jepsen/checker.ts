/**
 * The checker: pure functions over a history and the final read that count what a
 * database must never do. Each id is a last-writer-wins register whose writes carry unique
 * tokens, so the value read names the write that produced it (Jepsen's unique-value
 * registers; Knossos would check every read for linearizability, this checks the state
 * after healing, which is what replication promises).
 *
 * **The model of one id.** Its writes (puts, deletes, `_bulk` items) that are `ok` or
 * `info` may have taken effect; `fail` writes did not. A write `w` is *superseded* when an
 * `ok` write was invoked after `w` completed (an `info` write never completes, so it is
 * never superseded: it may land at any time). The final state may be the effect of any
 * write that is not superseded, or absent if no write was acknowledged at all. Anything
 * else is an anomaly, counted once per id, in one of three kinds:
 *
 * - **lost** — the id reads 404, or an older value, where the last word was an
 *   acknowledged put (the write that superseded the value read, latest first, is a put);
 * - **resurrected** — the id reads a value written before an acknowledged delete that is
 *   the last word;
 * - **stale** — the id reads a value no acceptable write explains: the token of a write
 *   answered `fail` (definitely not applied), or a token nobody wrote.
 *
 * Beside those: **disagreement** (nodes answer one id differently), **unreadable** (a
 * final read or scan that did not answer after healing), **duplicated** (an id twice in a
 * scan) and **mismatched** (the scan disagrees with the point read through the same node —
 * shows an id that reads 404, misses one that reads a value, or shows another value — or,
 * where that read gave no answer, with the model; an id nobody wrote; plus any difference
 * between a scan's total and the hits it paged). A wrong state that the point read and the
 * scan share is counted once, by the point read.
 *
 * And during the run, **unexplained reads**: an `ok` point read whose value no write
 * explains at that moment — the value of a write invoked before the read completed and
 * not superseded by an acknowledged write that completed before the read began (or
 * absent, when no acknowledged write had completed or a delete explains it). A necessary
 * condition of linearizability per id, cheap to check: it catches a stale replica read, a
 * read of a write answered `fail`, a 404 for a document acknowledged before the read.
 *
 * @module
 */

import type { FaultWindow, Operation, Outcome } from "./history.ts";

/** One write to one id, as the model sees it. */
export interface Write {
  readonly value: string | null;
  readonly type: Outcome;
  readonly invokeMs: number;
  /** `Infinity` for an `info` write: it may take effect at any time. */
  readonly completeMs: number;
}

/** What one node answered for one id after healing: a token, 404 (`null`), or no answer. */
export type FinalValue = string | null | { readonly unreadable: string };

/** A scan of the whole index through one node, paged by id. */
export interface Scan {
  readonly node: string;
  /** Every hit paged, in order (an id twice if the index holds it twice). */
  readonly hits: ReadonlyArray<{ readonly id: string; readonly value: string | null }>;
  /** The total the index reported for `*`. */
  readonly totalHits: number;
  /** Shards that did not answer (any makes the scan unreadable). */
  readonly failedShards: number;
}

/** The final read: every id through every node, and a scan through every node. */
export interface FinalRead {
  /** id → node label → what it answered. */
  readonly reads: ReadonlyMap<string, ReadonlyMap<string, FinalValue>>;
  readonly scans: readonly Scan[];
}

/** Counts of ok, fail and info, and the share that was ok. */
export interface Availability {
  ok: number;
  fail: number;
  info: number;
  /** ok / (ok + fail + info) in percent, 2 decimals; `null` when nothing was tried. */
  percent: number | null;
}

/** Availability of point reads and of writes (counted per document written). */
export interface AvailabilityReport {
  reads: Availability;
  writes: Availability;
}

/** Up to this many example ids are kept per anomaly. */
const MAX_EXAMPLES = 10;

/** What the checker found. */
export interface CheckResult {
  lost: number;
  resurrected: number;
  stale: number;
  duplicated: number;
  mismatched: number;
  disagreed: number;
  unreadable: number;
  /** `ok` reads during the run that no write explains at their moment. */
  unexplainedReads: number;
  /** Ids the final read covered. */
  ids: number;
  /** Ids the model says must be present / may be present (the scan total must lie between). */
  model: { mustExist: number; mayExist: number };
  /** Up to ten ids per anomaly, with what was read and what was acceptable. */
  examples: Record<string, string[]>;
  availability: {
    overall: AvailabilityReport;
    /** Operations invoked while a fault was in force (one node down, hung or changing). */
    duringFaults: AvailabilityReport;
    outsideFaults: AvailabilityReport;
    /** During each kind of fault (`kill`, `pause`, …). */
    byFault: Record<string, AvailabilityReport>;
  };
}

/** The anomaly counts that must be zero. */
export const ANOMALIES = [
  "lost",
  "resurrected",
  "stale",
  "duplicated",
  "mismatched",
  "disagreed",
  "unreadable",
  "unexplainedReads",
] as const;

/** Every id's writes, in invocation order. */
export function writesById(operations: readonly Operation[]): Map<string, Write[]> {
  const byId = new Map<string, Write[]>();
  for (const op of operations) {
    if (op.f === "get") continue;
    const type = op.type ?? "info";
    for (const [k, item] of op.items.entries()) {
      const itemType = op.outcomes?.[k]?.type ?? type;
      const write: Write = {
        value: item.value,
        type: itemType,
        invokeMs: op.invoke.monoMs,
        completeMs: itemType === "info" || op.complete === undefined
          ? Infinity
          : op.complete.monoMs,
      };
      const list = byId.get(item.id);
      if (list === undefined) byId.set(item.id, [write]);
      else list.push(write);
    }
  }
  return byId;
}

/** The writes that may have produced the final state (see the module doc). */
export function candidates(writes: readonly Write[]): Write[] {
  const acknowledged = writes.filter((w) => w.type === "ok");
  return writes.filter((w) =>
    w.type !== "fail" && !acknowledged.some((y) => y.invokeMs > w.completeMs)
  );
}

/** Whether `value` is an acceptable final state for an id with these writes. */
export function acceptable(writes: readonly Write[], value: string | null): boolean {
  if (value === null && !writes.some((w) => w.type === "ok")) return true;
  return candidates(writes).some((w) => w.value === value);
}

/** The anomaly a final value is, or `undefined` when the model accepts it. */
export function classify(
  writes: readonly Write[],
  value: string | null,
): "lost" | "resurrected" | "stale" | undefined {
  if (acceptable(writes, value)) return undefined;
  if (value === null) return "lost";
  const source = writes.find((w) => w.value === value);
  if (source === undefined || source.type === "fail") return "stale";
  const superseding = writes
    .filter((y) => y.type === "ok" && y.invokeMs > source.completeMs)
    .sort((a, b) => b.invokeMs - a.invokeMs)[0];
  return superseding?.value === null ? "resurrected" : "lost";
}

/** Checks the final read against the history. */
export function check(
  operations: readonly Operation[],
  final: FinalRead,
  faults: readonly FaultWindow[] = [],
): CheckResult {
  const byId = writesById(operations);
  const result: CheckResult = {
    lost: 0,
    resurrected: 0,
    stale: 0,
    duplicated: 0,
    mismatched: 0,
    disagreed: 0,
    unreadable: 0,
    unexplainedReads: 0,
    ids: 0,
    model: { mustExist: 0, mayExist: 0 },
    examples: {},
    availability: availability(operations, faults),
  };
  const note = (kind: string, text: string) => {
    const list = result.examples[kind] ?? (result.examples[kind] = []);
    if (list.length < MAX_EXAMPLES) list.push(text);
  };
  for (const writes of byId.values()) {
    const mayBeAbsent = acceptable(writes, null);
    const mayBePresent = candidates(writes).some((w) => w.value !== null);
    if (!mayBeAbsent) result.model.mustExist++;
    if (mayBePresent) result.model.mayExist++;
  }
  checkReads(byId, final, result, note);
  checkScans(byId, final, result, note);
  for (const op of operations) {
    if (op.f !== "get" || op.type !== "ok" || op.complete === undefined) continue;
    const id = op.items[0]!.id;
    const value = op.outcomes?.[0]?.value ?? null;
    if (!explains(byId.get(id) ?? [], value, op.invoke.monoMs, op.complete.monoMs)) {
      result.unexplainedReads++;
      note("unexplainedReads", `${id}: read ${value ?? "absent"} by operation ${op.index}`);
    }
  }
  return result;
}

/** Whether a read of `value` during [startMs, endMs] is explained (see the module doc). */
export function explains(
  writes: readonly Write[],
  value: string | null,
  startMs: number,
  endMs: number,
): boolean {
  const before = (w: Write) => w.type === "ok" && w.completeMs < startMs;
  const superseded = (w: Write) => writes.some((y) => before(y) && y.invokeMs > w.completeMs);
  if (value === null && !writes.some(before)) return true;
  return writes.some((w) =>
    w.type !== "fail" && w.value === value && w.invokeMs < endMs && !superseded(w)
  );
}

function describe(writes: readonly Write[]): string {
  const options = candidates(writes).map((w) => w.value ?? "absent");
  if (!writes.some((w) => w.type === "ok")) options.push("absent");
  return [...new Set(options)].join(" | ");
}

function checkReads(
  byId: ReadonlyMap<string, readonly Write[]>,
  final: FinalRead,
  result: CheckResult,
  note: (kind: string, text: string) => void,
): void {
  for (const [id, writes] of byId) {
    const answers = final.reads.get(id);
    if (answers === undefined || answers.size === 0) {
      result.unreadable++;
      note("unreadable", `${id}: never read`);
      continue;
    }
    result.ids++;
    const kinds = new Set<string>();
    const seen = new Set<string>();
    for (const [node, answer] of answers) {
      if (answer !== null && typeof answer === "object") {
        kinds.add("unreadable");
        note("unreadable", `${id} through ${node}: ${answer.unreadable}`);
        continue;
      }
      seen.add(answer ?? "absent");
      const kind = classify(writes, answer);
      if (kind !== undefined && !kinds.has(kind)) {
        kinds.add(kind);
        note(
          kind,
          `${id} through ${node}: read ${answer ?? "absent"}, expected ${describe(writes)}`,
        );
      }
    }
    if (seen.size > 1) {
      kinds.add("disagreed");
      note("disagreed", `${id}: ${[...answers].map(([n, a]) => `${n}=${show(a)}`).join(", ")}`);
    }
    for (const kind of kinds) result[kind as "lost"]++;
  }
}

function show(answer: FinalValue): string {
  if (answer === null) return "absent";
  return typeof answer === "string" ? answer : "unreadable";
}

/** A final answer as a value, or `undefined` when there was none. */
function readable(answer: FinalValue | undefined): string | null | undefined {
  return answer === null || typeof answer === "string" ? answer : undefined;
}

function checkScans(
  byId: ReadonlyMap<string, readonly Write[]>,
  final: FinalRead,
  result: CheckResult,
  note: (kind: string, text: string) => void,
): void {
  const duplicated = new Set<string>();
  const mismatched = new Set<string>();
  for (const scan of final.scans) {
    if (scan.failedShards > 0) {
      result.unreadable++;
      note("unreadable", `the scan through ${scan.node}: ${scan.failedShards} shards failed`);
    }
    const found = new Map<string, string | null>();
    for (const hit of scan.hits) {
      if (found.has(hit.id) && !duplicated.has(hit.id)) {
        duplicated.add(hit.id);
        note("duplicated", `${hit.id} twice in the scan through ${scan.node}`);
      }
      found.set(hit.id, hit.value);
    }
    if (scan.totalHits !== scan.hits.length) {
      result.mismatched += Math.abs(scan.totalHits - scan.hits.length);
      note("mismatched", `${scan.node}: total_hits ${scan.totalHits}, ${scan.hits.length} paged`);
    }
    const mismatch = (id: string, why: string) => {
      if (mismatched.has(id)) return;
      mismatched.add(id);
      note("mismatched", `${id} in the scan through ${scan.node}: ${why}`);
    };
    // Against the point read through the same node (store and index must agree); against
    // the model where that read gave no answer (an anomaly of the read is counted there).
    for (const [id, value] of found) {
      const writes = byId.get(id);
      const read = readable(final.reads.get(id)?.get(scan.node));
      if (writes === undefined) mismatch(id, "an id nobody wrote");
      else if (read !== undefined && read !== value) {
        mismatch(id, `${value} in the scan, ${read ?? "absent"} by id`);
      } else if (read === undefined && !acceptable(writes, value)) {
        mismatch(id, `${value}, expected ${describe(writes)}`);
      }
    }
    for (const [id, writes] of byId) {
      if (found.has(id)) continue;
      const read = readable(final.reads.get(id)?.get(scan.node));
      if (typeof read === "string") mismatch(id, `missing from the scan, ${read} by id`);
      else if (read === undefined && !acceptable(writes, null)) {
        mismatch(id, `missing, expected ${describe(writes)}`);
      }
    }
  }
  result.duplicated = duplicated.size;
  result.mismatched += mismatched.size;
}

/** Availability overall, during faults and outside them (see {@linkcode CheckResult}). */
export function availability(
  operations: readonly Operation[],
  faults: readonly FaultWindow[],
): CheckResult["availability"] {
  const overall = emptyReport();
  const during = emptyReport();
  const outside = emptyReport();
  const byFault: Record<string, AvailabilityReport> = {};
  for (const op of operations) {
    const at = op.invoke.monoMs;
    const fault = faults.find((f) => at >= f.startMs && at <= f.endMs);
    const reports = [overall, fault === undefined ? outside : during];
    if (fault !== undefined) reports.push(byFault[fault.fault] ??= emptyReport());
    if (op.f === "get") {
      for (const report of reports) report.reads[op.type ?? "info"]++;
      continue;
    }
    for (const [k] of op.items.entries()) {
      const type = op.outcomes?.[k]?.type ?? op.type ?? "info";
      for (const report of reports) report.writes[type]++;
    }
  }
  for (const report of [overall, during, outside, ...Object.values(byFault)]) {
    report.reads.percent = percent(report.reads);
    report.writes.percent = percent(report.writes);
  }
  return { overall, duringFaults: during, outsideFaults: outside, byFault };
}

function emptyReport(): AvailabilityReport {
  return {
    reads: { ok: 0, fail: 0, info: 0, percent: null },
    writes: { ok: 0, fail: 0, info: 0, percent: null },
  };
}

function percent(counts: Availability): number | null {
  const total = counts.ok + counts.fail + counts.info;
  return total === 0 ? null : Math.round(10_000 * counts.ok / total) / 100;
}
