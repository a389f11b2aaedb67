/**
 * The API keys of a node: kept in memory (a request is checked without a disk read) and in
 * `keys.json` in the node's data directory, rewritten atomically (tmp file, fsync, rename) on
 * every change. A key is shown once, when created; only its SHA-256 is stored. Invariant 3 keeps
 * Deno KV in the shard workers, hence a file.
 *
 * For a cluster, every change is a {@linkcode KeyChange} a peer can {@linkcode KeyStore.apply},
 * and {@linkcode KeyStore.snapshot} is the whole state (keys and the ids of deleted keys, so a
 * merge never brings a deleted key back).
 *
 * @module
 */

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Action, Grant } from "./actions.ts";
import { KeyRequestError, KeyStorageError } from "./errors.ts";
import type { KeyRequest } from "./key_request.ts";

/** Most keys a node holds. */
export const MAX_KEYS = 10_000;
/** Most ids of deleted keys remembered (oldest forgotten first). */
export const MAX_DELETED_IDS = 10_000;
/** Longest bearer token looked at, in characters. */
export const MAX_TOKEN_CHARS = 512;

/** A key as stored: everything but the key itself, which is kept only as its SHA-256. */
export interface StoredKey {
  readonly id: string;
  readonly description: string;
  readonly actions: readonly Action[];
  readonly indexes: readonly string[];
  readonly expires_at: string | null;
  readonly created_at: string;
  /** Hex SHA-256 of the key. */
  readonly hash: string;
}

/** A key as shown to a client (never the key or its hash). */
export type KeyInfo = Omit<StoredKey, "hash">;

/** One change of the key set, as a peer applies it. */
export type KeyChange =
  | { readonly type: "put"; readonly key: StoredKey }
  | { readonly type: "delete"; readonly id: string };

/** The whole key set. */
export interface KeySnapshot {
  readonly keys: readonly StoredKey[];
  readonly deleted: readonly string[];
}

/** The outcome of checking a token. */
export type KeyCheck =
  | { readonly ok: true; readonly grant: Grant }
  | { readonly ok: false; readonly reason: "unknown_key" | "expired_key" };

/** Hex SHA-256 of a text. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Compares two texts in time independent of where they differ (through their SHA-256). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

/** A new random key: `cdb_` and 32 random bytes in base64url. */
export function newKeySecret(): string {
  return `cdb_${randomBytes(32).toString("base64url")}`;
}

/** The keys of a node. */
export class KeyStore {
  readonly #file: string | undefined;
  readonly #now: () => number;
  readonly #onChange: ((change: KeyChange) => void) | undefined;
  #keys = new Map<string, StoredKey>();
  #byHash = new Map<string, StoredKey>();
  #deleted: string[] = [];
  #writing: Promise<void> = Promise.resolve();

  private constructor(
    file: string | undefined,
    options: { now?: () => number; onChange?: (change: KeyChange) => void },
  ) {
    this.#file = file;
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
  }

  /**
   * Opens the key store of a data directory (`keys.json`; none yet is an empty store), or an
   * in-memory one without `dataDir`. `onChange` hears every local change (to send to peers).
   */
  static async open(
    dataDir: string | undefined,
    options: { now?: () => number; onChange?: (change: KeyChange) => void } = {},
  ): Promise<KeyStore> {
    const store = new KeyStore(dataDir === undefined ? undefined : `${dataDir}/keys.json`, options);
    if (store.#file !== undefined) {
      let text: string | undefined;
      try {
        text = await Deno.readTextFile(store.#file);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      if (text !== undefined) store.#load(JSON.parse(text) as KeySnapshot, store.#file);
    }
    return store;
  }

  #load(snapshot: KeySnapshot, file: string): void {
    if (!Array.isArray(snapshot?.keys) || !Array.isArray(snapshot?.deleted)) {
      throw new Error(`${file} is not a key file (expected {"keys": [...], "deleted": [...]})`);
    }
    this.#deleted = [...snapshot.deleted];
    for (const key of snapshot.keys) this.#put(key);
  }

  #put(key: StoredKey): void {
    const old = this.#keys.get(key.id);
    if (old !== undefined) this.#byHash.delete(old.hash);
    this.#keys.set(key.id, key);
    this.#byHash.set(key.hash, key);
  }

  #remove(id: string): void {
    const old = this.#keys.get(id);
    if (old !== undefined) {
      this.#keys.delete(id);
      this.#byHash.delete(old.hash);
    }
    if (!this.#deleted.includes(id)) this.#deleted.push(id);
    if (this.#deleted.length > MAX_DELETED_IDS) this.#deleted.shift();
  }

  /** How many keys there are. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * Creates a key; resolves once it is on disk, with the key (shown only now). Throws
   * `KeyRequestError` past `MAX_KEYS`, `KeyStorageError` when the file cannot be written.
   */
  async create(request: KeyRequest): Promise<{ key: string; info: KeyInfo }> {
    if (this.#keys.size >= MAX_KEYS) {
      throw new KeyRequestError(`a node holds at most ${MAX_KEYS} keys; delete some first`);
    }
    const key = newKeySecret();
    const stored: StoredKey = {
      id: crypto.randomUUID(),
      description: request.description,
      actions: [...request.actions],
      indexes: [...request.indexes],
      expires_at: request.expires_at,
      created_at: new Date(this.#now()).toISOString(),
      hash: sha256Hex(key),
    };
    try {
      await this.apply({ type: "put", key: stored });
    } catch (error) {
      // Not on disk: not created. (The id is new, so no tombstone is needed.)
      this.#keys.delete(stored.id);
      this.#byHash.delete(stored.hash);
      throw new KeyStorageError(`the key was not created: ${(error as Error).message}`);
    }
    this.#onChange?.({ type: "put", key: stored });
    return { key, info: info(stored) };
  }

  /**
   * Deletes a key; resolves false when there was none. It is refused at once, then the file is
   * written (`KeyStorageError` when that fails).
   */
  async delete(id: string): Promise<boolean> {
    if (!this.#keys.has(id)) return false;
    const written = this.apply({ type: "delete", id });
    this.#onChange?.({ type: "delete", id });
    try {
      await written;
    } catch (error) {
      throw new KeyStorageError(
        `the key is refused from now on but its deletion is not on disk (it would be valid ` +
          `again after a restart; delete it again): ${(error as Error).message}`,
      );
    }
    return true;
  }

  /** Every key, oldest first. */
  list(): KeyInfo[] {
    return [...this.#keys.values()].sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map(info);
  }

  /** One key. */
  get(id: string): KeyInfo | undefined {
    const key = this.#keys.get(id);
    return key === undefined ? undefined : info(key);
  }

  /** Checks a bearer token: the key's grant, or why not. No disk read. */
  check(token: string): KeyCheck {
    if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: "unknown_key" };
    const hash = sha256Hex(token);
    const key = this.#byHash.get(hash);
    if (key === undefined || !timingSafeEqual(utf8(key.hash), utf8(hash))) {
      return { ok: false, reason: "unknown_key" };
    }
    if (key.expires_at !== null && Date.parse(key.expires_at) <= this.#now()) {
      return { ok: false, reason: "expired_key" };
    }
    return { ok: true, grant: { keyId: key.id, actions: key.actions, indexes: key.indexes } };
  }

  /**
   * Applies a change (made here or received from a peer) and writes the file. A `put` of a key
   * already deleted is ignored. The memory changes at once; the promise resolves when on disk.
   */
  apply(change: KeyChange): Promise<void> {
    if (change.type === "put") {
      if (this.#deleted.includes(change.key.id)) return this.#writing;
      this.#put(change.key);
    } else this.#remove(change.id);
    return this.#persist();
  }

  /**
   * Merges a peer's whole key set (its deletions first, then its keys, never one deleted here or
   * there) and writes the file once.
   */
  applySnapshot(snapshot: KeySnapshot): Promise<void> {
    for (const id of snapshot.deleted) this.#remove(id);
    for (const key of snapshot.keys) {
      if (!this.#deleted.includes(key.id)) this.#put(key);
    }
    return this.#persist();
  }

  /** The whole key set, for a peer's {@linkcode KeyStore.applySnapshot}. */
  snapshot(): KeySnapshot {
    return { keys: [...this.#keys.values()], deleted: [...this.#deleted] };
  }

  #persist(): Promise<void> {
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    const text = JSON.stringify(this.snapshot(), null, 2) + "\n";
    this.#writing = this.#writing.catch(() => {}).then(() => writeAtomically(file, text));
    return this.#writing;
  }
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function info(key: StoredKey): KeyInfo {
  const { hash: _hash, ...rest } = key;
  return rest;
}

/** Writes `text` to `file` through a synced temporary file and a rename. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    const bytes = new TextEncoder().encode(text);
    let written = 0;
    while (written < bytes.length) written += await handle.write(bytes.subarray(written));
    await handle.sync();
  } finally {
    handle.close();
  }
  await Deno.rename(tmp, file);
}
