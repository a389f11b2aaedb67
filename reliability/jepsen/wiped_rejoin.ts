/**
 * A reproducer the Jepsen-style run led to: a node whose data directory was wiped (its
 * identity kept) comes back knowing only its seeds, opens to clients once it has met one
 * member, and routes writes by the partial ring it holds at that moment — so documents it
 * takes then are stored on a node that does not own their slot once the ring is whole:
 * found by search, 404 by id.
 *
 * Three nodes; n2 SIGKILLed, wiped, restarted seeded with n1 only; as soon as it answers
 * data requests, `--docs` documents are written through it, one bulk each of ten; then,
 * with every node green, each is read by id through n1.
 *
 * ```sh
 * deno run -A reliability/jepsen/wiped_rejoin.ts --docs=300
 * ```
 *
 * Prints how many were written, how many read 404 by id, and the `*` total; exit 1 when
 * any reads 404.
 *
 * @module
 */

import { call } from "../../testing/http.ts";
import { withMachineLock } from "../../testing/machine_lock.ts";
import { ClusterUnderTest } from "./cluster_under_test.ts";
import { document, JEPSEN_INDEX } from "./clients.ts";

/** What the reproducer found. */
export interface WipedRejoinReport {
  written: number;
  missingById: number;
  searchTotal: number;
}

/** Runs the reproducer on a fresh three-node cluster. */
export async function runWipedRejoin(docs: number): Promise<WipedRejoinReport> {
  // One owner per slot: the reproduction is of a document stored where its one owner is not.
  const cluster = await ClusterUnderTest.start({ nodes: 3, replicationFactor: 1 });
  try {
    const n1 = cluster.nodes[0]!;
    const n2 = cluster.nodes[1]!;
    await call(n1.process!.url, "PUT", `/api/${JEPSEN_INDEX}/_config`, {
      fields: [{ name: "key", type: "string" }, { name: "token", type: "string" }],
    });
    await cluster.kill(n2);
    await cluster.wipe(n2);
    // Seeded with n1 only, as an operator would restart it.
    await cluster.restart(n2, { seeds: [n1] });
    let written = 0;
    for (let at = 0; at < docs; at += 10) {
      const bulk = Array.from({ length: Math.min(10, docs - at) }, (_, k) => {
        const id = `w${String(at + k).padStart(5, "0")}`;
        return { id, doc: document(id, `t0-${at + k}`) };
      });
      const answer = await call(n2.process!.url, "POST", `/api/${JEPSEN_INDEX}/_bulk`, bulk);
      written += (answer.body as { items_written?: number }).items_written ?? 0;
    }
    await cluster.green();
    let missingById = 0;
    for (let i = 0; i < docs; i++) {
      const id = `w${String(i).padStart(5, "0")}`;
      const answer = await call(n1.process!.url, "GET", `/api/${JEPSEN_INDEX}/document/${id}`);
      if (answer.status === 404) missingById++;
    }
    const total = await call(n1.process!.url, "POST", `/api/${JEPSEN_INDEX}/search`, {
      query: "*",
      limit: 0,
    });
    return { written, missingById, searchTotal: (total.body as { total_hits: number }).total_hits };
  } finally {
    await cluster.close();
  }
}

if (import.meta.main) {
  const docs = Number(Deno.args.find((a) => a.startsWith("--docs="))?.split("=")[1] ?? 300);
  const report = await withMachineLock("cluster", () => runWipedRejoin(docs));
  console.log(JSON.stringify(report));
  if (report.missingById > 0) Deno.exit(1);
}
