/**
 * What a peer sends the coordinator, checked before use: a hello and membership records,
 * parsed against their schemas; a bad one is refused (`PeerRefusedError`) and counted.
 *
 * @module
 */

import { PeerRefusedError } from "./errors.ts";
import { parseHello } from "./frame_schema.ts";
import { type MemberRecord, parseRecords } from "./membership.ts";
import type { TrustCounters } from "./trust_counters.ts";
import type { Hello } from "./view.ts";

/** A hello from the network, checked against its schema; a bad one is refused. */
export function checkedHello(raw: unknown, peer: string, counters: TrustCounters): Hello {
  try {
    return parseHello(raw);
  } catch (error) {
    counters.refused_hellos++;
    throw new PeerRefusedError(peer, (error as Error).message);
  }
}

/** Membership records from the network, checked; bad ones are refused (and counted). */
export function checkedRecords(
  raw: unknown,
  peer: string,
  counters: TrustCounters,
): MemberRecord[] {
  try {
    return parseRecords(raw);
  } catch (error) {
    counters.refused_requests++;
    throw new PeerRefusedError(peer, (error as Error).message);
  }
}
