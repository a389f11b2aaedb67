/**
 * Versioned membership: one record per member, `{nodeId, peerId, addrs, state, version}`,
 * merged last-writer-wins by version, so every node converges on the same table whichever
 * node a change was made through. This follows Cassandra's gossip, where every endpoint state
 * carries a `(generation, version)` pair and the higher pair wins when two nodes exchange
 * digests (`EndpointState`, `HeartBeatState`, `Gossiper.applyStateLocally`); here the pair is
 * `[epoch, origin]`: `epoch` grows with every change of the record, and `origin`, the node id
 * that made the change, breaks ties the same way on every node, which makes the order total.
 *
 * Who may change a record (the threat model: nothing a peer sends may change membership on
 * another's behalf): a node changes only its own record, told by itself over its own
 * Noise-authenticated connection; the one exception is `removed`, which any member may set for
 * a node that is `down` (Cassandra's `removenode`), and which is final — a removed node id
 * never comes back (a replacement joins under a new id).
 *
 * The ring is built from the members in `up` and `leaving` (a leaving node keeps its slots
 * until they are handed off); `joining`, `left` and `removed` own none.
 *
 * @module
 */

import { MalformedFrameError } from "./errors.ts";
import type { NodeListing } from "./coordinator_protocol.ts";
import type { NodeInfo } from "./view.ts";

/** A member's place in the cluster's life cycle. */
export type MembershipState = "joining" | "up" | "leaving" | "left" | "removed";

/** Every {@linkcode MembershipState}. */
export const MEMBERSHIP_STATES: readonly MembershipState[] = [
  "joining",
  "up",
  "leaving",
  "left",
  "removed",
];

/** A record's version: `[epoch, origin]`, compared epoch first, then origin. */
export type RecordVersion = readonly [epoch: number, origin: string];

/** One member's record, as nodes keep and exchange it. */
export interface MemberRecord {
  readonly nodeId: string;
  readonly peerId: string;
  readonly addrs: readonly string[];
  readonly state: MembershipState;
  readonly version: RecordVersion;
}

/** Most records one hello or heartbeat may carry. */
export const MAX_RECORDS = 1_024;
/** Most addresses one record may carry. */
export const MAX_RECORD_ADDRS = 32;
/** Longest id or address in a record, in characters. */
const MAX_RECORD_CHARS = 1_024;

/** Orders two versions: negative when `a` is older, 0 when equal, positive when newer. */
export function compareVersions(a: RecordVersion, b: RecordVersion): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** Whether a member in this state owns slots on the ring. */
export function ownsSlots(state: MembershipState): boolean {
  return state === "up" || state === "leaving";
}

/** The record a node writes of itself when it changes its own state. */
export function ownRecord(
  previous: MemberRecord | undefined,
  self: { readonly nodeId: string; readonly peerId: string; readonly addrs: readonly string[] },
  state: MembershipState,
): MemberRecord {
  const epoch = (previous?.version[0] ?? 0) + 1;
  return { ...self, addrs: [...self.addrs], state, version: [epoch, self.nodeId] };
}

/** The record a member writes when it removes a `down` node. */
export function removalRecord(previous: MemberRecord, by: string): MemberRecord {
  return { ...previous, state: "removed", version: [previous.version[0] + 1, by] };
}

/** What a merge needs to know of the local view. */
export interface MergeContext {
  /** The node id behind the connection the records came over (authenticated). */
  readonly sender: string;
  /** Whether `nodeId` is an admitted member here. */
  readonly isMember: (nodeId: string) => boolean;
  /** Whether `nodeId` is down here (not connected, or silent past `down_after_ms`). */
  readonly isDown: (nodeId: string) => boolean;
}

/** Why an incoming record is not taken, or `undefined` when it is. */
export function refusalOf(
  known: MemberRecord | undefined,
  incoming: MemberRecord,
  context: MergeContext,
): string | undefined {
  if (known !== undefined && compareVersions(incoming.version, known.version) <= 0) return "old";
  // Removed is final: only another removal (a newer version of it) may replace it.
  if (known?.state === "removed" && incoming.state !== "removed") return "old";
  const origin = incoming.version[1];
  if (incoming.state === "removed") {
    if (!context.isMember(origin)) return `a removal of ${incoming.nodeId} by a non-member`;
    if (!context.isDown(incoming.nodeId)) {
      return `a removal of ${incoming.nodeId}, which is not down`;
    }
    return undefined;
  }
  // Only the node itself changes its record, and only over its own connection.
  if (incoming.nodeId !== context.sender || origin !== context.sender) return "not its own";
  if (known !== undefined && known.peerId !== incoming.peerId) return "another peer id";
  return undefined;
}

/**
 * Merges incoming records into `table` (last writer wins, by version), taking only those a
 * sender may set ({@linkcode refusalOf}); returns the records that changed. A record about a
 * third node that is not a removal is relayed information this node hears from that node
 * itself, so it is skipped without counting; refusals that matter are returned with reasons.
 */
export function mergeRecords(
  table: Map<string, MemberRecord>,
  incoming: readonly MemberRecord[],
  context: MergeContext,
): { changed: MemberRecord[]; refused: string[] } {
  const changed: MemberRecord[] = [];
  const refused: string[] = [];
  for (const record of incoming) {
    const why = refusalOf(table.get(record.nodeId), record, context);
    if (why === undefined) {
      table.set(record.nodeId, record);
      changed.push(record);
    } else if (why !== "old" && why !== "not its own") {
      refused.push(why);
    }
  }
  return { changed, refused };
}

function fail(what: string): never {
  throw new MalformedFrameError(what);
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_RECORD_CHARS) {
    fail(`${what} is not a string of 1..${MAX_RECORD_CHARS} characters`);
  }
  return value;
}

/** One record as a peer sends it, checked. */
export function parseRecord(raw: unknown): MemberRecord {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("a record is not a map");
  const r = raw as Record<string, unknown>;
  const state = r.state as MembershipState;
  if (!MEMBERSHIP_STATES.includes(state)) {
    fail(`a record's state is not one of ${MEMBERSHIP_STATES}`);
  }
  if (!Array.isArray(r.addrs) || r.addrs.length > MAX_RECORD_ADDRS) {
    fail(`a record's addresses are not a list of at most ${MAX_RECORD_ADDRS}`);
  }
  const version = r.version;
  if (!Array.isArray(version) || version.length !== 2) fail("a record's version is not a pair");
  const epoch = version[0];
  if (typeof epoch !== "number" || !Number.isSafeInteger(epoch) || epoch < 0) {
    fail("a record's epoch is not a non-negative integer");
  }
  return {
    nodeId: text(r.nodeId, "a record's node id"),
    peerId: text(r.peerId, "a record's peer id"),
    addrs: r.addrs.map((addr) => text(addr, "a record's address")),
    state,
    version: [epoch, text(version[1], "a record's origin")],
  };
}

/** A list of records as a peer sends it (absent: none), checked. */
export function parseRecords(raw: unknown): MemberRecord[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.length > MAX_RECORDS) {
    fail(`the records are not a list of at most ${MAX_RECORDS}`);
  }
  return raw.map(parseRecord);
}

/** What `GET /_cluster/nodes` answers, built from the members and what is known of each. */
export function nodeListing(
  members: readonly NodeInfo[],
  known: {
    recordOf(node: string): MemberRecord | undefined;
    healthOf(node: string): "up" | "suspect" | "down";
    readonly slots: ReadonlyMap<string, number>;
  },
): NodeListing {
  return {
    nodes: members.map((info) => {
      const record = known.recordOf(info.nodeId);
      return {
        node_id: info.nodeId,
        name: info.name,
        peer_id: info.peerId,
        http: info.http,
        state: record?.state ?? "up",
        health: known.healthOf(info.nodeId),
        version: record?.version ?? [0, info.nodeId],
        slots: known.slots.get(info.nodeId) ?? 0,
      };
    }),
  };
}
