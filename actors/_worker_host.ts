/// <reference lib="deno.worker" />
/**
 * The entry script of a worker that hosts one actor. It loads the actor's module, runs
 * an {@linkcode ActorCell} for it, and relays messages, replies and supervision
 * questions to the `WorkerActorRef` in the main isolate. Internal.
 *
 * @module
 */

import { ActorCell, makeSettler, type Parent } from "./actor_cell.ts";
import { serializeError } from "./errors.ts";
import { ActorSystem } from "./system.ts";
import type { Decision } from "./supervision.ts";
import type { Actor, Message, ReplyMap } from "./types.ts";
import type { FromWorker, ToWorker } from "./_worker_protocol.ts";

type AnyCell = ActorCell<Message, ReplyMap<Message>>;

let cell: AnyCell | undefined;
const decisions = new Map<number, (decision: Decision) => void>();
let nextDecisionId = 0;
const never = new AbortController().signal;

function post(message: FromWorker): void {
  self.postMessage(message);
}

function postReply(id: number, value: unknown): void {
  try {
    post({ kind: "reply", id, value });
  } catch (error) {
    // The reply could not be cloned: the asker learns why.
    post({ kind: "replyError", id, error: serializeError(error) });
  }
}

async function init(data: Extract<ToWorker, { kind: "init" }>): Promise<void> {
  try {
    const module = await import(data.moduleUrl);
    const create = module[data.exportName];
    if (typeof create !== "function") {
      throw new TypeError(
        `Module ${data.moduleUrl} does not export a function "${data.exportName}"`,
      );
    }
    const children = new ActorSystem({ node: `${data.address.node}/${data.address.name}` });
    // The main isolate supervises this actor; escalation happens there too.
    const host: Parent = {
      adopt() {},
      childStopped() {},
      escalate() {},
      spawner: children.spawner,
    };
    cell = new ActorCell({
      address: data.address,
      factory: () => create(data.args) as Actor<Message, ReplyMap<Message>>,
      mailboxCapacity: data.mailboxCapacity,
      stopTimeoutMs: data.stopTimeoutMs,
      parent: host,
      supervise: (reason, detail) =>
        new Promise<Decision>((resolve) => {
          const id = ++nextDecisionId;
          decisions.set(id, resolve);
          post({ kind: "supervise", id, reason, detail });
        }),
      makeSpawner: (self) => children.spawnerFor(self),
      onStopped: () => post({ kind: "stopped" }),
    });
    post({ kind: "ready" });
  } catch (error) {
    post({ kind: "initFailed", error: serializeError(error) });
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const data = event.data;
  switch (data.kind) {
    case "init":
      init(data);
      return;
    case "tell": {
      const msg = data.msg as Message;
      try {
        cell?.tell({ msg, onDone: () => post({ kind: "told" }) });
      } catch {
        post({ kind: "told" });
      }
      return;
    }
    case "ask": {
      const { id } = data;
      const settle = makeSettler(
        (value) => postReply(id, value),
        (error) => post({ kind: "replyError", id, error: serializeError(error) }),
      );
      cell?.put({ msg: data.msg as Message, settle }, never).catch((error) => settle.reject(error));
      return;
    }
    case "decision": {
      const resolve = decisions.get(data.id);
      decisions.delete(data.id);
      resolve?.(data.decision);
      return;
    }
    case "stop":
      if (cell === undefined) post({ kind: "stopped" });
      else cell.stop();
      return;
  }
};
