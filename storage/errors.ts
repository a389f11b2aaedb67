/**
 * Storage errors: a closed set with stable names, so that they keep their meaning when they
 * cross from a microshard worker to the HTTP layer (which maps names to statuses).
 *
 * @module
 */

/** Bad input: an invalid index name, id, document or request (HTTP 400). */
export class InvalidInputError extends Error {
  override readonly name = "InvalidInputError";
}

/** The index does not exist (HTTP 404). */
export class IndexNotFoundError extends Error {
  override readonly name = "IndexNotFoundError";
  constructor(index: string) {
    super(`Index "${index}" does not exist`);
  }
}

/** A document over the size limit (HTTP 413). */
export class DocumentTooLargeError extends Error {
  override readonly name = "DocumentTooLargeError";
}

/** Writes refused because the memory limit is reached (HTTP 503). */
export class MemoryLimitError extends Error {
  override readonly name = "MemoryLimitError";
}

/** The store cannot write now: disk full, I/O error (HTTP 507/503). */
export class StorageUnavailableError extends Error {
  override readonly name = "StorageUnavailableError";
}

/** A search ran past its deadline and stopped (HTTP 408). */
export class SearchTimeoutError extends Error {
  override readonly name = "SearchTimeoutError";
}

/**
 * A caller broke the store's contract (a programmer error, not bad input): for example a
 * document that does not fit the schema the caller planned for it (HTTP 500).
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

/** The closed set of storage errors (the schema's own `SchemaError` is in `schema.ts`). */
export const STORAGE_ERRORS = [
  InvalidInputError,
  IndexNotFoundError,
  DocumentTooLargeError,
  MemoryLimitError,
  StorageUnavailableError,
  SearchTimeoutError,
  AssertionError,
] as const;
