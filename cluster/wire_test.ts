import assert from "node:assert/strict";
import { FrameDecoder, FrameTooLargeError, WireCodec } from "./wire.ts";

Deno.test("wire: frames survive any split into chunks", () => {
  const codec = new WireCodec();
  const values = [
    { k: "ask", id: 1, name: "node", msg: { type: "get", index: "books", id: "é-1" } },
    { k: "ok", id: 1, value: { hits: Array.from({ length: 50 }, (_, i) => ({ id: `d${i}` })) } },
    { k: "err", id: 2, error: { name: "IndexNotFoundError", message: "no index" } },
    "",
    [1.5, -3, 2 ** 40, null, true],
  ];
  const stream = new Uint8Array(
    values.map((value) => codec.encode(value)).reduce(
      (all, frame) => [...all, ...frame],
      [] as number[],
    ),
  );
  for (let round = 0; round < 200; round++) {
    const decoder = new FrameDecoder(codec);
    const out: unknown[] = [];
    let at = 0;
    while (at < stream.length) {
      const size = 1 + Math.floor(Math.random() * (round % 2 === 0 ? 7 : 400));
      out.push(...decoder.push(stream.subarray(at, at + size)));
      at += size;
    }
    assert.deepEqual(out, values);
  }
});

Deno.test("wire: a frame over the limit is refused on both sides", () => {
  const small = new WireCodec({ maxFrameBytes: 64 });
  assert.throws(() => small.encode({ text: "x".repeat(100) }), FrameTooLargeError);
  const big = new WireCodec().encode({ text: "x".repeat(100) });
  assert.throws(() => new FrameDecoder(small).push(big), FrameTooLargeError);
});
