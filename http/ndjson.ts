/**
 * NDJSON: reading a request body line by line (never holding the whole body), and the
 * streaming ingest and search endpoints built on it.
 *
 * @module
 */

import { HttpError } from "./errors.ts";
import { type Database, writeBatch } from "../node/database.ts";
import { parseBatchItem } from "../node/write_command.ts";

/** Longest line accepted in an NDJSON body, in characters. */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;
/** Most per-line errors an answer lists (the count is always exact). */
export const MAX_REPORTED_ERRORS = 1_000;

/** Yields the lines of a byte stream with their 1-based numbers; blank lines are skipped. */
export async function* lines(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new TextDecoder();
  let buffered = "";
  let line = 0;
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const text = buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
      line++;
      if (text.trim() !== "") yield { line, text };
    }
    if (buffered.length > MAX_LINE_CHARS) {
      throw new HttpError(
        413,
        "Payload too large",
        `line ${line + 1} is longer than ${MAX_LINE_CHARS} characters`,
      );
    }
  }
  buffered += decoder.decode();
  if (buffered.trim() !== "") yield { line: line + 1, text: buffered.replace(/\r$/, "") };
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
  for await (const { line, text } of lines(request.body)) {
    received++;
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
