/**
 * A microshard: the hybrid store of one shard — documents in Deno KV, the source of truth,
 * and per index a derived search index (FTS5 or Orama).
 *
 * The write pipeline (one call of {@linkcode Microshard.write}, which the MicroshardActor
 * feeds with every write queued at the moment: group commit):
 * 1. validate every request (index name, id, size, schema); refused requests write nothing;
 * 2. give each valid change the next sequence number;
 * 3. commit to KV, per change and in one atomic operation: the document header (and body),
 *    the change-log entry, the shard's sequence number — changes are packed into as few
 *    atomic operations as Deno KV's limits allow; a document over 60 KB is first written
 *    as a blob in operations of its own, which only the header's commit makes visible;
 * 4. apply the committed changes to each index's search engine, which records the highest
 *    sequence number it applied in the same transaction;
 * 5. only then answer.
 *
 * Recovery ({@linkcode Microshard.open}): remove half-written and unreferenced blobs,
 * finish interrupted index deletions, then bring every search index level with KV —
 * replay the change-log entries after its applied sequence number, or rebuild it from KV
 * when it is in memory, missing, corrupt, or behind the pruned part of the log.
 *
 * @module
 */

import { Fts5Index, IndexCorruptError, removeDatabaseFiles } from "./fts5_index.ts";
import {
  addMutations,
  chunk,
  type DocHeader,
  type IndexMeta,
  INLINE_MAX_BYTES,
  keys,
  type LogEntry,
  MAX_MUTATIONS_PER_ATOMIC,
  type Mutation,
  pack,
} from "./kv_layout.ts";
import {
  DocumentTooLargeError,
  IndexNotFoundError,
  InvalidInputError,
  MemoryLimitError,
  StorageUnavailableError,
} from "./errors.ts";
import { validateDocId, validateIndexName } from "./names.ts";
import { OramaIndex } from "./orama_index.ts";
import { declareFields, EMPTY_SCHEMA, flatten, planSchema, type Schema } from "./schema.ts";
import type {
  EngineName,
  FacetCounts,
  FacetSpec,
  Hit,
  IndexOp,
  Plan,
  SearchIndex,
  SearchOptions,
} from "./search_index.ts";
import { ENGINES } from "./search_index.ts";
import { type SerializedError, serializeError } from "../actors/errors.ts";

/** Default largest document, in bytes of UTF-8 JSON. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** Options of {@linkcode Microshard.open}. */
export interface MicroshardOptions {
  /** The shard's directory: `kv.sqlite` and `indexes/`. */
  readonly dir: string;
  /** Largest document accepted, in bytes; 16 MiB by default. */
  readonly maxDocumentBytes?: number;
  /** Writes are refused once the indexes hold more than this in memory; none by default. */
  readonly memoryLimitBytes?: number;
  /** The engine of indexes created without one; `fts5` by default. */
  readonly defaultEngine?: EngineName;
  /** Change-log entries kept before pruning is attempted; 1000 by default. */
  readonly pruneEveryEntries?: number;
  /** Fault injection for crash tests: called between steps of the write pipeline. */
  readonly faults?: {
    /** After a KV atomic operation of a write batch committed, before the index applies it. */
    readonly afterKvCommit?: () => void;
    /** After a read found a document's header, before it reads the document's blob. */
    readonly beforeBlobRead?: () => Promise<void>;
    /** Before an engine applies operations (a write batch's or a catch-up's); may throw. */
    readonly beforeIndexApply?: (index: string) => void;
  };
}

/** One write in a batch. */
export type WriteRequest =
  | {
    readonly op: "put";
    readonly index: string;
    readonly id: string;
    readonly doc: unknown;
  }
  | { readonly op: "delete"; readonly index: string; readonly id: string };

/** The outcome of one write. */
export type WriteOutcome =
  | {
    readonly ok: true;
    readonly id: string;
    readonly result: "created" | "updated" | "deleted" | "not_found";
    readonly version: number;
  }
  | { readonly ok: false; readonly id: string; readonly error: SerializedError };

/** A stored document. */
export interface StoredDocument {
  readonly id: string;
  readonly version: number;
  readonly doc: Record<string, unknown>;
}

/** A page of search results with their documents. */
export interface ShardSearchResult {
  readonly total: number;
  readonly hits: ReadonlyArray<ShardHit>;
  /** Facet counts, in the order asked, when facets were asked for. */
  readonly facets?: FacetCounts[];
}

/** A hit with its document. */
export interface ShardHit extends Hit {
  readonly doc: Record<string, unknown>;
  readonly version: number;
}

/** What a microshard tells about one index. */
export interface IndexInfo {
  readonly name: string;
  readonly engine: EngineName;
  readonly schema: Schema;
  readonly description?: string;
  readonly documentCount: number;
  readonly memoryBytes: number;
}

/** What recovery did when the shard opened. */
export interface RecoveryReport {
  readonly replayedEntries: number;
  readonly rebuiltIndexes: string[];
  readonly removedBlobs: number;
  readonly durationMs: number;
}

interface OpenIndex {
  meta: IndexMeta;
  engine: SearchIndex;
}

/** A change staged by the write pipeline. */
interface Change {
  readonly request: number;
  readonly index: string;
  readonly id: string;
  readonly seq: number;
  readonly version: number;
  readonly header: DocHeader | undefined;
  readonly mutations: Mutation[];
  /** Blob chunks written (in operations of their own) before the header. */
  readonly blobWrites: Mutation[][];
  readonly garbageBlob?: { readonly id: string; readonly chunks: number };
  readonly values?: ReturnType<typeof flatten>;
}

/** The change-log mutation of one change. */
function logMutation(seq: number, index: string, id: string): Mutation {
  return { type: "set", key: keys.log(seq), value: { index, id }, bytes: 40 + id.length * 3 };
}

/** The blob a change leaves unreferenced, and the mutation that marks it as garbage. */
function garbageOf(previous: DocHeader | undefined) {
  if (previous?.blob === undefined) return { mutations: [] as Mutation[] };
  const garbage = { id: previous.blob.id, chunks: previous.blob.chunks };
  return {
    garbageBlob: garbage,
    mutations: [
      { type: "set", key: keys.garbage(garbage.id), value: garbage.chunks, bytes: 8 },
    ] as Mutation[],
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexPath(dir: string, index: string): string {
  return `${dir}/indexes/${index}.fts5.sqlite`;
}

/** Index operations applied in one synchronous step before reads get a turn. */
const APPLY_SLICE_OPS = 500;

/** Lets queued reads run between slices of a long synchronous step. */
function yieldToReads(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A blob vanished while being read: a write replaced its document meanwhile. */
class BlobGoneError extends Error {
  constructor(id: string, at: number, bytes: number) {
    super(`blob ${id} holds ${at} of ${bytes} bytes`);
    this.name = "BlobGoneError";
  }
}

/** The hybrid store of one microshard. */
export class Microshard {
  readonly dir: string;
  #kv: Deno.Kv;
  #options: Required<Omit<MicroshardOptions, "memoryLimitBytes" | "faults">> & {
    memoryLimitBytes?: number;
  };
  #faults: NonNullable<MicroshardOptions["faults"]>;
  #indexes = new Map<string, OpenIndex>();
  #seq = 0;
  #pruned = 0;
  #sincePrune = 0;
  #lock: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Reads running beside the exclusive queue (see `#read`). */
  #reads = new Set<Promise<unknown>>();
  /** Rebuilds under way: an engine being refilled answers searches only partly. */
  #rebuilding = 0;
  /** Indexes whose engine missed a batch (it could not apply it): they catch up first. */
  #behind = new Set<string>();
  #recovery: RecoveryReport = {
    replayedEntries: 0,
    rebuiltIndexes: [],
    removedBlobs: 0,
    durationMs: 0,
  };
  /** Per index, the highest sequence number of a change-log entry naming it. */
  #lastTouch = new Map<string, number>();
  #writeBatches = 0;

  private constructor(kv: Deno.Kv, options: MicroshardOptions) {
    this.#kv = kv;
    this.dir = options.dir;
    this.#faults = options.faults ?? {};
    this.#options = {
      dir: options.dir,
      maxDocumentBytes: options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
      defaultEngine: options.defaultEngine ?? "fts5",
      pruneEveryEntries: options.pruneEveryEntries ?? 1_000,
      ...(options.memoryLimitBytes === undefined
        ? {}
        : { memoryLimitBytes: options.memoryLimitBytes }),
    };
  }

  /** Opens (or creates) the microshard in `options.dir` and recovers it. */
  static async open(options: MicroshardOptions): Promise<Microshard> {
    const started = performance.now();
    await Deno.mkdir(`${options.dir}/indexes`, { recursive: true });
    const kv = await Deno.openKv(`${options.dir}/kv.sqlite`);
    const stats = { replayedEntries: 0, rebuiltIndexes: [] as string[], removedBlobs: 0 };
    const shard = new Microshard(kv, options);
    try {
      await shard.#recover(stats);
    } catch (error) {
      shard.#closeAll();
      throw error;
    }
    shard.#recovery = { ...stats, durationMs: Math.round(performance.now() - started) };
    return shard;
  }

  /** What recovery did when the shard opened. */
  get recovery(): RecoveryReport {
    return this.#recovery;
  }

  /** The last sequence number committed. */
  get seq(): number {
    return this.#seq;
  }

  /** Runs `fn` after every earlier call: the store is used by one caller at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(() => {
      if (this.#closed) {
        throw new StorageUnavailableError(`The microshard at ${this.dir} is closed`);
      }
      return fn();
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  /**
   * Runs a read beside the exclusive queue, so that reads do not wait for write batches.
   * This is safe because every engine call is synchronous (a search sees each slice of a
   * batch wholly applied or not at all; a batch not yet answered may be partly visible, as
   * it is in KV), a document's header is read in one KV call, and a blob is never
   * rewritten, only removed — a read that finds its blob gone meanwhile is retried in the
   * queue. While an index is being rebuilt, reads queue behind the rebuild. `fn` must call
   * the engine before its first `await`.
   */
  #read<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed || this.#rebuilding > 0) return this.#exclusive(fn);
    const run = fn().catch((error) => {
      if (error instanceof BlobGoneError) return this.#exclusive(fn);
      throw error;
    });
    this.#reads.add(run);
    run.catch(() => {}).finally(() => this.#reads.delete(run));
    return run;
  }

  // ---------------------------------------------------------------- recovery

  async #recover(
    stats: { replayedEntries: number; rebuiltIndexes: string[]; removedBlobs: number },
  ) {
    this.#seq = (await this.#kv.get<number>(keys.seq)).value ?? 0;
    this.#pruned = (await this.#kv.get<number>(keys.pruned)).value ?? 0;
    stats.removedBlobs = await this.#collectBlobs();
    for await (const entry of this.#kv.list<IndexMeta>({ prefix: keys.indexes })) {
      const meta = entry.value;
      if (meta.dropping === true) {
        await this.#finishDrop(meta.name);
        continue;
      }
      const engine = this.#openEngine(meta);
      this.#indexes.set(meta.name, { meta, engine });
      const applied = engine.appliedSeq();
      // Replay needs the log entries after `applied`; pruned ones force a rebuild.
      const replayable = engine.durable && applied <= this.#seq &&
        (applied === this.#seq || applied >= this.#pruned);
      if (!replayable) {
        await this.#rebuild(meta.name);
        stats.rebuiltIndexes.push(meta.name);
      }
    }
    stats.replayedEntries = await this.#replay();
    await this.#prune();
  }

  #openEngine(meta: IndexMeta): SearchIndex {
    if (meta.engine === "orama") return new OramaIndex(meta.schema);
    const path = indexPath(this.dir, meta.name);
    try {
      return Fts5Index.open({ path, schema: meta.schema });
    } catch (error) {
      if (!(error instanceof IndexCorruptError)) throw error;
      // A corrupt index is derived data: delete it; recovery rebuilds it from KV.
      removeDatabaseFiles(path);
      const fresh = Fts5Index.open({ path, schema: meta.schema });
      fresh.reset(meta.schema, 0);
      return fresh;
    }
  }

  /** Deletes blobs that were half-written (pending) or are no longer referenced. */
  async #collectBlobs(): Promise<number> {
    let removed = 0;
    for (const prefix of [keys.pendings, keys.garbages]) {
      for await (const entry of this.#kv.list<number>({ prefix })) {
        const blobId = entry.key[1] as string;
        await this.#deleteBlob(blobId);
        await this.#kv.delete(entry.key);
        removed++;
      }
    }
    return removed;
  }

  async #deleteBlob(blobId: string): Promise<void> {
    let atomic = this.#kv.atomic();
    let count = 0;
    for await (const entry of this.#kv.list({ prefix: keys.blob(blobId) })) {
      atomic.delete(entry.key);
      if (++count === MAX_MUTATIONS_PER_ATOMIC) {
        await atomic.commit();
        atomic = this.#kv.atomic();
        count = 0;
      }
    }
    if (count > 0) await atomic.commit();
  }

  /** Re-applies change-log entries after each durable engine's applied sequence number. */
  async #replay(): Promise<number> {
    return await this.#catchUp(
      [...this.#indexes.values()].filter((open) => open.engine.appliedSeq() < this.#seq),
    );
  }

  /**
   * Brings engines level with KV: every document named in the change log after an engine's
   * applied sequence number is re-read from KV and applied as it is now. Returns the log
   * entries read.
   */
  async #catchUp(durable: readonly OpenIndex[]): Promise<number> {
    if (durable.length === 0) return 0;
    const from = Math.min(...durable.map((open) => open.engine.appliedSeq()));
    const touched = new Map<string, Set<string>>();
    let entries = 0;
    for await (
      const entry of this.#kv.list<LogEntry>({
        start: keys.log(from + 1),
        end: keys.log(Number.MAX_SAFE_INTEGER),
      })
    ) {
      const seq = entry.key[1] as number;
      const open = this.#indexes.get(entry.value.index);
      if (open === undefined || open.engine.appliedSeq() >= seq) continue;
      this.#lastTouch.set(entry.value.index, seq);
      let ids = touched.get(entry.value.index);
      if (ids === undefined) touched.set(entry.value.index, ids = new Set());
      ids.add(entry.value.id);
      entries++;
    }
    for (const open of durable) {
      const ids = [...(touched.get(open.meta.name) ?? [])];
      for (let at = 0; at < ids.length; at += 500) {
        const slice = ids.slice(at, at + 500);
        const ops = await this.#currentOps(open.meta, slice);
        // Intermediate batches keep the old applied number: a crash mid-replay replays again.
        const last = at + 500 >= ids.length;
        this.#applyTo(open, ops, last ? this.#seq : open.engine.appliedSeq());
      }
      if (ids.length === 0) this.#applyTo(open, [], this.#seq);
    }
    return entries;
  }

  #applyTo(open: OpenIndex, ops: readonly IndexOp[], seq: number): void {
    this.#faults.beforeIndexApply?.(open.meta.name);
    open.engine.apply(ops, seq);
  }

  /** Index operations that make the engine agree with KV for `ids`. */
  async #currentOps(meta: IndexMeta, ids: readonly string[]): Promise<IndexOp[]> {
    const headers = await this.#headers(meta.name, ids);
    const ops: IndexOp[] = [];
    for (const id of ids) {
      const header = headers.get(id);
      if (header === undefined) {
        ops.push({ op: "delete", id });
      } else {
        const doc = await this.#body(header);
        ops.push({ op: "put", id, values: flatten(meta.schema, doc) });
      }
    }
    return ops;
  }

  /** Rebuilds an index's search engine from the documents in KV. */
  async #rebuild(index: string): Promise<void> {
    const open = this.#indexes.get(index)!;
    this.#rebuilding++;
    try {
      open.engine.reset(open.meta.schema, 0);
      let ops: IndexOp[] = [];
      for await (const entry of this.#kv.list<DocHeader>({ prefix: keys.docs(index) })) {
        const doc = await this.#body(entry.value);
        ops.push({ op: "put", id: entry.key[2] as string, values: flatten(open.meta.schema, doc) });
        if (ops.length === 500) {
          open.engine.apply(ops, 0);
          ops = [];
        }
      }
      open.engine.apply(ops, this.#seq);
    } finally {
      this.#rebuilding--;
    }
  }

  /** Prunes change-log entries every durable engine has applied. */
  async #prune(): Promise<void> {
    // An engine holds back pruning only while it misses entries that name its index: a
    // durable one (it replays them at the next open) or any that is behind (it catches up).
    const applied = [...this.#indexes.values()]
      .filter((open) => open.engine.durable || this.#behind.has(open.meta.name))
      .filter((open) => open.engine.appliedSeq() < (this.#lastTouch.get(open.meta.name) ?? 0))
      .map((open) => open.engine.appliedSeq());
    const through = Math.min(this.#seq, ...applied);
    if (through <= this.#pruned) return;
    let atomic = this.#kv.atomic();
    let count = 0;
    for await (
      const entry of this.#kv.list({
        start: keys.log(this.#pruned + 1),
        end: keys.log(through + 1),
      })
    ) {
      atomic.delete(entry.key);
      if (++count === MAX_MUTATIONS_PER_ATOMIC - 1) {
        await atomic.commit();
        atomic = this.#kv.atomic();
        count = 0;
      }
    }
    // The watermark moves only after the entries are gone.
    atomic.set(keys.pruned, through);
    await atomic.commit();
    this.#pruned = through;
    this.#sincePrune = 0;
  }

  // ---------------------------------------------------------------- reads

  async #headers(index: string, ids: readonly string[]): Promise<Map<string, DocHeader>> {
    const headers = new Map<string, DocHeader>();
    const groups: string[][] = [];
    for (let at = 0; at < ids.length; at += 10) groups.push(ids.slice(at, at + 10));
    // Deno KV reads at most 10 keys at once.
    await Promise.all(groups.map(async (group) => {
      const entries = await this.#kv.getMany<DocHeader[]>(group.map((id) => keys.doc(index, id)));
      for (const entry of entries) {
        if (entry.value !== null) headers.set(entry.key[2] as string, entry.value);
      }
    }));
    return headers;
  }

  async #body(header: DocHeader): Promise<Record<string, unknown>> {
    if (header.body !== undefined) return JSON.parse(decoder.decode(header.body));
    const blob = header.blob!;
    await this.#faults.beforeBlobRead?.();
    const bytes = new Uint8Array(blob.bytes);
    let at = 0;
    for await (const entry of this.#kv.list<Uint8Array>({ prefix: keys.blob(blob.id) })) {
      bytes.set(entry.value, at);
      at += entry.value.length;
    }
    if (at !== blob.bytes) throw new BlobGoneError(blob.id, at, blob.bytes);
    return JSON.parse(decoder.decode(bytes));
  }

  /** Reads a document by id; `undefined` when absent. */
  get(index: string, id: string): Promise<StoredDocument | undefined> {
    return this.#read(async () => {
      validateIndexName(index);
      validateDocId(id);
      const entry = await this.#kv.get<DocHeader>(keys.doc(index, id));
      if (entry.value === null) return undefined;
      return { id, version: entry.value.version, doc: await this.#body(entry.value) };
    });
  }

  /** Runs a plan on one index and returns a page of hits with their documents. */
  search(
    index: string,
    plan: Plan,
    options: SearchOptions & { readonly facets?: readonly FacetSpec[] },
  ): Promise<ShardSearchResult> {
    return this.#read(async () => {
      const open = this.#indexes.get(index);
      if (open === undefined) throw new IndexNotFoundError(index);
      if (
        plan.kind === "ids" && (options.sort ?? []).length === 0 &&
        (options.facets ?? []).length === 0
      ) {
        // `id:value` alone is answered from KV, without the search index.
        const headers = await this.#headers(index, [...new Set(plan.ids)]);
        const hits = [];
        for (const [id, header] of headers) {
          hits.push({ id, score: 0, version: header.version, doc: await this.#body(header) });
        }
        hits.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        return {
          total: hits.length,
          hits: hits.slice(options.offset, options.offset + Math.max(options.limit, 0)),
        };
      }
      const result = open.engine.search(plan, options);
      const facets = options.facets === undefined || options.facets.length === 0
        ? undefined
        : open.engine.facets(plan, options.facets);
      const headers = await this.#headers(index, result.hits.map((hit) => hit.id));
      const hits = [];
      for (const hit of result.hits) {
        const header = headers.get(hit.id);
        if (header === undefined) continue;
        hits.push({ ...hit, version: header.version, doc: await this.#body(header) });
      }
      return facets === undefined
        ? { total: result.total, hits }
        : { total: result.total, hits, facets };
    });
  }

  /** The indexes of this shard. */
  indexes(): IndexInfo[] {
    return [...this.#indexes.values()].map(({ meta, engine }) => ({
      name: meta.name,
      engine: meta.engine,
      schema: meta.schema,
      ...(meta.description === undefined ? {} : { description: meta.description }),
      documentCount: engine.count(),
      memoryBytes: engine.memoryBytes(),
    }));
  }

  // ---------------------------------------------------------------- index lifecycle

  /**
   * Creates an index or extends its schema with declared fields. The engine is chosen when
   * the index is created; naming another engine for an existing index is refused.
   */
  configure(
    index: string,
    config: {
      fields?: ReadonlyArray<{ name: string; type: string }>;
      engine?: string;
      description?: string;
    },
  ): Promise<IndexInfo> {
    return this.#exclusive(async () => {
      validateIndexName(index);
      if (config.engine !== undefined && !ENGINES.includes(config.engine as EngineName)) {
        throw new InvalidInputError(
          `Unknown engine "${config.engine}": use ${ENGINES.join(" or ")}`,
        );
      }
      const existing = this.#indexes.get(index);
      if (
        existing !== undefined && config.engine !== undefined &&
        config.engine !== existing.meta.engine
      ) {
        throw new InvalidInputError(
          `Index "${index}" uses the ${existing.meta.engine} engine; the engine is chosen when an index is created`,
        );
      }
      const base = existing?.meta ?? {
        name: index,
        engine: (config.engine as EngineName | undefined) ?? this.#options.defaultEngine,
        schema: EMPTY_SCHEMA,
      };
      let schema: Schema;
      try {
        schema = declareFields(base.schema, config.fields ?? []);
      } catch (error) {
        throw new InvalidInputError((error as Error).message);
      }
      const meta: IndexMeta = {
        ...base,
        schema,
        ...(config.description === undefined ? {} : { description: config.description }),
      };
      await this.#kv.set(keys.index(index), meta);
      await this.#adoptMeta(meta);
      return this.indexes().find((info) => info.name === index)!;
    });
  }

  /** Installs new index metadata and brings its engine along. */
  async #adoptMeta(meta: IndexMeta): Promise<void> {
    const open = this.#indexes.get(meta.name);
    if (open === undefined) {
      const engine = this.#openEngine(meta);
      engine.reset(meta.schema, this.#seq);
      this.#indexes.set(meta.name, { meta, engine });
      return;
    }
    open.meta = meta;
    if (open.engine.updateSchema(meta.schema) === "rebuild") await this.#rebuild(meta.name);
  }

  /** Deletes an index: its documents, its engine and its files. Returns whether it existed. */
  dropIndex(index: string): Promise<boolean> {
    return this.#exclusive(async () => {
      validateIndexName(index);
      const meta = (await this.#kv.get<IndexMeta>(keys.index(index))).value;
      if (meta === null) return false;
      await this.#kv.set(keys.index(index), { ...meta, dropping: true });
      await this.#finishDrop(index);
      return true;
    });
  }

  async #finishDrop(index: string): Promise<void> {
    const open = this.#indexes.get(index);
    this.#indexes.delete(index);
    if (open !== undefined) open.engine.destroy();
    else removeDatabaseFiles(indexPath(this.dir, index));
    let atomic = this.#kv.atomic();
    let count = 0;
    for await (const entry of this.#kv.list<DocHeader>({ prefix: keys.docs(index) })) {
      if (entry.value.blob !== undefined) {
        atomic.set(keys.garbage(entry.value.blob.id), entry.value.blob.chunks);
        count++;
      }
      atomic.delete(entry.key);
      if (++count >= MAX_MUTATIONS_PER_ATOMIC - 2) {
        await atomic.commit();
        atomic = this.#kv.atomic();
        count = 0;
      }
    }
    if (count > 0) await atomic.commit();
    await this.#collectBlobs();
    await this.#kv.delete(keys.index(index));
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes a batch: every request is validated first, the valid ones are committed to KV in
   * as few atomic operations as fit and applied to the search indexes; then the outcomes
   * come back in request order. A write answered `ok` is durable and searchable.
   */
  write(requests: readonly WriteRequest[]): Promise<WriteOutcome[]> {
    return this.#exclusive(() => this.#write(requests));
  }

  /** How many write batches ran (each batch is one group commit). */
  get writeBatches(): number {
    return this.#writeBatches;
  }

  async #write(requests: readonly WriteRequest[]): Promise<WriteOutcome[]> {
    this.#writeBatches++;
    const outcomes: Array<WriteOutcome | undefined> = new Array(requests.length);
    const fail = (i: number, error: unknown) => {
      outcomes[i] = { ok: false, id: String(requests[i]!.id), error: serializeError(error) };
    };

    // 1. Validate names, ids, sizes; group per index.
    const perIndex = new Map<string, number[]>();
    const bodies = new Map<number, Uint8Array>();
    requests.forEach((request, i) => {
      try {
        validateIndexName(request.index);
        validateDocId(request.id);
        if (request.op === "put") {
          const body = encoder.encode(JSON.stringify(request.doc));
          if (body.length > this.#options.maxDocumentBytes) {
            throw new DocumentTooLargeError(
              `Document "${request.id}" is ${body.length} bytes; at most ${this.#options.maxDocumentBytes} are allowed`,
            );
          }
          bodies.set(i, body);
        }
        let list = perIndex.get(request.index);
        if (list === undefined) perIndex.set(request.index, list = []);
        list.push(i);
      } catch (error) {
        fail(i, error);
      }
    });

    // Memory: refuse new documents once the limit is reached.
    const limit = this.#options.memoryLimitBytes;
    if (limit !== undefined) {
      const used = [...this.#indexes.values()].reduce(
        (sum, open) => sum + open.engine.memoryBytes(),
        0,
      );
      if (used > limit) {
        for (const [i] of bodies) {
          fail(
            i,
            new MemoryLimitError(
              `The indexes hold ${used} bytes, over the limit of ${limit}; writes are refused`,
            ),
          );
        }
        bodies.clear();
      }
    }

    // 2. Schemas: check documents, evolve once per index per batch.
    const metas = new Map<string, IndexMeta>();
    for (const [index, positions] of perIndex) {
      const current = this.#indexes.get(index)?.meta;
      const puts = positions.filter((i) => bodies.has(i));
      if (current === undefined && puts.length === 0) continue;
      const base: IndexMeta = current ??
        { name: index, engine: this.#options.defaultEngine, schema: EMPTY_SCHEMA };
      const plan = planSchema(base.schema, puts.map((i) => (requests[i] as { doc: unknown }).doc));
      plan.errors.forEach((error, k) => {
        if (error === undefined) return;
        const i = puts[k]!;
        fail(
          i,
          new InvalidInputError(
            `Cannot write document "${requests[i]!.id}" to index "${index}": ${error.message}`,
          ),
        );
        bodies.delete(i);
      });
      const valid = puts.filter((i) => bodies.has(i));
      if (current === undefined && valid.length === 0) continue;
      metas.set(
        index,
        plan.schema === base.schema && current !== undefined
          ? current
          : { ...base, schema: plan.schema },
      );
    }

    // 3. Stage changes in request order, with versions and sequence numbers.
    const changes: Change[] = [];
    const staged = new Map<string, DocHeader | undefined>();
    for (const [index, positions] of perIndex) {
      const live = positions.filter((i) => outcomes[i] === undefined);
      const meta = metas.get(index) ?? this.#indexes.get(index)?.meta;
      if (meta === undefined) {
        for (const i of live) {
          outcomes[i] = { ok: true, id: requests[i]!.id, result: "not_found", version: 0 };
        }
        continue;
      }
      const headers = await this.#headers(index, [...new Set(live.map((i) => requests[i]!.id))]);
      for (const [id, header] of headers) staged.set(`${index}\u0000${id}`, header);
    }
    let seq = this.#seq;
    for (let i = 0; i < requests.length; i++) {
      if (outcomes[i] !== undefined) continue;
      const request = requests[i]!;
      const key = `${request.index}\u0000${request.id}`;
      const previous = staged.get(key);
      if (request.op === "delete") {
        if (previous === undefined) {
          outcomes[i] = { ok: true, id: request.id, result: "not_found", version: 0 };
          continue;
        }
        seq++;
        const garbage = garbageOf(previous);
        const mutations: Mutation[] = [
          { type: "delete", key: keys.doc(request.index, request.id) },
          logMutation(seq, request.index, request.id),
          ...garbage.mutations,
        ];
        changes.push({
          request: i,
          index: request.index,
          id: request.id,
          seq,
          version: previous.version + 1,
          header: undefined,
          mutations,
          blobWrites: [],
          ...(garbage.garbageBlob ? { garbageBlob: garbage.garbageBlob } : {}),
        });
        staged.set(key, undefined);
        continue;
      }
      seq++;
      const body = bodies.get(i)!;
      const version = (previous?.version ?? 0) + 1;
      const blobWrites: Mutation[][] = [];
      let header: DocHeader;
      const mutations: Mutation[] = [];
      if (body.length <= INLINE_MAX_BYTES) {
        header = { version, seq, body };
      } else {
        const blobId = crypto.randomUUID();
        const chunks = chunk(body);
        header = { version, seq, blob: { id: blobId, chunks: chunks.length, bytes: body.length } };
        // Chunks go in operations of their own, 12 at a time, marked pending until the
        // header's commit; recovery removes a pending blob.
        for (let at = 0; at < chunks.length; at += 12) {
          const group: Mutation[] = chunks.slice(at, at + 12).map((bytes, k) => ({
            type: "set",
            key: keys.blobChunk(blobId, at + k),
            value: bytes,
            bytes: bytes.length,
          }));
          if (at === 0) {
            group.push({ type: "set", key: keys.pending(blobId), value: chunks.length, bytes: 8 });
          }
          blobWrites.push(group);
        }
        mutations.push({ type: "delete", key: keys.pending(blobId) });
      }
      const garbage = garbageOf(previous);
      mutations.push(
        {
          type: "set",
          key: keys.doc(request.index, request.id),
          value: header,
          bytes: 64 + (header.body?.length ?? 0),
        },
        logMutation(seq, request.index, request.id),
        ...garbage.mutations,
      );
      const meta = metas.get(request.index)!;
      changes.push({
        request: i,
        index: request.index,
        id: request.id,
        seq,
        version,
        header,
        mutations,
        blobWrites,
        ...(garbage.garbageBlob ? { garbageBlob: garbage.garbageBlob } : {}),
        values: flatten(meta.schema, request.doc as Record<string, unknown>),
      });
      staged.set(key, header);
    }

    // 4. Commit: index metadata first (a schema with unused fields is harmless), then the
    // changes packed into atomic operations, each also moving the shard's sequence number.
    const committed: Change[] = [];
    const committedMetas: IndexMeta[] = [];
    try {
      for (const [index, meta] of metas) {
        if (this.#indexes.get(index)?.meta === meta) continue;
        await this.#commit([{ type: "set", key: keys.index(index), value: meta, bytes: 4096 }]);
        committedMetas.push(meta);
      }
      for (const operation of pack(changes, 1)) {
        for (const change of operation) {
          for (const group of change.blobWrites) await this.#commit(group);
        }
        const last = operation[operation.length - 1]!.seq;
        await this.#commit([
          ...operation.flatMap((change) => change.mutations),
          { type: "set", key: keys.seq, value: last, bytes: 8 },
        ]);
        this.#seq = last;
        committed.push(...operation);
        for (const change of operation) this.#lastTouch.set(change.index, change.seq);
        this.#faults.afterKvCommit?.();
      }
    } catch (error) {
      const reason = new StorageUnavailableError(
        `Cannot commit to KV: ${(error as Error).message}`,
      );
      for (const change of changes.slice(committed.length)) fail(change.request, reason);
    }

    // 5. Apply to the search engines; then answer.
    for (const meta of committedMetas) await this.#adoptMeta(meta);
    const perEngine = new Map<string, Change[]>();
    for (const change of committed) {
      let list = perEngine.get(change.index);
      if (list === undefined) perEngine.set(change.index, list = []);
      list.push(change);
    }
    for (const [index, changes] of perEngine) {
      const open = this.#indexes.get(index)!;
      try {
        if (this.#behind.has(index)) {
          // An earlier batch could not be indexed: catching up from the change log brings
          // the engine level with KV, this batch included.
          await this.#catchUp([open]);
          this.#behind.delete(index);
          continue;
        }
        // In slices, letting reads in between: a slice records its last sequence number,
        // so a crash between slices replays only the rest.
        for (let at = 0; at < changes.length; at += APPLY_SLICE_OPS) {
          if (at > 0) await yieldToReads();
          const slice = changes.slice(at, at + APPLY_SLICE_OPS);
          const last = at + APPLY_SLICE_OPS >= changes.length;
          this.#applyTo(
            open,
            slice.map((change): IndexOp =>
              change.header === undefined
                ? { op: "delete", id: change.id }
                : { op: "put", id: change.id, values: change.values! }
            ),
            last ? this.#seq : slice[slice.length - 1]!.seq,
          );
        }
      } catch (error) {
        // KV holds the writes; the engine catches up from the change log, now if it can,
        // else before the next batch for this index (or at the next open).
        this.#behind.add(index);
        try {
          await this.#catchUp([open]);
          this.#behind.delete(index);
        } catch {
          const reason = new StorageUnavailableError(
            `Cannot index into "${index}": ${(error as Error).message}`,
          );
          for (const change of committed) if (change.index === index) fail(change.request, reason);
        }
      }
    }
    for (const change of committed) {
      if (outcomes[change.request] !== undefined) continue;
      outcomes[change.request] = change.header === undefined
        ? { ok: true, id: change.id, result: "deleted", version: change.version }
        : {
          ok: true,
          id: change.id,
          result: change.version === 1 ? "created" : "updated",
          version: change.version,
        };
    }

    // Housekeeping after the answer is decided: it must not turn a committed write into a
    // failure (a full disk refuses deletes too). Unreferenced blobs go now; what is left
    // (marked as garbage) goes at the next open, as after a crash.
    try {
      for (const change of committed) {
        if (change.garbageBlob !== undefined) {
          await this.#deleteBlob(change.garbageBlob.id);
          await this.#kv.delete(keys.garbage(change.garbageBlob.id));
        }
      }
      this.#sincePrune += committed.length;
      if (this.#sincePrune >= this.#options.pruneEveryEntries) await this.#prune();
    } catch {
      // Retried by the next prune or the next open.
    }
    return outcomes.map((outcome) => outcome!);
  }

  async #commit(mutations: readonly Mutation[]): Promise<void> {
    const atomic = this.#kv.atomic();
    addMutations(atomic, mutations);
    const result = await atomic.commit();
    if (!result.ok) throw new Error("the atomic operation was not applied");
  }

  // ---------------------------------------------------------------- close

  /** Prunes the change log and closes KV and every index. */
  close(): Promise<void> {
    return this.#exclusive(async () => {
      await Promise.allSettled(this.#reads);
      await this.#prune().catch(() => {});
      this.#closeAll();
    });
  }

  #closeAll(): void {
    this.#closed = true;
    for (const open of this.#indexes.values()) open.engine.close();
    this.#indexes.clear();
    this.#kv.close();
  }
}
