/**
 * What the node refused from its peers, counted: frames that broke the protocol, requests
 * and hellos it would not accept. Shown in `/_cluster/health` under `telemetry`
 * (for `/_metrics`).
 *
 * @module
 */

/** Counts of what peers sent that the node refused. */
export type TrustCounters = {
  /** Frames that were not one valid MessagePack value of the protocol's shapes. */
  malformed_frames: number;
  /** Frames whose length prefix was over the frame limit. */
  oversized_frames: number;
  /** Chunks that would have put unfinished frames over the connection's or node's budget. */
  over_budget_frames: number;
  /** Requests refused: lifecycle (`stop`), an actor not exposed, a peer not admitted. */
  refused_requests: number;
  /** Hellos refused: a node id or peer id that does not match its binding, or the connection. */
  refused_hellos: number;
};

/** Fresh counters, all zero. */
export function trustCounters(): TrustCounters {
  return {
    malformed_frames: 0,
    oversized_frames: 0,
    over_budget_frames: 0,
    refused_requests: 0,
    refused_hellos: 0,
  };
}
