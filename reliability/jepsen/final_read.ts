/**
 * The final read of a Jepsen-style run, after healing: every id ever written, read by id
 * through every node, and the whole index scanned through every node — `*` sorted by
 * `key` (the id), paged by key from the last key seen, inclusive, so that a second copy
 * of an id is seen even when the copies straddle two pages — plus the total the index
 * reports for `*`. Also the convergence wait that comes before it.
 *
 * @module
 */

import { call } from "../../testing/http.ts";
import { describeError, JEPSEN_INDEX, type Target, tokenOf } from "./clients.ts";
import type { FinalRead, FinalValue, Scan } from "./checker.ts";

/** Point reads in flight at once during the final read. */
const READ_CONCURRENCY = 16;
/** Hits per scan page. */
const PAGE_HITS = 500;

/** Reads every id through every node and scans through every node. */
export async function finalRead(
  ids: readonly string[],
  nodes: readonly Target[],
): Promise<FinalRead> {
  const reads = new Map<string, Map<string, FinalValue>>(ids.map((id) => [id, new Map()]));
  const jobs = ids.flatMap((id) => nodes.map((node) => ({ id, node })));
  let next = 0;
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, async () => {
    while (next < jobs.length) {
      const { id, node } = jobs[next++]!;
      reads.get(id)!.set(node.label, await readOne(node, id));
    }
  }));
  const scans: Scan[] = [];
  for (const node of nodes) scans.push(await scan(node));
  return { reads, scans };
}

async function readOne(node: Target, id: string): Promise<FinalValue> {
  try {
    const answer = await call(
      node.url,
      "GET",
      `/api/${JEPSEN_INDEX}/document/${encodeURIComponent(id)}`,
    );
    if (answer.status === 404) return null;
    if (answer.status === 200) return tokenOf(answer.body);
    return { unreadable: `${answer.status} ${JSON.stringify(answer.body)}` };
  } catch (error) {
    return { unreadable: describeError(error) };
  }
}

/** The part of a search answer the scan reads. */
export interface Page {
  hits: Array<{ id: string; key?: string; token?: string }>;
  total_hits: number;
  failed_shards: number;
}

/** The part of a search body the scan sends. */
export interface PageRequest {
  query: string;
  limit: number;
  sort?: { field: string; order: "asc" | "desc" };
  fields?: string[];
}

/** Runs one search (over HTTP through a node, or in a test). */
export type SearchFn = (body: PageRequest) => Promise<Page>;

async function search(node: Target, body: PageRequest): Promise<Page> {
  const answer = await call(node.url, "POST", `/api/${JEPSEN_INDEX}/search`, body);
  if (answer.status === 404) return { hits: [], total_hits: 0, failed_shards: 0 };
  if (answer.status !== 200) {
    throw new Error(
      `search through ${node.label}: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
  return answer.body as Page;
}

/**
 * Pages the whole index through `node` by key (see the module doc); `search` and
 * `pageHits` (500) may be replaced, so a test can page duplicates across page boundaries.
 */
export async function scan(
  node: Target,
  options: { search?: SearchFn; pageHits?: number } = {},
): Promise<Scan> {
  const run = options.search ?? ((body: PageRequest) => search(node, body));
  const pageHits = options.pageHits ?? PAGE_HITS;
  const total = await run({ query: "*", limit: 0 });
  let failedShards = total.failed_shards;
  const hits: Array<{ id: string; value: string | null }> = [];
  let lastKey: string | undefined;
  /** Hits already taken whose key is `lastKey`. */
  let takenAtLastKey = 0;
  for (;;) {
    const page = await run({
      query: lastKey === undefined ? "*" : `key:[${lastKey} TO *]`,
      sort: { field: "key", order: "asc" },
      fields: ["key", "token"],
      limit: pageHits + takenAtLastKey,
    });
    failedShards += page.failed_shards;
    let skip = takenAtLastKey;
    const fresh = page.hits.filter((hit) => !(hit.key === lastKey && skip-- > 0));
    if (fresh.length === 0) break;
    for (const hit of fresh) {
      if (typeof hit.key !== "string") throw new Error(`${hit.id} has no key to page by`);
      hits.push({ id: hit.id, value: typeof hit.token === "string" ? hit.token : null });
      if (hit.key === lastKey) takenAtLastKey++;
      else {
        lastKey = hit.key;
        takenAtLastKey = 1;
      }
    }
  }
  return { node: node.label, hits, totalHits: total.total_hits, failedShards };
}

/**
 * Hints a node still keeps for others (`cameodb_hints_pending_total`; 0 without replication):
 * with replicas, equal totals say nothing of whether every replica has every write.
 */
async function hintsPending(node: Target): Promise<number> {
  return await metric(node, "cameodb_hints_pending_total");
}

/** Where `node`'s anti-entropy is: its sweeps counted and the slot its next round starts from. */
async function sweepPosition(node: Target): Promise<{ sweeps: number; slot: number }> {
  const answer = await call(node.url, "GET", "/_cluster/health");
  const ae =
    (answer.body as { anti_entropy?: { anti_entropy_sweeps?: number; next_slot?: number } })
      .anti_entropy;
  return { sweeps: ae?.anti_entropy_sweeps ?? 0, slot: ae?.next_slot ?? 0 };
}

/** Whether the rounds from `from` to `now` covered every slot (one whole sweep). */
function sweptSince(
  from: { sweeps: number; slot: number },
  now: { sweeps: number; slot: number },
): boolean {
  const wrapped = now.sweeps - from.sweeps;
  return wrapped >= 2 || (wrapped === 1 && now.slot >= from.slot);
}

/** One unlabelled counter of `node`'s `/_metrics` (0 when absent). */
async function metric(node: Target, name: string): Promise<number> {
  const answer = await call(node.url, "GET", "/_metrics");
  const text = typeof answer.body === "string" ? answer.body : "";
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

/** How often convergence looks at the anti-entropy sweeps while it waits for one, in ms. */
const SWEEP_LOOK_MS = 1_000;

/**
 * Waits until every node answers `*` with the same total and no failed shard and no
 * hint pending (the cluster has converged), within `timeoutMs`; resolves with the time it took
 * in ms, or `null` when it did not converge in time (`onLast` is then told what the last
 * look saw, per node).
 */
export async function converge(
  nodes: readonly Target[],
  timeoutMs: number,
  onLast?: (seen: string) => void,
  awaitSweep = false,
): Promise<number | null> {
  const started = performance.now();
  let seen = "nothing answered";
  // Where the sweeps stood when the wait began (asked again while a node does not answer yet).
  let sweptFrom: Array<{ sweeps: number; slot: number }> | undefined;
  while (performance.now() - started < timeoutMs) {
    try {
      // The sweep is waited for first, with cheap looks: searches every 50 ms would slow the
      // very rounds they wait for.
      if (awaitSweep) {
        sweptFrom ??= await Promise.all(nodes.map(sweepPosition));
        const from = sweptFrom;
        const now = await Promise.all(nodes.map(sweepPosition));
        // With RF = nodes (the Jepsen runs) one node's sweep compares every replica of every slot.
        if (!now.some((position, k) => sweptSince(from[k]!, position))) {
          seen = `no whole anti-entropy sweep yet (${JSON.stringify(now)} since ${
            JSON.stringify(sweptFrom)
          })`;
          await new Promise((resolve) => setTimeout(resolve, SWEEP_LOOK_MS));
          continue;
        }
      }
      const pages = await Promise.all(nodes.map((node) => search(node, { query: "*", limit: 0 })));
      const pending = await Promise.all(nodes.map(hintsPending));
      const totals = new Set(pages.map((page) => page.total_hits));
      if (
        totals.size === 1 && pages.every((page) => page.failed_shards === 0) &&
        pending.every((hints) => hints === 0)
      ) {
        return Math.round(performance.now() - started);
      }
      seen = nodes.map((node, k) =>
        `${node.label}: total ${pages[k]!.total_hits}, failed_shards ${
          pages[k]!.failed_shards
        }, hints pending ${pending[k]}`
      ).join("; ");
    } catch (error) {
      // Not answering yet: ask again.
      seen = (error as Error).message;
    }
    // Ask again once the previous answers are in, yielding a moment between rounds.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  onLast?.(seen);
  return null;
}
