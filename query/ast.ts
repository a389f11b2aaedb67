/**
 * The query's syntax tree: what `parseQuery` produces and `compilePlan` reads — clauses with
 * the positions they were written at (for errors with a caret), and the inline modifiers.
 *
 * @module
 */

/** A field name and where it was written. */
export interface FieldRef {
  readonly name: string;
  readonly position: number;
}

/** A range bound. */
export interface Bound {
  readonly value: string;
  readonly inclusive: boolean;
}

/** The AST. `field` is absent for bare terms (the default text fields). */
export type Ast =
  | { readonly type: "all"; readonly position: number }
  | {
    readonly type: "term";
    readonly field?: FieldRef;
    readonly text: string;
    readonly position: number;
  }
  | {
    readonly type: "phrase";
    readonly field?: FieldRef;
    readonly text: string;
    readonly slop: number;
    readonly position: number;
  }
  | {
    readonly type: "prefix";
    readonly field?: FieldRef;
    readonly text: string;
    readonly position: number;
  }
  | {
    readonly type: "fuzzy";
    readonly field?: FieldRef;
    readonly text: string;
    readonly distance: number;
    readonly position: number;
  }
  | {
    readonly type: "range";
    readonly field: FieldRef;
    readonly lower?: Bound;
    readonly upper?: Bound;
    readonly position: number;
  }
  | {
    readonly type: "in";
    readonly field: FieldRef;
    readonly values: ReadonlyArray<{ readonly text: string; readonly position: number }>;
    readonly position: number;
  }
  | {
    readonly type: "bool";
    readonly must: readonly Ast[];
    readonly should: readonly Ast[];
    readonly mustNot: readonly Ast[];
    readonly position: number;
  }
  | {
    readonly type: "boost";
    readonly child: Ast;
    readonly factor: number;
    readonly position: number;
  };

/** A sort key. */
export interface SortKey {
  readonly field: string;
  readonly order: "asc" | "desc";
  readonly position: number;
}

/** Inline modifiers at the end of a query. */
export interface Modifiers {
  limit?: number;
  offset?: number;
  sort?: SortKey[];
  fields?: string[];
}

/** A parsed query. */
export interface ParsedQuery {
  readonly ast: Ast;
  readonly modifiers: Modifiers;
}
