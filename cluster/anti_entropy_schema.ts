/**
 * The messages replicas exchange for anti-entropy, and their checks. A peer's input is
 * untrusted in shape: every request a node serves and every answer it uses is checked here
 * first — counts bounded, ids and index names valid, stamps well-formed (`isStamp`), every
 * entry in the slot and the buckets asked about. What fails is refused with a
 * {@linkcode MalformedEntropyError}, never applied.
 *
 * @module
 */

import type { WriteCommand } from "../node/write_command.ts";
import { isStamp } from "../storage/hlc.ts";
import { validateDocId, validateIndexName } from "../storage/names.ts";
import { isSlot, slotOf } from "../storage/slot.ts";
import { bucketOf, DIGEST_BUCKETS } from "./slot_digest.ts";

/** Most `(id, stamp)` entries one diff request carries (one bucket holding more is skipped). */
export const MAX_DIFF_ENTRIES = 5_000;
/** Most stamped copies one diff answer carries (the rest follow in the next pass). */
export const MAX_REPAIR_ENTRIES = 500;
/** Bytes of documents (as JSON) one diff answer carries at most, beyond its first copy. */
export const MAX_REPAIR_BYTES = 4 * 1024 * 1024;
/** Longest refusal reason kept from a peer, in characters. */
const MAX_REASON_CHARS = 500;

/** One document or tombstone on the wire: `[id, stamp, 1 for a tombstone else 0]`. */
export type WireDigestEntry = readonly [id: string, stamp: string, deleted: 0 | 1];

/** A slot's bucket digests of one index, asked of another owner. */
export interface EntropyDigestMsg {
  readonly type: "entropyDigest";
  readonly index: string;
  readonly slot: number;
}

/**
 * The asker's entries of some buckets of one slot: the other owner answers with its newer
 * entries (stamped copies) and the ids it wants (the asker's are newer there).
 */
export interface EntropyDiffMsg {
  readonly type: "entropyDiff";
  readonly index: string;
  readonly slot: number;
  readonly buckets: readonly number[];
  readonly entries: readonly WireDigestEntry[];
}

/** The answer to {@linkcode EntropyDigestMsg}: the digest, or why not (a moving slot, …). */
export type EntropyDigestReply = { readonly digest: readonly string[] } | {
  readonly refused: string;
};

/** The answer to {@linkcode EntropyDiffMsg}. */
export type EntropyDiffReply =
  | {
    /** Stamped copies of the entries the answerer holds newer (or the asker lacks). */
    readonly newer: readonly WriteCommand[];
    /** Ids whose entry the asker holds newer (or the answerer lacks). */
    readonly wanted: readonly string[];
    /** Whether more newer entries wait than this answer carries. */
    readonly more: boolean;
  }
  | { readonly refused: string };

/** A peer's anti-entropy message or answer is not what the protocol allows. */
export class MalformedEntropyError extends Error {
  override readonly name = "MalformedEntropyError";
  constructor(reason: string) {
    super(`Malformed anti-entropy message: ${reason}`);
  }
}

type Obj = Record<string, unknown>;

function object(raw: unknown, what: string): Obj {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new MalformedEntropyError(`${what} is not an object`);
  }
  return raw as Obj;
}

function list(raw: unknown, max: number, what: string): unknown[] {
  if (!Array.isArray(raw)) throw new MalformedEntropyError(`${what} is not a list`);
  if (raw.length > max) {
    throw new MalformedEntropyError(`${what} has ${raw.length} items, more than ${max}`);
  }
  return raw;
}

function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof MalformedEntropyError) throw error;
    throw new MalformedEntropyError((error as Error).message);
  }
}

function indexAndSlot(msg: Obj): { index: string; slot: number } {
  const index = checked(() => validateIndexName(msg.index));
  if (!isSlot(msg.slot)) throw new MalformedEntropyError(`slot ${String(msg.slot)} is no slot`);
  return { index, slot: msg.slot };
}

/** Checks a digest request from a peer. */
export function parseDigestRequest(raw: unknown): { index: string; slot: number } {
  return indexAndSlot(object(raw, "the digest request"));
}

/** Checks a diff request from a peer: bounded, every entry valid and in a listed bucket. */
export function parseDiffRequest(
  raw: unknown,
): { index: string; slot: number; buckets: Set<number>; entries: WireDigestEntry[] } {
  const msg = object(raw, "the diff request");
  const { index, slot } = indexAndSlot(msg);
  const buckets = new Set<number>();
  for (const bucket of list(msg.buckets, DIGEST_BUCKETS, "the buckets")) {
    if (
      !Number.isInteger(bucket) || (bucket as number) < 0 || (bucket as number) >= DIGEST_BUCKETS
    ) {
      throw new MalformedEntropyError(`bucket ${String(bucket)} is out of range`);
    }
    buckets.add(bucket as number);
  }
  if (buckets.size === 0) throw new MalformedEntropyError("no bucket is listed");
  const seen = new Set<string>();
  const entries = list(msg.entries, MAX_DIFF_ENTRIES, "the entries").map((raw): WireDigestEntry => {
    const entry = list(raw, 3, "an entry");
    const id = checked(() => validateDocId(entry[0]));
    const [, stamp, deleted] = entry;
    if (!isStamp(stamp)) throw new MalformedEntropyError(`the stamp of "${id}" is no stamp`);
    if (deleted !== 0 && deleted !== 1) {
      throw new MalformedEntropyError(`the tombstone flag of "${id}" is neither 0 nor 1`);
    }
    if (!buckets.has(bucketOf(id))) {
      throw new MalformedEntropyError(`"${id}" is in none of the buckets listed`);
    }
    if (seen.has(id)) throw new MalformedEntropyError(`"${id}" is listed twice`);
    seen.add(id);
    return [id, stamp, deleted];
  });
  return { index, slot, buckets, entries };
}

function refusal(msg: Obj): { refused: string } | undefined {
  if (msg.refused === undefined) return undefined;
  if (typeof msg.refused !== "string") throw new MalformedEntropyError("a refusal has no reason");
  return { refused: msg.refused.slice(0, MAX_REASON_CHARS) };
}

const BUCKET_DIGEST = /^(0|[1-9][0-9]{0,9}-[0-9a-f]{32})$/;

/** Checks a peer's answer to a digest request. */
export function checkDigestReply(raw: unknown): EntropyDigestReply {
  const msg = object(raw, "the digest answer");
  const refused = refusal(msg);
  if (refused !== undefined) return refused;
  const digest = list(msg.digest, DIGEST_BUCKETS, "the digest");
  if (digest.length !== DIGEST_BUCKETS) {
    throw new MalformedEntropyError(
      `the digest has ${digest.length} buckets, not ${DIGEST_BUCKETS}`,
    );
  }
  for (const bucket of digest) {
    if (typeof bucket !== "string" || !BUCKET_DIGEST.test(bucket)) {
      throw new MalformedEntropyError(`a bucket digest is malformed`);
    }
  }
  return { digest: digest as string[] };
}

/** What a diff answer must stay within: the request it answers. */
export interface DiffAsked {
  readonly index: string;
  readonly slot: number;
  readonly buckets: ReadonlySet<number>;
  /** The ids the request listed (only these may be wanted). */
  readonly ids: ReadonlySet<string>;
}

/** Checks a peer's answer to a diff request: every copy of the asked index, slot and buckets. */
export function checkDiffReply(raw: unknown, asked: DiffAsked): EntropyDiffReply {
  const msg = object(raw, "the diff answer");
  const refused = refusal(msg);
  if (refused !== undefined) return refused;
  const newer = list(msg.newer, MAX_REPAIR_ENTRIES, "the newer entries").map((raw) =>
    checkedCopy(raw, asked)
  );
  const wanted = list(msg.wanted, asked.ids.size, "the wanted ids").map((id) => {
    if (typeof id !== "string" || !asked.ids.has(id)) {
      throw new MalformedEntropyError(`a wanted id was not offered`);
    }
    return id;
  });
  if (typeof msg.more !== "boolean") throw new MalformedEntropyError("`more` is not a boolean");
  return { newer, wanted, more: msg.more };
}

function checkedCopy(raw: unknown, asked: DiffAsked): WriteCommand {
  const copy = object(raw, "a copy");
  const id = checked(() => validateDocId(copy.id));
  if (copy.index !== asked.index) throw new MalformedEntropyError(`"${id}" is of another index`);
  const routingKey = copy.routingKey;
  if (routingKey !== undefined && (typeof routingKey !== "string" || routingKey === "")) {
    throw new MalformedEntropyError(`the routing key of "${id}" is malformed`);
  }
  if (slotOf(routingKey ?? id) !== asked.slot || !asked.buckets.has(bucketOf(id))) {
    throw new MalformedEntropyError(`"${id}" is not in the slot and buckets asked about`);
  }
  if (!isStamp(copy.stamp)) throw new MalformedEntropyError(`the stamp of "${id}" is no stamp`);
  const version = copy.version;
  if (!Number.isSafeInteger(version) || (version as number) < 0) {
    throw new MalformedEntropyError(`the version of "${id}" is malformed`);
  }
  const placed = routingKey === undefined ? {} : { routingKey: routingKey as string };
  const base = { index: asked.index, id, stamp: copy.stamp, version: version as number, ...placed };
  if (copy.op === "delete") return { op: "delete", ...base };
  if (copy.op !== "put") throw new MalformedEntropyError(`"${id}" is neither a put nor a delete`);
  object(copy.doc, `the document "${id}"`);
  return { op: "put", ...base, doc: copy.doc };
}
