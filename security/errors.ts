/**
 * The error of the key store, with a stable `name`.
 *
 * @module
 */

/** A key request that cannot be done as asked (a bad field, too many keys); HTTP 400. */
export class KeyRequestError extends Error {
  override readonly name = "KeyRequestError";
}

/** The names of the key store's errors. */
export type SecurityErrorName = "KeyRequestError";
