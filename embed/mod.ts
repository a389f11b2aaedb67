/**
 * The embedded database: `openDatabase({ path })`, the server's engine in this process behind
 * the same typed interface as `connect(url)`.
 *
 * @module
 */

export {
  DEFAULT_EMBEDDED_SHARDS,
  openDatabase,
  type OpenDatabaseOptions,
} from "./open_database.ts";
