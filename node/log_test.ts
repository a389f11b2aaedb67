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

Deno.test("log: a flood is cut to the line budget, and the next line says how many were dropped", () => {
  const lines: string[] = [];
  let clockMs = 0;
  const log = createLogger("info", (line) => lines.push(line), {
    linesPerSecond: 10,
    burstLines: 5,
    now: () => clockMs,
  });
  for (let i = 0; i < 1_000; i++) log.warn(`refused request ${i}`);
  assert.equal(lines.length, 5);
  assert.match(lines[4]!, /refused request 4$/);
  clockMs += 1_000; // the bucket refills (to its burst of 5); the first line says what was dropped
  log.warn("after the flood");
  assert.equal(lines.length, 7);
  assert.match(lines[5]!, /WARN {2}995 log lines dropped/);
  assert.match(lines[6]!, /after the flood$/);
  for (let i = 0; i < 20; i++) log.info(`line ${i}`);
  assert.equal(lines.length, 7 + 4); // four tokens were left
});
