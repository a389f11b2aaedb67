/**
 * Facets in a search request: checking `"facets": {"field": {…}}` against the schema, and
 * merging the counts of several shards.
 *
 * - `{"status": {}}` or `{"status": {"size": 5}}`: the most frequent values (10 by default,
 *   at most 100) of a string or boolean field or of the elements of an array field;
 * - `{"price": {"ranges": [{"to": 30}, {"from": 30, "to": 50}, {"from": 50}]}}`: documents
 *   per `[from, to)` range of a number or date field (dates as written in queries).
 *
 * @module
 */

import { InvalidInputError } from "../storage/errors.ts";
import { fieldDef, isArrayType, parseDate, scalarOf, type Schema } from "../storage/schema.ts";
import type { FacetCounts, FacetSpec, PlanValue } from "../storage/search_index.ts";

/** Most values a facet may ask for. */
export const MAX_FACET_SIZE = 100;
/** Most ranges one facet may ask for. */
export const MAX_FACET_RANGES = 100;

/** Facets as they appear in an answer. */
export type FacetAnswer = Record<
  string,
  {
    buckets: Array<
      { value: PlanValue; count: number } | {
        from?: number | string;
        to?: number | string;
        count: number;
      }
    >;
  }
>;

/** Checks the `facets` of a request. */
export function checkFacets(input: unknown, schema: Schema): FacetSpec[] {
  if (input === undefined) return [];
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidInputError(`"facets" must be an object such as {"status": {}}`);
  }
  return Object.entries(input as Record<string, unknown>).map(([field, options]) => {
    const def = fieldDef(schema, field);
    if (def === undefined) throw new InvalidInputError(`Cannot facet on unknown field "${field}"`);
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new InvalidInputError(
        `Facet "${field}" takes an object: {} or {"size": N} or {"ranges": [...]}`,
      );
    }
    const { size, ranges, ...rest } = options as { size?: unknown; ranges?: unknown };
    if (Object.keys(rest).length > 0) {
      throw new InvalidInputError(`Facet "${field}" has unknown option "${Object.keys(rest)[0]}"`);
    }
    const scalar = scalarOf(def.type);
    if (ranges !== undefined) {
      if (!["i64", "f64", "date"].includes(scalar)) {
        throw new InvalidInputError(
          `Facet "${field}" (${def.type}): ranges need a number or date field`,
        );
      }
      if (!Array.isArray(ranges) || ranges.length === 0 || ranges.length > MAX_FACET_RANGES) {
        throw new InvalidInputError(
          `Facet "${field}": "ranges" is a list of 1 to ${MAX_FACET_RANGES} {from, to} objects`,
        );
      }
      return {
        field,
        kind: "ranges",
        ranges: ranges.map((range: unknown) => {
          const { from, to } = (range ?? {}) as { from?: unknown; to?: unknown };
          const bound = (value: unknown, name: string) => {
            if (value === undefined) return undefined;
            const number = scalar === "date" && typeof value === "string"
              ? parseDate(value)
              : value;
            if (typeof number !== "number" || !Number.isFinite(number)) {
              throw new InvalidInputError(
                `Facet "${field}": "${name}" must be a ${
                  scalar === "date" ? "date" : "number"
                }, got ${JSON.stringify(value)}`,
              );
            }
            return number;
          };
          const f = bound(from, "from");
          const t = bound(to, "to");
          return { ...(f === undefined ? {} : { from: f }), ...(t === undefined ? {} : { to: t }) };
        }),
      };
    }
    if (
      !(scalar === "string" || scalar === "boolean" || isArrayType(def.type)) || scalar === "json"
    ) {
      throw new InvalidInputError(
        `Facet "${field}" (${def.type}): value counts need a string or boolean field or an array field; use "ranges" for numbers and dates`,
      );
    }
    const wanted = size ?? 10;
    if (
      typeof wanted !== "number" || !Number.isInteger(wanted) || wanted < 1 ||
      wanted > MAX_FACET_SIZE
    ) {
      throw new InvalidInputError(
        `Facet "${field}": "size" must be an integer from 1 to ${MAX_FACET_SIZE}`,
      );
    }
    return { field, kind: "values", size: wanted };
  });
}

/** Sums the facet counts of several shards into the answer's shape. */
export function mergeFacets(
  specs: readonly FacetSpec[],
  perShard: ReadonlyArray<readonly FacetCounts[] | undefined>,
): FacetAnswer {
  const answer: FacetAnswer = {};
  specs.forEach((spec, i) => {
    if (spec.kind === "values") {
      const counts = new Map<PlanValue, number>();
      for (const facets of perShard) {
        const facet = facets?.[i];
        if (facet?.kind !== "values") continue;
        for (const { value, count } of facet.buckets) {
          counts.set(value, (counts.get(value) ?? 0) + count);
        }
      }
      answer[spec.field] = {
        buckets: [...counts].map(([value, count]) => ({ value, count }))
          .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
          .slice(0, spec.size),
      };
    } else {
      answer[spec.field] = {
        buckets: spec.ranges.map((range, k) => ({
          ...range,
          count: perShard.reduce((sum, facets) => {
            const facet = facets?.[i];
            return sum + (facet?.kind === "ranges" ? facet.buckets[k]?.count ?? 0 : 0);
          }, 0),
        })),
      };
    }
  });
  return answer;
}
