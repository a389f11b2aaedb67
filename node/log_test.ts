import assert from "node:assert/strict";
import { createLogger, logLevelFrom } from "./log.ts";

Deno.test("log: messages below the level are dropped; errors carry their stack", () => {
  const lines: string[] = [];
  const log = createLogger("warn", (line) => lines.push(line));
  log.debug("d");
  log.info("i");
  log.warn("w", { shard: 3 });
  log.error("e", new Error("boom"));
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^\d{4}-\d{2}-\d{2}T.* WARN {2}w \{"shard":3\}$/);
  assert.match(lines[1]!, /ERROR e Error: boom/);
});

Deno.test("log: CAMEODB_LOG is read, and refused when unknown", () => {
  assert.equal(logLevelFrom(undefined), "info");
  assert.equal(logLevelFrom("DEBUG"), "debug");
  assert.throws(() => logLevelFrom("loud"), /must be debug, info, warn or error/);
});
