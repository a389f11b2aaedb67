/**
 * Serves a handler with `Deno.serve` and stops it gracefully.
 *
 * @module
 */

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

/**
 * Starts serving `handler` on `hostname:port` (port 0 picks a free port); with `tls` (PEM
 * certificate chain and private key), over HTTPS.
 */
export async function startServer(
  handler: (request: Request) => Promise<Response>,
  options: { hostname: string; port: number; tls?: { cert: string; key: string } },
): Promise<RunningServer> {
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    ...(options.tls === undefined ? {} : { cert: options.tls.cert, key: options.tls.key }),
    onListen: (address) => listening.resolve(address),
  }, handler);
  const address = await listening.promise;
  return {
    hostname: address.hostname,
    port: address.port,
    scheme: options.tls === undefined ? "http" : "https",
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
