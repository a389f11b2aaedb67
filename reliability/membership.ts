/**
 * The membership suite, with real processes on loopback, as a user would meet it:
 *
 * 1. **Join under load** — two nodes hold `docs` documents; a writer keeps writing single
 *    documents through A, point reads and searches run through B, and a third node joins.
 *    Slots stream to it before they flip (`cluster/slot_moves.ts`): every search during the
 *    move must count each loaded document once, and once `slots_moving` is 0 every
 *    acknowledged id must answer 200 through every node with its latest content. The
 *    suite measures how long the move took, its rate (documents moved per second) and the
 *    point-read and search latency while it ran.
 * 2. **Update and delete** — every loaded document is updated, 1,000 are deleted: `*` must
 *    count exactly what is left, and a full scan sorted by `n` must show no id twice.
 * 3. **Leave under load** — B leaves (`POST /_cluster/nodes/{id}/_leave`) while the writer
 *    writes: once B is `left`, every acknowledged id answers 200 through the others.
 * 4. **Remove** — C is SIGKILLed and removed (`DELETE /_cluster/nodes/{id}`): health turns
 *    green again and no write fails after.
 * 5. **Replace** — a new node (a new id) joins and takes slots.
 *
 * `deno task reliability:membership [--docs=N]`; `membership_test.ts` runs a short version.
 *
 * @module
 */

import { call } from "../testing/http.ts";
import type { ServerProcess } from "../testing/server_process.ts";
import { clusterAddress, startClusterNode } from "../testing/cluster.ts";
import { waitUntil } from "../testing/wait.ts";
import { percentile } from "../testing/stats.ts";

const PSK = "membership-suite-secret";
/** Documents per bulk request. */
const BULK_DOCUMENTS = 1_000;
/** Point reads in flight while checking ids. */
const READ_CONCURRENCY = 16;
/** How long any one wait of the suite may take, in ms. */
const WAIT_MS = 120_000;
/** Documents deleted in step 2. */
const DELETES = 1_000;
/** Hits per page of the full sorted scan. */
const SCAN_PAGE = 1_000;

/** Latencies of one kind of request, in ms. */
interface Latency {
  count: number;
  p50: number;
  p99: number;
}

/** What the suite found. */
export interface MembershipReport {
  docs: number;
  join: {
    /** From the third node's start until no slot moved anywhere, in ms. */
    settledAfterMs: number;
    slotsMoved: number;
    documentsMoved: number;
    /** Documents moved per second of the move. */
    documentsPerSecond: number;
    /** Acknowledged ids that did not answer 200 with their latest content, per node. */
    wrongPerNode: number[];
    /** Point reads and searches through B while slots moved. */
    pointReads: Latency;
    searches: Latency;
    /** Reads and searches that failed while slots moved. */
    failedDuringMove: number;
    /** Searches while slots moved that counted a document twice (must be 0). */
    searchesOver: number;
    /** Searches while slots moved that missed documents (a known rare race at a flip). */
    searchesShort: number;
    writesDuringMove: number;
    writesFailedDuringMove: number;
  };
  updateDelete: {
    total: number;
    expected: number;
    duplicates: number;
    scanned: number;
    /** Deletes not answered 200 (after retrying 503s), with their last status. */
    failedDeletes: string[];
  };
  leave: { leftAfterMs: number; wrongPerNode: number[]; writesFailed: number };
  removal: {
    slotsLost: number;
    /** From the DELETE until every survivor was green, in ms. */
    greenAfterMs: number;
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
      // One owner per slot: the suite measures slots moving whole (and a removal losing them).
      CAMEODB_NETWORK_CLUSTER_REPLICATION_FACTOR: "1",
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

/** Writes `doc-0` … `doc-{docs-1}` with `n` = its number + `shift`, in bulks. */
async function load(node: ServerProcess, docs: number, shift: number): Promise<void> {
  for (let at = 0; at < docs; at += BULK_DOCUMENTS) {
    const bulk = Array.from(
      { length: Math.min(BULK_DOCUMENTS, docs - at) },
      (_, k) => ({ id: `doc-${at + k}`, doc: { title: `document ${at + k}`, n: at + k + shift } }),
    );
    const answer = await call(node.url, "POST", "/api/books/_bulk", bulk);
    if (answer.status !== 200) throw new Error(`bulk: ${JSON.stringify(answer.body)}`);
  }
}

/** The acknowledged ids of `model` that do not answer 200 with their latest `n` through `node`. */
async function wrongIds(node: ServerProcess, model: ReadonlyMap<string, number>): Promise<number> {
  const ids = [...model.keys()];
  let next = 0;
  let wrong = 0;
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const answer = await call(node.url, "GET", `/api/books/document/${id}`);
      const n = (answer.body as { doc?: { n?: number } } | undefined)?.doc?.n;
      if (answer.status !== 200 || n !== model.get(id)) wrong++;
    }
  }));
  return wrong;
}

interface Health {
  status: string;
  total_nodes: number;
  connected_nodes: number;
  rebalancing?: { slots_moving: number };
  telemetry: Record<string, number>;
}

async function health(node: ServerProcess): Promise<Health> {
  return (await call(node.url, "GET", "/_cluster/health")).body as Health;
}

/** Resolves once every node is green with `total` members and no slot moving anywhere. */
function settled(nodes: readonly ServerProcess[], total: number, what: string) {
  return Promise.all(nodes.map((node) =>
    waitUntil(
      async () => {
        const h = await health(node);
        return h.status === "green" && h.total_nodes === total && h.connected_nodes === total &&
          h.rebalancing?.slots_moving === 0;
      },
      WAIT_MS,
      `${what}: ${node.url} green with ${total} nodes, no slot moving`,
    )
  ));
}

/** Sums a telemetry counter over `nodes`. */
async function counted(nodes: readonly ServerProcess[], key: string): Promise<number> {
  let sum = 0;
  for (const node of nodes) sum += (await health(node)).telemetry[key] ?? 0;
  return sum;
}

/** Writes the writer makes before a membership change (so it happens under load). */
const WRITES_BEFORE_CHANGE = 20;

/**
 * Writes one document at a time through `node` until `stop` resolves; every acknowledged
 * write goes into `model` (id → its `n`); counts failures (after `mark`, separately).
 */
function writer(node: ServerProcess, model: Map<string, number>, stop: Promise<void>) {
  const counts = { ok: 0, failed: 0, failedSince: 0, mark: false };
  let stopped = false;
  stop.then(() => stopped = true);
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const marked = counts.mark;
      const id = `live-${model.size}-${i}`;
      const answer = await call(node.url, "PUT", "/api/books/document", {
        id,
        doc: { title: "live", n: i },
      });
      if (answer.status === 200) {
        counts.ok++;
        model.set(id, i);
      } else {
        counts.failed++;
        if (marked) counts.failedSince++;
      }
    }
  })();
  return { counts, done };
}

/** Point reads of loaded ids and `*` searches through `node` until `stop` resolves. */
function sampler(node: ServerProcess, docs: number, stop: Promise<void>) {
  const reads: number[] = [];
  const searches: number[] = [];
  let failed = 0;
  /** Searches whose total was above / below `docs` (each loaded document counts once). */
  const totals = { over: 0, short: 0 };
  let stopped = false;
  stop.then(() => stopped = true);
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const started = performance.now();
      const answer = i % 10 === 9
        ? await call(node.url, "POST", "/api/books/search", { query: "title:document", limit: 10 })
        : await call(node.url, "GET", `/api/books/document/doc-${(i * 7919) % docs}`);
      const ms = performance.now() - started;
      if (answer.status !== 200) failed++;
      else (i % 10 === 9 ? searches : reads).push(ms);
      const body = answer.body as { total_hits?: number; failed_shards?: number } | undefined;
      if (i % 10 === 9 && answer.status === 200) {
        if ((body?.total_hits ?? 0) > docs) totals.over++;
        if ((body?.total_hits ?? 0) < docs) totals.short++;
      }
    }
  })();
  return { reads, searches, failed: () => failed, totals, done };
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
  };
}

/** Every id a full scan sorted by `n` returns, page by page (ids twice counted). */
async function scan(node: ServerProcess, total: number) {
  const seen = new Set<string>();
  let duplicates = 0;
  let scanned = 0;
  for (let offset = 0; offset < total; offset += SCAN_PAGE) {
    const answer = await call(node.url, "POST", "/api/books/search", {
      query: "* sort n:asc",
      limit: SCAN_PAGE,
      offset,
    });
    const hits = (answer.body as { hits?: Array<{ id: string }> }).hits ?? [];
    for (const hit of hits) {
      scanned++;
      if (seen.has(hit.id)) duplicates++;
      seen.add(hit.id);
    }
    if (hits.length === 0) break;
  }
  return { duplicates, scanned };
}

/** Most times a delete answered 503 (busy, or the cluster settling) is sent again. */
const DELETE_ATTEMPTS = 5;

/**
 * Deletes `id` through `node` as a client would: a 503 is retried after its Retry-After
 * (at most 1 s) up to {@linkcode DELETE_ATTEMPTS} times — a delete is idempotent. Returns the
 * last status.
 */
async function deleteRetrying(node: ServerProcess, id: string): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < DELETE_ATTEMPTS; attempt++) {
    const answer = await call(node.url, "DELETE", `/api/books/document?id=${id}`);
    status = answer.status;
    if (status !== 503) return status;
    const afterS = Number(answer.headers.get("retry-after") ?? "1") || 1;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, afterS * 1_000)));
  }
  return status;
}

async function totalHits(node: ServerProcess): Promise<number> {
  const answer = await call(node.url, "POST", "/api/books/search", { query: "*", limit: 1 });
  return (answer.body as { total_hits: number }).total_hits;
}

/** Waits for the writer's first writes, so what follows happens under load. */
function underLoad(counts: { ok: number }, what: string) {
  const from = counts.ok;
  return waitUntil(
    () => Promise.resolve(counts.ok >= from + WRITES_BEFORE_CHANGE),
    WAIT_MS,
    `the writer's writes before ${what}`,
  );
}

/** Steps 1 and 2: the join under load, then updates and deletes. */
async function joinAndRewrite(
  root: string,
  running: ServerProcess[],
  docs: number,
  model: Map<string, number>,
  log: (line: string) => void,
) {
  const a = await startNode(root, "a", []);
  running.push(a);
  const seed = clusterAddress(a);
  const b = await startNode(root, "b", [seed]);
  running.push(b);
  await settled([a, b], 2, "two nodes");
  await load(a, docs, 0);
  for (let i = 0; i < docs; i++) model.set(`doc-${i}`, i);
  log(`loaded ${docs} documents on two nodes`);
  const stop = Promise.withResolvers<void>();
  const live = writer(a, model, stop.promise);
  const sampling = sampler(b, docs, stop.promise);
  await underLoad(live.counts, "the join");
  const [movedBefore, docsBefore] = [
    await counted([a, b], "slots_moved"),
    await counted([a, b], "documents_moved"),
  ];
  const joinedAt = performance.now();
  const c = await startNode(root, "c", [seed]);
  running.push(c);
  await settled([a, b, c], 3, "the third joined");
  const settledAfterMs = Math.round(performance.now() - joinedAt);
  stop.resolve();
  await Promise.all([live.done, sampling.done]);
  const slotsMoved = await counted([a, b, c], "slots_moved") - movedBefore;
  const documentsMoved = await counted([a, b, c], "documents_moved") - docsBefore;
  const wrongPerNode = [
    await wrongIds(a, model),
    await wrongIds(b, model),
    await wrongIds(c, model),
  ];
  const join = {
    settledAfterMs,
    slotsMoved,
    documentsMoved,
    documentsPerSecond: Math.round(documentsMoved / (settledAfterMs / 1_000)),
    wrongPerNode,
    pointReads: latency(sampling.reads),
    searches: latency(sampling.searches),
    failedDuringMove: sampling.failed(),
    searchesOver: sampling.totals.over,
    searchesShort: sampling.totals.short,
    writesDuringMove: live.counts.ok,
    writesFailedDuringMove: live.counts.failed,
  };
  log(`join: ${JSON.stringify(join)}`);
  // Every loaded document updated (n + docs) through C, the first DELETES deleted through B.
  await load(c, docs, docs);
  for (let i = 0; i < docs; i++) model.set(`doc-${i}`, i + docs);
  const deletes = Math.min(DELETES, docs);
  const failedDeletes: string[] = [];
  for (let at = 0; at < deletes; at += READ_CONCURRENCY) {
    await Promise.all(
      Array.from({ length: Math.min(READ_CONCURRENCY, deletes - at) }, async (_, k) => {
        const id = `doc-${at + k}`;
        model.delete(id);
        const status = await deleteRetrying(b, id);
        if (status !== 200) failedDeletes.push(`${id}: ${status}`);
      }),
    );
  }
  const total = await totalHits(a);
  const scanned = await scan(a, model.size + SCAN_PAGE);
  const updateDelete = { total, expected: model.size, ...scanned, failedDeletes };
  log(`update and delete: ${JSON.stringify(updateDelete)}`);
  return { a, b, c, seed, join, updateDelete };
}

/** Runs the suite. */
export async function runMembership(
  options: { docs: number; log?: (line: string) => void },
): Promise<MembershipReport> {
  const log = options.log ?? (() => {});
  const root = await Deno.makeTempDir({ prefix: "cameodb-membership-suite-" });
  const running: ServerProcess[] = [];
  const problems: string[] = [];
  const model = new Map<string, number>();
  try {
    const { a, b, c, seed, join, updateDelete } = await joinAndRewrite(
      root,
      running,
      options.docs,
      model,
      log,
    );
    if (join.searchesOver > 0) {
      problems.push(`${join.searchesOver} searches during the move counted a document twice`);
    }
    if (join.wrongPerNode.some((n) => n > 0)) {
      problems.push(`after the join, ids wrong per node: ${join.wrongPerNode}`);
    }
    if (updateDelete.failedDeletes.length > 0) {
      problems.push(`deletes not acknowledged: ${updateDelete.failedDeletes.join(", ")}`);
    }
    if (updateDelete.total !== updateDelete.expected || updateDelete.duplicates > 0) {
      problems.push(`after updates and deletes: ${JSON.stringify(updateDelete)}`);
    }
    const leave = await leaveUnderLoad([a, b, c], model, log);
    if (leave.wrongPerNode.some((n) => n > 0)) {
      problems.push(`after the leave, ids wrong per node: ${leave.wrongPerNode}`);
    }
    running.splice(running.indexOf(b), 1);
    await b.stop("SIGTERM");
    const removal = await removeUnderLoad(a, c, model, running, problems);
    log(`removed C: ${JSON.stringify(removal)}`);
    const joinedAt = performance.now();
    const d = await startNode(root, "d", [seed]);
    running.push(d);
    await settled([a, d], 2, "the replacement joined");
    const idD = await nodeId(d);
    const slots = (await nodes(a)).find((n) => n.node_id === idD)?.slots ?? 0;
    if (slots === 0) problems.push("the replacement owns no slots");
    return {
      docs: options.docs,
      join,
      updateDelete,
      leave,
      removal,
      replacement: { slots, greenAfterMs: Math.round(performance.now() - joinedAt) },
      problems,
    };
  } finally {
    await Promise.all(running.map((node) => node.stop("SIGKILL")));
    await Deno.remove(root, { recursive: true });
  }
}

/** Step 3: B leaves while the writer writes through A. */
async function leaveUnderLoad(
  [a, b, c]: ServerProcess[],
  model: Map<string, number>,
  log: (line: string) => void,
) {
  const stop = Promise.withResolvers<void>();
  const live = writer(a!, model, stop.promise);
  await underLoad(live.counts, "the leave");
  const idB = await nodeId(b!);
  const leftAt = performance.now();
  const answer = await call(a!.url, "POST", `/_cluster/nodes/${idB}/_leave`);
  if (answer.status !== 200 && answer.status !== 202) {
    throw new Error(`_leave: ${JSON.stringify(answer.body)}`);
  }
  await waitUntil(
    async () => (await nodes(a!)).find((n) => n.node_id === idB)?.state === "left",
    WAIT_MS,
    "B has left",
  );
  await settled([a!, c!], 2, "after the leave");
  const leftAfterMs = Math.round(performance.now() - leftAt);
  stop.resolve();
  await live.done;
  const leave = {
    leftAfterMs,
    wrongPerNode: [await wrongIds(a!, model), await wrongIds(c!, model)],
    writesFailed: live.counts.failed,
  };
  log(`leave: ${JSON.stringify(leave)}`);
  return leave;
}

/** Step 4: C is SIGKILLed under load and removed through A. */
async function removeUnderLoad(
  a: ServerProcess,
  c: ServerProcess,
  model: Map<string, number>,
  running: ServerProcess[],
  problems: string[],
) {
  const stop = Promise.withResolvers<void>();
  const live = writer(a, model, stop.promise);
  await underLoad(live.counts, "the kill");
  const idC = await nodeId(c);
  await c.stop("SIGKILL");
  running.splice(running.indexOf(c), 1);
  await waitUntil(
    async () => (await nodes(a)).find((n) => n.node_id === idC)?.health === "down",
    WAIT_MS,
    "C down as A sees it",
  );
  const removedAt = performance.now();
  const removal = await call(a.url, "DELETE", `/_cluster/nodes/${idC}`);
  if (removal.status !== 200) problems.push(`DELETE answered ${removal.status}`);
  await settled([a], 1, "after the removal");
  const greenAfterMs = Math.round(performance.now() - removedAt);
  live.counts.mark = true;
  const writesBefore = live.counts.ok;
  await waitUntil(
    () => Promise.resolve(live.counts.ok >= writesBefore + 50),
    WAIT_MS,
    "writes after the removal",
  );
  stop.resolve();
  await live.done;
  if (live.counts.failedSince > 0) {
    problems.push(`${live.counts.failedSince} writes failed after the removal`);
  }
  return {
    slotsLost: (removal.body as { slots_lost?: number }).slots_lost ?? -1,
    greenAfterMs,
    writesFailedAfterRemoval: live.counts.failedSince,
  };
}

if (import.meta.main) {
  const docs = Number(Deno.args.find((a) => a.startsWith("--docs="))?.split("=")[1] ?? 5_000);
  const report = await runMembership({ docs, log: (line) => console.log(line) });
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length > 0) Deno.exit(1);
}
