import assert from "node:assert/strict";
import { BufferBudget } from "./buffer_budget.ts";
import { MalformedFrameError } from "./errors.ts";
import { FrameBudgetError, FrameDecoder, FrameTooLargeError, WireCodec } from "./wire.ts";

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

Deno.test("wire: a 2^31 length prefix is refused before any body arrives", () => {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, 2 ** 31);
  assert.throws(() => new FrameDecoder(new WireCodec()).push(head), FrameTooLargeError);
});

Deno.test("wire: unfinished frames stay within the connection's and the node's budget", () => {
  const codec = new WireCodec();
  const node = new BufferBudget(1_000);
  const connection = new BufferBudget(600, node);
  const frame = codec.encode({ text: "x".repeat(500) });
  const long = codec.encode({ text: "x".repeat(900) });
  const a = new FrameDecoder(codec, connection);
  a.push(long.subarray(0, 400));
  assert.throws(() => a.push(long.subarray(400, 700)), FrameBudgetError, "the connection's");
  assert.equal(connection.usedBytes, 400);
  const other = new FrameDecoder(codec, new BufferBudget(800, node));
  assert.throws(() => other.push(new Uint8Array(700)), FrameBudgetError, "the node's budget");
  a.dispose();
  assert.equal(node.usedBytes, 0);
  const b = new FrameDecoder(codec, connection);
  assert.deepEqual(b.push(frame), [{ text: "x".repeat(500) }]);
  assert.equal(connection.usedBytes, 0, "a completed frame gives its bytes back");
});

Deno.test("wire: a truncated or padded MessagePack body is a MalformedFrameError", () => {
  const codec = new WireCodec();
  const truncated = new Uint8Array([0, 0, 0, 3, 0x92, 0x01, 0xa5]);
  assert.throws(() => new FrameDecoder(codec).push(truncated), MalformedFrameError);
  const padded = new Uint8Array([0, 0, 0, 2, 0xc0, 0xc0]);
  assert.throws(() => new FrameDecoder(codec).push(padded), MalformedFrameError);
});
