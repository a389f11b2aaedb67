import assert from "node:assert/strict";
import { MalformedFrameError } from "./errors.ts";
import {
  MAX_VALUE_DEPTH,
  parseAnswerFrame,
  parseHello,
  parseRequestFrame,
} from "./frame_schema.ts";

const info = {
  nodeId: "n1",
  name: "one",
  clusterName: "c",
  peerId: "12D3KooW",
  addrs: ["/ip4/127.0.0.1/tcp/1/p2p/12D3KooW"],
  http: "http://127.0.0.1:1",
  shardCount: 4,
};

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

Deno.test("frame schema: well-formed requests and answers pass unchanged", () => {
  const ask = { k: "ask", id: 3, name: "node", msg: { type: "get", id: "a" }, timeoutMs: 2_000 };
  assert.deepEqual(parseRequestFrame(ask), ask);
  assert.deepEqual(parseRequestFrame({ k: "resolve", id: 1, name: "node" }), {
    k: "resolve",
    id: 1,
    name: "node",
  });
  assert.deepEqual(parseAnswerFrame({ k: "ok", id: 1, value: { a: [1] } }), {
    k: "ok",
    id: 1,
    value: { a: [1] },
  });
  const hello = { info, members: [info], schemas: [] };
  assert.deepEqual(parseHello(hello), hello);
});

Deno.test("frame schema: nil, wrong types, unknown kinds and deep nesting are refused", () => {
  const bad: unknown[] = [
    null,
    7,
    [],
    { k: "ask", id: "1", name: "node", msg: { type: "get" }, timeoutMs: 1 },
    { k: "ask", id: 1, name: "node", msg: null, timeoutMs: 1 },
    { k: "ask", id: 1, name: "node", msg: { type: 5 }, timeoutMs: 1 },
    { k: "ask", id: 1, name: "node", msg: { type: "get" }, timeoutMs: -1 },
    { k: "ask", id: 1, name: "x".repeat(1_000), msg: { type: "get" }, timeoutMs: 1 },
    { k: "nuke", id: 1, name: "node" },
    { k: "tell", id: 1, name: "node", msg: { type: "put", doc: nested(MAX_VALUE_DEPTH + 5) } },
  ];
  for (const frame of bad) {
    assert.throws(() => parseRequestFrame(frame), MalformedFrameError, JSON.stringify(frame));
  }
  assert.throws(() => parseAnswerFrame({ k: "err", id: 1, error: null }), MalformedFrameError);
  assert.throws(() => parseAnswerFrame({ k: "maybe", id: 1 }), MalformedFrameError);
  assert.throws(
    () => parseHello({ info: { ...info, shardCount: "4" }, members: [], schemas: [] }),
    MalformedFrameError,
  );
  assert.throws(
    () => parseHello({ info, members: Array(2_000).fill(info), schemas: [] }),
    MalformedFrameError,
  );
});

Deno.test("frame schema: a hello's membership records are checked; a hello without them passes", () => {
  const record = {
    nodeId: info.nodeId,
    peerId: info.peerId,
    addrs: [],
    state: "up",
    version: [3, info.nodeId],
  };
  const hello = { info, members: [], schemas: [], records: [record] };
  assert.deepEqual(parseHello(hello), hello);
  for (const bad of [{ ...record, state: "owner" }, { ...record, version: [1.5, "x"] }, "x"]) {
    assert.throws(
      () => parseHello({ ...hello, records: [bad] }),
      MalformedFrameError,
      JSON.stringify(bad),
    );
  }
  assert.throws(
    () => parseHello({ ...hello, records: Array(2_000).fill(record) }),
    MalformedFrameError,
  );
});
