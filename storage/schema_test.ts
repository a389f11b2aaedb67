import assert from "node:assert/strict";
import {
  declareFields,
  describeFields,
  EMPTY_SCHEMA,
  fieldDeclarations,
  fieldDef,
  flatten,
  parseDate,
  planSchema,
  type Schema,
  SchemaError,
  thumbprint,
} from "./schema.ts";

function typesOf(schema: Schema): Record<string, string> {
  return Object.fromEntries(Object.entries(schema.fields).map(([path, def]) => [path, def.type]));
}

Deno.test("schema: types are inferred from the first documents, nested paths included", () => {
  const { schema, errors } = planSchema(EMPTY_SCHEMA, [{
    title: "Rust in Action",
    year: 2021,
    price: 39.5,
    draft: false,
    published: "2021-08-10",
    tags: ["systems", "rust"],
    author: { name: "Tim McNamara", born: 1980 },
    nothing: null,
  }]);
  assert.deepEqual(errors, [undefined]);
  assert.equal(schema.version, 1);
  assert.deepEqual(typesOf(schema), {
    title: "text",
    year: "i64",
    price: "f64",
    draft: "boolean",
    published: "date",
    tags: "text[]",
    author: "json",
    "author.name": "text",
    "author.born": "i64",
  });
});

Deno.test("schema: a value the field's type cannot hold refuses the document and names the path", () => {
  const first = planSchema(EMPTY_SCHEMA, [{ year: 2024, author: { born: 1980 } }]).schema;
  const { schema, errors } = planSchema(first, [
    { year: "abc" },
    { author: { born: "long ago" } },
    { year: 2025, extra: "fine" },
  ]);
  assert.ok(errors[0] instanceof SchemaError);
  assert.equal(errors[0].message, 'field "year" expects i64, got "abc"');
  assert.equal(errors[0].path, "year");
  assert.equal(errors[1]?.path, "author.born");
  assert.equal(errors[2], undefined);
  // Only the valid document's new field was added, in one version step.
  assert.deepEqual(Object.keys(schema.fields).sort(), ["author", "author.born", "extra", "year"]);
  assert.equal(schema.version, first.version + 1);
});

Deno.test("schema: a batch that adds no field keeps the same schema object", () => {
  const first = planSchema(EMPTY_SCHEMA, [{ a: 1 }]).schema;
  assert.equal(planSchema(first, [{ a: 2 }, { a: 3 }]).schema, first);
});

Deno.test("schema: i64 widens to f64; arrays accept single values; scalars refuse arrays", () => {
  const first = planSchema(EMPTY_SCHEMA, [{ n: 1, tags: ["a"], title: "x" }]).schema;
  const { schema, errors } = planSchema(first, [{ n: 1.5 }, { tags: "b" }, { title: ["x", "y"] }]);
  assert.equal(schema.fields.n?.type, "f64");
  assert.equal(errors[1], undefined);
  assert.match(errors[2]!.message, /field "title" expects text, got an array/);
});

Deno.test("schema: reserved, dotted and too-deep fields are refused", () => {
  let deep: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 40; i++) deep = { d: deep };
  const { errors } = planSchema(EMPTY_SCHEMA, [
    { _id: "x" },
    { "a.b": 1 },
    deep,
    "not an object",
    [1, 2],
    { list: [[1]] },
    { people: [{ name: "x" }] },
    undefined,
  ]);
  assert.match(errors[0]!.message, /"_id" is reserved: names starting with "_" are kept/);
  assert.match(errors[1]!.message, /contains "\."/);
  assert.match(errors[2]!.message, /nests deeper than 32/);
  assert.match(errors[3]!.message, /must be a JSON object/);
  assert.match(errors[4]!.message, /must be a JSON object/);
  assert.match(errors[5]!.message, /nested arrays/);
  assert.match(errors[6]!.message, /array of objects/);
  assert.match(errors[7]!.message, /got none \(no "doc" was sent\)/);
});

Deno.test("schema: more than 1000 fields are refused", () => {
  const doc = Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`f${i}`, i]));
  assert.match(planSchema(EMPTY_SCHEMA, [doc]).errors[0]!.message, /at most 1000 fields/);
});

Deno.test("schema: declared fields extend the schema; conflicting types are refused", () => {
  const schema = declareFields(EMPTY_SCHEMA, [
    { name: "title", type: "text" },
    { name: "status", type: "string" },
    { name: "author.name", type: "text" },
  ]);
  assert.equal(schema.version, 1);
  assert.equal(schema.fields.author?.type, "json");
  assert.equal(declareFields(schema, [{ name: "title", type: "text" }]), schema);
  assert.throws(() => declareFields(schema, [{ name: "title", type: "i64" }]), /already text/);
  assert.throws(() => declareFields(schema, [{ name: "x", type: "uuid" }]), /unknown type "uuid"/);
  assert.throws(() => declareFields(schema, [{ name: "_x", type: "text" }]), /invalid/);
  // A declared string field holds any string exactly.
  assert.deepEqual(planSchema(schema, [{ status: "in review" }]).errors, [undefined]);
});

Deno.test("schema: the thumbprint depends only on the fields", () => {
  const a = declareFields(EMPTY_SCHEMA, [{ name: "x", type: "i64" }, { name: "y", type: "text" }]);
  const b = declareFields(EMPTY_SCHEMA, [{ name: "y", type: "text" }, { name: "x", type: "i64" }]);
  assert.equal(thumbprint(a), thumbprint(b));
  assert.notEqual(thumbprint(a), thumbprint(declareFields(a, [{ name: "z", type: "text" }])));
  assert.match(thumbprint(a), /^[0-9a-f]{16}$/);
  assert.deepEqual(describeFields(a)[0], { name: "x", type: "i64", indexed: true, sortable: true });
});

Deno.test("schema: dates in full and partial forms parse to epoch ms", () => {
  assert.equal(parseDate("2024"), Date.UTC(2024, 0, 1));
  assert.equal(parseDate("2024-06"), Date.UTC(2024, 5, 1));
  assert.equal(parseDate("2024-06-01"), Date.UTC(2024, 5, 1));
  assert.equal(parseDate("2024-06-01T10:00:00Z"), Date.UTC(2024, 5, 1, 10));
  assert.equal(parseDate("2024-06-01T12:00:00+02:00"), Date.UTC(2024, 5, 1, 10));
  assert.equal(parseDate("2024-06-01 10:00"), Date.UTC(2024, 5, 1, 10));
  assert.equal(parseDate("June 2024"), undefined);
  assert.equal(parseDate("2024-13-01"), undefined);
});

Deno.test("schema: flatten yields typed leaf values by path", () => {
  const { schema } = planSchema(EMPTY_SCHEMA, [{
    title: "A",
    tags: ["x", "y"],
    when: "2024-01-01",
    author: { name: "B" },
  }]);
  const flat = flatten(schema, {
    title: "A",
    tags: ["x", "y"],
    when: "2024-01-01",
    author: { name: "B" },
  });
  assert.deepEqual(flat, [
    { path: "title", type: "text", values: ["A"] },
    { path: "tags", type: "text", values: ["x", "y"] },
    { path: "when", type: "date", values: [Date.UTC(2024, 0, 1)] },
    { path: "author.name", type: "text", values: ["B"] },
  ]);
});

Deno.test("schema: prototype names are ordinary field names", () => {
  const doc = { constructor: "c", valueOf: 1, toString: ["a", "b"], hasOwnProperty: true };
  const { schema, errors } = planSchema(EMPTY_SCHEMA, [doc, { constructor: "again" }]);
  assert.deepEqual(errors, [undefined, undefined]);
  assert.equal(fieldDef(schema, "constructor")?.type, "text");
  assert.equal(fieldDef(schema, "valueOf")?.type, "i64");
  assert.equal(fieldDef(schema, "toString")?.type, "text[]");
  assert.equal(fieldDef(schema, "isPrototypeOf"), undefined);
  assert.deepEqual(flatten(schema, doc).map((value) => value.path).sort(), [
    "constructor",
    "hasOwnProperty",
    "toString",
    "valueOf",
  ]);
  const declared = declareFields(EMPTY_SCHEMA, [{ name: "constructor", type: "string" }]);
  assert.equal(fieldDef(declared, "constructor")?.type, "string");
});

Deno.test("schema: a top-level id is reserved; a nested one is not", () => {
  const { schema, errors } = planSchema(EMPTY_SCHEMA, [{ id: 1 }, { author: { id: 7 } }]);
  assert.match(errors[0]!.message, /field "id" is reserved for the document id/);
  assert.equal(errors[1], undefined);
  assert.equal(fieldDef(schema, "author.id")?.type, "i64");
  assert.throws(() => declareFields(EMPTY_SCHEMA, [{ name: "id", type: "string" }]), /reserved/);
});

Deno.test("schema: a declared i64 refuses fractions; an inferred one widens", () => {
  const declared = declareFields(EMPTY_SCHEMA, [{ name: "n", type: "i64" }]);
  const refused = planSchema(declared, [{ n: 1.5 }]);
  assert.match(refused.errors[0]!.message, /field "n" expects i64, got 1\.5/);
  assert.equal(refused.schema, declared);
  // Passed on between node and shards, the flag survives; an inferred field stays widenable.
  const relayed = declareFields(EMPTY_SCHEMA, fieldDeclarations(declared));
  assert.match(planSchema(relayed, [{ n: 2.5 }]).errors[0]!.message, /expects i64/);
  const inferred = planSchema(EMPTY_SCHEMA, [{ n: 1 }]).schema;
  const relayedInferred = declareFields(EMPTY_SCHEMA, fieldDeclarations(inferred));
  assert.equal(planSchema(relayedInferred, [{ n: 2.5 }]).schema.fields.n?.type, "f64");
});

Deno.test("schema: integers outside ±(2^53 - 1) are refused, not rounded", () => {
  const big = JSON.parse('{"n": 12345678901234567890}');
  const { schema, errors } = planSchema(EMPTY_SCHEMA, [big, { m: 2 ** 53 - 1 }]);
  assert.match(errors[0]!.message, /outside ±\(2\^53 - 1\)/);
  assert.equal(fieldDef(schema, "n"), undefined);
  assert.equal(errors[1], undefined);
  const ints = planSchema(EMPTY_SCHEMA, [{ n: 1 }]).schema;
  assert.match(planSchema(ints, [{ n: -(2 ** 60) }]).errors[0]!.message, /outside/);
});

Deno.test("schema: declaring an inferred field with its own type marks it declared", () => {
  const inferred = planSchema(EMPTY_SCHEMA, [{ title: "t", n: 1 }]).schema;
  const declared = declareFields(inferred, [{ name: "title", type: "text" }, {
    name: "n",
    type: "i64",
  }]);
  assert.equal(fieldDef(declared, "n")?.declared, true);
  assert.equal(declared.version, inferred.version + 1);
  assert.equal(declareFields(declared, fieldDeclarations(declared)), declared);
});
