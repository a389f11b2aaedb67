/**
 * The membership suite, with real processes on loopback, as a user would meet it:
 *
 * 1. **Join** — two nodes hold `docs` documents; a third joins. Slots do not move yet (the
 *    ring hands some to the new node while their documents stay where they were), so the
 *    suite measures how many ids then answer 404 through each node: the gap the slot move
 *    will close, reported, not hidden.
 * 2. **Remove under load** — one node is SIGKILLed while a writer keeps writing through
 *    another; once it is down it is removed (`DELETE /_cluster/nodes/{id}`) through one
 *    survivor: how long until every survivor is green, how many slots were lost, and whether
 *    any write fails after the removal (none may).
 * 3. **Replace** — a new node (a new id) joins and owns slots.
 *
 * `deno task reliability:membership [--docs=N]`; `membership_test.ts` runs a short version.
 *
 * @module
 */

import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { allGreen, clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";

const PSK = "membership-suite-secret";
/** Documents per bulk request. */
const BULK_DOCUMENTS = 1_000;
/** Point reads in flight while counting missing ids. */
const READ_CONCURRENCY = 16;
/** How long any one wait of the suite may take, in ms. */
const WAIT_MS = 60_000;

/** What the suite found. */
export interface MembershipReport {
  docs: number;
  join: {
    /** Ids answering 404 through each node after the third joined (slots do not move yet). */
    missingPerNode: number[];
    missingPercent: number;
  };
  removal: {
    slotsLost: number;
    /** From the SIGKILL until the survivors saw the node down, in ms. */
    downAfterMs: number;
    /** From the DELETE until every survivor was green, in ms. */
    greenAfterMs: number;
    writesBefore: number;
    /** Writes that failed between the SIGKILL and every survivor knowing of the removal. */
    writesFailedBeforeRemoval: number;
    /** Writes started after every survivor knew of the removal that failed (must be 0). */
    writesFailedAfterRemoval: number;
  };
  replacement: { slots: number; greenAfterMs: number };
  problems: string[];
}

function startNode(root: string, label: string, seeds: string[]): Promise<ServerProcess> {
  return startClusterNode({
    dataDir: `${root}/${label}`,
    label,
    seeds,
    env: {
      CAMEODB_NETWORK_CLUSTER_PSK: PSK,
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "2",
      CAMEODB_LOG: "error",
    },
  });
}

async function nodeId(node: ServerProcess): Promise<string> {
  return ((await call(node.url, "GET", "/_cluster/health")).body as { node_id: string }).node_id;
}

async function nodes(node: ServerProcess) {
  return ((await call(node.url, "GET", "/_cluster/nodes")).body as {
    nodes: Array<{ node_id: string; state: string; health: string; slots: number }>;
  }).nodes;
}

async function load(node: ServerProcess, docs: number): Promise<void> {
  for (let at = 0; at < docs; at += BULK_DOCUMENTS) {
    const bulk = Array.from(
      { length: Math.min(BULK_DOCUMENTS, docs - at) },
      (_, k) => ({ id: `doc-${at + k}`, doc: { title: `document ${at + k}`, n: at + k } }),
    );
    const answer = await call(node.url, "POST", "/api/books/_bulk", bulk);
    if (answer.status !== 200) throw new Error(`bulk: ${JSON.stringify(answer.body)}`);
  }
}

/** How many of `doc-0` … `doc-{docs-1}` answer 404 through `node`. */
async function missing(node: ServerProcess, docs: number): Promise<number> {
  let next = 0;
  let count = 0;
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, async () => {
    while (next < docs) {
      const i = next++;
      const answer = await call(node.url, "GET", `/api/books/document/doc-${i}`);
      if (answer.status === 404) count++;
    }
  }));
  return count;
}

/** Writes the writer makes before the node is killed (so the removal happens under load). */
const WRITES_BEFORE_KILL = 20;

/** Writes one document at a time through `node` until `stop` resolves; counts failures. */
function writer(node: ServerProcess, stop: Promise<void>) {
  const counts = { ok: 0, failed: 0, failedSince: 0, mark: false };
  let stopped = false;
  stop.then(() => stopped = true);
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const marked = counts.mark;
      const answer = await call(node.url, "PUT", "/api/books/document", {
        id: `live-${i}`,
        doc: { title: "live", n: i },
      });
      if (answer.status === 200) counts.ok++;
      else {
        counts.failed++;
        if (marked) counts.failedSince++;
      }
    }
  })();
  return { counts, done };
}

/** Runs the suite. */
export async function runMembership(
  options: { docs: number; log?: (line: string) => void },
): Promise<MembershipReport> {
  const log = options.log ?? (() => {});
  const root = await Deno.makeTempDir({ prefix: "cameodb-membership-suite-" });
  const running: ServerProcess[] = [];
  const problems: string[] = [];
  try {
    const a = await startNode(root, "a", []);
    running.push(a);
    const seed = clusterAddress(a);
    const b = await startNode(root, "b", [seed]);
    running.push(b);
    await allGreen([a, b], 2, "two nodes");
    await load(a, options.docs);
    log(`loaded ${options.docs} documents on two nodes`);
    const c = await startNode(root, "c", [seed]);
    running.push(c);
    await allGreen([a, b, c], 3, "the third joined");
    const missingPerNode = [await missing(a, options.docs), await missing(c, options.docs)];
    log(`after the join: ${missingPerNode.join(" / ")} ids answer 404 (through A / through C)`);

    const stop = Promise.withResolvers<void>();
    const live = writer(a, stop.promise);
    // Under load means the writer is writing: wait for its first writes before the kill.
    await waitUntil(
      () => Promise.resolve(live.counts.ok >= WRITES_BEFORE_KILL),
      WAIT_MS,
      "the writer's first writes",
    );
    const idC = await nodeId(c);
    const killedAt = performance.now();
    await c.stop("SIGKILL");
    running.splice(running.indexOf(c), 1);
    await waitUntil(
      async () => (await nodes(b)).find((n) => n.node_id === idC)?.health === "down",
      WAIT_MS,
      "C down as B sees it",
    );
    const downAfterMs = Math.round(performance.now() - killedAt);
    const removedAt = performance.now();
    const removal = await call(b.url, "DELETE", `/_cluster/nodes/${idC}`);
    if (removal.status !== 200) problems.push(`DELETE answered ${removal.status}`);
    await allGreen([a, b], 2, "after the removal");
    const greenAfterMs = Math.round(performance.now() - removedAt);
    // From here every survivor knows: a write started from now on must not fail.
    live.counts.mark = true;
    const failedDuringRemoval = live.counts.failed;
    const writesBefore = live.counts.ok;
    // Let the writer run on the two survivors: at least as many writes again.
    await waitUntil(
      () => Promise.resolve(live.counts.ok >= 2 * writesBefore + 50),
      WAIT_MS,
      "writes",
    );
    stop.resolve();
    await live.done;
    const writesFailedAfterRemoval = live.counts.failedSince;
    if (writesFailedAfterRemoval > 0) {
      problems.push(`${writesFailedAfterRemoval} writes failed after the removal`);
    }
    log(
      `removed C: green after ${greenAfterMs} ms, ${writesFailedAfterRemoval} writes failed since`,
    );

    const joinedAt = performance.now();
    const d = await startNode(root, "d", [seed]);
    running.push(d);
    await allGreen([a, b, d], 3, "the replacement joined");
    const idD = await nodeId(d);
    const slots = (await nodes(a)).find((n) => n.node_id === idD)?.slots ?? 0;
    if (slots === 0) problems.push("the replacement owns no slots");
    return {
      docs: options.docs,
      join: {
        missingPerNode,
        missingPercent: Math.round(1_000 * Math.max(...missingPerNode) / options.docs) / 10,
      },
      removal: {
        slotsLost: (removal.body as { slots_lost?: number }).slots_lost ?? -1,
        downAfterMs,
        greenAfterMs,
        writesBefore,
        writesFailedBeforeRemoval: failedDuringRemoval,
        writesFailedAfterRemoval,
      },
      replacement: { slots, greenAfterMs: Math.round(performance.now() - joinedAt) },
      problems,
    };
  } finally {
    await Promise.all(running.map((node) => node.stop("SIGKILL")));
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) {
  const docs = Number(Deno.args.find((a) => a.startsWith("--docs="))?.split("=")[1] ?? 5_000);
  const report = await runMembership({ docs, log: (line) => console.log(line) });
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length > 0) Deno.exit(1);
}
