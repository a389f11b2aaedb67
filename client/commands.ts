/**
 * The client's commands, shared by the interactive mode and the one-shot form
 * (`cameodb client --connect URL search books "title:rust"`). Output is plain text, one
 * record a line, for scripts; exit codes: 0 done, 1 the server refused or failed, 2 usage.
 *
 * @module
 */

import { openDataFile, type Record as DataRecord } from "./data_file.ts";
import { type Output, plainLines } from "./output.ts";

/** Where a command writes and how it asks. */
export interface ClientIO {
  /** Writes a line of output. */
  out(line: string): void;
  /** Writes a line to the error stream. */
  err(line: string): void;
  /** Asks a yes/no question; resolves true for yes. */
  confirm(question: string): Promise<boolean>;
  /** Shows load progress (the terminal's progress bar). */
  progress?(done: number, total: number, docsPerSecond: number): void;
  /** Shows a result as data (aligned or JSON); without it, results are plain lines to `out`. */
  show?(output: Output): void;
  /** Aborts the command's requests (Ctrl-C in the interactive mode). */
  readonly signal?: AbortSignal;
}

function show(io: ClientIO, output: Output): void {
  if (io.show !== undefined) io.show(output);
  else for (const line of plainLines(output)) io.out(line);
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
  /** The exit code: 0 done, 1 refused or failed, 2 usage. */
  readonly code: number;
  /** The server to use from now on (after `connect`). */
  readonly base?: string;
  /** Whether the session should end (`exit`). */
  readonly exit?: boolean;
}

/** The help text. */
export const HELP = `Commands:
  health                                 the server's health
  list indexes                           every index with its documents, shards and fields
  list index NAME                        an index's schema
  search INDEX QUERY [N]                 the first N hits (default 10) of a query
  get INDEX ID                           one document
  put INDEX ID JSON                      write a document (JSON object)
  data load INDEX FILE [--batch-size N] [--id COLUMN]
                                         load a JSON array, NDJSON, CSV or TSV file
  delete INDEX --id ID[,ID...]           delete documents
  delete INDEX                           delete an index (asks first; --yes to skip)
  keys create --actions A[,A...] --indexes P[,P...] [--description TEXT] [--expires-at ISO]
                                         create an API key (shown once)
  keys list                              every API key (never the keys themselves)
  keys delete ID                         delete an API key
  cluster nodes                          the cluster's members: state, health, slots owned
  cluster leave ID                       a live node hands its slots off and leaves
  cluster remove ID                      forget a down node for good (its slots get new owners)
  connect URL                            use another server
  help                                   this text
  exit                                   leave (interactive mode)`;

/**
 * Splits a command line into words; double and single quotes group. A word that starts with
 * `{` or `[` is JSON: it runs verbatim to the end of the line (`put books b1 {"title": "Dune"}`).
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | undefined;
  let started = false;
  for (const [at, char] of [...line].entries()) {
    if (!started && quote === undefined && (char === "{" || char === "[")) {
      words.push([...line].slice(at).join("").trimEnd());
      return words;
    }
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

async function sendRequest(
  base: string,
  method: string,
  path: string,
  body: unknown,
  options: { readonly signal: AbortSignal | undefined; readonly connection: Connection },
): Promise<{ status: number; body: Answer }> {
  const { signal, connection } = options;
  const headers: Record<string, string> = {};
  if (connection.apiKey !== undefined) headers.authorization = `Bearer ${connection.apiKey}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      headers,
      ...(signal === undefined ? {} : { signal }),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(connection.httpClient === undefined ? {} : { client: connection.httpClient }),
    });
  } catch (error) {
    if (signal?.aborted) throw new Error("cancelled");
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

/** Sends one request to the server at `base` (with the session's key and signal). */
type Request = (
  base: string,
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: Answer }>;

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
  const request: Request = (base, method, path, body) =>
    sendRequest(base, method, path, body, { signal: io.signal, connection });
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
        const health = (await request(url, "GET", "/_cluster/health")).body;
        io.out(`connected to ${url} (${health.status}, node ${health.node_name})`);
        return { code: 0, base: url };
      }
      case "health": {
        const h = (await request(base, "GET", "/_cluster/health")).body;
        show(io, {
          kind: "lines",
          data: h,
          lines: [
            `status: ${h.status}`,
            `node: ${h.node_name} (${h.node_id})`,
            `cluster: ${h.cluster_name} (${h.connected_nodes}/${h.total_nodes} nodes)`,
            `shards: ${h.active_shards}, indexes: ${h.total_indexes}`,
          ],
        });
        return { code: 0 };
      }
      case "list": {
        if (rest[0] === "indexes") {
          const { indexes } = (await request(base, "GET", "/_indexes")).body;
          show(io, {
            kind: "table",
            data: indexes,
            header: ["name", "documents", "shards", "fields", "engine"],
            rows: indexes.map((i: Answer) =>
              [i.name, i.document_count, i.shard_count, i.field_count, i.engine].map(String)
            ),
          });
          return { code: 0 };
        }
        if (rest[0] === "index" && rest[1] !== undefined) {
          const config =
            (await request(base, "GET", `/api/${encodeURIComponent(rest[1])}/_config`)).body;
          show(io, {
            kind: "table",
            data: config,
            title:
              `index ${config.name} (${config.engine}, schema version ${config.version}, thumbprint ${config.thumbprint})`,
            header: ["field", "type", "indexed", "sortable"],
            rows: config.fields.map((f: Answer) =>
              [f.name, f.type, f.indexed, f.sortable].map(String)
            ),
          });
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
        const answer = (await request(base, "POST", `/api/${encodeURIComponent(index)}/search`, {
          query: queryWords.join(" "),
          limit,
        })).body;
        show(io, {
          kind: "table",
          data: answer,
          header: ["id", "score", "document"],
          plainHeader: false,
          rows: answer.hits.map(({ _score, id, ...doc }: Answer) => [
            String(id),
            Number(_score).toFixed(3),
            JSON.stringify(doc),
          ]),
          note: `# ${answer.hits_returned} of ${answer.total_hits} hits, ${answer.took_ms} ms`,
        });
        return { code: 0 };
      }
      case "get": {
        const [index, id] = rest;
        if (index === undefined || id === undefined || rest.length > 2) {
          throw new UsageError("get INDEX ID");
        }
        const found = (await request(
          base,
          "GET",
          `/api/${encodeURIComponent(index)}/document/${encodeURIComponent(id)}`,
        )).body;
        show(io, {
          kind: "lines",
          data: found,
          lines: [`${found.id}\tv${found.version}\t${JSON.stringify(found.doc)}`],
        });
        return { code: 0 };
      }
      case "put": {
        const [index, id, ...json] = rest;
        if (index === undefined || id === undefined || json.length === 0) {
          throw new UsageError("put INDEX ID JSON");
        }
        let doc: unknown;
        try {
          doc = JSON.parse(json.join(" "));
        } catch (error) {
          throw new UsageError(`put INDEX ID JSON: ${(error as Error).message}`);
        }
        const written = (await request(base, "PUT", `/api/${encodeURIComponent(index)}/document`, {
          id,
          doc,
        })).body;
        show(io, {
          kind: "lines",
          data: written,
          lines: [`${written.id}\t${written.result}\tv${written.version}`],
        });
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
            (await request(base, "POST", `/api/${encodeURIComponent(index)}/_bulk`, batch)).body;
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
            (await request(base, "POST", `/api/${encodeURIComponent(index)}/_bulk/delete`, list))
              .body;
          io.out(`deleted ${result.items_deleted} of ${result.items_received} documents`);
          for (const e of result.errors) io.err(`${e.id}: ${e.error}`);
          return { code: result.errors.length === 0 ? 0 : 1 };
        }
        if (!yes && !(await io.confirm(`Delete index ${index} and all its documents? [y/N] `))) {
          io.out("not deleted");
          return { code: 1 };
        }
        const result = (await request(base, "DELETE", `/api/${encodeURIComponent(index)}`)).body;
        io.out(
          `deleted index ${index} from ${result.deleted_from_shards} of ${result.total_shards} shards`,
        );
        return { code: 0 };
      }
      case "cluster":
        return await clusterCommand(
          rest,
          (method, path, body) => request(base, method, path, body),
          io,
        );
      case "keys":
        return await keysCommand(
          rest,
          (method, path, body) => request(base, method, path, body),
          io,
        );
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

const CLUSTER_USAGE = "cluster nodes | cluster leave ID | cluster remove ID";

async function clusterCommand(
  words: string[],
  request: (method: string, path: string, body?: unknown) => ReturnType<Request>,
  io: ClientIO,
): Promise<CommandResult> {
  const [sub, id, ...extra] = words;
  if (extra.length > 0) throw new UsageError(CLUSTER_USAGE);
  switch (sub) {
    case "nodes": {
      if (id !== undefined) throw new UsageError(CLUSTER_USAGE);
      const { nodes } = (await request("GET", "/_cluster/nodes")).body;
      show(io, {
        kind: "table",
        data: nodes,
        header: ["node_id", "name", "state", "health", "slots"],
        rows: nodes.map((n: Answer) =>
          [n.node_id, n.name ?? "", n.state, n.health ?? "", n.slots].map(String)
        ),
      });
      return { code: 0 };
    }
    case "leave": {
      if (id === undefined) throw new UsageError(CLUSTER_USAGE);
      const left = (await request("POST", `/_cluster/nodes/${encodeURIComponent(id)}/_leave`))
        .body;
      io.out(
        left.state === "left"
          ? `node ${left.node_id} has left`
          : `node ${left.node_id} is leaving: ${left.slots} slots to hand off (see cluster nodes)`,
      );
      return { code: 0 };
    }
    case "remove": {
      if (id === undefined) throw new UsageError(CLUSTER_USAGE);
      const removed = (await request("DELETE", `/_cluster/nodes/${encodeURIComponent(id)}`)).body;
      io.out(
        removed.already_removed
          ? `node ${removed.node_id} was already removed`
          : `removed node ${removed.node_id}: ${removed.slots_lost} slots it held alone have new owners (their documents are lost)`,
      );
      return { code: 0 };
    }
    default:
      throw new UsageError(CLUSTER_USAGE);
  }
}

const KEYS_USAGE = "keys create --actions A[,A...] --indexes P[,P...] [--description TEXT] " +
  "[--expires-at ISO] | keys list | keys delete ID";

async function keysCommand(
  words: string[],
  request: (method: string, path: string, body?: unknown) => ReturnType<Request>,
  io: ClientIO,
): Promise<CommandResult> {
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
      const created = (await request("POST", "/_keys", {
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
      const { keys } = (await request("GET", "/_keys")).body;
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
      await request("DELETE", `/_keys/${encodeURIComponent(id)}`);
      io.out(`deleted key ${id}`);
      return { code: 0 };
    }
    default:
      throw new UsageError(KEYS_USAGE);
  }
}
