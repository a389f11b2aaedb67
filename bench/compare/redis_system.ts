/**
 * Redis 7 as Debian ships it (`redis-server`), a separate server on loopback started by the
 * suite: documents as JSON strings under their id (`SET`, bulks as `MSET`), point reads as
 * `GET` + `JSON.parse`. The append-only file is on, with `appendfsync always` (every write
 * fsynced before the answer, as CameoDB's acknowledgement is) or `everysec` (up to a second
 * of acknowledged writes lost on a crash). No RDB snapshots. It answers no searches.
 * The client is `npm:ioredis` (one connection, commands pipelined as they are issued).
 *
 * @module
 */

import { Redis } from "ioredis";
import type { CorpusDoc } from "./corpus.ts";
import { dirBytes, type DiskBytes, processRss, type System } from "./system.ts";
import { waitUntil } from "../../testing/wait.ts";

/** Where Debian puts the server. */
export const REDIS_SERVER = "/usr/bin/redis-server";

/** Redis with the append-only file fsynced `always` or `everysec`. */
export class RedisSystem implements System {
  readonly name: string;
  readonly how: string;
  readonly #fsync: "always" | "everysec";
  readonly #port: number;
  #dir = "";
  #child: Deno.ChildProcess | undefined;
  #client: Redis | undefined;

  constructor(fsync: "always" | "everysec", port = 56379) {
    this.#fsync = fsync;
    this.#port = port;
    this.name = `Redis 7 (AOF ${fsync})`;
    this.how =
      `Debian's redis-server, a separate server on loopback, documents as JSON strings, appendonly yes, appendfsync ${fsync}, no RDB; the npm \`ioredis\` client; point writes and reads only`;
  }

  async start(): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: `compare-redis-${this.#fsync}-` });
    await this.#startServer();
  }

  async #startServer(): Promise<void> {
    this.#child = new Deno.Command(REDIS_SERVER, {
      args: [
        "--port",
        String(this.#port),
        "--bind",
        "127.0.0.1",
        "--dir",
        this.#dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        this.#fsync,
        "--save",
        "",
        "--daemonize",
        "no",
        "--logfile",
        `${this.#dir}/redis.log`,
      ],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    this.#client = new Redis({
      host: "127.0.0.1",
      port: this.#port,
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => 20,
    });
    // Refused connections while the server starts (or after a kill) are retried; a failed
    // command still rejects its own promise.
    this.#client.on("error", () => {});
    await waitUntil(
      async () => {
        if (this.#client!.status !== "ready") await this.#client!.connect().catch(() => {});
        // While the AOF is replayed the server answers LOADING: not yet.
        return (await this.#client!.ping()) === "PONG";
      },
      600_000,
      "redis-server answers PING",
    );
  }

  async put(doc: CorpusDoc): Promise<void> {
    await this.#client!.set(doc.id, JSON.stringify(doc.doc));
  }

  async bulk(docs: readonly CorpusDoc[]): Promise<void> {
    await this.#client!.mset(docs.flatMap((doc) => [doc.id, JSON.stringify(doc.doc)]));
  }

  async get(id: string): Promise<boolean> {
    const body = await this.#client!.get(id);
    if (body !== null) JSON.parse(body);
    return body !== null;
  }

  rssBytes(): Promise<number> {
    return processRss(this.#child!.pid);
  }

  diskBytes(): Promise<DiskBytes> {
    return dirBytes(this.#dir);
  }

  async killAndRecover(): Promise<number> {
    this.#client!.disconnect();
    this.#child!.kill("SIGKILL");
    await this.#child!.status;
    const started = performance.now();
    await this.#startServer();
    return performance.now() - started;
  }

  async stop(): Promise<void> {
    this.#client?.disconnect();
    try {
      this.#child?.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.#child?.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
