/**
 * Reading the files `data load` sends: a JSON array, NDJSON, CSV or TSV (chosen by the
 * file's extension: `.json`, `.ndjson`/`.jsonl`, `.csv`, `.tsv`; otherwise a file starting
 * with `[` is a JSON array and anything else NDJSON). CSV and TSV have a header row;
 * quoted fields follow RFC 4180; values that read as numbers or `true`/`false` become
 * numbers and booleans, empty values are left out. Each record becomes `{id, doc}`: the id
 * from the `--id` column (or the `id` field), else the record's 1-based number.
 *
 * @module
 */

/** A document to send. */
export interface Record {
  /** The document id. */
  readonly id: string;
  /** The document. */
  readonly doc: { [key: string]: unknown };
}

/** File formats. */
export type DataFormat = "json" | "ndjson" | "csv" | "tsv";

/** The format of a file, from its name and first character. */
export function detectFormat(path: string, text: string): DataFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".tsv") || lower.endsWith(".tab")) return "tsv";
  if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) return "ndjson";
  if (lower.endsWith(".json")) return "json";
  return text.trimStart().startsWith("[") ? "json" : "ndjson";
}

/** Splits delimited text into rows of fields (RFC 4180 quoting). */
export function parseDelimited(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
      continue;
    }
    if (char === '"' && field === "") quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      field = "";
      if (row.length > 1 || row[0] !== "") rows.push(row);
      row = [];
    } else field += char;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A CSV value as JSON: numbers and booleans recognised, the rest strings. */
export function typedValue(text: string): unknown {
  if (text === "true") return true;
  if (text === "false") return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
    const number = Number(text);
    if (Number.isFinite(number) && (Number.isSafeInteger(number) || !/^-?\d+$/.test(text))) {
      return number;
    }
  }
  return text;
}

/** Reads records from a file's text. Throws with the line of the first problem. */
export function readRecords(
  path: string,
  text: string,
  options: { idColumn?: string } = {},
): Record[] {
  const format = detectFormat(path, text);
  const idColumn = options.idColumn ?? "id";
  const toRecord = (value: unknown, n: number, where: string): Record => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error(`${where}: expected an object`);
    }
    const object = value as { [key: string]: unknown };
    // NDJSON/JSON may already be {id, doc}.
    if (
      "doc" in object && typeof object.doc === "object" && object.doc !== null && "id" in object
    ) {
      return { id: String(object.id), doc: object.doc as { [key: string]: unknown } };
    }
    const { [idColumn]: id, ...doc } = object;
    return { id: id === undefined || id === "" ? String(n) : String(id), doc };
  };
  switch (format) {
    case "json": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new Error(`${path}: not valid JSON: ${(error as Error).message}`);
      }
      if (!Array.isArray(parsed)) {
        throw new Error(`${path}: a JSON file must hold an array of objects`);
      }
      return parsed.map((value, i) => toRecord(value, i + 1, `${path}: item ${i + 1}`));
    }
    case "ndjson": {
      const records: Record[] = [];
      text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          throw new Error(`${path}:${i + 1}: not valid JSON: ${(error as Error).message}`);
        }
        records.push(toRecord(value, records.length + 1, `${path}:${i + 1}`));
      });
      return records;
    }
    case "csv":
    case "tsv": {
      const rows = parseDelimited(text, format === "csv" ? "," : "\t");
      const [header, ...body] = rows;
      if (header === undefined) return [];
      if (options.idColumn !== undefined && !header.includes(options.idColumn)) {
        throw new Error(`${path}: no column "${options.idColumn}" (columns: ${header.join(", ")})`);
      }
      return body.map((row, i) => {
        if (row.length !== header.length) {
          throw new Error(
            `${path}: row ${i + 2} has ${row.length} fields, the header has ${header.length}`,
          );
        }
        const object: { [key: string]: unknown } = {};
        header.forEach((name, k) => {
          const value = row[k]!;
          if (value !== "") object[name] = name === idColumn ? value : typedValue(value);
        });
        return toRecord(object, i + 1, `${path}: row ${i + 2}`);
      });
    }
  }
}
