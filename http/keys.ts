/**
 * The key management endpoints: `POST /_keys` (the key is in this answer only), `GET /_keys`,
 * `GET /_keys/{id}`, `DELETE /_keys/{id}`. A key with `keys.manage` that is not the master key
 * may create only keys with no more rights than its own.
 *
 * @module
 */

import { HttpError, json } from "./errors.ts";
import { type Route, route } from "./router.ts";
import { readJson } from "./api.ts";
import { type Grant, grantCovers } from "../security/actions.ts";
import { KeyRequestError, KeyStorageError } from "../security/errors.ts";
import { parseKeyRequest } from "../security/key_request.ts";
import type { KeyStore } from "../security/key_store.ts";

/** Largest `POST /_keys` body, in bytes. */
export const MAX_KEY_REQUEST_BYTES = 64 * 1024;

/** The routes of key management over a store. */
export function keyRoutes(
  store: KeyStore,
  options: { grantOf: (request: Request) => Grant | null; now?: () => number },
): Route[] {
  const now = options.now ?? Date.now;
  return [
    route("POST", "/_keys", async (request) => {
      const body = await readJson(request, MAX_KEY_REQUEST_BYTES);
      const wanted = await mapErrors(() => Promise.resolve(parseKeyRequest(body, now())));
      const grant = options.grantOf(request);
      if (grant !== null && !grantCovers(grant, wanted)) {
        throw new HttpError(
          403,
          "Forbidden",
          "a key can only create keys with no more actions and indexes than its own",
        );
      }
      const { key, info } = await mapErrors(() => store.create(wanted));
      return json({ ...info, key }, 201);
    }),
    route("GET", "/_keys", () => {
      const keys = store.list();
      return json({ keys, total_keys: keys.length });
    }),
    route("GET", "/_keys/:id", (_request, params) => {
      const info = store.get(params.id!);
      if (info === undefined) throw notFound(params.id!);
      return json(info);
    }),
    route("DELETE", "/_keys/:id", async (_request, params) => {
      if (!(await mapErrors(() => store.delete(params.id!)))) throw notFound(params.id!);
      return json({ deleted: true, id: params.id });
    }),
  ];
}

/** The key store's errors as HTTP errors: `KeyRequestError` 400, `KeyStorageError` 507. */
async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof KeyRequestError) throw new HttpError(400, "Bad request", error.message);
    if (error instanceof KeyStorageError) {
      throw new HttpError(507, "Insufficient storage", error.message);
    }
    throw error;
  }
}

function notFound(id: string): HttpError {
  return new HttpError(404, "Not found", `no API key has the id "${id.slice(0, 100)}"`);
}
