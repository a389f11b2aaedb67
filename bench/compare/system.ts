/**
 * What the comparison asks of every system: store documents (one at a time, in bulks, as an
 * NDJSON stream where there is one), answer the queries, read by id, tell its memory, and
 * (where it is a separate process) recover from SIGKILL.
 *
 * @module
 */

import type { CompareQuery, CorpusDoc } from "./corpus.ts";

/** A system under comparison. */
export interface System {
  /** Name in the report. */
  readonly name: string;
  /** How it runs, for the report. */
  readonly how: string;
  start(): Promise<void>;
  put(doc: CorpusDoc): Promise<void>;
  bulk(docs: readonly CorpusDoc[]): Promise<void>;
  /** An NDJSON stream of documents, where the system has one. */
  ndjson?(docs: readonly CorpusDoc[]): Promise<void>;
  /** Top 10 ids. */
  search(query: CompareQuery): Promise<string[]>;
  get(id: string): Promise<boolean>;
  /** Resident memory of what holds the data, in bytes. */
  rssBytes(): Promise<number>;
  /** SIGKILL, restart, and the time until it answers again, in ms (separate processes only). */
  killAndRecover?(): Promise<number>;
  /** Whether `query` means the same here as elsewhere; otherwise what differs. */
  caveat?(query: CompareQuery): string | undefined;
  stop(): Promise<void>;
}

/**
 * Proportional resident memory of a process (Linux `/proc/PID/smaps_rollup` Pss), in bytes:
 * memory shared by several processes (PostgreSQL's shared buffers) is divided among them,
 * so summing a server's processes does not count it once per backend.
 */
export async function processRss(pid: number): Promise<number> {
  const rollup = await Deno.readTextFile(`/proc/${pid}/smaps_rollup`);
  const kb = Number(rollup.match(/^Pss:\s+(\d+) kB/m)?.[1] ?? 0);
  return kb * 1024;
}
