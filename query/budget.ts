/**
 * The cost budget of one query, checked on its compiled plan before any shard sees it: how
 * many leaf clauses it has, and how many of them expand over the vocabulary (fuzzy terms and
 * prefixes scan the terms of every shard). A query over budget is a 400 naming what is over,
 * as Lucene's `maxClauseCount` and Elasticsearch's `max_clause_count` refuse it.
 *
 * @module
 */

import { InvalidInputError } from "../storage/errors.ts";
import type { Plan } from "../storage/search_index.ts";

/** Limits of one query. */
export interface QueryBudget {
  /** Leaf clauses (terms, phrases, values, ranges…) in all. */
  readonly maxClauses: number;
  /** Fuzzy terms (each expands over the vocabulary of every shard). */
  readonly maxFuzzyTerms: number;
  /** Prefix terms (each expands over the vocabulary of every shard). */
  readonly maxPrefixTerms: number;
}

/** The default budget: Lucene's 1,024 clauses; a handful of vocabulary scans. */
export const DEFAULT_QUERY_BUDGET: QueryBudget = {
  maxClauses: 1_024,
  maxFuzzyTerms: 16,
  maxPrefixTerms: 64,
};

/** What a plan costs. */
export interface PlanCost {
  clauses: number;
  fuzzyTerms: number;
  prefixTerms: number;
}

/** Counts the leaves of a plan by kind. */
export function planCost(
  plan: Plan,
  cost: PlanCost = { clauses: 0, fuzzyTerms: 0, prefixTerms: 0 },
): PlanCost {
  switch (plan.kind) {
    case "and":
    case "or":
      for (const child of plan.children) planCost(child, cost);
      break;
    case "not":
    case "boost":
      planCost(plan.child, cost);
      break;
    case "rank":
      planCost(plan.match, cost);
      for (const child of plan.optional) planCost(child, cost);
      break;
    case "all":
    case "none":
      break;
    case "fuzzy":
      cost.clauses++;
      cost.fuzzyTerms++;
      break;
    case "prefix":
      cost.clauses++;
      cost.prefixTerms++;
      break;
    default:
      cost.clauses++;
  }
  return cost;
}

/** Throws {@linkcode InvalidInputError} when `plan` costs more than `budget`. */
export function checkBudget(plan: Plan, budget: QueryBudget = DEFAULT_QUERY_BUDGET): void {
  const cost = planCost(plan);
  const over = (what: string, count: number, max: number) =>
    new InvalidInputError(`The query has ${count} ${what}; at most ${max} are allowed`);
  if (cost.clauses > budget.maxClauses) {
    throw over("clauses", cost.clauses, budget.maxClauses);
  }
  if (cost.fuzzyTerms > budget.maxFuzzyTerms) {
    throw over("fuzzy terms", cost.fuzzyTerms, budget.maxFuzzyTerms);
  }
  if (cost.prefixTerms > budget.maxPrefixTerms) {
    throw over("prefix terms", cost.prefixTerms, budget.maxPrefixTerms);
  }
}
