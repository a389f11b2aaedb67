/**
 * Who may call which route. Every route of the handler has a rule in {@linkcode ROUTE_RULES},
 * keyed by `METHOD pattern`; a route without one is served to the master key only (and the
 * system test fails). With a master key set, a request needs `Authorization: Bearer <key>`
 * (401 otherwise) and a key with the route's action on the route's index (403 naming what is
 * missing); index listings show only the indexes a key's patterns cover. Without a master key
 * (a loopback-only server), requests whose `Host` is not a loopback name or an allowed host
 * get 403, which stops DNS rebinding.
 *
 * @module
 */

import { json } from "./errors.ts";
import type { Route } from "./router.ts";
import type { Sample } from "./metrics.ts";
import {
  type Action,
  coversIndex,
  type Grant,
  hasAction,
  MASTER_GRANT,
} from "../security/actions.ts";
import { hostAllowed } from "../security/host_check.ts";
import { constantTimeEqual, type KeyStore } from "../security/key_store.ts";

/** What a route asks of a caller. */
export type RouteRule =
  /** Anyone; a caller without a key sees only `status` of the answer. */
  | { readonly kind: "open" }
  /** Anyone, answered in full: static files and the API's description, which hold no data. */
  | { readonly kind: "public" }
  /** A node-wide action. */
  | { readonly kind: "node"; readonly action: Action }
  /** One of `anyOf` on the index named by the route's `:index`. */
  | { readonly kind: "index"; readonly anyOf: readonly Action[] }
  /** Any valid key; the answer's `indexes` are cut to those the key covers. */
  | { readonly kind: "listing" }
  /** The master key only: what a route without a rule gets. */
  | { readonly kind: "master" };

/** The rule of every route, by `METHOD pattern`. */
export const ROUTE_RULES: Readonly<Record<string, RouteRule>> = {
  "GET /_cluster/health": { kind: "open" },
  // The console's static files and the API's description hold no data: open. The console
  // asks for a key when the server needs one.
  "GET /": { kind: "public" },
  "GET /console/:file": { kind: "public" },
  "GET /openapi.json": { kind: "public" },
  "GET /_metrics": { kind: "node", action: "cluster.manage" },
  "GET /_cluster/nodes": { kind: "node", action: "cluster.manage" },
  "DELETE /_cluster/nodes/:node_id": { kind: "node", action: "cluster.manage" },
  "POST /_cluster/nodes/:node_id/_leave": { kind: "node", action: "cluster.manage" },
  "GET /_indexes": { kind: "listing" },
  "GET /_cluster/_indexes": { kind: "listing" },
  "POST /_keys": { kind: "node", action: "keys.manage" },
  "GET /_keys": { kind: "node", action: "keys.manage" },
  "GET /_keys/:id": { kind: "node", action: "keys.manage" },
  "DELETE /_keys/:id": { kind: "node", action: "keys.manage" },
  "PUT /api/:index/_config": { kind: "index", anyOf: ["indexes.manage"] },
  "GET /api/:index/_config": { kind: "index", anyOf: ["indexes.manage", "search"] },
  "DELETE /api/:index": { kind: "index", anyOf: ["indexes.manage"] },
  "PUT /api/:index/document": { kind: "index", anyOf: ["documents.write"] },
  "GET /api/:index/document/:id": { kind: "index", anyOf: ["documents.get"] },
  "DELETE /api/:index/document": { kind: "index", anyOf: ["documents.delete"] },
  "POST /api/:index/_bulk": { kind: "index", anyOf: ["documents.write"] },
  "POST /api/:index/_bulk/delete": { kind: "index", anyOf: ["documents.delete"] },
  "POST /api/:index/search": { kind: "index", anyOf: ["search"] },
  "POST /api/:index/search/stream": { kind: "index", anyOf: ["search"] },
  "POST /api/:index/document/stream": { kind: "index", anyOf: ["documents.write"] },
};

/** The rule key of a route: `GET /api/:index/_config`. */
export function ruleKey(route: Pick<Route, "method" | "pattern">): string {
  return `${route.method} ${route.pattern.pathname}`;
}

/** Why a request was refused (the `reason` label of the metric). */
export type RefusalReason =
  | "missing_key"
  | "malformed_header"
  | "unknown_key"
  | "expired_key"
  | "missing_action"
  | "index_not_allowed"
  | "host_not_allowed";

/** Counts refused requests by status and reason. */
export class AuthMetrics {
  readonly #counts = new Map<string, number>();

  /** Counts one refusal. */
  record(status: 401 | 403, reason: RefusalReason): void {
    const key = `${status} ${reason}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** The counts as `cameodb_http_auth_refused_total{status, reason}` samples. */
  samples(): Sample[] {
    return [...this.#counts].sort().map(([key, value]) => {
      const [status, reason] = key.split(" ") as [string, string];
      return {
        name: "cameodb_http_auth_refused_total",
        help: "Requests refused by access control, by status and reason.",
        type: "counter" as const,
        value,
        labels: { status, reason },
      };
    });
  }
}

/** Access control settings of a handler. */
export interface SecurityOptions {
  /** The master key; "" for none (then only loopback `Host`s are served). */
  readonly masterKey: string;
  readonly keys: KeyStore;
  /** Host names served besides the loopback ones. */
  readonly allowedHosts: readonly string[];
  readonly metrics?: AuthMetrics;
  /** Hears one line per refused request (never the key). */
  readonly log?: (line: string) => void;
}

/** Who is calling: a grant, or nobody (no key given). */
type Caller = Grant | null;

/** Access control over a handler's routes. */
export class AccessControl {
  readonly #options: SecurityOptions;
  readonly #callers = new WeakMap<Request, Caller>();

  constructor(options: SecurityOptions) {
    this.#options = options;
  }

  /** The keys this handler checks against. */
  get keys(): KeyStore {
    return this.#options.keys;
  }

  /** The caller's grant (the master grant when no master key is set), or null for nobody. */
  grantOf(request: Request): Grant | null {
    return this.#callers.get(request) ?? null;
  }

  /** A refusal, counted and logged. */
  refuse(request: Request, status: 401 | 403, reason: RefusalReason, details: string): Response {
    this.#options.metrics?.record(status, reason);
    const caller = this.#callers.get(request);
    const who = caller === undefined || caller === null ? "" : ` (key ${caller.keyId})`;
    this.#options.log?.(
      `refused ${request.method} ${new URL(request.url).pathname}: ${status} ${reason}${who}`,
    );
    return json(
      { error: status === 401 ? "Unauthorized" : "Forbidden", details },
      status,
      status === 401 ? { "www-authenticate": 'Bearer realm="cameodb"' } : {},
    );
  }

  /**
   * Checks the `Host` and the key of a request before routing: a refusal, or undefined when the
   * request goes on (its caller remembered for the route's rule). `isOpen` says whether a
   * caller without a key may reach this request's route.
   */
  authenticate(request: Request, isOpen: boolean): Response | undefined {
    const { masterKey, allowedHosts, keys } = this.#options;
    // HTTP/2 has no Host header: its :authority is in the URL Deno.serve builds.
    const host = request.headers.get("host") ?? new URL(request.url).host;
    if ((masterKey === "" || allowedHosts.length > 0) && !hostAllowed(host, allowedHosts)) {
      return this.refuse(
        request,
        403,
        "host_not_allowed",
        `Host "${host.slice(0, 100)}" is not served: only localhost, ` +
          "127.0.0.1, [::1] and network.http.allowed_hosts are",
      );
    }
    if (masterKey === "") {
      this.#callers.set(request, MASTER_GRANT);
      return undefined;
    }
    const header = request.headers.get("authorization");
    if (header === null) {
      this.#callers.set(request, null);
      return isOpen ? undefined : this.refuse(
        request,
        401,
        "missing_key",
        "this server needs an API key: send Authorization: Bearer <key>",
      );
    }
    const match = header.match(/^Bearer +(\S+) *$/i);
    if (match === null) {
      return this.refuse(
        request,
        401,
        "malformed_header",
        "the Authorization header must be Bearer <key>",
      );
    }
    const token = match[1]!;
    if (constantTimeEqual(token, masterKey)) {
      this.#callers.set(request, MASTER_GRANT);
      return undefined;
    }
    const checked = keys.check(token);
    if (!checked.ok) {
      return this.refuse(
        request,
        401,
        checked.reason,
        checked.reason === "expired_key" ? "the API key has expired" : "the API key is not valid",
      );
    }
    this.#callers.set(request, checked.grant);
    return undefined;
  }

  /** Wraps a route's handler with its rule. */
  guard(route: Route): Route {
    const rule: RouteRule = ROUTE_RULES[ruleKey(route)] ?? { kind: "master" };
    return {
      ...route,
      handler: async (request, params) => {
        const caller = this.grantOf(request);
        if (rule.kind === "public") return await route.handler(request, params);
        if (rule.kind === "open") {
          const response = await route.handler(request, params);
          return caller === null ? await statusOnly(response) : response;
        }
        if (caller === null) {
          return this.refuse(request, 401, "missing_key", "this route needs an API key");
        }
        const refusal = this.#authorize(request, rule, caller, params);
        if (refusal !== undefined) return refusal;
        const response = await route.handler(request, params);
        return rule.kind === "listing" ? await visibleIndexes(response, caller) : response;
      },
    };
  }

  #authorize(
    request: Request,
    rule: RouteRule,
    caller: Grant,
    params: Record<string, string | undefined>,
  ): Response | undefined {
    if (rule.kind === "master" && caller !== MASTER_GRANT) {
      return this.refuse(request, 403, "missing_action", "this route is for the master key only");
    }
    if (rule.kind === "node" && !hasAction(caller, rule.action)) {
      return this.refuse(
        request,
        403,
        "missing_action",
        `the API key lacks the action "${rule.action}"`,
      );
    }
    if (rule.kind !== "index") return undefined;
    const index = params.index ?? "";
    if (!rule.anyOf.some((action) => hasAction(caller, action))) {
      return this.refuse(
        request,
        403,
        "missing_action",
        `the API key lacks the action ${
          rule.anyOf.map((a) => `"${a}"`).join(" or ")
        } (index "${index}")`,
      );
    }
    if (!coversIndex(caller, index) || !coversIndex(caller, decoded(index))) {
      return this.refuse(
        request,
        403,
        "index_not_allowed",
        `the API key does not cover index "${index}"`,
      );
    }
    return undefined;
  }
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

async function statusOnly(response: Response): Promise<Response> {
  if (!response.ok) return response;
  const body = await response.json() as { status?: unknown };
  return json({ status: body.status }, response.status);
}

async function visibleIndexes(response: Response, caller: Grant): Promise<Response> {
  if (!response.ok || caller.indexes.includes("*")) return response;
  const body = await response.json() as { indexes?: Array<{ name?: unknown }> };
  const indexes = (body.indexes ?? []).filter((entry) =>
    typeof entry.name === "string" && coversIndex(caller, entry.name)
  );
  return json({ ...body, indexes, total_indexes: indexes.length }, response.status);
}
