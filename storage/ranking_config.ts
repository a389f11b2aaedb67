/**
 * An index's ranking settings (`PUT /api/{index}/_config` with `"ranking"`): BM25's `k1` and
 * `b`, and per text field a boost — its weight in BM25F's sum of normalized term frequencies
 * (`bm25.ts`). Checked here, whoever sends them (a client, or a peer forwarding a client's
 * change): a value out of range or a boost on a field that is not a text field of the index
 * is refused with `InvalidInputError` (400), and nothing changes.
 *
 * In the API the boosts are an object (`{"title": 2}`); inside, a list of `[field, boost]`
 * pairs, so that no field name can meet an object's own keys.
 *
 * @module
 */

import { type Bm25Params, DEFAULT_BM25 } from "./bm25.ts";
import { InvalidInputError } from "./errors.ts";
import { scalarOf, type Schema } from "./schema.ts";

/** The range of `k1` (term-frequency saturation) accepted. */
export const K1_RANGE = { min: 0, max: 10 } as const;
/** The range of `b` (length normalization) accepted: Lucene's. */
export const B_RANGE = { min: 0, max: 1 } as const;
/** The range of a field boost accepted (a boost of 0 is refused: use a field's own query). */
export const BOOST_RANGE = { min: 0, max: 1_000 } as const;
/** Most fields one ranking may boost. */
export const MAX_BOOSTED_FIELDS = 256;

/** The ranking as the API shows it. */
export interface RankingJson {
  readonly k1: number;
  readonly b: number;
  readonly boosts: Record<string, number>;
}

function refuse(what: string): never {
  throw new InvalidInputError(`Invalid "ranking": ${what}`);
}

function numberIn(value: unknown, name: string, range: { min: number; max: number }): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    refuse(`"${name}" must be a number, got ${JSON.stringify(value) ?? String(value)}`);
  }
  if (value < range.min || value > range.max) {
    refuse(`"${name}" must be from ${range.min} to ${range.max}, got ${value}`);
  }
  return value;
}

/** Checks a boost's field (a text field of `schema`, when given) and value. */
function checkBoost(
  field: unknown,
  boost: unknown,
  schema: Schema | undefined,
): readonly [string, number] {
  if (typeof field !== "string") refuse("a boosted field's name must be a string");
  if (schema !== undefined) {
    const def = Object.hasOwn(schema.fields, field) ? schema.fields[field] : undefined;
    if (def === undefined) refuse(`field "${field}" does not exist`);
    if (scalarOf(def.type) !== "text") {
      refuse(`field "${field}" is ${def.type}: only text fields score, so only they take a boost`);
    }
  }
  const value = numberIn(boost, `boosts.${field}`, BOOST_RANGE);
  if (value === 0) refuse(`"boosts.${field}" must be above 0`);
  return [field, value];
}

/**
 * Checks ranking settings held inside (boosts as pairs) against `schema` (without one, the
 * values only): what a peer forwards is checked as a client's body is.
 */
export function checkRanking(raw: unknown, schema?: Schema): Bm25Params {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) refuse("not an object");
  const value = raw as Record<string, unknown>;
  const boosts = value.boosts === undefined ? [] : value.boosts;
  if (!Array.isArray(boosts) || boosts.length > MAX_BOOSTED_FIELDS) {
    refuse(`"boosts" must be a list of at most ${MAX_BOOSTED_FIELDS} [field, boost] pairs`);
  }
  const pairs = boosts.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) refuse("a boost is not a [field, boost] pair");
    return checkBoost(pair[0], pair[1], schema);
  });
  return {
    k1: numberIn(value.k1 === undefined ? DEFAULT_BM25.k1 : value.k1, "k1", K1_RANGE),
    b: numberIn(value.b === undefined ? DEFAULT_BM25.b : value.b, "b", B_RANGE),
    boosts: pairs,
  };
}

/**
 * The ranking of a `_config` body (`{"k1", "b", "boosts": {field: boost}}`, each optional:
 * `k1` 1.2 and `b` 0.75 by default, boosts 1), its values checked (its fields are checked
 * against the schema by {@linkcode checkRanking} where the schema is known).
 */
export function rankingFromJson(raw: unknown): Bm25Params {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) refuse("not an object");
  const value = raw as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!["k1", "b", "boosts"].includes(key)) refuse(`unknown setting "${key}" (k1, b, boosts)`);
  }
  const boosts = value.boosts === undefined ? {} : value.boosts;
  if (typeof boosts !== "object" || boosts === null || Array.isArray(boosts)) {
    refuse(`"boosts" must be an object of field names to numbers`);
  }
  return checkRanking({ ...value, boosts: Object.entries(boosts) });
}

/** The ranking as the API shows it (defaults filled in). */
export function rankingJson(params: Bm25Params | undefined): RankingJson {
  const ranking = params ?? DEFAULT_BM25;
  const boosts: Record<string, number> = {};
  for (const [field, boost] of ranking.boosts ?? []) {
    Object.defineProperty(boosts, field, { value: boost, enumerable: true, writable: true });
  }
  return { k1: ranking.k1, b: ranking.b, boosts };
}
