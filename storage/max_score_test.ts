import assert from "node:assert/strict";
import { Bm25Scorer, type CorpusStats, type PostingsReader, termKey } from "./bm25.ts";
import { DenseScores, kthScore, maxScoreTopK } from "./max_score.ts";

/** A seeded pseudo-random source (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Documents of one field whose words follow a skewed (Zipf-like) distribution. */
function corpus(seed: number, docs: number) {
  const next = random(seed);
  const vocabulary = 200;
  const texts = Array.from({ length: docs }, () =>
    Array.from(
      { length: 1 + Math.floor(next() * 30) },
      () => `w${Math.floor(vocabulary ** next()) - 1}`,
    ));
  const postings = new Map<string, Array<[number, number, number]>>();
  texts.forEach((words, doc) => {
    const counts = new Map<string, number>();
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    for (const [word, tf] of counts) {
      if (!postings.has(word)) postings.set(word, []);
      postings.get(word)!.push([doc, tf, words.length]);
    }
  });
  const stats: CorpusStats = {
    docCount: docs,
    fields: [["f", docs, texts.reduce((sum, words) => sum + words.length, 0)]],
    docFreqs: [...postings].map(([word, list]) => [termKey(null, word), list.length]),
  };
  const read: PostingsReader<number> = (_fields, term, visit) => {
    for (const [doc, tf, len] of postings.get(term) ?? []) visit(doc, 0, tf, len);
  };
  return { stats, read, next };
}

Deno.test("maxScoreTopK: the top k and their scores are those of scoring every match (Map or DenseScores)", () => {
  let prunedRuns = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const { stats, read, next } = corpus(seed, 300);
    const scorer = new Bm25Scorer(stats);
    const terms = Array.from({ length: 1 + Math.floor(next() * 7) }, () => ({
      field: null,
      term: `w${Math.floor(200 ** next()) - 1}`,
      fields: ["f"],
      weight: next() < 0.2 ? 3 : 1,
    }));
    const k = 1 + Math.floor(next() * 10);
    const everything = new Map<number, number>();
    for (const term of terms) scorer.addTerm(read, term, everything, { weight: term.weight });
    const pruned = maxScoreTopK(terms, {
      read,
      readAmong: (fields, term, among, visit) => {
        const only = new Set(among);
        read(fields, term, (doc, field, tf, len) => only.has(doc) && visit(doc, field, tf, len));
      },
    }, { scorer, k, ...(seed % 2 === 0 ? { scores: new DenseScores(300) } : {}) });
    const top = (scores: { entries(): Iterable<[number, number]> }) =>
      [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
    const expected = top(everything);
    const actual = top(pruned.scores);
    assert.deepEqual(actual.map(([doc]) => doc), expected.map(([doc]) => doc), `seed ${seed}`);
    actual.forEach(([, score], i) => assert.ok(Math.abs(score - expected[i]![1]) < 1e-9));
    if (pruned.exhaustive) assert.equal(pruned.scores.size, everything.size);
    else prunedRuns++;
  }
  // The cases exercise pruning, not only exhaustive scoring.
  assert.ok(prunedRuns >= 10, `only ${prunedRuns} runs pruned`);
});

Deno.test("kthScore: the k-th highest score, or −∞ below k scores", () => {
  assert.equal(kthScore([3, 1, 4, 1, 5, 9, 2, 6], 3), 5);
  assert.equal(kthScore([3, 1], 3), -Infinity);
  assert.equal(kthScore([2, 2, 2], 2), 2);
});
