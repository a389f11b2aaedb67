/**
 * What an operator is told when the server cannot start: one line naming what is wrong
 * (which path, which port) and what to do, instead of a stack trace. `main.ts` prints the
 * message and exits with status 2.
 *
 * @module
 */

import { acquireDataLock, DataDirectoryInUseError, type DataLock } from "./data_lock.ts";

/** The server cannot start; the message is meant for the operator, as it is. */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

/** Free space the data directory must have at start, in bytes (probed by writing it). */
export const MIN_FREE_BYTES_AT_START = 1024 * 1024;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** The one-line explanation of a data-directory failure, or undefined when it is another. */
export function dataDirMessage(dataDir: string, error: unknown): string | undefined {
  if (error instanceof DataDirectoryInUseError) return error.message;
  switch (codeOf(error)) {
    case "EROFS":
      return `data directory ${dataDir} is on a read-only file system: ` +
        `remount it read-write or choose another --data-dir`;
    case "EACCES":
    case "EPERM":
      return `data directory ${dataDir} is not writable by this user: ` +
        `fix its permissions or choose another --data-dir`;
    case "ENOENT":
    case "ENOTDIR":
      return `data directory ${dataDir} cannot be created (a parent is missing or not a ` +
        `directory): create it or choose another --data-dir`;
    case "ENOSPC":
    case "EDQUOT":
      return `the disk of data directory ${dataDir} is full: free at least ` +
        `${MIN_FREE_BYTES_AT_START / 1024 / 1024} MiB or choose another --data-dir`;
    default:
      return undefined;
  }
}

/**
 * Makes the data directory ready: creates it, takes its exclusive lock and checks that it
 * can take {@linkcode MIN_FREE_BYTES_AT_START} bytes. Throws {@linkcode StartupError} with
 * the operator's message when it cannot.
 */
export async function prepareDataDir(dataDir: string): Promise<DataLock> {
  let lock: DataLock | undefined;
  try {
    lock = await acquireDataLock(dataDir);
    await probeFreeSpace(dataDir);
    return lock;
  } catch (error) {
    lock?.release();
    const message = dataDirMessage(dataDir, error);
    if (message === undefined) throw error;
    throw new StartupError(message);
  }
}

async function probeFreeSpace(dataDir: string): Promise<void> {
  const path = `${dataDir}/.free_space_probe`;
  try {
    // Zeros written for real (not a sparse truncate), so a full disk says ENOSPC here.
    await Deno.writeFile(path, new Uint8Array(MIN_FREE_BYTES_AT_START));
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

/** The one-line explanation of an HTTP listen failure, or undefined when it is another. */
export function listenMessage(host: string, port: number, error: unknown): string | undefined {
  switch (codeOf(error)) {
    case "EADDRINUSE":
      return `port ${port} on ${host} is already in use by another process: ` +
        `stop it or choose another --http-port`;
    case "EADDRNOTAVAIL":
      return `address ${host} is not an address of this machine: choose another --http-host`;
    case "EACCES":
      return `port ${port} on ${host} needs privileges this user lacks: ` +
        `choose a port above 1023 with --http-port`;
    default:
      return undefined;
  }
}
