import assert from "node:assert/strict";
import { threadId, threadNiceness } from "./thread_priority.ts";

Deno.test({
  name: "thread priority: a worker lowers its own thread's priority, not the main thread's",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const main = threadId()!;
    const before = threadNiceness(main);
    const worker = new Worker(
      `data:application/javascript,${
        encodeURIComponent(`
        import { lowerThreadPriority, threadId } from ${
          JSON.stringify(new URL("./thread_priority.ts", import.meta.url).href)
        };
        self.postMessage({ tid: threadId(), niceness: lowerThreadPriority(7) });
      `)
      }`,
      { type: "module" },
    );
    try {
      const answer = await new Promise<{ tid: number; niceness: number }>((resolve, reject) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.onerror = (event) => reject(event.error ?? new Error(event.message));
      });
      assert.notEqual(answer.tid, main);
      assert.equal(answer.niceness, 7);
      assert.equal(threadNiceness(answer.tid), 7, "the kernel reports the worker thread at 7");
      assert.equal(threadNiceness(main), before, "the main thread is untouched");
    } finally {
      worker.terminate();
    }
  },
});
