import assert from "node:assert/strict";
import { ExtensionCodec } from "@msgpack/msgpack";
import { hold, runActorRefConformance } from "../actors/actor_ref_conformance.ts";
import {
  type ConformanceMsg,
  type ConformanceReplies,
  createActor,
} from "../actors/_conformance_actor.ts";
import type { EscalatedFailureError } from "../actors/errors.ts";
import { ActorSystem } from "../actors/system.ts";
import type { ActorRef, Message, ReplyMap, SpawnOptions } from "../actors/types.ts";
import { NodeUnavailableError } from "./errors.ts";
import { type Exposed, serveLink } from "./remote_host.ts";
import { RemotePeerPool } from "./remote_peer_pool.ts";
import { ClusterTransport, loadClusterKey } from "./transport.ts";
import { WireCodec } from "./wire.ts";
import { generateKeyPair } from "@libp2p/crypto/keys";

// The conformance actor's gates are Int32Arrays over shared memory. Both nodes of this test
// live in one process, so a gate crosses the wire as a handle to the same memory. This
// extension exists for the test only: real nodes never share memory.
const gates = new Map<number, SharedArrayBuffer>();
const GATE_EXT = 1;
const gateCodec = new ExtensionCodec();
gateCodec.register({
  type: GATE_EXT,
  encode(value) {
    if (!(value instanceof Int32Array) || !(value.buffer instanceof SharedArrayBuffer)) return null;
    const id = gates.size + 1;
    gates.set(id, value.buffer);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, id, true);
    return bytes;
  },
  decode(data) {
    const id = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    return new Int32Array(gates.get(id)!);
  },
});

/** Two libp2p nodes on loopback: `a` asks, `b` hosts the actors. */
async function twoNodes(codec = new WireCodec({ extensionCodec: gateCodec })) {
  const escalations: Array<(error: EscalatedFailureError) => void> = [];
  const hostSystem = new ActorSystem({
    node: "node-b",
    onEscalation: (error) => escalations.shift()?.(error),
  });
  const exposed = new Map<string, Exposed>();
  const noEvents = () => {};
  const b = await ClusterTransport.start({
    host: "127.0.0.1",
    port: 0,
    privateKey: await generateKeyPair("Ed25519"),
    codec,
    onEvent: noEvents,
    onInboundLink: (link, peer) =>
      serveLink(link, (name) => exposed.get(name), { peer, allowStop: true }),
  });
  const a = await ClusterTransport.start({
    host: "127.0.0.1",
    port: 0,
    privateKey: await generateKeyPair("Ed25519"),
    codec,
    onEvent: noEvents,
    onInboundLink: (link, peer) => serveLink(link, () => undefined, { peer }),
  });
  const peerB = await a.dial(b.multiaddrs[0]!);
  const pool = new RemotePeerPool((_node, onFrame) => a.openLink(peerB, onFrame));
  pool.addNode("node-b");
  return {
    a,
    b,
    pool,
    hostSystem,
    exposed,
    escalations,
    async close() {
      await pool.close();
      await hostSystem.shutdown();
      await a.stop();
      await b.stop();
    },
  };
}

let counter = 0;

runActorRefConformance("remote", () => {
  const nodes = twoNodes();
  return {
    async spawn(options: Partial<SpawnOptions> = {}) {
      const n = await nodes;
      const name = `conformance-${++counter}`;
      const ref = n.hostSystem.spawn<ConformanceMsg, ConformanceReplies>(() => createActor(), {
        ...options,
        name,
      });
      n.exposed.set(name, {
        ref: ref as unknown as ActorRef<Message, ReplyMap<Message>>,
        mailboxCapacity: options.mailboxCapacity ?? 1_024,
      });
      return await n.pool.ref<ConformanceMsg, ConformanceReplies>("node-b", name);
    },
    async nextEscalation() {
      const n = await nodes;
      return await new Promise<EscalatedFailureError>((resolve) => n.escalations.push(resolve));
    },
    async close() {
      await (await nodes).close();
    },
  };
});

Deno.test("remote ref: a lost node fails asks in flight at once, and later ones too", async () => {
  const n = await twoNodes();
  try {
    const ref = n.hostSystem.spawn<ConformanceMsg, ConformanceReplies>(() => createActor(), {
      name: "slow",
    });
    n.exposed.set("slow", {
      ref: ref as unknown as ActorRef<Message, ReplyMap<Message>>,
      mailboxCapacity: 16,
    });
    const remote = await n.pool.ref<ConformanceMsg, ConformanceReplies>("node-b", "slow");
    assert.equal(await remote.ask({ type: "echo", value: "hi" }), "hi");
    // The handler on node-b is waiting: the ask is in flight, answered only by the lost link.
    const held = await hold(remote);
    // The rejection handler is attached before anything else is awaited: the ask may fail
    // while node-b is still stopping, and an unhandled rejection would fail the test.
    const started = performance.now();
    const failedAt = assert.rejects(held.reply, NodeUnavailableError).then(() => performance.now());
    await n.b.stop();
    const elapsed = (await failedAt) - started;
    // The ask's own timeout is 30 s: failing well before it means the lost link failed it.
    assert.ok(elapsed < 10_000, `the ask in flight failed after ${elapsed} ms, not at once`);
    await n.pool.dropNode("node-b", "lost");
    await assert.rejects(remote.ask({ type: "echo", value: 1 }), NodeUnavailableError);
    await assert.rejects(n.pool.ref("node-b", "slow"), NodeUnavailableError);
    held.release();
  } finally {
    await n.close();
  }
});

Deno.test("remote ref: an unknown actor name is refused by name", async () => {
  const n = await twoNodes();
  try {
    await assert.rejects(
      n.pool.ref("node-b", "nobody"),
      (error: Error) => error.name === "ActorNotFoundError",
    );
  } finally {
    await n.close();
  }
});

Deno.test("cluster key: kept in the data directory, the same on the next start", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await loadClusterKey(dir);
    const second = await loadClusterKey(dir);
    assert.ok(first.equals(second));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
