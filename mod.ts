/**
 * CameoDB for Deno: a durable key-value store, a JSON document model and full-text search
 * in one engine, built on a small typed actor system.
 *
 * This module is the public API. Today it exports the actor runtime and the HTTP layer;
 * the storage engine, the query language and the cluster join it issue by issue.
 *
 * @example Ask an actor
 * ```ts
 * import { ActorSystem } from "./mod.ts";
 *
 * type Msg = { type: "greet"; name: string };
 * type Replies = { greet: string };
 *
 * const system = new ActorSystem();
 * const greeter = system.spawn<Msg, Replies>(() => ({
 *   receive: (msg) => `hello, ${msg.name}`,
 * }));
 * const reply: string = await greeter.ask({ type: "greet", name: "deno" }, { timeoutMs: 1_000 });
 * if (reply !== "hello, deno") throw new Error(reply);
 * await system.shutdown();
 * ```
 *
 * @module
 */

export * from "./actors/mod.ts";
export * from "./http/mod.ts";
export * from "./security/mod.ts";
export { VERSION } from "./version.ts";
export * from "./storage/mod.ts";
export * from "./query/mod.ts";
