/**
 * The schema of every frame and hello a peer may send, checked before anything reads it:
 * types, string lengths, list counts, nesting depth. A value that fails is a
 * `MalformedFrameError`; the link closes that stream and counts it.
 *
 * Hand-written rather than a schema library: the protocol has five small shapes, the
 * checks need bounds a library would still have to be told (depth, count, length), and
 * each check stays a few readable lines with an exact message.
 *
 * @module
 */

import { MalformedFrameError } from "./errors.ts";
import type { AnswerFrame, RequestFrame } from "./remote_protocol.ts";
import type { Hello, NodeInfo, SchemaInfo } from "./view.ts";
import { parseRecords } from "./membership.ts";
import { SlotTable } from "./slot_table.ts";
import { parseIndexDrops } from "./index_drops.ts";

/** Deepest nesting of a message a peer may send (objects and arrays). */
export const MAX_VALUE_DEPTH = 64;
/** Longest actor name, error name or node field, in characters. */
export const MAX_NAME_CHARS = 256;
/** Longest error message, in characters. */
export const MAX_ERROR_MESSAGE_CHARS = 16 * 1024;
/** Longest ask timeout a peer may ask for, in ms. */
export const MAX_ASK_TIMEOUT_MS = 10 * 60_000;
/** Most members a hello may list. */
export const MAX_HELLO_MEMBERS = 1_024;
/** Most addresses one node may announce. */
export const MAX_NODE_ADDRS = 32;
/** Most index schemas a hello may carry. */
export const MAX_HELLO_SCHEMAS = 10_000;
/** Most fields one schema may carry. */
export const MAX_SCHEMA_FIELDS = 10_000;

type Obj = Record<string, unknown>;

function fail(what: string): never {
  throw new MalformedFrameError(what);
}

function object(value: unknown, what: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${what} is not a map`);
  }
  return value as Obj;
}

function text(value: unknown, what: string, maxChars = MAX_NAME_CHARS): string {
  if (typeof value !== "string") fail(`${what} is not a string`);
  if (value.length > maxChars) fail(`${what} is longer than ${maxChars} characters`);
  return value;
}

function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(`${what} is not an integer in ${min}..${max}`);
  }
  return value;
}

function list(value: unknown, what: string, maxItems: number): unknown[] {
  if (!Array.isArray(value)) fail(`${what} is not a list`);
  if (value.length > maxItems) fail(`${what} has more than ${maxItems} items`);
  return value;
}

/** Checks nesting depth and keys of a decoded value without recursion. */
export function checkValueShape(value: unknown, what: string): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: item, depth } = stack.pop()!;
    if (typeof item !== "object" || item === null || item instanceof Uint8Array) continue;
    if (depth >= MAX_VALUE_DEPTH) fail(`${what} is nested deeper than ${MAX_VALUE_DEPTH}`);
    if (Array.isArray(item)) {
      for (const child of item) stack.push({ value: child, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(item)) {
      if (key === "__proto__") fail(`${what} has a "__proto__" key`);
      stack.push({ value: (item as Obj)[key], depth: depth + 1 });
    }
  }
}

/** A request frame from a peer, checked (`stop` passes: the host decides to refuse it). */
export function parseRequestFrame(raw: unknown): RequestFrame {
  const frame = object(raw, "the frame");
  const id = integer(frame.id, "the request id", 0, Number.MAX_SAFE_INTEGER);
  const k = frame.k;
  const name = text(frame.name, "the actor name");
  if (k === "resolve" || k === "stop") return { k, id, name };
  if (k !== "ask" && k !== "tell") fail(`unknown request kind ${JSON.stringify(k)}`);
  const msg = object(frame.msg, "the message");
  text(msg.type, "the message type");
  checkValueShape(msg, "the message");
  if (k === "tell") return { k, id, name, msg };
  const timeoutMs = integer(frame.timeoutMs, "the ask timeout", 1, MAX_ASK_TIMEOUT_MS);
  return { k, id, name, msg, timeoutMs };
}

/** An answer frame from a peer, checked. */
export function parseAnswerFrame(raw: unknown): AnswerFrame {
  const frame = object(raw, "the frame");
  const id = integer(frame.id, "the request id", 0, Number.MAX_SAFE_INTEGER);
  if (frame.k === "ok") {
    checkValueShape(frame.value, "the answer");
    return frame.value === undefined ? { k: "ok", id } : { k: "ok", id, value: frame.value };
  }
  if (frame.k !== "err") fail(`unknown answer kind ${JSON.stringify(frame.k)}`);
  const error = object(frame.error, "the error");
  return {
    k: "err",
    id,
    error: {
      name: text(error.name, "the error name"),
      message: text(error.message, "the error message", MAX_ERROR_MESSAGE_CHARS),
    },
  };
}

/** A node's info as a peer tells it, checked. */
export function parseNodeInfo(raw: unknown, what: string): NodeInfo {
  const info = object(raw, what);
  return {
    nodeId: text(info.nodeId, `${what}'s node id`),
    name: text(info.name, `${what}'s name`),
    clusterName: text(info.clusterName, `${what}'s cluster name`),
    peerId: text(info.peerId, `${what}'s peer id`),
    addrs: list(info.addrs, `${what}'s addresses`, MAX_NODE_ADDRS).map((addr) =>
      text(addr, `an address of ${what}`, 1_024)
    ),
    http: text(info.http, `${what}'s HTTP address`, 1_024),
    shardCount: integer(info.shardCount, `${what}'s shard count`, 1, 1_024),
    ...(info.zone === undefined || info.zone === ""
      ? {}
      : { zone: text(info.zone, `${what}'s zone`) }),
  };
}

function parseSchema(raw: unknown): SchemaInfo {
  const schema = object(raw, "a schema");
  return {
    index: text(schema.index, "a schema's index"),
    engine: text(schema.engine, "a schema's engine"),
    ...(schema.bornAtMs === undefined
      ? {}
      : { bornAtMs: integer(schema.bornAtMs, "a schema's birth", 0, Number.MAX_SAFE_INTEGER) }),
    fields: list(schema.fields, "a schema's fields", MAX_SCHEMA_FIELDS).map((raw) => {
      const field = object(raw, "a field");
      return { name: text(field.name, "a field's name"), type: text(field.type, "a field's type") };
    }),
  };
}

/** A hello (or a hello's answer) as a peer sends it, checked. */
export function parseHello(raw: unknown): Hello {
  const hello = object(raw, "the hello");
  const parsed: Hello = {
    info: parseNodeInfo(hello.info, "the sender"),
    members: list(hello.members, "the members", MAX_HELLO_MEMBERS).map((m) =>
      parseNodeInfo(m, "a member")
    ),
    schemas: list(hello.schemas, "the schemas", MAX_HELLO_SCHEMAS).map(parseSchema),
  };
  // A peer of an older version sends no membership records and no slot table.
  return {
    ...parsed,
    ...(hello.records === undefined ? {} : { records: parseRecords(hello.records) }),
    ...(hello.slots === undefined ? {} : { slots: SlotTable.fromWire(hello.slots).toWire() }),
    ...(hello.drops === undefined ? {} : { drops: parseIndexDrops(hello.drops) }),
  };
}
