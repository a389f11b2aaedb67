/**
 * The membership routes: `GET /_cluster/nodes` (members, their state and the slots they
 * own), `DELETE /_cluster/nodes/{node_id}` (forget a `down` node for good) and
 * `POST /_cluster/nodes/{node_id}/_leave` (a live node hands its slots off and goes). Each
 * is answered when done or refused with a reason (409), by the cluster's coordinator; a node
 * started without `--cluster` lists itself and refuses changes.
 *
 * @module
 */

import { HttpError, json } from "./errors.ts";
import { type Route, route } from "./router.ts";
import { decodePathPart } from "./body.ts";
import { toHttpError } from "./status.ts";
import { API_DOCS } from "./api_docs.ts";

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
      (_request, params) =>
        answer(() =>
          admin === undefined ? notClustered() : admin.leave(decodePathPart(params.node_id!))
        ),
      API_DOCS["POST /_cluster/nodes/:node_id/_leave"],
    ),
  ];
}
