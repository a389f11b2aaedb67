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
import { parseWireEntries, type SlotEntry, SlotTable } from "./slot_table.ts";
import { CLUSTER_SLOTS } from "../storage/slot.ts";

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

/** A peer's slot news (see `SlotNews`), checked; a bad one is refused (and counted). */
export function checkedSlotNews(
  raw: unknown,
  peer: string,
  counters: TrustCounters,
): {
  digest: string;
  table?: SlotTable;
  entries?: Array<[number, SlotEntry]>;
  draining: number;
  waiting?: number[];
} | undefined {
  if (raw === undefined) return undefined;
  try {
    if (typeof raw !== "object" || raw === null) throw new Error("slot news are not a map");
    const news = raw as Record<string, unknown>;
    if (typeof news.digest !== "string" || news.digest.length > 64) {
      throw new Error("a slot digest is not a short string");
    }
    const draining = news.draining;
    if (typeof draining !== "number" || !Number.isSafeInteger(draining) || draining < 0) {
      throw new Error("a draining count is not a non-negative integer");
    }
    const waiting = news.waiting;
    if (
      waiting !== undefined &&
      (!Array.isArray(waiting) || waiting.length > CLUSTER_SLOTS ||
        !waiting.every((slot) => Number.isInteger(slot) && slot >= 0 && slot < CLUSTER_SLOTS))
    ) {
      throw new Error("the waiting slots are not a list of slot numbers");
    }
    return {
      digest: news.digest,
      draining,
      ...(waiting === undefined ? {} : { waiting: waiting as number[] }),
      ...(news.table === undefined ? {} : { table: SlotTable.fromWire(news.table) }),
      ...(news.entries === undefined ? {} : { entries: parseWireEntries(news.entries) }),
    };
  } catch (error) {
    counters.refused_requests++;
    throw new PeerRefusedError(peer, (error as Error).message);
  }
}
