/**
 * The client's commands, shared by the interactive mode and the one-shot form
 * (`cameodb client --connect URL search books "title:rust"`). Output is plain text, one
 * record a line, for scripts; exit codes: 0 done, 1 the server refused or failed, 2 usage.
 *
 * @module
 */

import { openDataFile, type Record as DataRecord } from "./data_file.ts";

/** Where a command writes and how it asks. */
export interface ClientIO {
  out(line: string): void;
  err(line: string): void;
  /** Asks a yes/no question; resolves true for yes. */
  confirm(question: string): Promise<boolean>;
  /** Shows load progress (the terminal's progress bar). */
  progress?(done: number, total: number, docsPerSecond: number): void;
}

/**
 * How the client reaches the server: an API key (sent as `Authorization: Bearer`) and an HTTP
 * client (for a CA file: `Deno.createHttpClient({ caCerts })`).
 */
export interface Connection {
  readonly apiKey?: string;
  readonly httpClient?: Deno.HttpClient;
}

/** A command's result: its exit code, and the new server URL after `connect`. */
export interface CommandResult {
  readonly code: number;
  readonly base?: string;
  readonly exit?: boolean;
}

/** The help text. */
export const HELP = `Commands:
  health                                 the server's health
  list indexes                           every index with its documents, shards and fields
  list index NAME                        an index's schema
  search INDEX QUERY [N]                 the first N hits (default 10) of a query
  data load INDEX FILE [--batch-size N] [--id COLUMN]
                                         load a JSON array, NDJSON, CSV or TSV file
  delete INDEX --id ID[,ID...]           delete documents
  delete INDEX                           delete an index (asks first; --yes to skip)
  keys create --actions A[,A...] --indexes P[,P...] [--description TEXT] [--expires-at ISO]
                                         create an API key (shown once)
  keys list                              every API key (never the keys themselves)
  keys delete ID                         delete an API key
  connect URL                            use another server
  help                                   this text
  exit                                   leave (interactive mode)`;

/** Splits a command line into words; double and single quotes group. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | undefined;
  let started = false;
  for (const char of line) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(word);
      word = "";
      started = false;
    } else {
      word += char;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

class UsageError extends Error {}

// The server's answers are read field by field below; their shapes are in BRIEF §4.
// deno-lint-ignore no-explicit-any
type Answer = any;

/** A server and how to reach it. */
interface Target {
  readonly base: string;
  readonly connection: Connection;
}

async function request(
  { base, connection }: Target,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Answer }> {
  const headers: Record<string, string> = {};
  if (connection.apiKey !== undefined) headers.authorization = `Bearer ${connection.apiKey}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(connection.httpClient === undefined ? {} : { client: connection.httpClient }),
    });
  } catch (error) {
    throw new Error(`cannot reach ${base}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = { error: text };
  }
  if (!response.ok) {
    const error = parsed as { error?: string; details?: string };
    throw new Error(
      `${response.status} ${error?.error ?? ""}${error?.details ? `: ${error.details}` : ""}`,
    );
  }
  return { status: response.status, body: parsed };
}

function option(words: string[], name: string): string | undefined {
  const at = words.indexOf(name);
  if (at < 0) return undefined;
  const value = words[at + 1];
  if (value === undefined) throw new UsageError(`${name} needs a value`);
  words.splice(at, 2);
  return value;
}

/** Runs one command against the server at `base`. */
export async function runCommand(
  input: string[],
  base: string,
  io: ClientIO,
  connection: Connection = {},
): Promise<CommandResult> {
  const words = [...input];
  const server: Target = { base, connection };
  try {
    const yes = words.includes("--yes");
    if (yes) words.splice(words.indexOf("--yes"), 1);
    const [command, ...rest] = words;
    switch (command) {
      case undefined:
        return { code: 0 };
      case "help":
        io.out(HELP);
        return { code: 0 };
      case "exit":
      case "quit":
        return { code: 0, exit: true };
      case "connect": {
        const url = rest[0];
        if (url === undefined) throw new UsageError("connect URL");
        const health = (await request({ base: url, connection }, "GET", "/_cluster/health")).body;
        io.out(`connected to ${url} (${health.status}, node ${health.node_name})`);
        return { code: 0, base: url };
      }
      case "health": {
        const h = (await request(server, "GET", "/_cluster/health")).body;
        io.out(`status: ${h.status}`);
        io.out(`node: ${h.node_name} (${h.node_id})`);
        io.out(`cluster: ${h.cluster_name} (${h.connected_nodes}/${h.total_nodes} nodes)`);
        io.out(`shards: ${h.active_shards}, indexes: ${h.total_indexes}`);
        return { code: 0 };
      }
      case "list": {
        if (rest[0] === "indexes") {
          const { indexes } = (await request(server, "GET", "/_indexes")).body;
          io.out("name\tdocuments\tshards\tfields\tengine");
          for (const i of indexes) {
            io.out(
              `${i.name}\t${i.document_count}\t${i.shard_count}\t${i.field_count}\t${i.engine}`,
            );
          }
          return { code: 0 };
        }
        if (rest[0] === "index" && rest[1] !== undefined) {
          const config =
            (await request(server, "GET", `/api/${encodeURIComponent(rest[1])}/_config`)).body;
          io.out(
            `index ${config.name} (${config.engine}, schema version ${config.version}, thumbprint ${config.thumbprint})`,
          );
          io.out("field\ttype\tindexed\tsortable");
          for (const f of config.fields) {
            io.out(`${f.name}\t${f.type}\t${f.indexed}\t${f.sortable}`);
          }
          return { code: 0 };
        }
        throw new UsageError("list indexes | list index NAME");
      }
      case "search": {
        const [index, ...queryWords] = rest;
        if (index === undefined || queryWords.length === 0) {
          throw new UsageError("search INDEX QUERY [N]");
        }
        let limit = 10;
        if (queryWords.length > 1 && /^\d+$/.test(queryWords.at(-1)!)) {
          limit = Number(queryWords.pop());
        }
        const answer = (await request(server, "POST", `/api/${encodeURIComponent(index)}/search`, {
          query: queryWords.join(" "),
          limit,
        })).body;
        for (const { _score, id, ...doc } of answer.hits) {
          io.out(`${id}\t${Number(_score).toFixed(3)}\t${JSON.stringify(doc)}`);
        }
        io.out(`# ${answer.hits_returned} of ${answer.total_hits} hits, ${answer.took_ms} ms`);
        return { code: 0 };
      }
      case "data": {
        if (rest[0] !== "load") {
          throw new UsageError("data load INDEX FILE [--batch-size N] [--id COLUMN]");
        }
        const args = rest.slice(1);
        const batchText = option(args, "--batch-size");
        const idColumn = option(args, "--id");
        const [index, file] = args;
        if (index === undefined || file === undefined) {
          throw new UsageError("data load INDEX FILE [--batch-size N] [--id COLUMN]");
        }
        const batchSize = batchText === undefined ? 500 : Number(batchText);
        if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
          throw new UsageError("--batch-size must be an integer from 1 to 100000");
        }
        // Streamed: the file is read as batches are sent, never held whole (JSON arrays aside).
        const data = await openDataFile(file, idColumn === undefined ? {} : { idColumn });
        const started = performance.now();
        let written = 0;
        let errors = 0;
        let sent = 0;
        const send = async (batch: DataRecord[]) => {
          const result =
            (await request(server, "POST", `/api/${encodeURIComponent(index)}/_bulk`, batch)).body;
          written += result.items_written;
          errors += result.errors.length;
          for (const e of result.errors.slice(0, 10)) {
            io.err(`record ${sent + e.item + 1} (${e.id}): ${e.error}`);
          }
          sent += batch.length;
          const seconds = (performance.now() - started) / 1000;
          io.progress?.(sent, data.total, Math.round(sent / Math.max(seconds, 0.001)));
        };
        let batch: DataRecord[] = [];
        for await (const record of data.records()) {
          batch.push(record);
          if (batch.length >= batchSize) {
            await send(batch);
            batch = [];
          }
        }
        if (batch.length > 0) await send(batch);
        const seconds = (performance.now() - started) / 1000;
        io.out(
          `loaded ${written} of ${data.total} documents into ${index} (${errors} errors) in ${
            seconds.toFixed(2)
          } s, ` +
            `${Math.round(data.total / Math.max(seconds, 0.001))} docs/s`,
        );
        return { code: errors === 0 ? 0 : 1 };
      }
      case "delete": {
        const args = [...rest];
        const ids = option(args, "--id");
        const [index] = args;
        if (index === undefined) {
          throw new UsageError("delete INDEX --id ID[,ID...] | delete INDEX");
        }
        if (ids !== undefined) {
          const list = ids.split(",").filter((id) => id !== "");
          const result =
            (await request(server, "POST", `/api/${encodeURIComponent(index)}/_bulk/delete`, list))
              .body;
          io.out(`deleted ${result.items_deleted} of ${result.items_received} documents`);
          for (const e of result.errors) io.err(`${e.id}: ${e.error}`);
          return { code: result.errors.length === 0 ? 0 : 1 };
        }
        if (!yes && !(await io.confirm(`Delete index ${index} and all its documents? [y/N] `))) {
          io.out("not deleted");
          return { code: 1 };
        }
        const result = (await request(server, "DELETE", `/api/${encodeURIComponent(index)}`)).body;
        io.out(
          `deleted index ${index} from ${result.deleted_from_shards} of ${result.total_shards} shards`,
        );
        return { code: 0 };
      }
      case "keys":
        return await keysCommand(rest, server, io);
      default:
        throw new UsageError(`unknown command "${command}"; try "help"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`usage: ${error.message}`);
      return { code: 2 };
    }
    io.err(`error: ${(error as Error).message}`);
    return { code: 1 };
  }
}

const KEYS_USAGE = "keys create --actions A[,A...] --indexes P[,P...] [--description TEXT] " +
  "[--expires-at ISO] | keys list | keys delete ID";

async function keysCommand(words: string[], server: Target, io: ClientIO): Promise<CommandResult> {
  const args = [...words];
  switch (args.shift()) {
    case "create": {
      const actions = option(args, "--actions");
      const indexes = option(args, "--indexes");
      const description = option(args, "--description");
      const expiresAt = option(args, "--expires-at");
      if (actions === undefined || indexes === undefined || args.length > 0) {
        throw new UsageError(KEYS_USAGE);
      }
      const created = (await request(server, "POST", "/_keys", {
        actions: actions.split(",").filter((a) => a !== ""),
        indexes: indexes.split(",").filter((i) => i !== ""),
        ...(description === undefined ? {} : { description }),
        ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
      })).body;
      io.out(`id\t${created.id}`);
      io.out(`key\t${created.key}`);
      io.err("# the key is shown only now: keep it");
      return { code: 0 };
    }
    case "list": {
      const { keys } = (await request(server, "GET", "/_keys")).body;
      io.out("id\tactions\tindexes\texpires_at\tdescription");
      for (const k of keys) {
        io.out(
          `${k.id}\t${k.actions.join(",")}\t${k.indexes.join(",")}\t${
            k.expires_at ?? "never"
          }\t${k.description}`,
        );
      }
      return { code: 0 };
    }
    case "delete": {
      const [id] = args;
      if (id === undefined) throw new UsageError(KEYS_USAGE);
      await request(server, "DELETE", `/_keys/${encodeURIComponent(id)}`);
      io.out(`deleted key ${id}`);
      return { code: 0 };
    }
    default:
      throw new UsageError(KEYS_USAGE);
  }
}
