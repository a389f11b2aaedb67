import assert from "node:assert/strict";
import type { Stream } from "@libp2p/interface";
import { FrameLink } from "./link.ts";
import { RemoteClient } from "./remote_client.ts";
import { NodeUnavailableError } from "./errors.ts";
import { WireCodec } from "./wire.ts";

/** A stream whose peer is gone: every write throws, as libp2p's does on a closed stream. */
function closedStream(): Stream {
  return {
    addEventListener() {},
    send() {
      throw new Error("Cannot write to a stream that is closed");
    },
    abort() {},
    onDrain: () => Promise.resolve(),
    close: () => Promise.resolve(),
  } as unknown as Stream;
}

Deno.test("RemoteClient.request() rejects once, and leaves no unhandled rejection, when the write throws", async () => {
  // Found by the Jepsen-style suite: a node crashed with "Uncaught (in promise)
  // NodeUnavailableError: … cannot send: Cannot write to a stream that is closed" while a
  // node joined. The failed write closed the link, whose close listener rejected the
  // request's pending promise, which nobody held: an unhandled rejection ends a Deno process
  // (and fails this test).
  const client = await RemoteClient.open(
    "peer-x",
    (onFrame) => Promise.resolve(new FrameLink(closedStream(), new WireCodec(), onFrame)),
  );
  await assert.rejects(
    client.request({ k: "ask", name: "node", msg: { type: "get" }, timeoutMs: 1_000 }),
    (error: Error) => error instanceof NodeUnavailableError && /cannot send/.test(error.message),
  );
  // Once closed, later requests fail at once too.
  await assert.rejects(client.request({ k: "resolve", name: "node" }), NodeUnavailableError);
});
