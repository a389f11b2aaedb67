/**
 * Handler maps: one function per message kind, each checked by the compiler against that
 * kind's own reply (a `switch` in one `receive` is checked only against the union of all
 * replies). {@linkcode receiveBy} turns a map into an actor's `receive`.
 *
 * @example
 * ```ts
 * import { ActorSystem, receiveBy } from "./mod.ts";
 *
 * type Msg = { type: "add"; a: number; b: number } | { type: "name" };
 * type Replies = { add: number; name: string };
 *
 * const system = new ActorSystem();
 * const calc = system.spawn<Msg, Replies>(() => ({
 *   receive: receiveBy<Msg, Replies>({
 *     add: (msg) => msg.a + msg.b,
 *     name: () => "calc",
 *   }),
 * }));
 * if ((await calc.ask({ type: "add", a: 1, b: 2 })) !== 3) throw new Error("add");
 * await system.shutdown();
 * ```
 *
 * @module
 */

import type { ActorContext, Message, Reply, ReplyMap } from "./types.ts";

/** One handler per message kind; each must return that kind's reply. */
export type Handlers<M extends Message, R extends ReplyMap<M>> = {
  readonly [K in M["type"]]: (
    msg: Extract<M, { type: K }>,
    ctx: ActorContext<M>,
  ) => Reply<R[K]> | Promise<Reply<R[K]>>;
};

/** An actor's `receive` that dispatches each message to its kind's handler. */
export function receiveBy<M extends Message, R extends ReplyMap<M>>(
  handlers: Handlers<M, R>,
): (msg: M, ctx: ActorContext<M>) => Reply<R[M["type"]]> | Promise<Reply<R[M["type"]]>> {
  return (msg, ctx) => {
    const handler = handlers[msg.type as M["type"]] as (
      msg: M,
      ctx: ActorContext<M>,
    ) => Reply<R[M["type"]]> | Promise<Reply<R[M["type"]]>>;
    return handler(msg, ctx);
  };
}
