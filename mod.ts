/**
 * CameoDB for Deno: a durable key-value store, a JSON document model and full-text search
 * in one engine, built on a small typed actor system.
 *
 * This module is the public API: `connect(url)`, the typed client of a CameoDB server (the
 * {@linkcode Database} interface, for Deno, Node and browsers), the actor runtime, the HTTP layer,
 * the storage engine and the query language.
 *
 * @example Connect to a server
 * ```ts ignore
 * import { connect } from "./mod.ts";
 *
 * const db = connect("http://127.0.0.1:9480");
 * const books = db.index<{ title: string; year: number }>("books");
 * await books.put({ id: "b1", doc: { title: "Dune", year: 1965 } });
 * const { hits } = await books.search({ query: "title:dune", fields: ["title"] });
 * await db.close();
 * ```
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
export {
  BadRequestError,
  type BulkDeleteResult,
  type BulkItemError,
  type BulkResult,
  type ConfigureResult,
  connect,
  ConnectionError,
  type ConnectOptions,
  type Database,
  DatabaseClosedError,
  DatabaseError,
  type DatabaseErrorName,
  type DatabaseHealth,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type DocumentInput,
  type DropResult,
  errorFromAnswer,
  type FacetAnswer,
  type FacetRequest,
  type FieldDeclaration,
  ForbiddenError,
  type HighlightRequest,
  type Hit,
  type HitStream,
  type IndexConfiguration,
  type IndexHandle,
  type IndexSchema,
  type IndexSummary,
  NotFoundError,
  retryAfterMs,
  type SearchAnswer,
  type SearchFooter,
  type SearchRequest,
  ServerError,
  type SortKey,
  StorageFullError,
  type StoredDocument,
  type StreamResult,
  UnauthorizedError,
  UnavailableError,
  type WriteResult,
} from "./client/mod.ts";
export * from "./embed/mod.ts";
