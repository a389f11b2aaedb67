/**
 * What the comparison asks of every system: store documents (one at a time, in bulks, as an
 * NDJSON stream where there is one), answer the queries and read by id (where it does),
 * tell its memory and its bytes on disk, and (where it is a separate process) recover from
 * SIGKILL.
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
  /** Top 10 ids; absent on a system that answers no searches (Redis). */
  search?(query: CompareQuery): Promise<string[]>;
  /** Whether the document is there, read by id; absent on a search-only system (Sphinx). */
  get?(id: string): Promise<boolean>;
  /** Resident memory of what holds the data, in bytes. */
  rssBytes(): Promise<number>;
  /** The data directory's size, where the data is on disk. */
  diskBytes?(): Promise<DiskBytes>;
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

/** A directory's size: the files' lengths and the blocks the file system gave them. */
export interface DiskBytes {
  apparent: number;
  allocated: number;
}

/** `du -sb` and `du -s --block-size=1` of `dir` in one walk (symbolic links not followed). */
export async function dirBytes(dir: string): Promise<DiskBytes> {
  const total: DiskBytes = { apparent: 0, allocated: 0 };
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    try {
      if (entry.isDirectory) {
        const inner = await dirBytes(path);
        total.apparent += inner.apparent;
        total.allocated += inner.allocated;
      } else if (entry.isFile) {
        const info = await Deno.lstat(path);
        total.apparent += info.size;
        total.allocated += (info.blocks ?? 0) * 512;
      }
    } catch {
      // A file removed while we walked (a compaction, a rotated log).
    }
  }
  return total;
}
