/**
 * The data directory's exclusive lock: one server per data directory. Two servers on one
 * directory would share a node id and diverge silently, so the second one must not start.
 *
 * The lock is an advisory `flock` on `dataDir/LOCK` (`Deno.FsFile.tryLock`), the way SQLite
 * and PostgreSQL guard their files: the kernel releases it when the process dies, so a lock
 * left by a SIGKILLed server is free again at once and no stale-lock guessing (pid checks)
 * is needed. The file also holds the owner's pid, only to name it in the message.
 *
 * @module
 */

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "LOCK";

/** The data directory is locked by another process. */
export class DataDirectoryInUseError extends Error {
  override readonly name = "DataDirectoryInUseError";
  /** The pid written by the lock's owner (undefined when it could not be read). */
  readonly pid: number | undefined;
  constructor(dataDir: string, pid: number | undefined) {
    super(
      `data directory ${dataDir} is in use by process ${pid ?? "(unknown pid)"}: ` +
        `stop that server or start this one with another --data-dir`,
    );
    this.pid = pid;
  }
}

/** A held data-directory lock. */
export interface DataLock {
  /** The lock file's path. */
  readonly path: string;
  /** Releases the lock (the kernel also does when the process ends). */
  release(): void;
}

/**
 * Takes the exclusive lock on `dataDir` (creating the directory), or throws
 * {@linkcode DataDirectoryInUseError} at once when another process holds it.
 *
 * @example
 * ```ts
 * import { acquireDataLock } from "./data_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await acquireDataLock(dir);
 * lock.release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function acquireDataLock(dataDir: string): Promise<DataLock> {
  await Deno.mkdir(dataDir, { recursive: true });
  const path = `${dataDir}/${LOCK_FILE}`;
  // Not truncated on open: the owner's pid must stay readable for the message.
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
    if (!locked) throw new DataDirectoryInUseError(dataDir, await ownerPid(path));
    await file.truncate(0);
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (error) {
    if (locked) file.unlockSync();
    file.close();
    throw error;
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      file.unlockSync();
      file.close();
    },
  };
}

async function ownerPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await Deno.readTextFile(path), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
