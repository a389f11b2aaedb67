/**
 * Limits around every request, so that no client — slow, greedy or many — locks the
 * others out:
 *
 * - **Concurrency with a reserved share**: at most `maxConcurrentRequests` run at once
 *   (503 with `Retry-After` beyond). Data requests (anything with a body, searches) may
 *   take all but `reservedConcurrentRequests` of them; the rest is kept for light
 *   requests — health, metrics and small reads (`GET`/`HEAD` without a body) — so health
 *   never queues behind data requests.
 * - **Per client**: one client address may run `maxRequestsPerClient` requests at once
 *   (health and metrics are not counted); the connection caps are in `connections.ts`.
 * - **Time**: a request still running after `requestTimeoutMs` is answered 408; a body
 *   that delivers no byte for `bodyIdleTimeoutMs` is answered 408 at once and its slot
 *   freed (a client dripping its body cannot hold a slot for the whole request timeout).
 * - **Memory**: whole bodies being read at once (every body but the NDJSON streams, which
 *   are read line by line) may add up to `maxBufferedBodyBytes`, counted by their declared
 *   length (or `maxBodyBytes` when it is not declared); past that, 503 with `Retry-After`.
 * - CORS for the configured origins.
 *
 * @module
 */

import { errorResponse, HttpError } from "./errors.ts";
import type { ClientInfo } from "./connections.ts";

/** Options of {@linkcode withLimits}. */
export interface LimitOptions {
  /** Requests running at once; more are answered 503. */
  readonly maxConcurrentRequests: number;
  /** Of those, kept for health, metrics and small reads (data requests cannot take them). */
  readonly reservedConcurrentRequests?: number;
  /** Requests one client address may run at once (health and metrics not counted). */
  readonly maxRequestsPerClient?: number;
  /** A request still running after this is answered 408. */
  readonly requestTimeoutMs: number;
  /** A body that delivers no byte for this long is answered 408. */
  readonly bodyIdleTimeoutMs?: number;
  /** Largest body, in bytes (what one whole body is counted as when its length is unknown). */
  readonly maxBodyBytes?: number;
  /** Whole bodies read at once may add up to this many bytes; more are answered 503. */
  readonly maxBufferedBodyBytes?: number;
  /** Origins allowed by CORS; `*` allows any. */
  readonly corsAllowedOrigins: readonly string[];
}

/** Defaults of the optional limits. */
export const DEFAULT_LIMITS = {
  reservedConcurrentRequests: 16,
  maxRequestsPerClient: 128,
  bodyIdleTimeoutMs: 10_000,
  maxBodyBytes: 100 * 1024 * 1024,
  maxBufferedBodyBytes: 4 * 100 * 1024 * 1024,
} as const;

/** Requests that never count against a client's cap and always find a reserved slot. */
function isProbe(url: URL): boolean {
  return url.pathname === "/_cluster/health" || url.pathname === "/_metrics";
}

/**
 * Whether the request carries a body: HTTP/1.1 frames one only with a `content-length`
 * above 0 or a `transfer-encoding` (a `DELETE` without either has none, even though the
 * server hands it an empty body stream).
 */
function hasBody(request: Request): boolean {
  if (request.body === null) return false;
  const length = declaredLength(request);
  return length === undefined ? request.headers.has("transfer-encoding") : length > 0;
}

/** The NDJSON ingest reads its body line by line: not counted as a whole body. */
function isStream(url: URL): boolean {
  return url.pathname.endsWith("/document/stream");
}

function unavailable(details: string): Response {
  return errorResponse(
    new HttpError(503, "Service unavailable", details, { "retry-after": "1" }),
    () => {},
  );
}

/** Wraps a handler with the limits. */
export function withLimits(
  handler: (request: Request) => Promise<Response>,
  options: LimitOptions,
): (request: Request, client?: ClientInfo) => Promise<Response> {
  const limits = { ...DEFAULT_LIMITS, ...definedOf(options) };
  const reserved = Math.min(
    limits.reservedConcurrentRequests,
    Math.floor(options.maxConcurrentRequests / 2),
  );
  const state = { running: 0, heavy: 0, bufferedBytes: 0, perClient: new Map<string, number>() };
  const cors = corsFor(options.corsAllowedOrigins);
  return async (request, client) => {
    const url = new URL(request.url);
    if (request.method === "OPTIONS" && request.headers.has("access-control-request-method")) {
      return cors.preflight(request);
    }
    const heavy = hasBody(request) || request.method === "POST";
    const probe = isProbe(url);
    const address = client?.remoteAddr.hostname;
    const bodyBytes = heavy && hasBody(request) && !isStream(url)
      ? Math.min(declaredLength(request) ?? limits.maxBodyBytes, limits.maxBodyBytes)
      : 0;
    const refusal = refuse(state, {
      heavy,
      probe,
      address,
      bodyBytes,
      max: options.maxConcurrentRequests,
      reserved,
      perClient: limits.maxRequestsPerClient,
      buffered: limits.maxBufferedBodyBytes,
    });
    if (refusal !== undefined) return cors.apply(request, unavailable(refusal));
    const release = admit(state, { heavy, probe, address, bodyBytes });
    try {
      return cors.apply(
        request,
        await runBounded(handler, request, options.requestTimeoutMs, limits.bodyIdleTimeoutMs),
      );
    } finally {
      release();
    }
  };
}

function definedOf(options: LimitOptions): Partial<typeof DEFAULT_LIMITS> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

function declaredLength(request: Request): number | undefined {
  const header = request.headers.get("content-length");
  const length = header === null ? NaN : Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

type LimitState = {
  running: number;
  heavy: number;
  bufferedBytes: number;
  perClient: Map<string, number>;
};

/** Why a request cannot start now, or undefined when it can. */
function refuse(
  state: LimitState,
  request: {
    heavy: boolean;
    probe: boolean;
    address: string | undefined;
    bodyBytes: number;
    max: number;
    reserved: number;
    perClient: number;
    buffered: number;
  },
): string | undefined {
  if (state.running >= request.max) return `more than ${request.max} requests at once`;
  if (request.heavy && state.heavy >= request.max - request.reserved) {
    return `more than ${request.max - request.reserved} data requests at once ` +
      `(${request.reserved} are kept for health and small reads)`;
  }
  if (!request.probe && request.address !== undefined) {
    const mine = state.perClient.get(request.address) ?? 0;
    if (mine >= request.perClient) {
      return `more than ${request.perClient} requests at once from ${request.address}`;
    }
  }
  if (request.bodyBytes > 0 && state.bufferedBytes + request.bodyBytes > request.buffered) {
    return `request bodies being read add up to more than ${request.buffered} bytes`;
  }
  return undefined;
}

/** Counts a request in; the returned function counts it out. */
function admit(
  state: LimitState,
  request: { heavy: boolean; probe: boolean; address: string | undefined; bodyBytes: number },
): () => void {
  state.running++;
  if (request.heavy) state.heavy++;
  state.bufferedBytes += request.bodyBytes;
  const counted = !request.probe && request.address !== undefined ? request.address : undefined;
  if (counted !== undefined) state.perClient.set(counted, (state.perClient.get(counted) ?? 0) + 1);
  return () => {
    state.running--;
    if (request.heavy) state.heavy--;
    state.bufferedBytes -= request.bodyBytes;
    if (counted === undefined) return;
    const left = (state.perClient.get(counted) ?? 1) - 1;
    if (left === 0) state.perClient.delete(counted);
    else state.perClient.set(counted, left);
  };
}

/**
 * Runs the handler under the request timeout and the body idle timeout: whichever fires
 * first answers 408 and cancels the body; the handler's own answer is then dropped.
 */
async function runBounded(
  handler: (request: Request) => Promise<Response>,
  request: Request,
  requestTimeoutMs: number,
  bodyIdleTimeoutMs: number,
): Promise<Response> {
  const timedOut = Promise.withResolvers<Response>();
  const fail = (details: string) =>
    timedOut.resolve(errorResponse(new HttpError(408, "Request timeout", details), () => {}));
  const timer = setTimeout(
    () => fail(`the request took longer than ${requestTimeoutMs} ms`),
    requestTimeoutMs,
  );
  const guarded = request.body === null ? undefined : idleGuarded(request.body, {
    idleMs: bodyIdleTimeoutMs,
    onIdle: () => fail(`the body sent nothing for ${bodyIdleTimeoutMs} ms`),
  });
  try {
    const inner = guarded === undefined ? request : new Request(request.url, {
      method: request.method,
      headers: request.headers,
      signal: request.signal,
      body: guarded.stream,
      // @ts-ignore: `duplex` is required by fetch for stream bodies but not in Deno's types.
      duplex: "half",
    });
    const answer = handler(inner);
    answer.catch(() => {}); // after a 408 its failure is nobody's business
    return await Promise.race([answer, timedOut.promise]);
  } finally {
    clearTimeout(timer);
    guarded?.stop();
  }
}

/** A copy of `body` that errors when no chunk arrives for `idleMs`. */
function idleGuarded(
  body: ReadableStream<Uint8Array>,
  options: { idleMs: number; onIdle: () => void },
): { stream: ReadableStream<Uint8Array>; stop(): void } {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      timer = setTimeout(() => {
        options.onIdle();
        const error = new HttpError(408, "Request timeout", "the body stalled");
        controller.error(error);
        reader.cancel(error).catch(() => {});
      }, options.idleMs);
      try {
        const { done, value } = await reader.read();
        clearTimeout(timer);
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        clearTimeout(timer);
        // The client broke the connection mid-body: its error (400), not ours (500).
        const broken = error instanceof HttpError ? error : new HttpError(
          400,
          "Bad request",
          `the body could not be read: ${(error as Error).message}`,
        );
        try {
          controller.error(broken);
        } catch { /* already errored by the idle timer */ }
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
  return {
    stream,
    stop: () => {
      clearTimeout(timer);
    },
  };
}

/** CORS for the configured origins: the preflight answer and the headers on answers. */
function corsFor(origins: readonly string[]) {
  const any = origins.includes("*");
  const allowedOrigin = (request: Request) => {
    const origin = request.headers.get("origin");
    return origin !== null && (any || origins.includes(origin)) ? origin : undefined;
  };
  const apply = (request: Request, response: Response) => {
    const origin = allowedOrigin(request);
    if (origin !== undefined) {
      response.headers.set("access-control-allow-origin", any ? "*" : origin);
      response.headers.set("vary", "origin");
    }
    return response;
  };
  const preflight = (request: Request) => {
    const allowed = allowedOrigin(request) !== undefined;
    const response = new Response(null, { status: allowed ? 204 : 403 });
    if (allowed) {
      response.headers.set("access-control-allow-methods", "GET, PUT, POST, DELETE");
      response.headers.set("access-control-allow-headers", "authorization, content-type");
      response.headers.set("access-control-max-age", "600");
    }
    return apply(request, response);
  };
  return { apply, preflight };
}
