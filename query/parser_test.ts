import assert from "node:assert/strict";
import { QueryError } from "./errors.ts";
import { type Ast, parseQuery } from "./parser.ts";
import { SeededRandom, testSeed } from "../testing/random.ts";

/** A compact rendering of an AST, for readable expectations. */
function show(ast: Ast): string {
  const f = (node: { field?: { name: string } }) => (node.field ? `${node.field.name}:` : "");
  switch (ast.type) {
    case "all":
      return "*";
    case "term":
      return `${f(ast)}${ast.text}`;
    case "phrase":
      return `${f(ast)}"${ast.text}"${ast.slop ? `~${ast.slop}` : ""}`;
    case "prefix":
      return `${f(ast)}${ast.text}*`;
    case "fuzzy":
      return `${f(ast)}${ast.text}~${ast.distance}`;
    case "range":
      return `${ast.field.name}:${
        ast.lower ? (ast.lower.inclusive ? "[" : "{") + ast.lower.value : "(*"
      }..${ast.upper ? ast.upper.value + (ast.upper.inclusive ? "]" : "}") : "*)"}`;
    case "in":
      return `${ast.field.name}:IN[${ast.values.map((v) => v.text).join(" ")}]`;
    case "boost":
      return `${show(ast.child)}^${ast.factor}`;
    case "bool": {
      const parts = [
        ...ast.must.map((c) => `+${show(c)}`),
        ...ast.should.map(show),
        ...ast.mustNot.map((c) => `-${show(c)}`),
      ];
      return `(${parts.join(" ")})`;
    }
  }
}

const CASES: Array<[string, string]> = [
  ["rust database", "(rust database)"],
  ["*", "*"],
  ["title:rust", "title:rust"],
  ["author.name:klabnik", "author.name:klabnik"],
  ['title:"rust programming"', 'title:"rust programming"'],
  ['body:"small bike"~2', 'body:"small bike"~2'],
  ["title:data*", "title:data*"],
  ["title:progamming~1", "title:progamming~1"],
  ["rust~", "rust~2"],
  ["(title:rust OR title:go) AND -tag:draft", "(+(title:rust title:go) -tag:draft)"],
  ["+rust -go java", "(+rust java -go)"],
  ["NOT go AND rust", "(+rust -go)"],
  ["* -tag:draft", "(* -tag:draft)"],
  ["title:rust^3 OR body:rust", "(title:rust^3 body:rust)"],
  ["year:[2020 TO *]", "year:[2020..*)"],
  ["created:[2024-01-01 TO 2024-12-31}", "created:[2024-01-01..2024-12-31}"],
  ["price:>=10", "price:[10..*)"],
  ["price:<10", "price:(*..10}"],
  ["status: IN [active pending]", "status:IN[active pending]"],
  ["a AND b c", "((+a +b) c)"],
  ["rust and go", "(rust and go)"],
  ["e-mail", "e-mail"],
  ["price:[-5 TO 5]", "price:[-5..5]"],
  ["title:(rust go)", "(title:rust title:go)"],
  ['"limit"', '"limit"'],
];

for (const [query, expected] of CASES) {
  Deno.test(`parser: ${query}`, () => {
    assert.equal(show(parseQuery(query).ast), expected);
  });
}

Deno.test("parser: inline modifiers at the end", () => {
  const { ast, modifiers } = parseQuery(
    "rust limit 5 offset 10 sort year:desc sort title return title,author",
  );
  assert.equal(show(ast), "rust");
  assert.deepEqual(
    { ...modifiers, sort: modifiers.sort?.map(({ field, order }) => ({ field, order })) },
    {
      limit: 5,
      offset: 10,
      sort: [{ field: "year", order: "desc" }, { field: "title", order: "asc" }],
      fields: ["title", "author"],
    },
  );
  assert.equal(parseQuery("* limit 0").modifiers.limit, 0);
  assert.equal(
    show(parseQuery("rust limit").ast),
    "(rust limit)",
    "a trailing word without argument is a term",
  );
});

Deno.test("parser: modifier words that do not end the query as modifiers are terms", () => {
  const natural = parseQuery("return to your native land");
  assert.equal(show(natural.ast), "(return to your native land)");
  assert.deepEqual(natural.modifiers, {});
  assert.equal(show(parseQuery("sort the limit of offset").ast), "(sort the limit of offset)");
  // Not a well-formed modifier run: plain words (and an exclusion), as Lucene reads them.
  assert.equal(show(parseQuery("rust limit x5").ast), "(rust limit x5)");
  assert.equal(show(parseQuery("rust limit -1").ast), "(rust limit -1)");
  assert.equal(show(parseQuery("rust sort year:up").ast), "(rust sort year:up)");
  // A run at the very end still is one, after natural words that look like modifiers.
  const mixed = parseQuery("limit the damage limit 3");
  assert.equal(show(mixed.ast), "(limit the damage)");
  assert.equal(mixed.modifiers.limit, 3);
  // Inside parentheses a modifier word is always a term.
  assert.equal(show(parseQuery("(rust limit 5)").ast), "(rust limit 5)");
});

const ERRORS: Array<[string, RegExp, number]> = [
  ["", /Empty query/, 0],
  ["title:", /Expected a value for field "title", found the end of the query/, 6],
  ["(rust", /Expected '\)' to close the '\(' at position 1/, 5],
  ["rust)", /Unbalanced '\)'/, 4],
  ['title:"rust', /Unterminated quoted string/, 6],
  ["year:[2020 2024]", /Expected TO in the range/, 11],
  ["year:[2020 TO 2024", /Expected \] or \} to close the range/, 18],
  ["ru*st", /only allowed at the end/, 2],
  ["rust~3", /Fuzzy distance must be 1 or 2/, 5],
  ["-tag:draft", /only excluding clauses/, 0],
  ["rust AND", /Expected a clause after AND/, 8],
  ["OR rust", /OR needs a clause on its left/, 0],
  ["title:rust^x", /Expected a non-negative boost/, 11],
  ["status: IN []", /needs at least one value/, 8],
  ["()", /Empty parentheses/, 1],
  ["++rust", /Expected a clause after '\+', found '\+'/, 1],
];

for (const [query, message, position] of ERRORS) {
  Deno.test(`parser error: ${JSON.stringify(query)}`, () => {
    try {
      parseQuery(query);
      assert.fail("no error");
    } catch (error) {
      assert.ok(error instanceof QueryError, String(error));
      assert.match(error.message, message);
      assert.equal(error.position, position, error.message);
      assert.match(error.message, /\n {2}.*\n {2} *\^$/, "the message has a caret line");
    }
  });
}

Deno.test("parser fuzz: random strings never throw anything but QueryError", () => {
  const random = new SeededRandom(testSeed("parser fuzz"));
  const alphabet = [
    "a",
    "b",
    "title",
    ":",
    " ",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    '"',
    "*",
    "~",
    "^",
    "+",
    "-",
    "AND",
    "OR",
    "NOT",
    "TO",
    "IN",
    "1",
    "2024-01",
    ">",
    ">=",
    "<",
    "\\",
    "limit",
    "sort",
    "return",
    ",",
    "é",
    "\u0000",
  ];
  for (let i = 0; i < 5_000; i++) {
    const query = Array.from({ length: random.int(0, 12) }, () => random.pick(alphabet)).join(
      random.next() < 0.5 ? " " : "",
    );
    try {
      parseQuery(query);
    } catch (error) {
      if (!(error instanceof QueryError)) {
        throw new Error(`query ${JSON.stringify(query)} threw ${error}`);
      }
    }
  }
  const deep = "(".repeat(10_000) + "a" + ")".repeat(10_000);
  assert.throws(() => parseQuery(deep), QueryError);
});
