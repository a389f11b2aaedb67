import assert from "node:assert/strict";
import { SERVER_V8_FLAGS } from "../testing/server_process.ts";

Deno.test("deno task start and deno task compile run the server with the V8 flags the suites and benchmarks run it with", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))) as {
    tasks: Record<string, string>;
  };
  for (const task of ["start", "compile"]) {
    const words = config.tasks[task]!.split(" ");
    for (const flag of SERVER_V8_FLAGS) assert.ok(words.includes(flag), `${task}: ${flag}`);
  }
});
