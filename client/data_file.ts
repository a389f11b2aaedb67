/**
 * Reading the files `data load` sends: a JSON array, NDJSON, CSV or TSV (chosen by the
 * file's extension: `.json`, `.ndjson`/`.jsonl`, `.csv`, `.tsv`; otherwise a file starting
 * with `[` is a JSON array and anything else NDJSON). CSV and TSV have a header row;
 * quoted fields follow RFC 4180 (bad quoting is an error naming its line; a BOM is
 * dropped); a column whose every non-empty cell reads as a number becomes numbers, one of
 * only `true`/`false` booleans, any other column stays strings (typed by column, never by
 * cell); empty values are left out. Files are streamed (`openDataFile`). Each record becomes `{id, doc}`: the id
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

/** Bad quoting or shape in a delimited file, with the line it was found on. */
export class DataFileError extends Error {
  override readonly name = "DataFileError";
}

/**
 * An incremental RFC 4180 parser: text goes in chunk by chunk, complete rows come out with
 * the line each one started on. A leading BOM is dropped. Bad quoting is an error naming
 * its line: a quote inside an unquoted field, text right after a closing quote, a quoted
 * field never closed.
 */
export class DelimitedParser {
  readonly #delimiter: string;
  #row: string[] = [];
  #field = "";
  #quoted = false;
  /** The last character closed a quoted field; only a delimiter or a newline may follow. */
  #closed = false;
  #pendingCr = false;
  #line = 1;
  #rowLine = 1;
  #quoteLine = 1;
  #started = false;

  readonly #where: string;

  /** `source` (a file name) prefixes the line in error messages. */
  constructor(delimiter: string, source?: string) {
    this.#delimiter = delimiter;
    this.#where = source === undefined ? "" : `${source}: `;
  }

  /** Parses `text`; calls `onRow` for each complete non-empty row. */
  push(text: string, onRow: (row: string[], line: number) => void): void {
    if (!this.#started && text !== "") {
      this.#started = true;
      if (text.startsWith("\uFEFF")) text = text.slice(1);
    }
    for (let i = 0; i < text.length; i++) {
      const char = text[i]!;
      if (this.#pendingCr) {
        this.#pendingCr = false;
        if (char === "\n") continue; // the \n of a \r\n already ended the row
      }
      if (this.#quoted) {
        this.#inQuotes(char);
        continue;
      }
      if (char === "\n" || char === "\r") {
        this.#pendingCr = char === "\r";
        this.#endRow(onRow);
        this.#line++;
        this.#rowLine = this.#line;
      } else if (char === this.#delimiter) {
        this.#row.push(this.#field);
        this.#field = "";
        this.#closed = false;
      } else if (this.#closed && char === '"') {
        // A doubled quote inside a quoted field: one quote, and the field goes on.
        this.#field += '"';
        this.#quoted = true;
        this.#closed = false;
      } else if (this.#closed) {
        throw new DataFileError(
          `${this.#where}line ${this.#line}: text after a closing quote (${JSON.stringify(char)})`,
        );
      } else if (char === '"') {
        if (this.#field !== "") {
          throw new DataFileError(
            `${this.#where}line ${this.#line}: a quote inside an unquoted field (quote the whole field and double the quote)`,
          );
        }
        this.#quoted = true;
        this.#quoteLine = this.#line;
      } else this.#field += char;
    }
  }

  #inQuotes(char: string): void {
    if (char === '"') {
      this.#quoted = false;
      this.#closed = true;
      return;
    }
    if (char === "\n") this.#line++;
    this.#field += char;
  }

  /** Ends the input; calls `onRow` for a last row without a newline. */
  end(onRow: (row: string[], line: number) => void): void {
    if (this.#quoted) {
      throw new DataFileError(
        `${this.#where}line ${this.#quoteLine}: a quoted field is never closed`,
      );
    }
    this.#endRow(onRow);
  }

  #endRow(onRow: (row: string[], line: number) => void): void {
    this.#row.push(this.#field);
    const row = this.#row;
    this.#row = [];
    this.#field = "";
    this.#closed = false;
    if (row.length > 1 || row[0] !== "") onRow(row, this.#rowLine);
  }
}

/** Splits delimited text into rows of fields (RFC 4180 quoting). */
export function parseDelimited(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  const parser = new DelimitedParser(delimiter);
  parser.push(text, (row) => rows.push(row));
  parser.end((row) => rows.push(row));
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

/** What a CSV column holds: every non-empty cell a number, every one a boolean, or text. */
export type ColumnKind = "number" | "boolean" | "string";

/**
 * Types the columns of a delimited file from all their cells, not cell by cell: a column
 * is numbers only when every non-empty cell reads as one (zip codes `90210` and `02134`
 * in one column stay strings, both), booleans only when every one is `true`/`false`.
 */
export class ColumnTypes {
  readonly #numbers: boolean[];
  readonly #booleans: boolean[];
  readonly #skip: number;

  constructor(columns: number, idIndex: number) {
    this.#numbers = new Array(columns).fill(true);
    this.#booleans = new Array(columns).fill(true);
    this.#skip = idIndex;
  }

  /** Looks at one row's cells. */
  observe(row: readonly string[]): void {
    row.forEach((cell, k) => {
      if (cell === "" || k === this.#skip) return;
      const value = typedValue(cell);
      if (typeof value !== "number") this.#numbers[k] = false;
      if (typeof value !== "boolean") this.#booleans[k] = false;
    });
  }

  /** The kind of every column (the id column is a string). */
  kinds(): ColumnKind[] {
    return this.#numbers.map((number, k) =>
      k === this.#skip ? "string" : number ? "number" : this.#booleans[k] ? "boolean" : "string"
    );
  }
}

function cellValue(kind: ColumnKind, text: string): unknown {
  return kind === "string" ? text : typedValue(text);
}

/** The record of one CSV/TSV row, typed by its column's kind. */
function delimitedRecord(
  table: { header: readonly string[]; kinds: readonly ColumnKind[]; idColumn: string },
  row: readonly string[],
  n: number,
): Record {
  const doc: { [key: string]: unknown } = {};
  let id: string | undefined;
  table.header.forEach((name, k) => {
    const value = row[k]!;
    if (value === "") return;
    if (name === table.idColumn) id = value;
    else doc[name] = cellValue(table.kinds[k]!, value);
  });
  return { id: id ?? String(n), doc };
}

function checkRow(
  path: string,
  header: readonly string[],
  row: readonly string[],
  n: number,
  line: number,
) {
  if (row.length !== header.length) {
    throw new DataFileError(
      `${path}:${line}: row ${n + 1} has ${row.length} fields, the header has ${header.length}`,
    );
  }
}

function checkIdColumn(path: string, header: readonly string[], idColumn: string | undefined) {
  if (idColumn !== undefined && !header.includes(idColumn)) {
    throw new DataFileError(`${path}: no column "${idColumn}" (columns: ${header.join(", ")})`);
  }
}

/** An object read from JSON/NDJSON as a record: `{id, doc}` as is, else the id taken out. */
function objectRecord(value: unknown, n: number, where: string, idColumn: string): Record {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DataFileError(`${where}: expected an object`);
  }
  const object = value as { [key: string]: unknown };
  // NDJSON/JSON may already be {id, doc}.
  if (
    Object.hasOwn(object, "doc") && typeof object.doc === "object" && object.doc !== null &&
    Object.hasOwn(object, "id")
  ) {
    return { id: String(object.id), doc: object.doc as { [key: string]: unknown } };
  }
  const { [idColumn]: id, ...doc } = object;
  return { id: id === undefined || id === "" ? String(n) : String(id), doc };
}

/** Reads records from a file's text. Throws with the line of the first problem. */
export function readRecords(
  path: string,
  text: string,
  options: { idColumn?: string } = {},
): Record[] {
  const format = detectFormat(path, text);
  const idColumn = options.idColumn ?? "id";
  switch (format) {
    case "json":
      return jsonRecords(path, text, idColumn);
    case "ndjson": {
      const records: Record[] = [];
      text.split("\n").forEach((line, i) => {
        const record = ndjsonRecord(path, line, i + 1, records.length + 1, idColumn);
        if (record !== undefined) records.push(record);
      });
      return records;
    }
    case "csv":
    case "tsv": {
      const rows: Array<{ row: string[]; line: number }> = [];
      const parser = new DelimitedParser(format === "csv" ? "," : "\t", path);
      const onRow = (row: string[], line: number) => rows.push({ row, line });
      parser.push(text, onRow);
      parser.end(onRow);
      const [first, ...body] = rows;
      if (first === undefined) return [];
      const header = first.row;
      checkIdColumn(path, header, options.idColumn);
      const types = new ColumnTypes(header.length, header.indexOf(idColumn));
      body.forEach(({ row, line }, i) => {
        checkRow(path, header, row, i + 1, line);
        types.observe(row);
      });
      const table = { header, kinds: types.kinds(), idColumn };
      return body.map(({ row }, i) => delimitedRecord(table, row, i + 1));
    }
  }
}

function jsonRecords(path: string, text: string, idColumn: string): Record[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw new DataFileError(`${path}: a JSON file must hold an array of objects`);
  }
  return parsed.map((value, i) => objectRecord(value, i + 1, `${path}: item ${i + 1}`, idColumn));
}

function ndjsonRecord(
  path: string,
  text: string,
  line: number,
  n: number,
  idColumn: string,
): Record | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataFileError(`${path}:${line}: not valid JSON: ${(error as Error).message}`);
  }
  return objectRecord(value, n, `${path}:${line}`, idColumn);
}

/** A data file opened for streaming: its record count, and its records read on demand. */
export interface DataFile {
  readonly format: DataFormat;
  /** How many records it holds (counted by a first pass). */
  readonly total: number;
  /** The records, read from the file as they are pulled. */
  records(): AsyncGenerator<Record>;
}

/** Decoded text chunks of a file, read as a stream (a BOM is kept for the parser to drop). */
async function* textChunks(path: string): AsyncGenerator<string> {
  const file = await Deno.open(path, { read: true });
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  for await (const chunk of file.readable) yield decoder.decode(chunk, { stream: true });
  const tail = decoder.decode();
  if (tail !== "") yield tail;
}

/** The rows of a delimited file with their lines, streamed. */
async function* delimitedRows(path: string, delimiter: string) {
  const parser = new DelimitedParser(delimiter, path);
  let rows: Array<{ row: string[]; line: number }> = [];
  const onRow = (row: string[], line: number) => rows.push({ row, line });
  for await (const text of textChunks(path)) {
    parser.push(text, onRow);
    yield* rows;
    rows = [];
  }
  parser.end(onRow);
  yield* rows;
}

/** The lines of a file with their numbers, streamed. */
async function* fileLines(path: string): AsyncGenerator<{ text: string; line: number }> {
  let pending = "";
  let line = 0;
  for await (const text of textChunks(path)) {
    const parts = (pending + text).split("\n");
    pending = parts.pop()!;
    for (const part of parts) yield { text: part, line: ++line };
  }
  if (pending !== "") yield { text: pending, line: ++line };
}

/**
 * Opens a data file for streaming: CSV/TSV in two passes (the first types the columns and
 * counts the rows, the second yields the records), NDJSON line by line (a first pass
 * counts them). A JSON array is one value and is read whole.
 */
export async function openDataFile(
  path: string,
  options: { idColumn?: string } = {},
): Promise<DataFile> {
  const idColumn = options.idColumn ?? "id";
  let first = "";
  for await (const text of textChunks(path)) {
    first = text.slice(0, 64);
    break;
  }
  const format = detectFormat(path, first.replace(/^\uFEFF/, ""));
  if (format === "json") {
    const records = jsonRecords(
      path,
      (await Deno.readTextFile(path)).replace(/^\uFEFF/, ""),
      idColumn,
    );
    return {
      format,
      total: records.length,
      records: async function* () {
        yield* records;
      },
    };
  }
  if (format === "ndjson") {
    let total = 0;
    for await (const { text, line } of fileLines(path)) {
      if (
        ndjsonRecord(path, text.replace(/^\uFEFF/, ""), line, total + 1, idColumn) !== undefined
      ) total++;
    }
    return {
      format,
      total,
      records: async function* () {
        let n = 0;
        for await (const { text, line } of fileLines(path)) {
          const record = ndjsonRecord(path, text.replace(/^\uFEFF/, ""), line, n + 1, idColumn);
          if (record !== undefined) {
            n++;
            yield record;
          }
        }
      },
    };
  }
  return await openDelimited(path, format, options.idColumn);
}

async function openDelimited(
  path: string,
  format: "csv" | "tsv",
  requestedId: string | undefined,
): Promise<DataFile> {
  const idColumn = requestedId ?? "id";
  const delimiter = format === "csv" ? "," : "\t";
  let header: string[] | undefined;
  let types: ColumnTypes | undefined;
  let total = 0;
  for await (const { row, line } of delimitedRows(path, delimiter)) {
    if (header === undefined) {
      header = row;
      checkIdColumn(path, header, requestedId);
      types = new ColumnTypes(header.length, header.indexOf(idColumn));
      continue;
    }
    total++;
    checkRow(path, header, row, total, line);
    types!.observe(row);
  }
  const table = { header: header ?? [], kinds: types?.kinds() ?? [], idColumn };
  return {
    format,
    total,
    records: async function* () {
      let n = -1;
      for await (const { row } of delimitedRows(path, delimiter)) {
        if (++n > 0) yield delimitedRecord(table, row, n);
      }
    },
  };
}
