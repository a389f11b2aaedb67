/**
 * Serves a handler over guarded connections (`connections.ts`: header timeout, connection
 * caps) and stops it gracefully.
 *
 * @module
 */

import { type ConnectionLimits, type GuardedHandler, serveGuarded } from "./connections.ts";

/** A running HTTP server. */
export interface RunningServer {
  /** The address it listens on. */
  readonly hostname: string;
  readonly port: number;
  /** `https` when serving TLS, else `http`. */
  readonly scheme: "http" | "https";
  /** Stops accepting, lets in-flight requests finish, resolves when closed. */
  shutdown(): Promise<void>;
  /** Resolves when the server has closed. */
  readonly finished: Promise<void>;
}

/** Connection limits used when none are given. */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headerTimeoutMs: 10_000,
  maxConnectionsPerClient: 128,
  maxConnections: 4_096,
};

/**
 * Starts serving `handler` on `hostname:port` (port 0 picks a free port); with `tls` (PEM
 * certificate chain and private key), over HTTPS.
 */
// deno-lint-ignore require-await
export async function startServer(
  handler: GuardedHandler,
  options: {
    hostname: string;
    port: number;
    tls?: { cert: string; key: string };
    limits?: ConnectionLimits;
  },
): Promise<RunningServer> {
  // Deno.listen fails at once (AddrInUse…): async, so the caller gets a rejection.
  const listener = options.tls === undefined
    ? Deno.listen({ hostname: options.hostname, port: options.port })
    : Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.tls.cert,
      key: options.tls.key,
    });
  const server = serveGuarded(listener, handler, options.limits ?? DEFAULT_CONNECTION_LIMITS);
  return {
    hostname: server.addr.hostname,
    port: server.addr.port,
    scheme: options.tls === undefined ? "http" : "https",
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
