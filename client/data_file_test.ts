import assert from "node:assert/strict";
import { parseDelimited, readRecords, typedValue } from "./data_file.ts";

Deno.test("data file: CSV with quotes, escaped quotes, newlines in fields, CRLF", () => {
  assert.deepEqual(parseDelimited('a,b,c\r\n1,"x, y","say ""hi"""\n2,"multi\nline",\n', ","), [
    ["a", "b", "c"],
    ["1", "x, y", 'say "hi"'],
    ["2", "multi\nline", ""],
  ]);
});

Deno.test("data file: CSV rows become typed documents; the id column is kept as a string", () => {
  const records = readRecords(
    "books.csv",
    "isbn,title,year,price,draft,notes\n0042,Rust,2019,39.50,false,\n0043,Go,2016,29,true,short\n",
    {
      idColumn: "isbn",
    },
  );
  assert.deepEqual(records, [
    { id: "0042", doc: { title: "Rust", year: 2019, price: 39.5, draft: false } },
    { id: "0043", doc: { title: "Go", year: 2016, price: 29, draft: true, notes: "short" } },
  ]);
});

Deno.test("data file: TSV, JSON arrays and NDJSON; ids from the id field or the record number", () => {
  assert.deepEqual(readRecords("x.tsv", "name\tn\nalpha\t1\n"), [{
    id: "1",
    doc: { name: "alpha", n: 1 },
  }]);
  assert.deepEqual(readRecords("x.json", '[{"id": "a", "t": 1}, {"t": 2}]'), [
    { id: "a", doc: { t: 1 } },
    { id: "2", doc: { t: 2 } },
  ]);
  assert.deepEqual(
    readRecords("x.ndjson", '{"id": "a", "doc": {"t": 1}}\n\n{"id": "b", "doc": {"t": 2}}\n'),
    [
      { id: "a", doc: { t: 1 } },
      { id: "b", doc: { t: 2 } },
    ],
  );
});

Deno.test("data file: problems name the line or row", () => {
  assert.throws(() => readRecords("x.ndjson", '{"a": 1}\n{oops\n'), /x\.ndjson:2: not valid JSON/);
  assert.throws(() => readRecords("x.csv", "a,b\n1\n"), /row 2 has 1 fields, the header has 2/);
  assert.throws(() => readRecords("x.csv", "a,b\n1,2\n", { idColumn: "isbn" }), /no column "isbn"/);
  assert.throws(() => readRecords("x.json", '{"a": 1}'), /array of objects/);
});

Deno.test("data file: numbers that would lose precision stay strings", () => {
  assert.equal(typedValue("12345678901234567890"), "12345678901234567890");
  assert.equal(typedValue("007"), "007");
  assert.equal(typedValue("-3.5e2"), -350);
  assert.equal(typedValue("True"), "True");
});
