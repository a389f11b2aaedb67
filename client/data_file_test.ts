import assert from "node:assert/strict";
import { openDataFile, parseDelimited, readRecords, typedValue } from "./data_file.ts";

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

Deno.test("data file: CSV columns are typed as a whole: one non-number keeps the column text", () => {
  const records = readRecords("zips.csv", "id,zip,n,flag\na,90210,1,true\nb,02134,2.5,false\n");
  assert.deepEqual(records, [
    { id: "a", doc: { zip: "90210", n: 1, flag: true } },
    { id: "b", doc: { zip: "02134", n: 2.5, flag: false } },
  ]);
  // A column of numbers with one word in it is text throughout.
  assert.deepEqual(
    readRecords("x.csv", "code\n1\n2\nN/A\n").map((record) => record.doc.code),
    ["1", "2", "N/A"],
  );
});

Deno.test("data file: a BOM is dropped; bad quoting names its line", () => {
  assert.deepEqual(readRecords("x.csv", "\uFEFFname,n\nalpha,1\n"), [
    { id: "1", doc: { name: "alpha", n: 1 } },
  ]);
  assert.throws(
    () => readRecords("x.csv", 'a,b\n1,2\n3,ab"c\n'),
    /x\.csv: line 3: a quote inside an unquoted field/,
  );
  assert.throws(() => readRecords("x.csv", 'a,b\n1,"x"y\n'), /line 2: text after a closing quote/);
  assert.throws(
    () => readRecords("x.csv", 'a,b\n1,2\n3,"never\nclosed\n'),
    /line 3: a quoted field is never closed/,
  );
});

Deno.test("data file: openDataFile streams CSV and NDJSON files in chunks, typed by column", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Enough rows to span many read chunks; the one non-number comes last.
    const rows = Array.from({ length: 20_000 }, (_, i) => `r${i},${10000 + i},"t, ${i}"`);
    rows.push('last,0123,"multi\nline ""quoted"""');
    await Deno.writeTextFile(`${dir}/big.csv`, "\uFEFFkey,zip,text\n" + rows.join("\r\n") + "\r\n");
    const csv = await openDataFile(`${dir}/big.csv`, { idColumn: "key" });
    assert.equal(csv.total, 20_001);
    const records = await Array.fromAsync(csv.records());
    assert.equal(records.length, 20_001);
    assert.deepEqual(records[0], { id: "r0", doc: { zip: "10000", text: "t, 0" } });
    assert.deepEqual(records.at(-1), {
      id: "last",
      doc: { zip: "0123", text: 'multi\nline "quoted"' },
    });

    const lines = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ id: `n${i}`, v: i }));
    await Deno.writeTextFile(`${dir}/big.ndjson`, lines.join("\n") + "\n\n");
    const ndjson = await openDataFile(`${dir}/big.ndjson`);
    assert.equal(ndjson.total, 5_000);
    assert.deepEqual((await Array.fromAsync(ndjson.records()))[4_999], {
      id: "n4999",
      doc: { v: 4_999 },
    });

    await Deno.writeTextFile(`${dir}/bad.csv`, 'a,b\n1,2\n3,"open\n');
    await assert.rejects(() => openDataFile(`${dir}/bad.csv`), /bad\.csv|line 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
