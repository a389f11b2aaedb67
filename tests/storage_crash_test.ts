/**
 * Crash test of the storage engine: a child process writes through a microshard (both
 * engines; single and bulk writes, updates, deletes, documents over 60 KB) and is killed
 * with SIGKILL at a random moment — sometimes during its own recovery. After each kill the
 * shard is reopened here and checked: every acknowledged write is present by id with its
 * acknowledged content and found by search; every acknowledged delete is gone; every
 * document the writer sent is wholly present or wholly absent; and the search index agrees
 * with KV exactly. `CAMEODB_CRASH_CYCLES` sets the number of cycles (12 by default).
 */
import assert from "node:assert/strict";
import { Microshard } from "../storage/microshard.ts";
import { SeededRandom, testSeed } from "../testing/random.ts";
import { checksum } from "./fixtures/crash_checksum.ts";

const WRITER = new URL("./fixtures/crash_writer.ts", import.meta.url).pathname;
const CYCLES = Number(Deno.env.get("CAMEODB_CRASH_CYCLES") ?? "12");

type Line =
  | { op: "ready" }
  | { op: "send"; items: Array<{ index: string; id: string; op: "put" | "delete" }> }
  | { op: "put"; index: string; id: string; v: number; check: number }
  | { op: "del"; index: string; id: string };

/** Runs the writer until `killAfterAcks` acknowledgements, then SIGKILLs it. */
async function runWriter(
  dir: string,
  seed: number,
  killAfterAcks: number,
  prefix: string,
): Promise<Line[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", WRITER, dir, String(seed), prefix],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: Line[] = [];
  let acks = 0;
  let buffered = "";
  let killed = false; // by us (the writer may also kill itself)
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffered.slice(0, newline)) as Line;
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      if (line.op === "put" || line.op === "del" || line.op === "ready") acks++;
    }
    if (!killed && acks >= killAfterAcks) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  const status = await child.status;
  const stderr = new TextDecoder().decode(
    (await child.stderr.getReader().read()).value ?? new Uint8Array(),
  );
  // Killed by us, or by its own fault injection between KV commit and index update.
  assert.equal(status.signal, "SIGKILL", `the writer exited (code ${status.code}): ${stderr}`);
  return lines;
}

Deno.test({
  name:
    "storage crash: acknowledged writes survive SIGKILL at random moments, index agrees with KV",
  sanitizeResources: false,
  async fn() {
    const random = new SeededRandom(testSeed("storage crash"));
    const dir = await Deno.makeTempDir();
    // Per document: the last acknowledged operation, and one sent but not acknowledged
    // (the writer keeps at most one operation in flight per document).
    const expected = new Map<string, Expected>();
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // Sometimes kill at once: during the writer's recovery or its first writes.
        const killAfter = random.next() < 0.2 ? random.int(0, 1) : random.int(20, 600);
        const lines = await runWriter(dir, random.int(1, 2 ** 30), killAfter, `c${cycle}-`);
        for (const line of lines) {
          if (line.op === "send") {
            for (const item of line.items) {
              const key = `${item.index}/${item.id}`;
              expected.set(key, { acked: expected.get(key)?.acked, pending: item.op });
            }
          }
          if (line.op === "put") {
            expected.set(`${line.index}/${line.id}`, { acked: { v: line.v, check: line.check } });
          }
          if (line.op === "del") expected.set(`${line.index}/${line.id}`, { acked: "deleted" });
        }
        const shard = await Microshard.open({ dir });
        try {
          await verify(shard, expected, cycle);
          const deleted = [...expected.values()].filter((state) =>
            state.acked === "deleted"
          ).length;
          const pending = [...expected.values()].filter((state) =>
            state.pending !== undefined
          ).length;
          console.log(
            `cycle ${cycle}: killed after ${killAfter} acks; checked ${expected.size} documents ` +
              `(${deleted} deleted, ${pending} in flight at a kill); recovery ` +
              `replayed ${shard.recovery.replayedEntries} entries, rebuilt [${shard.recovery.rebuiltIndexes}], ` +
              `removed ${shard.recovery.removedBlobs} blobs in ${shard.recovery.durationMs} ms`,
          );
        } finally {
          await shard.close();
        }
      }
      assert.ok(expected.size > 0, "no write was acknowledged in any cycle");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

interface Expected {
  acked?: { v: number; check: number } | "deleted" | undefined;
  pending?: "put" | "delete";
}

async function verify(shard: Microshard, expected: Map<string, Expected>, cycle: number) {
  const indexed = new Map<string, Set<string>>();
  for (const info of shard.indexes()) {
    const all = await shard.search(info.name, { kind: "all" }, { limit: 1_000_000, offset: 0 });
    assert.equal(all.total, all.hits.length);
    indexed.set(info.name, new Set(all.hits.map((hit) => hit.id)));
  }
  for (const [key, { acked, pending }] of expected) {
    const [index, id] = key.split("/") as [string, string];
    const stored = await shard.get(index, id);
    const inIndex = indexed.get(index)?.has(id) === true;
    const where = `cycle ${cycle}, ${key} (acked ${JSON.stringify(acked)}, pending ${pending})`;
    // KV and the index agree on every document ever sent.
    assert.equal(
      inIndex,
      stored !== undefined,
      `${where}: KV ${stored !== undefined}, index ${inIndex}`,
    );
    if (stored !== undefined) {
      const doc = stored.doc as { title: string; n: number; body: string; check: number };
      assert.equal(doc.check, checksum(doc.title, doc.n, doc.body), `${where}: a torn document`);
      const token = doc.title.split(" ").at(-1)!;
      const found = await shard.search(index, { kind: "term", field: "title", term: token }, {
        limit: 10,
        offset: 0,
      });
      assert.ok(found.hits.some((hit) => hit.id === id), `${where}: not found by search`);
    }
    if (acked === "deleted") {
      assert.equal(stored, undefined, `${where}: an acknowledged delete came back`);
    } else if (acked !== undefined && pending !== "delete") {
      assert.ok(stored !== undefined, `${where}: an acknowledged write was lost`);
      if (pending === undefined) {
        assert.equal(stored.version, acked.v, `${where}: version`);
        assert.equal((stored.doc as { check: number }).check, acked.check, `${where}: content`);
      } else {
        assert.ok(stored.version >= acked.v, `${where}: version ${stored.version} < ${acked.v}`);
      }
    } else if (acked !== undefined && stored !== undefined) {
      // A delete in flight did not commit: the acknowledged version is still there.
      assert.equal(stored.version, acked.v, `${where}: version`);
    }
  }
}
