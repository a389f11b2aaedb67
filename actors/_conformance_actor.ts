/**
 * The actor the `ActorRef` conformance suite drives, in this isolate and in workers.
 * Internal to the actors folder and its tests.
 *
 * @module
 */

import { ActorNotFoundError } from "./errors.ts";
import type { Actor } from "./types.ts";

/** Messages of the conformance actor. */
export type ConformanceMsg =
  | { type: "echo"; value: unknown }
  | { type: "append"; value: number }
  | { type: "log" }
  | { type: "throw"; name: string; message: string }
  | { type: "crash"; message: string }
  | { type: "wait"; gate: Int32Array; crashWorker?: boolean }
  | { type: "waitDetached"; gate: Int32Array; fail?: string }
  | { type: "identity" }
  | { type: "stopSelf" }
  | { type: "spin"; ms: number };

/** Replies of the conformance actor. */
export type ConformanceReplies = {
  echo: unknown;
  append: void;
  log: number[];
  throw: never;
  crash: never;
  wait: "released";
  waitDetached: "released";
  identity: { instance: string; started: boolean };
  stopSelf: void;
  spin: number;
};

/** Slot of a gate the test sets to release a waiting handler. */
export const GATE_RELEASE = 0;
/** Slot of a gate the actor sets once its handler is waiting. */
export const GATE_ENTERED = 1;

/** Builds a conformance actor; `onStop` lets local tests observe the stop hook. */
export function createActor(
  options: { onStop?: () => void } = {},
): Actor<ConformanceMsg, ConformanceReplies> {
  const log: number[] = [];
  const instance = crypto.randomUUID();
  let started = false;
  return {
    onStart() {
      started = true;
    },
    onStop() {
      options.onStop?.();
    },
    onError(_error, msg) {
      return msg.type === "crash" ? "fail" : "resume";
    },
    async receive(msg, ctx) {
      switch (msg.type) {
        case "echo":
          return msg.value;
        case "append":
          log.push(msg.value);
          return;
        case "log":
          return [...log];
        case "throw": {
          if (msg.name === "ActorNotFoundError") throw new ActorNotFoundError(msg.message);
          const error = new Error(msg.message);
          error.name = msg.name;
          throw error;
        }
        case "crash":
          throw new Error(msg.message);
        case "wait": {
          Atomics.store(msg.gate, GATE_ENTERED, 1);
          Atomics.notify(msg.gate, GATE_ENTERED);
          if (msg.crashWorker === true) {
            setTimeout(() => {
              throw new Error("the worker dies");
            });
          }
          const wait = Atomics.waitAsync(msg.gate, GATE_RELEASE, 0);
          if (wait.async) await wait.value;
          return "released";
        }
        case "waitDetached": {
          Atomics.store(msg.gate, GATE_ENTERED, 1);
          Atomics.notify(msg.gate, GATE_ENTERED);
          return ctx.detach((async () => {
            const wait = Atomics.waitAsync(msg.gate, GATE_RELEASE, 0);
            if (wait.async) await wait.value;
            if (msg.fail !== undefined) {
              const error = new Error("the detached work failed");
              error.name = msg.fail;
              throw error;
            }
            return "released" as const;
          })());
        }
        case "identity":
          return { instance, started };
        case "stopSelf":
          ctx.stop();
          return;
        case "spin": {
          const until = performance.now() + msg.ms;
          let spins = 0;
          while (performance.now() < until) spins++;
          return spins;
        }
      }
    },
  };
}
