/**
 * While a node joins a cluster it holds no view of it yet (members, ring, schemas), so a
 * data request could land on the wrong owner or create a schema the cluster disagrees
 * with. The gate answers data requests 503 with `Retry-After` until the coordinator says
 * the node has joined; `/_…` endpoints (health, metrics, cluster state) always pass.
 *
 * @module
 */

/** Seconds a client is told to wait before retrying a request refused while joining. */
export const JOINING_RETRY_AFTER_SECS = 1;

/** Wraps `handler`: data requests get 503 while `isJoining()`. */
export function joiningGate(
  handler: (request: Request) => Promise<Response>,
  isJoining: () => boolean,
): (request: Request) => Promise<Response> {
  return (request) => {
    if (!isJoining() || new URL(request.url).pathname.startsWith("/_")) return handler(request);
    return Promise.resolve(Response.json({
      error: "Service unavailable",
      details: "this node is joining the cluster and does not hold its view yet; retry shortly",
    }, { status: 503, headers: { "Retry-After": String(JOINING_RETRY_AFTER_SECS) } }));
  };
}
