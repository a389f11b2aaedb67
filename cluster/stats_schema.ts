/**
 * The first-phase statistics another node sends (`storage/bm25.ts`'s `CorpusStats`: what a
 * search's scores are computed from), checked before they are added up — shape, counts and
 * ranges, as `frame_schema.ts` checks frames: a count that is not a whole number from 0, a
 * document frequency above its shard's document count, a field with more documents than the
 * shard, fewer tokens than documents, or a key listed twice would skew every score of the
 * search without a trace. What fails is a `MalformedFrameError`: the executor refuses that
 * node's answer (its shards count as failed in the answer) and counts it.
 *
 * @module
 */

import type { CorpusStats } from "../storage/bm25.ts";
import type { PageSet } from "../query/pipeline.ts";
import { MalformedFrameError } from "./errors.ts";

/** Most text fields one shard's statistics may list. */
export const MAX_STATS_FIELDS = 10_000;
/** Most terms one shard's statistics may list (1,024 clauses, a fuzzy term's 64 expansions). */
export const MAX_STATS_TERMS = 65_536;
/** Longest field name in statistics, in characters. */
export const MAX_STATS_FIELD_CHARS = 1_024;
/** Longest term key (`[field, term]` as JSON) in statistics, in characters. */
export const MAX_STATS_KEY_CHARS = 4_096;

function fail(what: string): never {
  throw new MalformedFrameError(what);
}

function count(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${what} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function triples(value: unknown, what: string, maxItems: number): unknown[][] {
  if (!Array.isArray(value)) fail(`${what} is not a list`);
  if (value.length > maxItems) fail(`${what} has more than ${maxItems} items`);
  return value.map((item) => {
    if (!Array.isArray(item)) fail(`an item of ${what} is not a list`);
    return item;
  });
}

function name(value: unknown, what: string, maxChars: number, seen: Set<string>): string {
  if (typeof value !== "string" || value.length > maxChars) {
    fail(`${what} is not a string of at most ${maxChars} characters`);
  }
  if (seen.has(value)) fail(`${what} ${JSON.stringify(value.slice(0, 64))} is listed twice`);
  seen.add(value);
  return value;
}

/** One shard's statistics as a peer sent them, checked (`what` names them in the error). */
export function parseCorpusStats(raw: unknown, what: string): CorpusStats {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(`${what} is not a map`);
  const stats = raw as Record<string, unknown>;
  const docCount = count(stats.docCount, `${what}' document count`);
  const fieldNames = new Set<string>();
  const fields = triples(stats.fields, `${what}' fields`, MAX_STATS_FIELDS).map((item) => {
    if (item.length !== 3) fail(`a field of ${what} is not [field, documents, tokens]`);
    const field = name(item[0], `a field of ${what}`, MAX_STATS_FIELD_CHARS, fieldNames);
    const docs = count(item[1], `the documents of field "${field}" in ${what}`, docCount);
    const tokens = count(item[2], `the tokens of field "${field}" in ${what}`, undefined, docs);
    return [field, docs, tokens] as const;
  });
  const keys = new Set<string>();
  const docFreqs = triples(stats.docFreqs, `${what}' terms`, MAX_STATS_TERMS).map((item) => {
    if (item.length !== 2) fail(`a term of ${what} is not [key, documents]`);
    const key = name(item[0], `a term key of ${what}`, MAX_STATS_KEY_CHARS, keys);
    return [key, count(item[1], `the document frequency of ${key} in ${what}`, docCount)] as const;
  });
  return { docCount, fields, docFreqs };
}

/** A node's first-phase answer with every page's statistics checked. */
export function checkedStatsPages(set: PageSet, node: string): PageSet {
  const pages = set.pages.map((page, i) => {
    if (page.stats === undefined) return page;
    return {
      ...page,
      stats: parseCorpusStats(page.stats, `the statistics of node ${node}'s shard ${i}`),
    };
  });
  return { ...set, pages };
}
