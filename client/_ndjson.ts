/**
 * NDJSON on the client side, with nothing but web APIs (Deno, Node and browsers): lines of a
 * response body as parsed values, and an iterable of values as a request body.
 *
 * @module
 */

/** Yields each non-blank line of `body` parsed as JSON. */
export async function* ndjsonValues(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffered = "";
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== "") yield JSON.parse(line);
      }
    }
    buffered += decoder.decode();
    if (buffered.trim() !== "") yield JSON.parse(buffered);
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** A byte stream of one JSON line per item, pulled as the request is sent. */
export function ndjsonBody(items: AsyncIterable<unknown> | Iterable<unknown>): ReadableStream<
  Uint8Array
> {
  const encoder = new TextEncoder();
  const iterator = Symbol.asyncIterator in items
    ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]()
    : (items as Iterable<unknown>)[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(JSON.stringify(next.value) + "\n"));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
