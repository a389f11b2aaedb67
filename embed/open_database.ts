/**
 * The embedded database: the engine `cameodb serve` runs — microshards in Web Workers, group
 * commit, recovery, the node's schemas, the router and its executor — opened in this process,
 * behind the same typed {@linkcode Database} interface as the HTTP client (`connect(url)`).
 *
 * One path, not two: every call is a `Request` handed to the same handler the server serves,
 * without a socket, so the embedded database answers exactly what a server answers (shapes,
 * statuses, errors rebuilt as the same classes) and one conformance suite checks both. The
 * price is a JSON encoding per call; there is no network, no port and no key.
 *
 * @example
 * ```ts
 * import { openDatabase } from "./open_database.ts";
 *
 * const path = await Deno.makeTempDir();
 * const db = await openDatabase({ path, shards: 2 });
 * const books = db.index<{ title: string; year: number }>("books");
 * await books.put({ id: "b1", doc: { title: "Rust Programming", year: 2019 } });
 * const answer = await books.search({ query: "title:rust" });
 * if (answer.hits[0]?.id !== "b1") throw new Error("not found");
 * await db.close();
 * await Deno.remove(path, { recursive: true });
 * ```
 *
 * @module
 */

import { ActorSystem } from "../actors/system.ts";
import { connect } from "../client/connect.ts";
import type { Database } from "../client/database.ts";
import { createHandler, type Health } from "../http/handler.ts";
import { DEFAULT_MAX_BODY_BYTES } from "../http/handler.ts";
import { loadNodeId } from "../node/identity.ts";
import { startNode } from "../node/start.ts";
import { prepareDataDir } from "../node/startup_error.ts";
import type { EngineName } from "../storage/search_index.ts";

/** Microshards of a new embedded database. */
export const DEFAULT_EMBEDDED_SHARDS = 4;
/** The base URL of the in-process handler (never dialed: no socket is opened). */
const EMBEDDED_URL = "http://localhost/";

/** Options of {@linkcode openDatabase}. */
export interface OpenDatabaseOptions {
  /** The data directory (created if missing; one process at a time: it is locked). */
  readonly path: string;
  /** The engine of indexes created without one; `fts5` by default. */
  readonly engine?: EngineName;
  /** Microshards of a new database (an existing one keeps its count); 4 by default. */
  readonly shards?: number;
  /** Memory the search indexes may hold per shard before writes are refused, in MB. */
  readonly memoryLimitMbPerShard?: number;
  /** Hits returned without a limit (10) and the largest limit accepted (10,000). */
  readonly defaultSearchLimit?: number;
  readonly maxSearchLimit?: number;
  /** Largest request (a bulk, a document), in bytes; 100 MB by default. */
  readonly maxBodyBytes?: number;
}

/**
 * Opens (or creates) a database in `path`, in this process. `close()` stops its workers and
 * releases the directory.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (typeof (Deno as { openKv?: unknown }).openKv !== "function") {
    throw new Error(
      'openDatabase() needs Deno KV: run with --unstable-kv (or "unstable": ["kv"] in deno.json)',
    );
  }
  const lock = await prepareDataDir(options.path);
  const nodeId = await loadNodeId(options.path);
  const system = new ActorSystem({ node: nodeId });
  try {
    const { orchestrator, database } = await startNode(system, {
      nodeId,
      dataDir: options.path,
      numShards: options.shards ?? DEFAULT_EMBEDDED_SHARDS,
      ...(options.engine === undefined ? {} : { defaultEngine: options.engine }),
      ...(options.memoryLimitMbPerShard === undefined
        ? {}
        : { memoryLimitBytes: options.memoryLimitMbPerShard * 1024 * 1024 }),
      searchLimits: {
        ...(options.defaultSearchLimit === undefined
          ? {}
          : { defaultLimit: options.defaultSearchLimit }),
        ...(options.maxSearchLimit === undefined ? {} : { maxLimit: options.maxSearchLimit }),
      },
    });
    const health = (): Health => ({
      status: "green",
      node_id: nodeId,
      node_name: "embedded",
      cluster_name: "",
      cluster_enabled: false,
      total_nodes: 1,
      connected_nodes: 1,
      active_shards: orchestrator.shardCount,
      total_indexes: orchestrator.indexCount,
    });
    const handler = createHandler({ health, database, nodeId }, {
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      log: (error) => console.error("embedded database: unexpected error:", error),
    });
    const client = connect(EMBEDDED_URL, {
      fetch: (input, init) => handler(new Request(input, init)),
    });
    return embedded(client, async () => {
      await system.shutdown();
      lock.release();
    });
  } catch (error) {
    await system.shutdown();
    lock.release();
    throw error;
  }
}

/** The client over the in-process handler, whose `close()` also stops the engine (once). */
function embedded(client: Database, stop: () => Promise<void>): Database {
  let stopping: Promise<void> | undefined;
  return {
    index: (name) => client.index(name),
    indexes: () => client.indexes(),
    health: () => client.health(),
    close: () => stopping ??= client.close().then(stop),
  };
}
