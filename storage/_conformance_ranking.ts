/**
 * The ranking cases of the search-engine conformance suite: BM25 with Lucene's idf, the
 * index's own k1, b and boosts, BM25F over the text fields, exact words, long disjunctions.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Hit, Plan } from "./search_index.ts";
import { SeededRandom } from "../testing/random.ts";
import { type ConformanceCase, loaded, puts, schemaFor, term } from "./_conformance_fixtures.ts";

/** Cases that check how engines score. */
export const RANKING_CASES: readonly ConformanceCase[] = [
  {
    title: "a field whose every document was deleted leaves nothing in the statistics, as when " +
      "the survivors are written afresh",
    run: (h) => {
      const schema = schemaFor([{ doc: { title: "x", body: "x" } }]);
      const index = h.create(schema);
      index.apply(
        puts(schema, [{ id: "a", doc: { title: "x", body: "x" } }, {
          id: "b",
          doc: { body: "x" },
        }]),
        1,
      );
      index.apply([{ op: "delete", id: "a" }], 2);
      const plan = term(null, "x");
      const kept = index.stats(plan);
      index.reset(schema, 0);
      index.apply(puts(schema, [{ id: "b", doc: { body: "x" } }]), 1);
      assert.deepEqual(kept, index.stats(plan));
      index.close();
    },
  },
  {
    title: "after updates and deletes in small batches, statistics and scores are those of the " +
      "surviving documents written afresh",
    run: (h) => {
      const random = new SeededRandom(11);
      const text = (words: number) =>
        Array.from({ length: words }, () => "abcdefgh"[Math.floor(random.next() * 8)]).join(" ");
      const docOf = () => ({ title: text(1 + Math.floor(random.next() * 3)), body: text(6) });
      const schema = schemaFor([{ doc: docOf() }]);
      const index = h.create(schema);
      const model = new Map<string, ReturnType<typeof docOf>>();
      let seq = 0;
      for (let batch = 0; batch < 40; batch++) {
        const ops = Array.from({ length: 1 + Math.floor(random.next() * 4) }, () => {
          const id = `d${Math.floor(random.next() * 20)}`;
          if (random.next() < 0.35) {
            model.delete(id);
            return { op: "delete" as const, id };
          }
          const doc = docOf();
          model.set(id, doc);
          return puts(schema, [{ id, doc }])[0]!;
        });
        index.apply(ops, ++seq);
      }
      const plan: Plan = {
        kind: "or",
        children: [..."abcdefgh"].map((t) => term(null, t)),
      };
      const answer = () => ({
        stats: index.stats(plan),
        hits: index.search(plan, { limit: 100, offset: 0 }).hits
          .map((hit) => `${hit.id} ${hit.score.toFixed(9)}`),
      });
      const kept = answer();
      index.reset(schema, 0);
      index.apply(puts(schema, [...model].map(([id, doc]) => ({ id, doc }))), 1);
      assert.deepEqual(kept, answer());
      index.close();
    },
  },
  {
    title: "the top k of a disjunction found with pruning are those of scoring every match, " +
      "after updates and deletes that move each term's highest frequency",
    run: (h) => {
      const random = new SeededRandom(7);
      const word = () => "abcdefgh"[Math.floor(random.next() * 8)];
      const text = (words: number) => Array.from({ length: words }, word).join(" ");
      const first = Array.from({ length: 60 }, (_, i) => ({
        id: `d${i}`,
        doc: {
          title: text(1 + Math.floor(random.next() * 4)),
          body: text(Math.floor(random.next() * 12)),
        },
      }));
      const schema = schemaFor(first);
      const index = h.create(schema);
      index.apply(puts(schema, first), 1);
      const plan: Plan = {
        kind: "or",
        children: [..."abcdefgh"].map((t) => ({
          kind: "boost" as const,
          child: term(null, t),
          factor: 1 + random.next(),
        })),
      };
      for (let round = 0; round < 40; round++) {
        const every: readonly Hit[] = index.search(plan, { limit: 1_000, offset: 0 }).hits;
        for (let k = 1; k <= 5; k++) {
          const pruned: readonly Hit[] = index.search(plan, { limit: k, offset: 0 }).hits;
          assert.deepEqual(pruned, every.slice(0, k), `round ${round}, k ${k}`);
        }
        // One document gets many of one word (the highest frequency moves up), another goes.
        const id = `d${Math.floor(random.next() * 60)}`;
        const many = word();
        const doc = { title: word(), body: `${text(3)} ${Array(6).fill(many).join(" ")}` };
        index.apply([...puts(schema, [{ id, doc }]), {
          op: "delete",
          id: `d${Math.floor(random.next() * 60)}`,
        }], round + 2);
      }
      index.close();
    },
  },
  {
    title: "ranking puts the document with more occurrences first",
    run: (h) => {
      const docs = [
        { id: "once", doc: { body: "rust alpha beta gamma delta" } },
        { id: "thrice", doc: { body: "rust rust rust gamma delta" } },
        { id: "none", doc: { body: "alpha beta gamma delta epsilon" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 3);
      const { hits } = index.search(term("body", "rust"), { limit: 10, offset: 0 });
      assert.deepEqual(hits.map((hit) => hit.id), ["thrice", "once"]);
      assert.ok(hits[0]!.score > hits[1]!.score && hits[1]!.score > 0);
      index.close();
    },
  },
  {
    title: "every engine gives the same BM25 score (Lucene's idf, k1 = 1.2, b = 0.75)",
    run: (h) => {
      const docs = [
        { id: "a", doc: { title: "The Rust Programming Language" } },
        { id: "b", doc: { title: "Programming Rust" } },
        { id: "c", doc: { title: "Rust" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 3);
      const { hits } = index.search(term("title", "rust"), { limit: 10, offset: 0 });
      // The shortest title first; the scores worked out by hand: idf = ln(1 + 0.5 / 3.5),
      // average length 7 / 3, tf~ = 1 / (0.25 + 0.75 · len / avg), score = idf · 2.2 tf~ / (tf~ + 1.2).
      assert.deepEqual(hits.map((hit) => hit.id), ["c", "b", "a"]);
      const idf = Math.log(1 + 0.5 / 3.5);
      const expected = [1, 2, 4].map((len) => {
        const tf = 1 / (0.25 + 0.75 * len / (7 / 3));
        return idf * 2.2 * tf / (tf + 1.2);
      });
      hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - expected[i]!) < 1e-12));
      index.close();
    },
  },
  {
    title: "the index's ranking settings: k1, b and field boosts change the scores as BM25F says",
    run: (h) => {
      const docs = [
        { id: "a", doc: { title: "The Rust Programming Language", body: "a book" } },
        { id: "b", doc: { title: "Programming Rust", body: "another book" } },
        { id: "c", doc: { title: "Rust", body: "rust again" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 3);
      const page = { limit: 10, offset: 0 };
      const idf = Math.log(1 + 0.5 / 3.5);
      // Both paths: a disjunction of terms (MaxScore) and a plan scored leaf by leaf.
      for (
        const plan of [term("title", "rust"), { kind: "and", children: [term("title", "rust")] }]
      ) {
        const ranking = { k1: 2, b: 0.5 };
        const { hits } = index.search(plan as Plan, { ...page, ranking });
        const expected = [1, 2, 4].map((len) => {
          const tf = 1 / (0.5 + 0.5 * len / (7 / 3));
          return idf * 3 * tf / (tf + 2);
        });
        assert.deepEqual(hits.map((hit) => hit.id), ["c", "b", "a"]);
        hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - expected[i]!) < 1e-12));
        // b = 0: lengths do not count, every score is the same (then by id).
        const flat = index.search(plan as Plan, { ...page, ranking: { k1: 1.2, b: 0 } }).hits;
        assert.deepEqual(flat.map((hit) => hit.id), ["a", "b", "c"]);
        assert.ok(flat.every((hit) => Math.abs(hit.score - flat[0]!.score) < 1e-12));
      }
      // A bare word over both fields: "c" holds rust in both; a body boost lifts a body match.
      const both = term(null, "rust");
      const plain = index.search(both, page).hits;
      const boosted = index.search(both, {
        ...page,
        ranking: { k1: 1.2, b: 0.75, boosts: [["body", 5]] },
      }).hits;
      assert.equal(plain[0]!.id, "c");
      assert.ok(boosted[0]!.score > plain[0]!.score, "the boosted field adds more");
      const titleOnly = index.search(both, {
        ...page,
        ranking: { k1: 1.2, b: 0.75, boosts: [["title", 0.001]] },
      }).hits;
      assert.deepEqual(titleOnly.map((hit) => hit.id), ["c", "b", "a"]);
      assert.ok(titleOnly[1]!.score < 0.01, "a title match barely counts at boost 0.001");
      index.close();
    },
  },
  {
    title: "a bare word is one BM25F score over every text field, from outside statistics too",
    run: (h) => {
      const index = loaded(h);
      const plan = term(null, "rust");
      const local = index.search(plan, { limit: 10, offset: 0 });
      // The same statistics handed in give the same scores; other statistics, others.
      const same = index.search(plan, { limit: 10, offset: 0, stats: index.stats(plan) });
      assert.deepEqual(same.hits, local.hits);
      const stats = index.stats(plan);
      const bigger = { ...stats, docCount: stats.docCount * 10 };
      const other = index.search(plan, { limit: 10, offset: 0, stats: bigger });
      assert.deepEqual(other.hits.map((hit) => hit.id), local.hits.map((hit) => hit.id));
      assert.ok(other.hits[0]!.score > local.hits[0]!.score);
      // b3 holds "rust" three times in its body; b1 in its title and once in its body.
      assert.deepEqual(local.hits.map((hit) => hit.id).sort(), ["b1", "b3"]);
    },
  },
  {
    title: "a word matches exactly: a prefix of a longer word neither matches nor scores",
    run: (h) => {
      const docs = [
        { id: "format", doc: { body: "format formatting formats" } },
        { id: "for", doc: { body: "made for you" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 2);
      const result = index.search(
        { kind: "or", children: [term(null, "for"), term(null, "you")] },
        { limit: 10, offset: 0 },
      );
      assert.deepEqual(result.hits.map((hit) => hit.id), ["for"]);
      assert.equal(result.total, 1);
      index.close();
    },
  },
  {
    title: "every positive term of a long disjunction scores, and the total stays exact",
    run: (h) => {
      const words = Array.from({ length: 24 }, (_, i) => `w${i}`);
      const docs = words.map((word, i) => ({ id: `d${i}`, doc: { body: `${word} filler` } }));
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), docs.length);
      // The 24th term scores like the first (there is no cap on scoring leaves).
      const plan: Plan = {
        kind: "or",
        children: words.map((word, i) =>
          i === 23 ? { kind: "boost", child: term(null, word), factor: 2 } : term(null, word)
        ),
      };
      const result = index.search(plan, { limit: 3, offset: 0 });
      assert.equal(result.total, 24);
      assert.equal(result.hits[0]!.id, "d23");
      assert.ok(result.hits[0]!.score > result.hits[1]!.score);
      index.close();
    },
  },
];
