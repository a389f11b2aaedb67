/**
 * NDJSON: reading a request body line by line (never holding the whole body), and the
 * streaming ingest and search endpoints built on it.
 *
 * @module
 */

import { HttpError } from "./errors.ts";
import { type Database, writeBatch } from "../node/database.ts";
import { parseBatchItem } from "../node/write_command.ts";

/** Longest line accepted in an NDJSON body by default, in bytes (`max_line_size_mb`). */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Most per-line errors an answer lists (the count is always exact). */
export const MAX_REPORTED_ERRORS = 1_000;
/** After parsing this many bytes of lines, ingest yields to the event loop once. */
export const PARSE_SLICE_BYTES = 256 * 1024;

const NEWLINE = 0x0a;

/**
 * Yields the lines of a byte stream with their 1-based numbers; blank lines are skipped.
 * Each byte is scanned once: a chunk is searched for newlines from where the last one
 * ended, and the bytes of an unfinished line are kept as chunks, joined and decoded only
 * when the line ends. A line longer than `maxLineBytes` is answered 413 as soon as it
 * passes the bound, without reading the rest.
 */
export async function* lines(
  body: ReadableStream<Uint8Array>,
  options: { maxLineBytes?: number } = {},
): AsyncGenerator<{ line: number; text: string; bytes: number }> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const decoder = new TextDecoder();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let line = 0;
  const finish = (tail: Uint8Array) => {
    const bytes = pendingBytes + tail.length;
    const whole = pending.length === 0 ? tail : concat([...pending, tail], bytes);
    pending = [];
    pendingBytes = 0;
    line++;
    let text = decoder.decode(whole);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    return { line, text, bytes };
  };
  for await (const chunk of body) {
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(NEWLINE, start)) >= 0) {
      if (pendingBytes + newline - start > maxLineBytes) throw tooLong(line + 1, maxLineBytes);
      const next = finish(chunk.subarray(start, newline));
      if (next.text.trim() !== "") yield next;
      start = newline + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.slice(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > maxLineBytes) throw tooLong(line + 1, maxLineBytes);
    }
  }
  if (pendingBytes > 0) {
    const last = finish(new Uint8Array(0));
    if (last.text.trim() !== "") yield last;
  }
}

function tooLong(line: number, maxLineBytes: number): HttpError {
  return new HttpError(
    413,
    "Payload too large",
    `line ${line} is longer than ${maxLineBytes} bytes (max_line_size_mb)`,
  );
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const whole = new Uint8Array(bytes);
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}

/** Lets the event loop run (health checks, other requests) between parse slices. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * `POST /api/{index}/document/stream`: one `{id, routing_key?, doc}` per line, written in
 * batches of `batchSize` as they arrive; the next batch is read only once the previous one
 * is written (backpressure).
 */
export async function ingestStream(
  db: Database,
  index: string,
  request: Request,
  batchSize: number,
  options: { maxLineBytes?: number } = {},
): Promise<Record<string, unknown>> {
  if (request.body === null) throw new HttpError(400, "Bad request", "an NDJSON body is expected");
  const errors: string[] = [];
  let errorCount = 0;
  let written = 0;
  let received = 0;
  let batches = 0;
  const note = (message: string) => {
    errorCount++;
    if (errors.length < MAX_REPORTED_ERRORS) errors.push(message);
  };
  let batch: Array<{ line: number; item: Record<string, unknown> }> = [];
  const flush = async () => {
    if (batch.length === 0) return;
    batches++;
    const outcomes = await writeBatch(
      db,
      batch.map(({ item }) => parseBatchItem("put", index, item)),
    );
    outcomes.forEach((outcome, k) => {
      if (outcome.ok) written++;
      else note(`line ${batch[k]!.line}: ${outcome.error.message}`);
    });
    batch = [];
  };
  let sliceBytes = 0;
  for await (const { line, text, bytes } of lines(request.body, options)) {
    received++;
    // Parsing is synchronous: yield between slices so one big body cannot hold the thread.
    sliceBytes += bytes;
    if (sliceBytes >= PARSE_SLICE_BYTES) {
      sliceBytes = 0;
      await yieldToEventLoop();
    }
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch (error) {
      note(`line ${line}: not valid JSON: ${(error as Error).message}`);
      continue;
    }
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      note(`line ${line}: expected an object {id, routing_key?, doc}`);
      continue;
    }
    batch.push({ line, item: item as Record<string, unknown> });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return {
    status: errorCount === 0 ? "ok" : "partial",
    items_written: written,
    lines_received: received,
    batches,
    errors,
    ...(errorCount > errors.length ? { errors_total: errorCount } : {}),
  };
}

/**
 * `POST /api/{index}/search/stream`: one hit per line, each merged from the shard pages
 * when the client is ready for it (the stream's pull), then a `{"_footer": {…}}` line.
 */
export function searchStream(
  answer: { hits: Iterable<unknown>; footer(): Record<string, unknown> },
): Response {
  const encoder = new TextEncoder();
  const hits = answer.hits[Symbol.iterator]();
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = hits.next();
      if (!next.done) {
        controller.enqueue(encoder.encode(JSON.stringify(next.value) + "\n"));
        return;
      }
      controller.enqueue(encoder.encode(JSON.stringify({ _footer: answer.footer() }) + "\n"));
      controller.close();
    },
  });
  return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
}
