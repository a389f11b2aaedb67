/**
 * The errors of the key store, each with a stable `name`.
 *
 * @module
 */

/** A key request that cannot be done as asked (a bad field, too many keys); HTTP 400. */
export class KeyRequestError extends Error {
  override readonly name = "KeyRequestError";
}

/** The key file could not be written (a full or read-only disk); HTTP 507. */
export class KeyStorageError extends Error {
  override readonly name = "KeyStorageError";
}

/** The names of the key store's errors. */
export type SecurityErrorName = "KeyRequestError" | "KeyStorageError";
