/**
 * Planning a write batch, as pure functions (no KV, no engine): validate every request,
 * refuse puts past the memory limit, decide each index's schema (`_index_plan.ts`: planned
 * and evolved, or carried by the node and only checked), and stage the changes with their versions,
 * sequence numbers and KV mutations. `Microshard.write` runs them in this order, reading
 * the previous headers from KV between planning and staging, then commits what they staged.
 *
 * @module
 */

import { serializeError } from "../actors/errors.ts";
import type { WriteOutcome, WriteRequest } from "./_shard_types.ts";
import {
  AssertionError,
  DocumentTooLargeError,
  InvalidInputError,
  MemoryLimitError,
} from "./errors.ts";
import {
  chunk,
  CHUNK_BYTES,
  type DocHeader,
  type IndexMeta,
  INLINE_MAX_BYTES,
  keys,
  MAX_BYTES_PER_ATOMIC,
  type Mutation,
  type Tombstone,
} from "./kv_layout.ts";
import { decodeStamp, HybridLogicalClock, isStamp, type Stamp } from "./hlc.ts";
import { validateDocId, validateIndexName } from "./names.ts";
import { flatten, type IndexedValue } from "./schema.ts";
import { garbageMark, NUMBER_VALUE_BYTES, tombstoneRemoval } from "./_document_store.ts";
import { slotOf, slotValue } from "./slot.ts";

/** Bytes budgeted for a document header beside its inline body. */
export const HEADER_BASE_BYTES = 64;
/** Bytes budgeted for a change-log entry beside its id. */
export const LOG_ENTRY_BASE_BYTES = 40;
/** Most bytes a UTF-16 code unit of an id takes in UTF-8. */
const MAX_UTF8_BYTES_PER_UNIT = 3;
/** Blob chunks written per atomic operation (the byte budget over the chunk size). */
export const BLOB_CHUNKS_PER_ATOMIC = Math.floor(MAX_BYTES_PER_ATOMIC / CHUNK_BYTES);

/** A request the pipeline refused, and why. */
export interface Failure {
  readonly request: number;
  readonly error: Error;
}

/** Positions of requests, grouped per index, in request order. */
export type IndexGroups = ReadonlyMap<string, readonly number[]>;

/** What validation leaves: the valid requests per index, the put bodies, the refusals. */
export interface ValidatedBatch {
  readonly groups: IndexGroups;
  /** Per valid put (by position), its document as UTF-8 JSON. */
  readonly bodies: ReadonlyMap<number, Uint8Array>;
  readonly failures: readonly Failure[];
}

/** A change staged by the write pipeline. */
export interface Change {
  readonly request: number;
  readonly index: string;
  readonly id: string;
  readonly seq: number;
  readonly version: number;
  /** The stamp of the write (the owner's, for a copy; this shard's clock's otherwise). */
  readonly stamp: Stamp;
  /** The new header; `undefined` for a delete. */
  readonly header: DocHeader | undefined;
  /** The tombstone a delete leaves. */
  readonly tombstone?: Tombstone;
  /** A copied delete of a document this shard did not hold: only its tombstone is written. */
  readonly absent?: boolean;
  /** What commits in the change's atomic operation: header, log entry, garbage mark. */
  readonly mutations: Mutation[];
  /** Blob chunks written (in operations of their own) before the header. */
  readonly blobWrites: Mutation[][];
  /** The blob the change leaves unreferenced. */
  readonly garbageBlob?: { readonly id: string; readonly chunks: number };
  /** The document's indexed values (puts only). */
  readonly values?: IndexedValue[];
  /** Whether a put made the document (there was none before). */
  readonly created?: boolean;
}

const encoder = new TextEncoder();

/** Bytes budgeted for a slot entry's value. */
const SLOT_VALUE_BYTES = 1;
/** Bytes budgeted for a tombstone beside its stamp and routing key. */
const TOMBSTONE_BASE_BYTES = 64;

function tombstoneBytes(tombstone: Tombstone): number {
  const text = tombstone.stamp.length + (tombstone.routingKey?.length ?? 0);
  return TOMBSTONE_BASE_BYTES + text * MAX_UTF8_BYTES_PER_UNIT;
}

/**
 * The slot a request writes to: the one it carries, which must be
 * `slotOf(routingKey ?? id)` (the node computed it where it placed the write).
 */
export function slotOfRequest(request: WriteRequest): number {
  const slot = slotOf(request.routingKey ?? request.id);
  if (request.slot !== undefined && request.slot !== slot) {
    throw new InvalidInputError(
      `Cannot write document "${request.id}": slot ${request.slot} is not its slot (${slot})`,
    );
  }
  return slot;
}

/** Checks every request's index name, id and size; groups the valid ones per index. */
export function validateRequests(
  requests: readonly WriteRequest[],
  options: { readonly maxDocumentBytes: number },
): ValidatedBatch {
  const groups = new Map<string, number[]>();
  const bodies = new Map<number, Uint8Array>();
  const failures: Failure[] = [];
  requests.forEach((request, i) => {
    try {
      validateIndexName(request.index);
      validateDocId(request.id);
      slotOfRequest(request);
      if (request.stamp !== undefined && !isStamp(request.stamp)) {
        throw new InvalidInputError(
          `Cannot write document "${request.id}": stamp ${
            JSON.stringify(request.stamp)
          } is not a hybrid-logical-clock stamp`,
        );
      }
      if (
        request.version !== undefined &&
        !(Number.isSafeInteger(request.version) && request.version >= 1)
      ) {
        throw new InvalidInputError(
          `Cannot write document "${request.id}": version ${request.version} is not a positive integer`,
        );
      }
      if (request.op === "put") {
        const body = encoder.encode(JSON.stringify(request.doc));
        if (body.length > options.maxDocumentBytes) {
          throw new DocumentTooLargeError(
            `Document "${request.id}" is ${body.length} bytes; at most ${options.maxDocumentBytes} are allowed`,
          );
        }
        bodies.set(i, body);
      }
      const group = groups.get(request.index);
      if (group === undefined) groups.set(request.index, [i]);
      else group.push(i);
    } catch (error) {
      failures.push({ request: i, error: error as Error });
    }
  });
  return { groups, bodies, failures };
}

/** Refuses every put once the indexes hold more than the memory limit. */
export function refuseOverMemory(
  bodies: ReadonlyMap<number, Uint8Array>,
  memory: { readonly usedBytes: number; readonly limitBytes: number | undefined },
): Failure[] {
  const { usedBytes, limitBytes } = memory;
  if (limitBytes === undefined || usedBytes <= limitBytes) return [];
  const error = new MemoryLimitError(
    `The indexes hold ${usedBytes} bytes, over the limit of ${limitBytes}; writes are refused`,
  );
  return [...bodies.keys()].map((request) => ({ request, error }));
}

/** The groups without the requests that failed. */
export function withoutFailures(groups: IndexGroups, failures: readonly Failure[]): IndexGroups {
  if (failures.length === 0) return groups;
  const failed = new Set(failures.map((failure) => failure.request));
  const live = new Map<string, number[]>();
  for (const [index, positions] of groups) {
    const kept = positions.filter((i) => !failed.has(i));
    if (kept.length > 0) live.set(index, kept);
  }
  return live;
}

/** The key under which staging tracks a document's latest header. */
export function documentKey(index: string, id: string): string {
  return `${index}\u0000${id}`;
}

/** What {@linkcode stageChanges} takes. */
export interface StageInput {
  readonly requests: readonly WriteRequest[];
  /** The live requests per index (after planning). */
  readonly groups: IndexGroups;
  readonly metas: ReadonlyMap<string, IndexMeta>;
  readonly bodies: ReadonlyMap<number, Uint8Array>;
  /** The documents' headers before the batch, by {@linkcode documentKey}. */
  readonly headers: ReadonlyMap<string, DocHeader>;
  /** The tombstones of deleted documents among them, by {@linkcode documentKey}. */
  readonly tombstones?: ReadonlyMap<string, Tombstone>;
  /** The shard's last sequence number before the batch. */
  readonly seq: number;
  /** Stamps the writes that carry none; a clock tagged `local` by default. */
  readonly clock?: HybridLogicalClock;
  /** The wall-clock time tombstones are written at, in ms since the epoch; now by default. */
  readonly nowMs?: number;
  /** A delete of an id not held leaves a tombstone too (see `WriteOptions.withStamps`). */
  readonly tombstoneAbsent?: boolean;
  /**
   * With replicas: a copied delete of an id this shard holds nothing of (no document, no
   * tombstone), stamped before this time (ms since the epoch: now less the grace), leaves
   * nothing and is answered `unchanged`. Past the grace its tombstone only keeps the replicas
   * that still hold it from giving it back to those that collected it; a replica holding
   * the document takes it as usual.
   */
  readonly forgetDeletesBeforeMs?: number;
  /** Makes a new blob id; random UUIDs by default. */
  readonly newBlobId?: () => string;
}

/**
 * The staged changes in request order, the deletes of documents that do not exist, and the
 * versioned writes not newer than the stored document (left as they are).
 */
export interface StagedBatch {
  readonly changes: readonly Change[];
  readonly notFound: readonly number[];
  readonly stale: ReadonlyArray<{ readonly request: number; readonly version: number }>;
}

/** What staging knows of one document: its latest header or tombstone in the batch. */
interface Known {
  readonly header: DocHeader | undefined;
  readonly tombstone: Tombstone | undefined;
}

/**
 * Stages the live requests in request order: each change gets the next sequence number and
 * the version after the document's latest one (a batch may write one id several times).
 * A write without a stamp is stamped by the clock after observing the stored document's or
 * tombstone's stamp, so it beats what it replaces; a write with one (a copy) is applied
 * only when its stamp is newer than the stored one, and a copied delete of a document this
 * shard does not hold still leaves its tombstone (an owner's delete too, with `tombstoneAbsent`).
 */
export function stageChanges(input: StageInput): StagedBatch {
  const known = new Map<string, Known>();
  const knownOf = (key: string): Known =>
    known.get(key) ?? { header: input.headers.get(key), tombstone: input.tombstones?.get(key) };
  const clock = input.clock ?? new HybridLogicalClock({ tag: "local" });
  const nowMs = input.nowMs ?? Date.now();
  const changes: Change[] = [];
  const notFound: number[] = [];
  const stale: Array<{ request: number; version: number }> = [];
  let seq = input.seq;
  for (const i of [...input.groups.values()].flat().sort((a, b) => a - b)) {
    const request = input.requests[i]!;
    const key = documentKey(request.index, request.id);
    const { header: previous, tombstone } = knownOf(key);
    const held = previous?.stamp ?? tombstone?.stamp;
    const holdsNothing = previous === undefined && tombstone === undefined;
    if (isStale(request, previous, held) || (holdsNothing && isForgotten(request, input))) {
      stale.push({ request: i, version: previous?.version ?? tombstone?.version ?? 0 });
      continue;
    }
    const copy = (request.stamp !== undefined || input.tombstoneAbsent === true) &&
      input.metas.has(request.index);
    if (request.op === "delete" && previous === undefined && !copy) {
      notFound.push(i);
      continue;
    }
    clock.observe(held);
    clock.observe(request.stamp);
    const stamp = request.stamp ?? clock.now();
    const change = request.op === "delete"
      ? stageDelete({ i, request, previous, tombstone, seq: ++seq, stamp, nowMs })
      : stagePut(input, { i, request, previous, tombstone, seq: ++seq, stamp });
    changes.push(change);
    known.set(key, { header: change.header, tombstone: change.tombstone });
  }
  return { changes, notFound, stale };
}

/** Whether a copied delete (of an id not held here) is past the grace (`forgetDeletesBeforeMs`). */
function isForgotten(
  request: WriteRequest,
  input: Pick<StageInput, "forgetDeletesBeforeMs">,
): boolean {
  if (request.op !== "delete" || request.stamp === undefined) return false;
  const beforeMs = input.forgetDeletesBeforeMs;
  return beforeMs !== undefined && (decodeStamp(request.stamp)?.ms ?? 0) < beforeMs;
}

/** Whether a copy (stamped, or legacy versioned) is not newer than what the shard holds. */
function isStale(
  request: WriteRequest,
  previous: DocHeader | undefined,
  held: Stamp | undefined,
): boolean {
  if (request.stamp !== undefined) return held !== undefined && request.stamp <= held;
  return request.version !== undefined && previous !== undefined &&
    previous.version >= request.version;
}

/** One request being staged, with what the shard held of its document. */
interface Staging<R extends WriteRequest = WriteRequest> {
  readonly i: number;
  readonly request: R;
  readonly previous: DocHeader | undefined;
  readonly tombstone: Tombstone | undefined;
  readonly seq: number;
  readonly stamp: Stamp;
}

function stageDelete(staging: Staging & { readonly nowMs: number }): Change {
  const { i, request, previous, tombstone: grave, seq, stamp } = staging;
  const { index, id } = request;
  const garbage = garbageOf(previous);
  // A document is deleted from the slot it is stored in (a delete need not name its routing key).
  const slot = previous === undefined ? slotOfRequest(request) : previous.slot ?? slotOf(id);
  const version = request.version ?? (previous?.version ?? grave?.version ?? 0) + 1;
  const routingKey = previous === undefined ? request.routingKey : previous.routingKey;
  const tombstone: Tombstone = {
    stamp,
    version,
    slot,
    ...(routingKey === undefined ? {} : { routingKey }),
    deletedAtMs: staging.nowMs,
  };
  return {
    request: i,
    index,
    id,
    seq,
    version,
    stamp,
    header: undefined,
    tombstone,
    ...(previous === undefined ? { absent: true } : {}),
    mutations: [
      ...(previous === undefined ? [] : [
        { type: "delete", key: keys.doc(index, id) } as const,
        { type: "delete", key: keys.slot(index, slot, id) } as const,
      ]),
      ...(grave === undefined || grave.slot === slot
        ? []
        : [{ type: "delete", key: keys.tombSlot(index, grave.slot, id) } as const]),
      {
        type: "set",
        key: keys.tomb(index, id),
        value: tombstone,
        bytes: tombstoneBytes(tombstone),
      },
      { type: "set", key: keys.tombSlot(index, slot, id), value: true, bytes: SLOT_VALUE_BYTES },
      logMutation(seq, index, id),
      ...garbage.mutations,
    ],
    blobWrites: [],
    ...(garbage.blob === undefined ? {} : { garbageBlob: garbage.blob }),
  };
}

function stagePut(
  input: StageInput,
  staging: Staging<Extract<WriteRequest, { op: "put" }>>,
): Change {
  const { i, request, previous, tombstone, seq, stamp } = staging;
  const { index, id } = request;
  const meta = input.metas.get(index);
  if (meta === undefined) throw new AssertionError(`index "${index}" was not planned`);
  const body = input.bodies.get(i)!;
  const version = request.version ?? (previous?.version ?? 0) + 1;
  const placed = placementOf(request);
  const head = { version, seq, stamp, ...placed };
  const stored = body.length <= INLINE_MAX_BYTES
    ? { header: { ...head, body }, blobWrites: [], mutations: [] }
    : stageBlob(body, head, input.newBlobId ?? (() => crypto.randomUUID()));
  const garbage = garbageOf(previous);
  const headerBytes = HEADER_BASE_BYTES + (stored.header.body?.length ?? 0);
  return {
    request: i,
    index,
    id,
    seq,
    version,
    stamp,
    header: stored.header,
    mutations: [
      ...stored.mutations,
      { type: "set", key: keys.doc(index, id), value: stored.header, bytes: headerBytes },
      ...slotMutations(index, id, placed.slot, previous),
      ...(tombstone === undefined ? [] : tombstoneRemoval(index, id, tombstone.slot)),
      logMutation(seq, index, id),
      ...garbage.mutations,
    ],
    blobWrites: stored.blobWrites,
    ...(garbage.blob === undefined ? {} : { garbageBlob: garbage.blob }),
    values: [
      ...flatten(meta.schema, request.doc as Record<string, unknown>),
      slotValue(placed.slot),
    ],
    created: previous === undefined,
  };
}

/**
 * A document over the inline limit: its chunks go in operations of their own, marked
 * `pending` until the header's commit (which removes the mark); recovery removes a pending
 * blob, so the document is wholly present or wholly absent.
 */
function stageBlob(
  body: Uint8Array,
  head: Omit<DocHeader, "body" | "blob">,
  newBlobId: () => string,
) {
  const blobId = newBlobId();
  const chunks = chunk(body);
  const header: DocHeader = {
    ...head,
    blob: { id: blobId, chunks: chunks.length, bytes: body.length },
  };
  const blobWrites: Mutation[][] = [];
  for (let at = 0; at < chunks.length; at += BLOB_CHUNKS_PER_ATOMIC) {
    const group: Mutation[] = chunks.slice(at, at + BLOB_CHUNKS_PER_ATOMIC).map((bytes, k) => ({
      type: "set",
      key: keys.blobChunk(blobId, at + k),
      value: bytes,
      bytes: bytes.length,
    }));
    if (at === 0) {
      group.push({
        type: "set",
        key: keys.pending(blobId),
        value: chunks.length,
        bytes: NUMBER_VALUE_BYTES,
      });
    }
    blobWrites.push(group);
  }
  const mutations: Mutation[] = [{ type: "delete", key: keys.pending(blobId) }];
  return { header, blobWrites, mutations };
}

/** Where a put places its document: its slot, and its routing key when it has one. */
function placementOf(request: WriteRequest): { slot: number; routingKey?: string } {
  const slot = slotOfRequest(request);
  return request.routingKey === undefined ? { slot } : { slot, routingKey: request.routingKey };
}

/** The document's slot entry, and the removal of its old one when its slot changed. */
function slotMutations(
  index: string,
  id: string,
  slot: number,
  previous: DocHeader | undefined,
): Mutation[] {
  const set: Mutation = {
    type: "set",
    key: keys.slot(index, slot, id),
    value: true,
    bytes: SLOT_VALUE_BYTES,
  };
  const old = previous === undefined ? undefined : previous.slot ?? slotOf(id);
  if (old === undefined || old === slot) return [set];
  return [{ type: "delete", key: keys.slot(index, old, id) }, set];
}

/** The change-log mutation of one change. */
function logMutation(seq: number, index: string, id: string): Mutation {
  return {
    type: "set",
    key: keys.log(seq),
    value: { index, id },
    bytes: LOG_ENTRY_BASE_BYTES + id.length * MAX_UTF8_BYTES_PER_UNIT,
  };
}

/** The blob a change leaves unreferenced, and the mutation that marks it as garbage. */
function garbageOf(previous: DocHeader | undefined): {
  blob?: { id: string; chunks: number };
  mutations: Mutation[];
} {
  if (previous?.blob === undefined) return { mutations: [] };
  const blob = { id: previous.blob.id, chunks: previous.blob.chunks };
  return { blob, mutations: [garbageMark(blob)] };
}

/** The answer to a committed and indexed change. */
export function changeOutcome(change: Change): WriteOutcome {
  if (change.absent === true) return notFoundOutcome(change.id);
  if (change.header === undefined) {
    return { ok: true, id: change.id, result: "deleted", version: change.version };
  }
  const result = (change.created ?? change.version === 1) ? "created" : "updated";
  return { ok: true, id: change.id, result, version: change.version };
}

/** The answer to a versioned write not newer than the stored document (`version`). */
export function unchangedOutcome(id: string, version: number): WriteOutcome {
  return { ok: true, id, result: "unchanged", version };
}

/** The answer to a delete of a document that does not exist. */
export function notFoundOutcome(id: string): WriteOutcome {
  return { ok: true, id, result: "not_found", version: 0 };
}

/** The answer to a refused or failed request. */
export function failureOutcome(id: string, error: unknown): WriteOutcome {
  return { ok: false, id: String(id), error: serializeError(error) };
}
