/**
 * The comparison corpus: Debian's package catalogue and the GCIDE dictionary, shaped into
 * one document form every system stores the same way — `title` and `text` (searched), `size`
 * (a number for range filters), `kind`, and the source's own nested fields — and the
 * queries every system answers: rare, mid and common terms (chosen by document frequency
 * in this corpus), a two-term OR, a phrase, a prefix, and a term filtered by a size range.
 *
 * @module
 */

import { loadDebianPackages } from "../data/debian.ts";
import { loadGcide } from "./gcide.ts";

/** A document as every system receives it. */
export interface CorpusDoc {
  id: string;
  doc: {
    title: string;
    text: string;
    size: number;
    kind: "package" | "entry";
    [field: string]: unknown;
  };
}

/** One query, in a form each system translates. */
export interface CompareQuery {
  readonly name: string;
  readonly kind: "term" | "or" | "phrase" | "prefix" | "range";
  readonly terms: readonly string[];
  readonly range?: { readonly from: number; readonly to: number };
}

/** Words the search systems would treat differently (stop words, one letter). */
const SKIP = new Set(["the", "and", "for", "with", "this", "that", "from", "are", "was", "its"]);

/** Loads up to `count` documents, half packages and half dictionary entries where possible. */
export async function loadCorpus(count: number): Promise<CorpusDoc[]> {
  const packages = (await loadDebianPackages()).slice(0, Math.ceil(count / 2));
  const entries = await loadGcide(count - packages.length);
  const docs: CorpusDoc[] = [];
  for (const p of packages) {
    const { name, description, installed_size, size: download_size, ...rest } = p.doc;
    docs.push({
      id: `pkg:${p.id}`,
      doc: {
        title: name,
        text: description,
        size: installed_size,
        kind: "package",
        download_size,
        ...rest,
      },
    });
  }
  for (const e of entries) {
    const { word, text, stats, sources } = e.doc;
    docs.push({
      id: e.id,
      doc: { title: word, text, size: stats.chars, kind: "entry", sources, stats },
    });
  }
  return docs;
}

/** Simple words of a text, lower-cased (what every system's tokenizer agrees on). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]{3,}/g) ?? [];
}

/** Chooses the queries from the corpus's document frequencies. */
export function chooseQueries(docs: readonly CorpusDoc[]): CompareQuery[] {
  const df = new Map<string, number>();
  for (const { doc } of docs) {
    for (const word of new Set(words(doc.text))) df.set(word, (df.get(word) ?? 0) + 1);
  }
  const ranked = [...df].filter(([word]) => !SKIP.has(word)).sort((a, b) => b[1] - a[1]);
  const at = (fraction: number) => ranked[Math.floor(ranked.length * fraction)]![0];
  const common = ranked[0]![0];
  const mid = ranked.find(([, n]) => n <= docs.length / 100)?.[0] ?? at(0.01);
  const rare = ranked.find(([, n]) => n <= 5)?.[0] ?? at(0.5);
  const second = ranked.find(([word, n]) => word !== mid && n <= docs.length / 50)?.[0] ?? at(0.02);
  // A phrase: the most frequent pair of adjacent words in the first documents.
  const pairs = new Map<string, number>();
  for (const { doc } of docs.slice(0, 20_000)) {
    const list = doc.text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
    for (let i = 1; i < list.length; i++) {
      const [a, b] = [list[i - 1]!, list[i]!];
      if (a.length < 3 || b.length < 3 || !/^[a-z]+$/.test(a + b) || SKIP.has(a) || SKIP.has(b)) {
        continue;
      }
      pairs.set(`${a} ${b}`, (pairs.get(`${a} ${b}`) ?? 0) + 1);
    }
  }
  const phrase = [...pairs].sort((a, b) => b[1] - a[1])[Math.min(10, pairs.size - 1)]![0];
  const prefix = mid.slice(0, 4);
  return [
    { name: `rare term "${rare}"`, kind: "term", terms: [rare] },
    { name: `mid term "${mid}"`, kind: "term", terms: [mid] },
    { name: `common term "${common}"`, kind: "term", terms: [common] },
    { name: `"${mid}" OR "${second}"`, kind: "or", terms: [mid, second] },
    { name: `phrase "${phrase}"`, kind: "phrase", terms: phrase.split(" ") },
    { name: `prefix "${prefix}*"`, kind: "prefix", terms: [prefix] },
    {
      name: `"${mid}" with size in [100, 5000]`,
      kind: "range",
      terms: [mid],
      range: { from: 100, to: 5_000 },
    },
  ];
}
