/**
 * The messages between a `WorkerActorRef` (main side) and the worker host. Internal.
 *
 * @module
 */

import type { SerializedError } from "./errors.ts";
import type { Decision, ExitReason } from "./supervision.ts";
import type { ActorAddress } from "./types.ts";

/** Main isolate → worker. */
export type ToWorker =
  | {
    readonly kind: "init";
    readonly moduleUrl: string;
    readonly exportName: string;
    readonly args: unknown;
    readonly address: ActorAddress;
    readonly mailboxCapacity: number;
    readonly stopTimeoutMs: number;
  }
  | { readonly kind: "tell"; readonly msg: unknown }
  | { readonly kind: "ask"; readonly id: number; readonly msg: unknown }
  | { readonly kind: "decision"; readonly id: number; readonly decision: Decision }
  | { readonly kind: "stop" };

/** Worker → main isolate. */
export type FromWorker =
  | { readonly kind: "ready" }
  | { readonly kind: "initFailed"; readonly error: SerializedError }
  | { readonly kind: "told" }
  | { readonly kind: "reply"; readonly id: number; readonly value: unknown }
  | { readonly kind: "replyError"; readonly id: number; readonly error: SerializedError }
  | {
    readonly kind: "supervise";
    readonly id: number;
    readonly reason: ExitReason;
    readonly detail: string;
  }
  | { readonly kind: "stopped" };
