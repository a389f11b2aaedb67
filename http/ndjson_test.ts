import assert from "node:assert/strict";
import { lines } from "./ndjson.ts";
import { HttpError } from "./errors.ts";

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(chunks.map((chunk) => encoder.encode(chunk)));
}

async function collect(stream: ReadableStream<Uint8Array>, maxLineBytes?: number) {
  const out: Array<{ line: number; text: string }> = [];
  for await (
    const { line, text } of lines(stream, maxLineBytes === undefined ? {} : { maxLineBytes })
  ) {
    out.push({ line, text });
  }
  return out;
}

Deno.test("lines() joins lines split across chunks, drops CR and blank lines, keeps numbers", async () => {
  const got = await collect(streamOf(['{"a":', '1}\r\n\n{"b"', ":2}\n", "  \n", '{"c":"é', '"}']));
  assert.deepEqual(got, [
    { line: 1, text: '{"a":1}' },
    { line: 3, text: '{"b":2}' },
    { line: 5, text: '{"c":"é"}' },
  ]);
});

Deno.test("lines() decodes a multi-byte character split between chunks", async () => {
  const bytes = new TextEncoder().encode('"\u{1f680}"\n');
  const stream = ReadableStream.from([bytes.slice(0, 3), bytes.slice(3)]);
  assert.deepEqual(await collect(stream), [{ line: 1, text: '"\u{1f680}"' }]);
});

Deno.test("lines() refuses a line over maxLineBytes with 413, whether it ends or not", async () => {
  for (const chunks of [["ok\n", "x".repeat(6), "x".repeat(6)], ["ok\n" + "y".repeat(11) + "\n"]]) {
    const error = await collect(streamOf(chunks), 10).catch((e) => e);
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.status, 413);
    assert.match(error.details, /line 2 is longer than 10 bytes/);
  }
  assert.deepEqual(await collect(streamOf(["x".repeat(10) + "\n"]), 10), [
    { line: 1, text: "x".repeat(10) },
  ]);
});
