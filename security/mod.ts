/**
 * Access control: API keys with actions and index patterns, the key store, and the checks that
 * keep a server without a key reachable only from its own machine.
 *
 * @module
 */

export {
  type Action,
  ACTIONS,
  coversIndex,
  type Grant,
  grantCovers,
  hasAction,
  isAction,
  MASTER_GRANT,
  matchesPattern,
} from "./actions.ts";
export { KeyRequestError, KeyStorageError, type SecurityErrorName } from "./errors.ts";
export { exposureProblem, hostAllowed, hostName, isLoopbackAddress } from "./host_check.ts";
export { type KeyRequest, parseKeyRequest } from "./key_request.ts";
export {
  constantTimeEqual,
  type KeyChange,
  type KeyCheck,
  type KeyInfo,
  type KeySnapshot,
  KeyStore,
  type StoredKey,
} from "./key_store.ts";
