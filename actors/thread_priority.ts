/**
 * The scheduling priority of the calling thread (Linux). A Web Worker runs on an OS thread
 * of its own, and Linux schedules threads one by one: `setpriority(PRIO_PROCESS, tid)` with a
 * thread id changes that thread alone (and the threads it starts later). The thread id comes
 * from `/proc/thread-self`, a link to `<pid>/task/<tid>`.
 *
 * A worker doing background work (a shard's bulk apply) lowers its own priority so that the
 * threads answering requests — the main isolate's HTTP, the point-read workers — get a core
 * first when both are runnable: on a machine with fewer cores than busy threads, the
 * kernel's run queue is where a request waits otherwise. Lowering needs no privilege.
 *
 * @example Lower the calling thread's priority
 * ```ts ignore
 * const niceness = lowerThreadPriority(10); // 10 on Linux, undefined elsewhere
 * ```
 *
 * @module
 */

import { setPriority } from "node:os";

/** The highest niceness (lowest priority) Linux knows. */
export const MAX_NICENESS = 19;

/** Whether `descriptor` is granted already (never prompts: a priority is not worth asking for). */
function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** The calling thread's id (Linux), or `undefined` where `/proc/thread-self` is missing. */
export function threadId(): number | undefined {
  if (!granted({ name: "read", path: "/proc/thread-self" })) return undefined;
  try {
    const tid = Number(Deno.readLinkSync("/proc/thread-self").split("/").at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** The niceness of thread `tid` (Linux: field 19 of `/proc/self/task/<tid>/stat`). */
export function threadNiceness(tid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/self/task/${tid}/stat`);
    // Fields after the command name, which is in parentheses and may hold spaces.
    const value = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Sets the calling thread's niceness to `niceness` (0–{@linkcode MAX_NICENESS}; higher is a
 * lower priority) and returns what it now is; `undefined` where threads cannot be told apart
 * or the call is refused (not Linux, `sys` or the read of `/proc` not granted — it never
 * prompts for them). Never throws: a priority is a preference, not a condition of running.
 */
export function lowerThreadPriority(niceness: number): number | undefined {
  if (!Number.isFinite(niceness) || !granted({ name: "sys", kind: "setPriority" })) {
    return undefined;
  }
  const tid = threadId();
  if (tid === undefined) return undefined;
  try {
    setPriority(tid, Math.max(0, Math.min(MAX_NICENESS, Math.trunc(niceness))));
  } catch {
    return undefined;
  }
  return threadNiceness(tid);
}
