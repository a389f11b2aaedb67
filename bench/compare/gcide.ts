/**
 * The GCIDE dictionary (Debian's `dict-gcide`) as JSON documents: one per headword, with
 * the entry's text, its sources, and counts. Read from `/usr/share/dictd/gcide.{index,dict.dz}`
 * (the index gives each entry's offset and length in dictd's base-64 digits; the dictionary
 * is gzip-compatible dictzip).
 *
 * @module
 */

const DIR = "/usr/share/dictd";
const DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** One dictionary entry as a document. */
export interface GcideDoc {
  id: string;
  doc: {
    word: string;
    text: string;
    sources: string[];
    stats: { chars: number; lines: number; senses: number };
  };
}

/** A number in dictd's base-64 digits (most significant first). */
export function dictdNumber(text: string): number {
  let value = 0;
  for (const char of text) value = value * 64 + DIGITS.indexOf(char);
  return value;
}

/** Whether the dictionary is installed. */
export async function gcideInstalled(): Promise<boolean> {
  try {
    await Deno.stat(`${DIR}/gcide.index`);
    return true;
  } catch {
    return false;
  }
}

/** Reads up to `limit` entries (skipping the `00-database-*` header entries). */
export async function loadGcide(limit = Infinity): Promise<GcideDoc[]> {
  const index = await Deno.readTextFile(`${DIR}/gcide.index`);
  const compressed = await Deno.open(`${DIR}/gcide.dict.dz`);
  const text = new Uint8Array(
    await new Response(compressed.readable.pipeThrough(new DecompressionStream("gzip")))
      .arrayBuffer(),
  );
  const decoder = new TextDecoder();
  const docs: GcideDoc[] = [];
  const seen = new Set<string>();
  for (const line of index.split("\n")) {
    if (docs.length >= limit) break;
    const [word, offset, length] = line.split("\t");
    if (word === undefined || offset === undefined || length === undefined) continue;
    if (word.startsWith("00-") || seen.has(word.toLowerCase())) continue;
    seen.add(word.toLowerCase());
    const start = dictdNumber(offset);
    const entry = decoder.decode(text.subarray(start, start + dictdNumber(length))).trim();
    const body = entry.split("\n").map((l) => l.trim()).join("\n").trim();
    const sources = [
      ...new Set(
        [...body.matchAll(
          /\[(1913 Webster|WordNet[^\]]*|PJC|Century Dict\.|Webster 1913 Suppl\.)\]/g,
        )]
          .map((m) => m[1]!),
      ),
    ];
    docs.push({
      id: `gcide:${word}`,
      doc: {
        word,
        text: body.replace(/\[(1913 Webster|WordNet[^\]]*|PJC)\]/g, "").replace(/\s+/g, " ").trim(),
        sources,
        stats: {
          chars: body.length,
          lines: body.split("\n").length,
          senses: (body.match(/(^|\s)\d+\. /g) ?? []).length,
        },
      },
    });
  }
  return docs;
}
