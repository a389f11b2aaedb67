import assert from "node:assert/strict";
import { Fts5Index, IndexCorruptError } from "./fts5_index.ts";
import { allPostings, allTermStats, OPEN_BLOCK } from "./_fts5_postings.ts";
import { POSTINGS_PER_BLOCK } from "./_posting_blocks.ts";
import { EMPTY_SCHEMA, flatten, planSchema, type Schema } from "./schema.ts";
import type { IndexOp, Plan } from "./search_index.ts";
import { DatabaseSync } from "node:sqlite";
import { runSearchIndexConformance } from "./search_index_conformance.ts";
import { SeededRandom } from "../testing/random.ts";

runSearchIndexConformance("fts5", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/books.fts5.sqlite`;
  return {
    create: (schema) => Fts5Index.open({ path, schema }),
    reopen: (schema) => Fts5Index.open({ path, schema }),
    cleanup: () => Deno.removeSync(dir, { recursive: true }),
  };
}, { durable: true });

Deno.test("fts5 engine: a file that is not an index is reported as corrupt", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/books.fts5.sqlite`;
    Deno.writeTextFileSync(path, "this is not a database ".repeat(100));
    assert.throws(() => Fts5Index.open({ path, schema: EMPTY_SCHEMA }), IndexCorruptError);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fts5 engine: destroy removes its files", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const index = Fts5Index.open({ path: `${dir}/x.fts5.sqlite`, schema: EMPTY_SCHEMA });
    index.destroy();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fts5 engine: one apply of many operations leaves the same statistics and scores as one apply each", () => {
  const docs = [
    { id: "a", doc: { title: "rust rust book", body: "systems language" } },
    { id: "b", doc: { title: "go book", body: "language of servers servers" } },
    { id: "a", doc: { title: "rust in action", body: "a systems book" } }, // replaces a
    { id: "c", doc: { title: "zig", body: "systems" } },
    { id: "b", doc: null }, // deletes b
    { id: "d", doc: { title: "book book book", body: "go rust zig" } },
  ];
  const plan = planSchema(EMPTY_SCHEMA, docs.flatMap((d) => d.doc === null ? [] : [d.doc]));
  const schema = plan.schema;
  const ops: IndexOp[] = docs.map(({ id, doc }) =>
    doc === null ? { op: "delete", id } : { op: "put", id, values: flatten(schema, doc) }
  );
  const together = Fts5Index.open({ path: ":memory:", schema });
  together.apply(ops, ops.length);
  const oneByOne = Fts5Index.open({ path: ":memory:", schema });
  ops.forEach((op, i) => oneByOne.apply([op], i + 1));
  const query: Plan = {
    kind: "or",
    children: ["rust", "book", "systems", "go", "zig", "language", "servers"].map((t) => ({
      kind: "term" as const,
      field: null,
      term: t,
    })),
  };
  assert.deepEqual(together.stats(query), oneByOne.stats(query));
  const page = { limit: 10, offset: 0 };
  const found = together.search(query, page);
  assert.deepEqual(found, oneByOne.search(query, page));
  assert.deepEqual(found.hits.map((hit) => hit.id).sort(), ["a", "c", "d"]);
  together.close();
  oneByOne.close();
});

/** A seeded generator and texts of up to `maxWords - 1` letters a–f from it. */
function randomTexts(seed: number, maxWords: number) {
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const text = () =>
    Array.from(
      { length: Math.floor(random() * maxWords) },
      () => "abcdef"[Math.floor(random() * 6)],
    )
      .join(" ");
  return { random, text };
}

/** Runs `fn` on an fts5 index file of `title` and `body` in a temporary directory. */
function withIndexFile(fn: (index: Fts5Index, path: string, schema: Schema) => void): void {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/s.fts5.sqlite`;
    const schema = planSchema(EMPTY_SCHEMA, [{ title: "a b", body: "c d" }]).schema;
    fn(Fts5Index.open({ path, schema }), path, schema);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("fts5 engine: the term and field statistics, written once per batch, match the postings after puts, updates and deletes", () => {
  withIndexFile((index, path, schema) => {
    const { random, text } = randomTexts(3, 6);
    let seq = 0;
    for (let batch = 0; batch < 30; batch++) {
      const ops = Array.from({ length: 1 + Math.floor(random() * 8) }, () => {
        const id = `d${Math.floor(random() * 12)}`;
        if (random() < 0.25) return { op: "delete" as const, id };
        const doc = { title: text(), body: text() };
        return { op: "put" as const, id, values: flatten(schema, doc) };
      });
      index.apply(ops, ++seq);
    }
    index.close();
    const db = new DatabaseSync(path);
    const postings = allPostings(db);
    const groups = <T>(
      keyOf: (row: typeof postings[number]) => string,
      of: (rows: typeof postings) => T,
    ) => {
      const by = new Map<string, typeof postings>();
      for (const row of postings) by.set(keyOf(row), [...(by.get(keyOf(row)) ?? []), row]);
      return [...by].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, rows]) => of(rows));
    };
    const expectedDf = groups((row) => JSON.stringify([row.term, row.col]), (rows) => ({
      term: rows[0]!.term,
      col: rows[0]!.col,
      df: rows.length,
      max_tf: Math.max(...rows.map((row) => row.tf)),
      min_len: Math.min(...rows.map((row) => row.len)),
    }));
    const kept = allTermStats(db).filter((row) => row.col >= 0 && row.df > 0);
    assert.ok(expectedDf.length > 5, "too few terms compared");
    assert.deepEqual(
      kept.map(({ term, col, df }) => ({ term, col, df })),
      expectedDf.map(({ term, col, df }) => ({ term, col, df })),
    );
    // The bounds may be looser than the postings after deletes, never tighter.
    for (const [i, row] of expectedDf.entries()) {
      assert.ok(kept[i]!.maxTf >= row.max_tf && kept[i]!.minLen <= row.min_len);
    }
    const anyColumn = groups((row) => row.term, (rows) => ({
      term: rows[0]!.term,
      df: new Set(rows.map((row) => row.rid)).size,
    }));
    assert.deepEqual(
      allTermStats(db).filter((row) => row.col === -1 && row.df > 0)
        .map(({ term, df }) => ({ term, df })),
      anyColumn,
    );
    const lengths = new Map<string, { col: number; len: number }>();
    for (const row of postings) lengths.set(`${row.rid}:${row.col}`, row);
    const byColumn = new Map<number, { col: number; docs: number; tokens: number }>();
    for (const { col, len } of lengths.values()) {
      const field = byColumn.get(col) ?? { col, docs: 0, tokens: 0 };
      byColumn.set(col, { col, docs: field.docs + 1, tokens: field.tokens + len });
    }
    assert.deepEqual(
      db.prepare("SELECT col, docs, tokens FROM field_stats WHERE docs > 0 ORDER BY col").all()
        .map((row) => ({ ...row })),
      [...byColumn.values()].sort((a, b) => a.col - b.col),
    );
    // Every posting list is in rid order and no document is in it twice per column.
    for (const rows of groups((row) => row.term, (rows) => rows)) {
      for (let i = 1; i < rows.length; i++) {
        const [a, b] = [rows[i - 1]!, rows[i]!];
        assert.ok(a.rid < b.rid || (a.rid === b.rid && a.col < b.col), `${a.term} out of order`);
      }
    }
    db.close();
  });
});

Deno.test("fts5 engine: posting lists over many blocks hold exactly the documents' terms after random puts, updates and deletes", () => {
  withIndexFile((index, path, schema) => {
    const { random, text } = randomTexts(11, 5);
    const model = new Map<string, { title: string; body: string }>();
    let seq = 0;
    for (let batch = 0; batch < 40; batch++) {
      // Early batches are large (lists fill several blocks); later ones small and mixed.
      const size = batch < 4 ? 300 : 1 + Math.floor(random() * 20);
      const ops = Array.from({ length: size }, () => {
        const id = `d${Math.floor(random() * 1_000)}`;
        if (batch >= 4 && random() < 0.4) {
          model.delete(id);
          return { op: "delete" as const, id };
        }
        const doc = { title: text(), body: text() };
        model.set(id, doc);
        return { op: "put" as const, id, values: flatten(schema, doc) };
      });
      index.apply(ops, ++seq);
    }
    index.close();
    const db = new DatabaseSync(path);
    const idOf = new Map(
      (db.prepare("SELECT rid, id FROM docs").all() as Array<{ rid: number; id: string }>)
        .map((row) => [row.rid, row.id]),
    );
    const columns = JSON.parse(
      (db.prepare("SELECT value FROM meta WHERE key = 'columns'").get() as { value: string })
        .value,
    ) as Record<string, number>;
    const expected: string[] = [];
    for (const [id, doc] of model) {
      for (const field of ["title", "body"] as const) {
        const tokens = doc[field].split(" ").filter((token) => token !== "");
        const counts = new Map<string, number>();
        for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
        for (const [term, tf] of counts) {
          expected.push(`${term} ${id} ${columns[field]} ${tf} ${tokens.length}`);
        }
      }
    }
    const postings = allPostings(db);
    const longest = Math.max(
      ...Object.values(Object.groupBy(postings, (row) => row.term)).map((rows) => rows!.length),
    );
    assert.ok(longest > 3 * POSTINGS_PER_BLOCK, `the longest list has ${longest} postings`);
    assert.deepEqual(
      postings.map((row) => `${row.term} ${idOf.get(row.rid)} ${row.col} ${row.tf} ${row.len}`)
        .sort(),
      expected.sort(),
    );
    const blocks = db.prepare("SELECT n, first_rid, last_rid FROM post_blocks").all() as Array<
      { n: number; first_rid: number; last_rid: number }
    >;
    const closed = blocks.filter((block) => block.first_rid !== OPEN_BLOCK);
    assert.ok(closed.length > 10, `${closed.length} closed blocks`);
    // A document's postings (here at most two columns) stay in one block.
    assert.ok(closed.every((block) => block.n >= 1 && block.n <= POSTINGS_PER_BLOCK + 1));
    assert.ok(closed.every((block) => block.first_rid <= block.last_rid));
    assert.ok(
      blocks.filter((block) => block.first_rid === OPEN_BLOCK)
        .every((block) => block.n < POSTINGS_PER_BLOCK),
    );
    // The kept document frequencies are the model's.
    const df = new Map<string, number>();
    for (const line of expected) {
      const [term, , col] = line.split(" ");
      df.set(`${term} ${col}`, (df.get(`${term} ${col}`) ?? 0) + 1);
    }
    assert.deepEqual(
      new Map(
        allTermStats(db).filter((row) => row.col >= 0 && row.df > 0)
          .map((row) => [`${row.term} ${row.col}`, row.df]),
      ),
      df,
    );
    db.close();
  });
});

Deno.test("fts5 engine: small applies are logged, not written to their blocks; a crash image of the file, an apply that fails and the fold at close all read as an index built afresh", () => {
  withIndexFile((first, path, schema) => {
    let index = first;
    const { random, text } = randomTexts(29, 6);
    const model = new Map<string, { title: string; body: string }>();
    const query: Plan = {
      kind: "or",
      children: [..."abcdef"].map((term) => ({ kind: "term" as const, field: null, term })),
    };
    const page = { limit: 1_000, offset: 0 };
    const answers = (of: Fts5Index) => ({
      stats: of.stats(query),
      hits: of.search(query, page).hits.map((hit) => `${hit.id} ${hit.score.toFixed(9)}`),
    });
    const afresh = () => {
      const fresh = Fts5Index.open({ path: ":memory:", schema });
      fresh.apply(
        [...model].map(([id, doc]) => ({ op: "put" as const, id, values: flatten(schema, doc) })),
        1,
      );
      const answer = answers(fresh);
      fresh.close();
      return answer;
    };
    const dir = Deno.makeTempDirSync();
    let seq = 0;
    let logged = 0;
    try {
      for (let batch = 0; batch < 60; batch++) {
        const ops = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
          // Few ids: updates and deletes of documents still pending are common.
          const id = `d${Math.floor(random() * 30)}`;
          if (random() < 0.3) {
            model.delete(id);
            return { op: "delete" as const, id };
          }
          const doc = { title: text(), body: text() };
          model.set(id, doc);
          return { op: "put" as const, id, values: flatten(schema, doc) };
        });
        if (batch === 30) {
          // A bulk over directAtPostings writes its terms, with what they have pending, straight
          // to their blocks; updates of pending documents are among it.
          for (let i = 0; i < 4_000; i++) {
            const id = i < 20 ? `d${i}` : `bulk${i}`;
            const doc = { title: "a b c d e f", body: text() };
            model.set(id, doc);
            ops.push({ op: "put" as const, id, values: flatten(schema, doc) });
          }
        }
        index.apply(ops, ++seq);
        if (batch === 30) {
          const db = new DatabaseSync(path);
          const uncovered = unfoldedLogged(db).filter((term) => "abcdef".includes(term));
          db.close();
          assert.deepEqual(uncovered, [], "the bulk folded its terms' pending changes");
        }
        if (batch === 45) {
          // Most of the bulk deleted again, in small applies.
          for (let i = 20; i < 4_000; i += 2) model.delete(`bulk${i}`);
          for (let i = 20; i < 4_000; i += 200) {
            index.apply(
              Array.from(
                { length: 100 },
                (_, k) => ({ op: "delete" as const, id: `bulk${i + 2 * k}` }),
              ),
              ++seq,
            );
          }
        }
        if (batch % 10 === 9) {
          // Closing folds what is pending into the blocks; later changes are on folded ones.
          index.close();
          index = Fts5Index.open({ path, schema });
        }
        if (batch % 7 === 3) {
          // An update (its old postings taken out) and then an operation SQLite refuses.
          const [id] = [...model.keys()];
          const bad = { op: "put" as const, id: null as unknown as string, values: [] };
          const update = { op: "put" as const, id: id!, values: flatten(schema, { title: "f" }) };
          assert.throws(() => index.apply([update, bad], seq + 1));
        }
        const expected = afresh();
        assert.deepEqual(answers(index), expected, `batch ${batch}`);
        // What a SIGKILL leaves: the database and its WAL as last committed.
        for (const suffix of ["", "-wal"]) Deno.copyFileSync(path + suffix, `${dir}/c${suffix}`);
        const image = new DatabaseSync(`${dir}/c`);
        logged = Math.max(
          logged,
          (image.prepare("SELECT count(*) AS n FROM post_log").get() as { n: number }).n,
        );
        image.close();
        const reopened = Fts5Index.open({ path: `${dir}/c`, schema });
        assert.deepEqual(answers(reopened), expected, `batch ${batch}, crash image`);
        reopened.destroy();
      }
      assert.ok(logged >= 5, `at most ${logged} applies were logged`);
      const expected = afresh();
      index.close();
      const db = new DatabaseSync(path);
      assert.equal((db.prepare("SELECT count(*) AS n FROM post_log").get() as { n: number }).n, 0);
      db.close();
      const folded = Fts5Index.open({ path, schema });
      assert.deepEqual(answers(folded), expected);
      folded.close();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
});

/** The terms with logged changes the read-back would not skip (none folded past their row). */
function unfoldedLogged(db: DatabaseSync): string[] {
  const folded = new Map<string, number>();
  const records = db.prepare("SELECT seq, terms FROM post_folded ORDER BY seq").all() as Array<
    { seq: number; terms: string }
  >;
  for (const { seq, terms } of records) {
    for (const term of JSON.parse(terms) as string[]) folded.set(term, seq);
  }
  const rows = db.prepare("SELECT seq, data FROM post_log").all() as Array<
    { seq: number; data: string }
  >;
  const terms = rows.flatMap(({ seq, data }) =>
    (JSON.parse(data) as Array<[string, string]>)
      .filter(([, term]) => seq > (folded.get(term) ?? 0))
      .map(([, term]) => term)
  );
  return [...new Set(terms)].sort();
}

Deno.test("fts5 engine: folds a slice of terms at a time (small limits); live, from a crash image after every apply and after reopening, it reads as an index built afresh", () => {
  const limits = { atPostings: 40, atApplies: 6, directAtPostings: 300, sliceTerms: 12 };
  withIndexFile((first, path, schema) => {
    let index = Fts5Index.open({ path, schema, foldLimits: limits });
    first.close();
    const random = new SeededRandom(41);
    const words = Array.from({ length: 120 }, (_, i) => `w${i}`);
    const text = (most: number) =>
      Array.from({ length: random.int(0, most) }, () => random.pick(words)).join(" ");
    const model = new Map<string, { title: string; body: string }>();
    const query: Plan = {
      kind: "or",
      children: words.map((term) => ({ kind: "term" as const, field: null, term })),
    };
    const page = { limit: 1_000, offset: 0 };
    const answers = (of: Fts5Index) => {
      const found = of.search(query, page);
      return {
        stats: of.stats(query),
        total: found.total,
        hits: found.hits.map((hit) => `${hit.id} ${hit.score.toFixed(9)}`),
      };
    };
    const afresh = () => {
      const fresh = Fts5Index.open({ path: ":memory:", schema });
      const docs = [...model].map(([id, doc]) => ({
        op: "put" as const,
        id,
        values: flatten(schema, doc),
      }));
      fresh.apply(docs, 1);
      const answer = answers(fresh);
      fresh.close();
      return answer;
    };
    const dir = Deno.makeTempDirSync();
    const seen = { folded: 0, passEnds: 0, mostRows: 0 };
    let seq = 0;
    let rowsBefore = 0;
    try {
      for (let batch = 0; batch < 160; batch++) {
        const ops: IndexOp[] = Array.from({ length: random.int(1, 5) }, () => {
          const id = `d${random.int(0, 39)}`;
          if (random.next() < 0.3) {
            model.delete(id);
            return { op: "delete" as const, id };
          }
          const doc = { title: text(4), body: text(6) };
          model.set(id, doc);
          return { op: "put" as const, id, values: flatten(schema, doc) };
        });
        if (batch % 25 === 24) {
          // A bulk over directAtPostings: its terms go to the blocks, the rest stays pending.
          // Every one has w0 and w1, so those get closed blocks.
          for (let i = 0; i < 150; i++) {
            const id = i < 10 ? `d${i}` : `bulk${batch}-${i}`;
            const doc = { title: `w0 w1 ${text(6)}`, body: text(8) };
            model.set(id, doc);
            ops.push({ op: "put" as const, id, values: flatten(schema, doc) });
          }
        }
        index.apply(ops, ++seq);
        if (batch % 25 === 12 && batch > 50) {
          // A third of the bulks' documents deleted, seven an apply in a random order: a fold
          // takes many of a term's postings out of several of its closed blocks at once.
          const bulkIds = [...model.keys()].filter((id) => id.startsWith("bulk"));
          const doomed = bulkIds.filter((_, i) => i % 3 === 0).sort(() => random.next() - 0.5);
          for (let at = 0; at < doomed.length; at += 7) {
            const deletes = doomed.slice(at, at + 7).map((id) => ({ op: "delete" as const, id }));
            for (const { id } of deletes) model.delete(id);
            index.apply(deletes, ++seq);
          }
        }
        if (batch % 11 === 5) {
          // An update (its old postings taken out), then an operation SQLite refuses.
          const [id] = [...model.keys()];
          const bad = { op: "put" as const, id: null as unknown as string, values: [] };
          const update = { op: "put" as const, id: id!, values: flatten(schema, { title: "w1" }) };
          assert.throws(() => index.apply([update, bad], seq + 1));
        }
        if (batch % 40 === 39) {
          index.close(); // folds everything
          index = Fts5Index.open({ path, schema, foldLimits: limits });
        }
        const expected = afresh();
        assert.deepEqual(answers(index), expected, `batch ${batch}`);
        for (const suffix of ["", "-wal"]) Deno.copyFileSync(path + suffix, `${dir}/c${suffix}`);
        const image = new DatabaseSync(`${dir}/c`);
        const count = (sql: string) => (image.prepare(sql).get() as { n: number }).n;
        const rows = count("SELECT count(*) AS n FROM post_log");
        seen.folded = Math.max(seen.folded, count("SELECT count(*) AS n FROM post_folded"));
        if (rows < rowsBefore && batch % 40 !== 39) seen.passEnds++;
        seen.mostRows = Math.max(seen.mostRows, rows);
        rowsBefore = rows;
        image.close();
        const reopened = Fts5Index.open({ path: `${dir}/c`, schema, foldLimits: limits });
        assert.deepEqual(answers(reopened), expected, `batch ${batch}, crash image`);
        reopened.destroy();
      }
      // The passes ran, ended and kept the log short.
      assert.ok(seen.folded > 0, "no term was folded while its rows stayed logged");
      assert.ok(seen.passEnds >= 5, `${seen.passEnds} fold passes ended`);
      assert.ok(seen.mostRows <= 4 * limits.atApplies, `${seen.mostRows} rows logged at most`);
      index.close();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
});

Deno.test("fts5 engine: a stale handle whose log has the file's row count and last row still refuses to fold; once it reads the log again it goes on", () => {
  // Found by a two-handle fuzzer: the handle held rows {2, 5} against the file's {4, 5}.
  const foldLimits = { atPostings: 1_000, atApplies: 2, directAtPostings: 1_000, sliceTerms: 100 };
  withIndexFile((setup, path, schema) => {
    const put = titlePut(schema);
    setup.apply([put("a", "x"), put("b", "x y")], 1);
    setup.close();
    const stale = Fts5Index.open({ path, schema, foldLimits });
    stale.apply([{ op: "delete", id: "a" }], 2); // one row
    const current = Fts5Index.open({ path, schema, foldLimits });
    current.apply([put("c", "z")], 3); // two rows: a pass folds them, the log is emptied
    current.apply([put("d", "w")], 4); // one row again
    assert.throws(() => stale.apply([put("e", "v")], 5), /changed under this handle/);
    stale.apply([put("e", "v")], 5); // the failed apply read the log again
    const reader = Fts5Index.open({ path, schema });
    const hits = (term: string) =>
      reader.search({ kind: "term", field: null, term }, { limit: 10, offset: 0 }).hits
        .map((hit) => hit.id);
    const found = Object.fromEntries(["x", "y", "z", "w", "v"].map((term) => [term, hits(term)]));
    assert.deepEqual(found, { x: ["b"], y: ["b"], z: ["c"], w: ["d"], v: ["e"] });
    reader.destroy();
    current.destroy();
    stale.destroy();
  });
});

/** A put of a document with only a title, for `schema`. */
function titlePut(schema: Schema) {
  return (id: string, title: string) => ({
    op: "put" as const,
    id,
    values: flatten(schema, { title, body: "" }),
  });
}

Deno.test("fts5 engine: a handle whose postings log another handle went on from does not fold its stale changes at close", () => {
  withIndexFile((stale, path, schema) => {
    const put = titlePut(schema);
    stale.apply([put("a", "x y")], 1);
    const current = Fts5Index.open({ path, schema });
    current.apply([put("a", "z"), put("b", "x")], 2);
    stale.close(); // its pending changes (a: x y) are not the file's any more
    const query: Plan = {
      kind: "or",
      children: ["x", "y", "z"].map((term) => ({ kind: "term" as const, field: null, term })),
    };
    const page = { limit: 10, offset: 0 };
    const expected = current.search(query, page);
    const reader = Fts5Index.open({ path, schema });
    assert.deepEqual(reader.search(query, page), expected);
    assert.deepEqual(expected.hits.map((hit) => hit.id).sort(), ["a", "b"]);
    reader.destroy();
  });
});

Deno.test("fts5 engine: a stale handle cannot fold after another handle folded and logged again (log rows are never renumbered)", () => {
  withIndexFile((setup, path, schema) => {
    const put = titlePut(schema);
    setup.apply([put("a", "x"), put("b", "y")], 1);
    setup.close();
    const stale = Fts5Index.open({ path, schema });
    stale.apply([{ op: "delete", id: "a" }], 2); // one log row
    const current = Fts5Index.open({ path, schema });
    current.apply([put("c", "z")], 3);
    current.close(); // folds, empties the log
    const next = Fts5Index.open({ path, schema });
    next.apply([put("a", "x")], 4); // one log row again
    stale.close(); // must not fold its stale delete (nor drop the row just logged)
    next.close();
    const reader = Fts5Index.open({ path, schema });
    const hits = reader.search({ kind: "term", field: null, term: "x" }, { limit: 10, offset: 0 });
    assert.deepEqual(hits.hits.map((hit) => hit.id), ["a"]);
    reader.destroy();
  });
});
