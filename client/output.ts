/**
 * A command's result as data, and its three renderings: plain (tab-separated lines, for scripts
 * and the one-shot form), aligned (padded columns, for a person at a terminal) and JSON (the
 * server's answer, one value a line).
 *
 * @module
 */

/** A result: a table with a header, or lines of text; `data` is the answer behind it. */
export type Output =
  | {
    kind: "table";
    /** A line before the table. */
    title?: string;
    header: string[];
    /** Whether plain output prints the header (false where scripts read rows only). */
    plainHeader?: boolean;
    rows: string[][];
    /** A line after the table. */
    note?: string;
    data: unknown;
  }
  | { kind: "lines"; lines: string[]; data: unknown };

/** How results are shown. */
export type OutputFormat = "plain" | "aligned" | "json";

/** Every format's name. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["plain", "aligned", "json"];

/** Plain lines: tab-separated rows (the one-shot client's output). */
export function plainLines(output: Output): string[] {
  if (output.kind === "lines") return output.lines;
  return [
    ...(output.title === undefined ? [] : [output.title]),
    ...(output.plainHeader === false ? [] : [output.header.join("\t")]),
    ...output.rows.map((row) => row.join("\t")),
    ...(output.note === undefined ? [] : [output.note]),
  ];
}

/** Columns padded to their widest cell, the header underlined; the last column is not padded. */
export function alignedLines(output: Output): string[] {
  if (output.kind === "lines") return output.lines.map((line) => line.replaceAll("\t", "  "));
  const widths = output.header.map((cell, column) =>
    Math.max(cell.length, ...output.rows.map((row) => (row[column] ?? "").length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) =>
      column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)
    ).join("  ").trimEnd();
  return [
    ...(output.title === undefined ? [] : [output.title]),
    line(output.header),
    line(widths.map((width) => "-".repeat(width))),
    ...output.rows.map(line),
    ...(output.note === undefined ? [] : [output.note]),
  ];
}

/** The lines `output` prints in `format`. */
export function formatOutput(output: Output, format: OutputFormat): string[] {
  switch (format) {
    case "plain":
      return plainLines(output);
    case "aligned":
      return alignedLines(output);
    case "json":
      return [JSON.stringify(output.data)];
  }
}

/** A terminal progress bar with documents per second. */
export function progressBar(done: number, total: number, docsPerSecond: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${
    " ".repeat(width - filled)
  }] ${done}/${total} docs, ${docsPerSecond} docs/s`;
}
