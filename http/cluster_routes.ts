/**
 * The membership routes: `GET /_cluster/nodes` (members, their state and the slots they
 * own), `DELETE /_cluster/nodes/{node_id}` (forget a `down` node for good) and
 * `POST /_cluster/nodes/{node_id}/_leave` (a live node hands its slots off and goes). Each
 * is answered when done or refused with a reason (409), by the cluster's coordinator; a node
 * started without `--cluster` lists itself and refuses changes. A leave takes as long as its
 * slots take to stream: it is answered 200 once the node is `left`, or 202 (still `leaving`;
 * poll `GET /_cluster/nodes`) when `wait_ms` ran out first.
 *
 * @module
 */

import { HttpError, json } from "./errors.ts";
import { type Route, route } from "./router.ts";
import { decodePathPart } from "./body.ts";
import { toHttpError } from "./status.ts";
import { API_DOCS } from "./api_docs.ts";

/** How long a `_leave` waits for the node to have left by default, in ms (under the default
 * 30 s request timeout). */
export const LEAVE_WAIT_MS = 20_000;
/** The longest `wait_ms` a `_leave` accepts, in ms (the request timeout may cut it shorter). */
export const MAX_LEAVE_WAIT_MS = 600_000;
/** How often a waiting `_leave` looks at the member list, in ms. */
const LEAVE_POLL_MS = 250;

/** A member as `_leave` answers it. */
interface Leaving {
  readonly node_id: string;
  readonly state: string;
  readonly slots: number;
}

/** What the membership routes ask of the cluster (its coordinator). */
export interface ClusterAdmin {
  /** Every member with its membership state, health and slots. */
  nodes(): Promise<unknown>;
  /** Forgets a `down` node; refused (`MembershipRefusedError`) for a live one. */
  remove(nodeId: string): Promise<unknown>;
  /** Hands a live node's slots off, then marks it `left`. */
  leave(nodeId: string): Promise<unknown>;
}

/** Runs `fn`, turning known errors into their HTTP status. */
async function answer(fn: () => Promise<unknown>): Promise<Response> {
  try {
    return json(await fn());
  } catch (error) {
    throw error instanceof HttpError ? error : toHttpError(error as Error);
  }
}

/** The `wait_ms` of a `_leave` request: an integer of ms, 0 to answer at once. */
function leaveWaitMs(request: Request): number {
  const raw = new URL(request.url).searchParams.get("wait_ms");
  if (raw === null) return LEAVE_WAIT_MS;
  const ms = Number(raw);
  if (!/^\d+$/.test(raw) || ms > MAX_LEAVE_WAIT_MS) {
    throw new HttpError(
      400,
      "Bad Request",
      `wait_ms must be an integer of milliseconds from 0 to ${MAX_LEAVE_WAIT_MS}, got "${raw}"`,
    );
  }
  return ms;
}

/** Starts a node's leave, then waits up to `waitMs` for it to be `left`. */
async function leaveAndWait(admin: ClusterAdmin, nodeId: string, waitMs: number) {
  let leaving = await admin.leave(nodeId) as Leaving;
  const deadline = performance.now() + waitMs;
  while (leaving.state !== "left" && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, LEAVE_POLL_MS));
    const { nodes } = await admin.nodes() as { nodes: Leaving[] };
    const now = nodes.find((node) => node.node_id === nodeId);
    if (now !== undefined) leaving = { node_id: nodeId, state: now.state, slots: now.slots };
  }
  return json(leaving, leaving.state === "left" ? 200 : 202);
}

function notClustered(): never {
  throw new HttpError(
    409,
    "Conflict",
    "Cannot change the membership: this node is not in a cluster (start it with --cluster)",
  );
}

/** The membership routes over `admin`; without one (no cluster), this node alone. */
export function clusterRoutes(
  admin: ClusterAdmin | undefined,
  self: { readonly nodeId: string },
): Route[] {
  return [
    route(
      "GET",
      "/_cluster/nodes",
      () =>
        answer(() =>
          admin?.nodes() ??
            Promise.resolve({ nodes: [{ node_id: self.nodeId, state: "up", slots: 1_024 }] })
        ),
      API_DOCS["GET /_cluster/nodes"],
    ),
    route(
      "DELETE",
      "/_cluster/nodes/:node_id",
      (_request, params) =>
        answer(() =>
          admin === undefined ? notClustered() : admin.remove(decodePathPart(params.node_id!))
        ),
      API_DOCS["DELETE /_cluster/nodes/:node_id"],
    ),
    route(
      "POST",
      "/_cluster/nodes/:node_id/_leave",
      async (request, params) => {
        if (admin === undefined) notClustered();
        const waitMs = leaveWaitMs(request);
        try {
          return await leaveAndWait(admin, decodePathPart(params.node_id!), waitMs);
        } catch (error) {
          throw error instanceof HttpError ? error : toHttpError(error as Error);
        }
      },
      API_DOCS["POST /_cluster/nodes/:node_id/_leave"],
    ),
  ];
}
