/**
 * The statistics phase of a node's searches, kept between searches. A search that scores
 * over several shards first asks every shard for its part of the statistics (document
 * count, field lengths, each term's document frequency: `query/pipeline.ts`), a round trip
 * to every shard worker before the one that scores. While no shard changes, the sums do not
 * change either: this cache keeps them per index — the corpus figures and each term's
 * document frequency seen — tagged with the node's {@linkcode ShardChanges} version, and
 * answers a later search's first phase itself when every term it needs is known at the
 * current version. Any change of any shard's contents moves the version, and the entries of
 * the old version are never used again: the scores are exactly those of asking the shards.
 *
 * Not kept: plans with fuzzy terms (their expansions are decided by each shard), statistics
 * gathered while a shard changed (the version before and after must match and be settled).
 * The version is the node's, not the index's: a write to any index (or a write batch waiting
 * out `storage.wal_batch_window_ms`) sets every index's kept statistics aside until the next
 * search gathers them again — never wrong, only not kept while something is written.
 *
 * @module
 */

import { type CorpusStats, statTerms, termKey } from "../storage/bm25.ts";
import type { Plan } from "../storage/search_index.ts";

/**
 * Terms kept in all, over every index; past it everything kept is dropped and gathered
 * again. A term is its key (field and term, JSON) and a number: ~100 bytes, ~20 MB at most.
 */
export const MAX_CACHED_TERMS = 200_000;

interface IndexEntry {
  readonly version: number;
  readonly docCount: number;
  readonly fields: CorpusStats["fields"];
  readonly docFreqs: Map<string, number>;
}

/** The statistics a plan's score needs, gathered at a version of the node's shards. */
export class StatsCache {
  readonly #entries = new Map<string, IndexEntry>();
  /** Terms kept, over every entry. */
  #terms = 0;

  /** The statistics of `plan` on `index` at `version`, when every one of them is kept. */
  lookup(index: string, plan: Plan, version: number): CorpusStats | undefined {
    const entry = this.#entries.get(index);
    if (entry === undefined) return undefined;
    if (entry.version !== version) {
      this.forget(index); // a shard changed since: never used again
      return undefined;
    }
    const keys = plainTermKeys(plan);
    if (keys === undefined) return undefined;
    const docFreqs: Array<readonly [string, number]> = [];
    for (const key of keys) {
      const df = entry.docFreqs.get(key);
      if (df === undefined) return undefined;
      docFreqs.push([key, df]);
    }
    return { docCount: entry.docCount, fields: entry.fields, docFreqs };
  }

  /** Keeps the sums gathered for `plan` at `version` (every shard settled before and after). */
  record(index: string, plan: Plan, stats: CorpusStats, version: number): void {
    if (plainTermKeys(plan) === undefined) return;
    if (this.#terms + stats.docFreqs.length > MAX_CACHED_TERMS) this.#clear();
    let entry = this.#entries.get(index);
    if (entry === undefined || entry.version !== version) {
      this.forget(index);
      entry = { version, docCount: stats.docCount, fields: stats.fields, docFreqs: new Map() };
      this.#entries.set(index, entry);
    }
    for (const [key, df] of stats.docFreqs) {
      if (!entry.docFreqs.has(key)) this.#terms++;
      entry.docFreqs.set(key, df);
    }
  }

  /** Forgets an index (dropped, or changed since). */
  forget(index: string): void {
    this.#terms -= this.#entries.get(index)?.docFreqs.size ?? 0;
    this.#entries.delete(index);
  }

  /** Terms kept, over every index. */
  get size(): number {
    return this.#terms;
  }

  #clear(): void {
    this.#entries.clear();
    this.#terms = 0;
  }
}

/** The term keys of a plan's statistics; `undefined` when it has fuzzy leaves. */
function plainTermKeys(plan: Plan): string[] | undefined {
  let fuzzy = false;
  const terms = statTerms(plan, () => {
    fuzzy = true;
    return [];
  });
  return fuzzy ? undefined : terms.map(({ field, term }) => termKey(field, term));
}
