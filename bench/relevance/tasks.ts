/**
 * Known-item search tasks on real data nobody here wrote: each query is a document's own
 * summary, its one right answer that document.
 *
 * - **debian**: Debian's package catalogue (`apt-cache dumpavail`, whose descriptions are
 *   mostly the one-line summary: the long ones are in the translation files); a package's
 *   summary is the query; the document is its name (`title`) and description (`text`), so
 *   the task is telling apart the packages that share the summary's words (`libfoo-dev`,
 *   `libfoo1`, `foo-doc`, …).
 * - **gcide**: the GCIDE dictionary (Debian's `dict-gcide`; a spread sample of its entries, by
 *   default); an entry's first sense (`1. …`,
 *   of entries with a second one) is the query; the document is the headword (`title`) and
 *   the entry without its first sense (`text`), every entry shaped the same way.
 *
 * Queries are every n-th eligible document (deterministic), as plain lower-case words (no
 * query syntax), already split by the shared tokenizer, so every system sees the same terms.
 *
 * @module
 */

import { loadDebianPackages } from "../data/debian.ts";
import { loadGcide } from "../compare/gcide.ts";
import { tokenize } from "../../storage/tokenizer.ts";

/** A document of a task: two text fields. */
export interface TaskDoc {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** A query and the id of its one right answer. */
export interface TaskQuery {
  readonly words: readonly string[];
  readonly answer: string;
}

/** A corpus and its known-item queries. */
export interface Task {
  readonly name: string;
  readonly docs: readonly TaskDoc[];
  readonly queries: readonly TaskQuery[];
}

/** Fewest words a query keeps (shorter summaries are skipped). */
const MIN_QUERY_WORDS = 2;

/** Every `count`-th of `items` (spread evenly), at most `count` of them. */
export function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]!);
}

/** The Debian task: summaries against packages. */
export async function debianTask(queries: number): Promise<Task> {
  const packages = await loadDebianPackages();
  const docs: TaskDoc[] = [];
  const eligible: TaskQuery[] = [];
  for (const p of packages) {
    docs.push({ id: p.id, title: p.doc.name, text: p.doc.description });
    const words = tokenize(p.doc.description.split("\n")[0] ?? "");
    if (words.length >= MIN_QUERY_WORDS) eligible.push({ words, answer: p.id });
  }
  return { name: "debian", docs, queries: spread(eligible, queries) };
}

/** The first sense of a dictionary entry's text, and the text without it. */
export function splitFirstSense(text: string): { sense: string; rest: string } | undefined {
  const match = text.match(/(^|\s)1\. (.+?)(?=\s2\. )/);
  if (match === null) return undefined;
  const start = match.index! + match[1]!.length;
  const end = start + match[0].length - match[1]!.length;
  const rest = `${text.slice(0, start)}${text.slice(end)}`.replace(/\s+/g, " ").trim();
  return { sense: match[2]!, rest };
}

/** The GCIDE task: first senses against `documents` dictionary entries (spread over A–Z). */
export async function gcideTask(queries: number, documents = Infinity): Promise<Task> {
  const all = await loadGcide();
  const entries = Number.isFinite(documents) ? spread(all, documents) : all;
  const docs: TaskDoc[] = [];
  const eligible: TaskQuery[] = [];
  for (const e of entries) {
    const split = splitFirstSense(e.doc.text);
    docs.push({ id: e.id, title: e.doc.word, text: split?.rest ?? e.doc.text });
    const words = split === undefined ? [] : tokenize(split.sense);
    if (words.length >= MIN_QUERY_WORDS) eligible.push({ words, answer: e.id });
  }
  return { name: "gcide", docs, queries: spread(eligible, queries) };
}
