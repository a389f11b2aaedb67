/**
 * Ask round-trip latency and tell throughput, for actors in this isolate and in a worker.
 * Run: `deno task bench actors/`.
 */

import { ActorSystem } from "./system.ts";
import { type ConformanceMsg, type ConformanceReplies, createActor } from "./_conformance_actor.ts";

const system = new ActorSystem({ node: "bench" });
const local = system.spawn<ConformanceMsg, ConformanceReplies>(() => createActor(), {
  mailboxCapacity: 10_000,
});
const worker = await system.spawnWorker<ConformanceMsg, ConformanceReplies>(
  new URL("./_conformance_actor.ts", import.meta.url),
  { mailboxCapacity: 10_000 },
);
const TELLS = 1_000;

Deno.bench("ask round-trip, local actor", { group: "ask", baseline: true }, async () => {
  await local.ask({ type: "echo", value: 1 });
});

Deno.bench("ask round-trip, worker actor", { group: "ask" }, async () => {
  await worker.ask({ type: "echo", value: 1 });
});

Deno.bench(`${TELLS} tells + 1 ask, local actor`, { group: "tell", baseline: true }, async () => {
  for (let i = 0; i < TELLS; i++) local.tell({ type: "echo", value: i });
  await local.ask({ type: "echo", value: 0 });
});

Deno.bench(`${TELLS} tells + 1 ask, worker actor`, { group: "tell" }, async () => {
  for (let i = 0; i < TELLS; i++) worker.tell({ type: "echo", value: i });
  await worker.ask({ type: "echo", value: 0 });
});

globalThis.addEventListener("unload", () => {
  system.shutdown();
});
