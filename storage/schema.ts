/**
 * Index schemas: inferred from documents, declared, evolved, and used to type-check every
 * document before anything is written.
 *
 * A schema maps field paths (`title`, `author.name`) to types. Rules:
 * - a string infers `text`, or `date` when it is an ISO/RFC 3339 date (`2024-06-01`,
 *   `2024-06-01T10:00:00Z`); an integer infers `i64`, another number `f64`; a boolean
 *   `boolean`; an object `json` (each leaf becomes a field of its own path); an array
 *   `T[]` of its elements' type; `null`, `[]` and `{}` infer nothing;
 * - a value an existing field's type cannot hold refuses the whole document, naming the
 *   field path and the expected type; the one widening allowed is `i64` → `f64` (and
 *   `i64[]` → `f64[]`) of an _inferred_ field, which keeps every stored value valid; a field
 *   declared `i64` (`declareFields`) keeps its type and refuses fractions;
 * - an integer outside ±(2^53 − 1) is refused where an integer is expected or inferred: a
 *   JSON number of that size has already lost digits, so it cannot be stored exactly (send
 *   it as a string);
 * - a field of type `T[]` also accepts a single `T`;
 * - any JSON key is a field name, `constructor` and `toString` included (lookups use own
 *   properties only); names starting with `_` and a top-level `id` (the document id, which
 *   `id:` queries and hits carry) are reserved, names containing `.` are refused (the dot
 *   separates path segments), nesting deeper than {@linkcode MAX_DEPTH} and more than
 *   {@linkcode MAX_FIELDS} fields per index are refused; a refused document adds no field.
 *
 * @module
 */

/** Scalar field types. */
export type ScalarType = "text" | "string" | "i64" | "f64" | "boolean" | "date" | "json";

/** A field type: a scalar or an array of one. */
export type FieldType = ScalarType | `${Exclude<ScalarType, "json">}[]`;

/** All field types, for validating declarations. */
export const FIELD_TYPES: readonly FieldType[] = [
  "text",
  "string",
  "i64",
  "f64",
  "boolean",
  "date",
  "json",
  "text[]",
  "string[]",
  "i64[]",
  "f64[]",
  "boolean[]",
  "date[]",
];

/** One field of a schema. */
export interface FieldDef {
  readonly type: FieldType;
  /** Declared (`_config`) rather than inferred: the type is never widened by a write. */
  readonly declared?: boolean;
}

/** An index's schema. `version` grows by one per change. */
export interface Schema {
  readonly version: number;
  readonly fields: Readonly<Record<string, FieldDef>>;
}

/** Nesting deeper than this is refused. */
export const MAX_DEPTH = 32;
/** An index holds at most this many fields. */
export const MAX_FIELDS = 1_000;

/** The top-level field name reserved for the document id. */
export const ID_FIELD_NAME = "id";

/**
 * The definition of the field at `path`, looking at own properties only: a document key or
 * query field such as `constructor` must not find `Object.prototype`'s members.
 */
export function fieldDef(schema: Schema, path: string): FieldDef | undefined {
  return ownField(schema.fields, path);
}

function ownField(
  fields: Readonly<Record<string, FieldDef>>,
  path: string,
): FieldDef | undefined {
  return Object.hasOwn(fields, path) ? fields[path] : undefined;
}

/** The empty schema of a new index. */
export const EMPTY_SCHEMA: Schema = { version: 0, fields: {} };

/** A document a schema cannot hold; names the field path and the expected type. */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
  /** The field path, when the error is about one field. */
  readonly path: string | undefined;
  constructor(message: string, path?: string) {
    super(message);
    this.path = path;
  }
}

const DATE_PATTERN =
  /^\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

/**
 * Parses the date forms CameoDB accepts — `2024`, `2024-06`, `2024-06-01`, and RFC 3339
 * date-times with or without a zone (UTC when absent) — into epoch milliseconds.
 */
export function parseDate(value: string): number | undefined {
  if (!DATE_PATTERN.test(value)) return undefined;
  let text = value.replace(" ", "T");
  if (/^\d{4}$/.test(text)) text += "-01-01";
  else if (/^\d{4}-\d{2}$/.test(text)) text += "-01";
  if (text.includes("T") && !/(Z|[+-]\d{2}:?\d{2})$/.test(text)) text += "Z";
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether a string looks like a full date (`YYYY-MM-DD…`); years alone stay text. */
function looksLikeDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}/.test(value) && parseDate(value) !== undefined;
}

/** Longest string quoted whole in an error message, in UTF-16 units. */
const DESCRIBED_STRING_CHARS = 40;

function describe(value: unknown): string {
  if (value === undefined) return 'none (no "doc" was sent)';
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    const long = value.length > DESCRIBED_STRING_CHARS;
    return JSON.stringify(long ? `${value.slice(0, DESCRIBED_STRING_CHARS)}…` : value);
  }
  if (typeof value === "object") return "an object";
  return String(value);
}

function inferScalar(value: unknown): ScalarType | undefined {
  switch (typeof value) {
    case "string":
      return looksLikeDate(value) ? "date" : "text";
    case "number":
      if (!Number.isFinite(value)) return undefined;
      return Number.isInteger(value) ? "i64" : "f64";
    case "boolean":
      return "boolean";
    case "object":
      return value === null || Array.isArray(value) ? undefined : "json";
    default:
      return undefined;
  }
}

/** Whether a scalar value fits a scalar type. */
function fits(type: ScalarType, value: unknown): boolean {
  switch (type) {
    case "text":
    case "string":
      return typeof value === "string";
    case "i64":
      return typeof value === "number" && Number.isSafeInteger(value);
    case "f64":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "date":
      return typeof value === "string" && parseDate(value) !== undefined;
    case "json":
      return typeof value === "object" && value !== null && !Array.isArray(value);
  }
}

/** The scalar type of a field type (`text[]` → `text`). */
export function scalarOf(type: FieldType): ScalarType {
  return (type.endsWith("[]") ? type.slice(0, -2) : type) as ScalarType;
}

/** Whether a field type is an array type. */
export function isArrayType(type: FieldType): boolean {
  return type.endsWith("[]");
}

/** The result of checking documents against a schema. */
export interface SchemaPlan {
  /** The schema after the documents' new fields; the same object when nothing changed. */
  readonly schema: Schema;
  /** Per document (by position): undefined when valid, else the error. */
  readonly errors: ReadonlyArray<SchemaError | undefined>;
}

/**
 * Checks documents against a schema and evolves it with the fields they add, all in one
 * version step. A refused document adds no fields.
 */
export function planSchema(schema: Schema, docs: readonly unknown[]): SchemaPlan {
  let fields: Record<string, FieldDef> | undefined;
  const errors: Array<SchemaError | undefined> = [];
  for (const doc of docs) {
    const current = fields ?? schema.fields;
    const added: Record<string, FieldDef> = {};
    try {
      if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
        throw new SchemaError(`a document must be a JSON object, got ${describe(doc)}`);
      }
      walk(doc as Record<string, unknown>, "", 1, current, added);
      const addedCount = Object.keys(added).filter((path) => !Object.hasOwn(current, path)).length;
      if (Object.keys(current).length + addedCount > MAX_FIELDS) {
        throw new SchemaError(`an index holds at most ${MAX_FIELDS} fields`);
      }
      errors.push(undefined);
      if (Object.keys(added).length > 0) fields = { ...current, ...added };
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      errors.push(error);
    }
  }
  if (fields === undefined) return { schema, errors };
  return { schema: { version: schema.version + 1, fields }, errors };
}

/**
 * Why a document does not fit a schema as it is — a value the schema cannot hold, or a field
 * (or a widening) it lacks — or `undefined` when it fits without changing the schema.
 */
export function findMisfit(schema: Schema, doc: unknown): SchemaError | undefined {
  const plan = planSchema(schema, [doc]);
  if (plan.errors[0] !== undefined) return plan.errors[0];
  if (plan.schema === schema) return undefined;
  const path = Object.keys(plan.schema.fields)
    .find((path) => schema.fields[path]?.type !== plan.schema.fields[path]!.type)!;
  const needed = plan.schema.fields[path]!.type;
  const known = schema.fields[path];
  return new SchemaError(
    known === undefined
      ? `field "${path}" (${needed}) is not in the schema`
      : `field "${path}" is ${known.type} in the schema; the document needs ${needed}`,
    path,
  );
}

function walk(
  object: Record<string, unknown>,
  prefix: string,
  depth: number,
  fields: Readonly<Record<string, FieldDef>>,
  added: Record<string, FieldDef>,
): void {
  if (depth > MAX_DEPTH) {
    throw new SchemaError(`field "${prefix}" nests deeper than ${MAX_DEPTH} levels`, prefix);
  }
  for (const [key, value] of Object.entries(object)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    if (key === "") throw new SchemaError(`a field name is empty (in "${prefix}")`, path);
    if (key.startsWith("_")) {
      throw new SchemaError(
        `field "${path}" is reserved: names starting with "_" are kept for the database ` +
          "(`_score`, `_highlights`)",
        path,
      );
    }
    if (path === ID_FIELD_NAME) {
      throw new SchemaError(
        `field "id" is reserved for the document id: send the id beside "doc", not inside it`,
        path,
      );
    }
    if (key.includes(".")) {
      throw new SchemaError(`field "${path}" contains ".", which separates path segments`, path);
    }
    if (value === null || value === undefined) continue;
    const known = ownField(added, path) ?? ownField(fields, path);
    const elements = Array.isArray(value) ? value : [value];
    if (Array.isArray(value)) {
      if (value.some((element) => Array.isArray(element))) {
        throw new SchemaError(`field "${path}" holds nested arrays, which are not supported`, path);
      }
      if (known !== undefined && !isArrayType(known.type)) {
        throw new SchemaError(`field "${path}" expects ${known.type}, got an array`, path);
      }
    }
    let type: FieldType | undefined = known?.type;
    for (const element of elements) {
      if (element === null) continue;
      if (type === undefined) {
        const inferred = inferScalar(element);
        if (inferred === undefined) {
          throw new SchemaError(
            `field "${path}" holds ${describe(element)}, which has no type`,
            path,
          );
        }
        if (Array.isArray(value) && inferred === "json") {
          throw new SchemaError(
            `field "${path}" holds an array of objects, which is not supported`,
            path,
          );
        }
        type = Array.isArray(value) ? `${inferred}[]` as FieldType : inferred;
        added[path] = { type };
      }
      let scalar = scalarOf(type);
      if (scalar === "i64" && Number.isInteger(element) && !Number.isSafeInteger(element)) {
        throw new SchemaError(
          `field "${path}" holds ${element}, an integer outside ±(2^53 - 1) that a JSON number ` +
            `cannot hold exactly: send it as a string`,
          path,
        );
      }
      if (!fits(scalar, element)) {
        // The one widening: an inferred i64 becomes f64 when a fractional number arrives.
        if (
          scalar === "i64" && known?.declared !== true && typeof element === "number" &&
          Number.isFinite(element)
        ) {
          type = isArrayType(type) ? "f64[]" : "f64";
          scalar = "f64";
          added[path] = { type };
        } else {
          throw new SchemaError(
            `field "${path}" expects ${type}, got ${describe(element)}`,
            path,
          );
        }
      }
      if (scalar === "json") {
        walk(element as Record<string, unknown>, path, depth + 1, fields, added);
      }
    }
  }
}

/**
 * Declares fields on a schema (`PUT /api/{index}/_config`). A declared field that exists
 * with another type is refused, except the `i64` → `f64` widening.
 */
export function declareFields(
  schema: Schema,
  declared: ReadonlyArray<{ name: string; type: string; declared?: boolean }>,
  options: { readonly retype?: boolean } = {},
): Schema {
  const fields: Record<string, FieldDef> = { ...schema.fields };
  let changed = false;
  for (const declaration of declared) {
    const { name, type } = declaration;
    // A client's declaration is declared; a node passing an inferred field on says false.
    const isDeclared = declaration.declared !== false;
    if (!FIELD_TYPES.includes(type as FieldType)) {
      throw new SchemaError(
        `field "${name}" has unknown type "${type}"; expected one of ${FIELD_TYPES.join(", ")}`,
        name,
      );
    }
    const segments = name.split(".");
    if (name === "" || segments.some((segment) => segment === "" || segment.startsWith("_"))) {
      throw new SchemaError(
        `field name "${name}" is invalid: segments must be non-empty and not start with "_"`,
        name,
      );
    }
    if (name === ID_FIELD_NAME) {
      throw new SchemaError(`field "id" is reserved for the document id`, name);
    }
    if (segments.length > MAX_DEPTH) {
      throw new SchemaError(`field "${name}" nests deeper than ${MAX_DEPTH} levels`, name);
    }
    const existing = ownField(fields, name);
    const wanted = type as FieldType;
    if (existing !== undefined && existing.type === wanted) {
      if ((existing.declared === true) === isDeclared) continue;
      fields[name] = isDeclared ? { type: wanted, declared: true } : { type: wanted };
      changed = true;
      continue;
    }
    if (existing !== undefined) {
      const widening = (existing.type === "i64" && wanted === "f64") ||
        (existing.type === "i64[]" && wanted === "f64[]");
      // A retype (a reindex from KV, checked document by document) changes any scalar type;
      // json holds nested fields and stays json.
      const retyped = options.retype === true && existing.type !== "json" && wanted !== "json";
      if (!widening && !retyped) {
        throw new SchemaError(
          `field "${name}" is already ${existing.type}; it cannot become ${wanted}`,
          name,
        );
      }
    }
    // Parents of a nested field are json.
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join(".");
      const parentDef = ownField(fields, parent);
      if (parentDef === undefined) {
        fields[parent] = { type: "json" };
      } else if (parentDef.type !== "json") {
        throw new SchemaError(`field "${parent}" is ${parentDef.type}, not json`, parent);
      }
    }
    fields[name] = isDeclared ? { type: wanted, declared: true } : { type: wanted };
    changed = true;
  }
  if (Object.keys(fields).length > MAX_FIELDS) {
    throw new SchemaError(`an index holds at most ${MAX_FIELDS} fields`);
  }
  return changed ? { version: schema.version + 1, fields } : schema;
}

/** The declared fields whose type differs from the schema's (what a retype changes). */
export function typeChanges(
  schema: Schema,
  declared: ReadonlyArray<{ name: string; type: string }>,
): Array<{ name: string; from: FieldType; to: string }> {
  return declared.flatMap(({ name, type }) => {
    const existing = ownField(schema.fields, name);
    if (existing === undefined || existing.type === type) return [];
    const widening = (existing.type === "i64" && type === "f64") ||
      (existing.type === "i64[]" && type === "f64[]");
    return widening ? [] : [{ name, from: existing.type, to: type }];
  });
}

/**
 * The schema as the field list `declareFields` takes (what shards and nodes are sent);
 * inferred fields say `declared: false`, so the receiver keeps them widenable.
 */
export function fieldDeclarations(
  schema: Schema,
): Array<{ name: string; type: FieldType; declared: boolean }> {
  return Object.entries(schema.fields).map(([name, def]) => ({
    name,
    type: def.type,
    declared: def.declared === true,
  }));
}

/** The schema's fields sorted by path, as `_config` shows them. */
export function describeFields(
  schema: Schema,
): Array<{ name: string; type: FieldType; indexed: boolean; sortable: boolean }> {
  return Object.keys(schema.fields).sort().map((name) => {
    const type = schema.fields[name]!.type;
    return {
      name,
      type,
      indexed: type !== "json",
      sortable: !isArrayType(type) && type !== "json" && type !== "text",
    };
  });
}

/**
 * A stable hash of the normalized schema (field paths sorted, types): equal schemas have
 * equal thumbprints on every node. 64-bit FNV-1a, hex.
 */
export function thumbprint(schema: Schema): string {
  const normalized = JSON.stringify(
    Object.keys(schema.fields).sort().map((name) => [name, schema.fields[name]!.type]),
  );
  let hash = 0xcbf29ce484222325n;
  const bytes = new TextEncoder().encode(normalized);
  for (const byte of bytes) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}

/** One leaf value of a document, typed by its schema, ready for an index. */
export interface IndexedValue {
  readonly path: string;
  readonly type: ScalarType;
  /** Strings for text/string; numbers for i64/f64; epoch ms for dates; booleans. */
  readonly values: ReadonlyArray<string | number | boolean>;
}

/** Flattens a valid document into its typed leaf values (json parents are skipped). */
export function flatten(schema: Schema, doc: Record<string, unknown>): IndexedValue[] {
  const out: IndexedValue[] = [];
  flattenInto(schema, doc, "", out);
  return out;
}

function flattenInto(
  schema: Schema,
  object: Record<string, unknown>,
  prefix: string,
  out: IndexedValue[],
): void {
  for (const [key, value] of Object.entries(object)) {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    const def = ownField(schema.fields, path);
    if (def === undefined || value === null || value === undefined) continue;
    const scalar = scalarOf(def.type);
    if (scalar === "json") {
      if (typeof value === "object" && !Array.isArray(value)) {
        flattenInto(schema, value as Record<string, unknown>, path, out);
      }
      continue;
    }
    const elements = (Array.isArray(value) ? value : [value]).filter((element) => element !== null);
    const values = scalar === "date"
      ? elements.map((element) => parseDate(element as string)!)
      : elements as Array<string | number | boolean>;
    if (values.length > 0) out.push({ path, type: scalar, values });
  }
}
