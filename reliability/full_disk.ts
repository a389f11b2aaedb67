/**
 * Full disk: the server's data directory lives on a small tmpfs. Writes go on until the
 * disk is full; they must then fail with a clear 507 (or 503), the server stays up, every
 * acknowledged document stays readable and searchable, and once space is freed (a ballast
 * file is removed) writes succeed again. Finally the server is SIGKILLed and restarted on
 * the same directory: every acknowledged document is still there, by id and by search.
 *
 * Mounting a tmpfs needs root; without it the run is skipped with a message.
 *
 * ```sh
 * deno task reliability:full-disk            # 48 MB tmpfs
 * ```
 *
 * @module
 */

import { call } from "../testing/http.ts";
import { type ServerProcess, startServerProcess } from "../testing/server_process.ts";

/** What one run found. */
export interface FullDiskReport {
  skipped?: string;
  tmpfsMb: number;
  acknowledgedBeforeFull: number;
  /** Status and message of the first refused item of a bulk write. */
  bulkRefusal?: { status: number; error: string };
  /** The answer of the first refused single-document write. */
  firstRefusal?: { status: number; error: string; details: string };
  refusedStatuses: number[];
  /** Whether health answered 200 while the disk was full. */
  healthyWhenFull: boolean;
  acknowledgedAfterFreeing: number;
  verifiedAfterRestart: number;
  /** Refused writes (each wholly present or absent) found present after the restart. */
  refusedPresent?: number;
  problems: string[];
}

async function run(cmd: string[]): Promise<{ ok: boolean; text: string }> {
  const output = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stderr: "piped" }).output();
  return { ok: output.success, text: new TextDecoder().decode(output.stderr) };
}

function doc(i: number) {
  return {
    title: `document ${i} token${i}x`,
    n: i,
    body: `filler text for the full disk test number ${i} `.repeat(12),
  };
}

/** Runs the scenario on a tmpfs of `tmpfsMb` megabytes. */
export async function runFullDisk(
  options: { tmpfsMb?: number; ballastMb?: number; log?: (line: string) => void } = {},
): Promise<FullDiskReport> {
  const tmpfsMb = options.tmpfsMb ?? 48;
  const ballastMb = options.ballastMb ?? 12;
  const log = options.log ?? (() => {});
  const report: FullDiskReport = {
    tmpfsMb,
    acknowledgedBeforeFull: 0,
    refusedStatuses: [],
    healthyWhenFull: false,
    acknowledgedAfterFreeing: 0,
    verifiedAfterRestart: 0,
    problems: [],
  };
  const mount = await Deno.makeTempDir({ prefix: "cameodb-full-disk-" });
  const mounted = await run(["mount", "-t", "tmpfs", "-o", `size=${tmpfsMb}m`, "tmpfs", mount]);
  if (!mounted.ok) {
    await Deno.remove(mount);
    return { ...report, skipped: `cannot mount a tmpfs (needs root): ${mounted.text.trim()}` };
  }
  let server: ServerProcess | undefined;
  try {
    const ballast = `${mount}/ballast`;
    await Deno.writeFile(ballast, new Uint8Array(ballastMb * 1024 * 1024).fill(7));
    const dataDir = `${mount}/data`;
    const env = { CAMEODB_STORAGE_NUM_SHARDS_INIT: "2", CAMEODB_LOG: "error" };
    server = await startServerProcess({ dataDir, env });
    const acked = new Set<number>();
    /** Writes answered with an error: each wholly present or wholly absent. */
    const refused = new Set<number>();
    let next = 0;
    const bulk = async (count: number) => {
      const ids = Array.from({ length: count }, () => next++);
      const answer = await call(
        server!.url,
        "POST",
        "/api/docs/_bulk",
        ids.map((i) => ({ id: `d${i}`, doc: doc(i) })),
      );
      const body = answer.body as {
        items_written?: number;
        errors?: Array<{ item: number; id: string; error: string; status: number }>;
        error?: string;
        details?: string;
      };
      if (answer.status !== 200) {
        for (const i of ids) refused.add(i);
        return { status: answer.status, failed: count, body };
      }
      const failed = new Set((body.errors ?? []).map((error) => error.item));
      ids.forEach((i, k) => failed.has(k) ? refused.add(i) : acked.add(i));
      return { status: answer.status, failed: failed.size, item: body.errors?.[0] };
    };

    // 1. Fill the disk.
    log(`tmpfs ${tmpfsMb} MB with ${ballastMb} MB of ballast; writing until refused`);
    for (let round = 0; round < 10_000; round++) {
      const result = await bulk(200);
      if (result.failed === 0) continue;
      const item = "item" in result ? result.item : undefined;
      report.refusedStatuses.push(item?.status ?? result.status);
      report.bulkRefusal ??= { status: item?.status ?? result.status, error: item?.error ?? "" };
      if (report.refusedStatuses.length >= 3) break;
    }
    // What single writes answer now (some may still fit in the space a refusal left).
    for (let attempt = 0; attempt < 100 && report.firstRefusal === undefined; attempt++) {
      const i = next++;
      const single = await call(server.url, "PUT", "/api/docs/document", {
        id: `d${i}`,
        doc: doc(i),
      });
      const body = single.body as { error?: string; details?: string };
      if (single.status === 200) {
        acked.add(i);
        continue;
      }
      refused.add(i);
      report.firstRefusal = {
        status: single.status,
        error: body.error ?? "",
        details: body.details ?? "",
      };
    }
    report.acknowledgedBeforeFull = acked.size;
    log(`refused after ${acked.size} acknowledged documents`);
    log(`  bulk item: ${JSON.stringify(report.bulkRefusal)}`);
    log(`  single write: ${JSON.stringify(report.firstRefusal)}`);
    report.healthyWhenFull = (await call(server.url, "GET", "/_cluster/health")).status === 200;
    await verify(server.url, acked, refused, report.problems, "when full");

    // 2. Free space; writes succeed again.
    await Deno.remove(ballast);
    let okRounds = 0;
    for (let round = 0; round < 10; round++) {
      const result = await bulk(100);
      if (result.failed === 0) okRounds++;
      else report.problems.push(`a write after freeing space failed: status ${result.status}`);
    }
    report.acknowledgedAfterFreeing = acked.size;
    log(`after freeing ${ballastMb} MB: ${okRounds}/10 bulks written, ${acked.size} acknowledged`);
    await verify(server.url, acked, refused, report.problems, "after freeing space");

    // 3. SIGKILL and restart on the same directory.
    await server.stop("SIGKILL");
    server = await startServerProcess({ dataDir, env });
    report.verifiedAfterRestart = await verify(
      server.url,
      acked,
      refused,
      report.problems,
      "after restart",
    );
    report.refusedPresent = await presentCount(server.url, refused);
    log(`after SIGKILL and restart: ${report.verifiedAfterRestart} documents verified`);
  } finally {
    await server?.stop("SIGKILL");
    await run(["umount", mount]);
    await Deno.remove(mount, { recursive: true }).catch(() => {});
  }
  return report;
}

/**
 * Checks every acknowledged document: by search (in ranges of `n`, each document once with
 * its content), by id, and by a term only it has (a sample).
 */
async function verify(
  base: string,
  acked: ReadonlySet<number>,
  refused: ReadonlySet<number>,
  problems: string[],
  when: string,
): Promise<number> {
  const before = problems.length;
  const note = (problem: string) => {
    // The first few tell the story; the count tells the size.
    if (problems.length - before < 20) problems.push(`${when}: ${problem}`);
  };
  const max = Math.max(-1, ...acked);
  const seen = new Map<number, number>();
  for (let from = 0; from <= max; from += 5_000) {
    const response = await fetch(`${base}/api/docs/search/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `n:[${from} TO ${from + 4_999}]`, limit: 10_000 }),
    });
    const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
    lines.pop();
    for (const hit of lines as Array<{ id: string; n: number; title: string }>) {
      const i = Number(hit.id.slice(1));
      seen.set(i, (seen.get(i) ?? 0) + 1);
      if (hit.n !== i || hit.title !== doc(i).title) note(`${hit.id} has other content`);
    }
  }
  let missing = 0;
  for (const i of acked) if (!seen.has(i)) missing++;
  // A refused write that is in KV must be searchable as well (KV and index agree), except
  // while the disk is still full and the index has not caught up yet.
  if (when !== "when full") {
    for (const i of refused) {
      const present = (await call(base, "GET", `/api/docs/document/d${i}`)).status === 200;
      if (present !== seen.has(i)) {
        note(
          `refused d${i}: ${
            present ? "readable by id but not" : "not readable by id but"
          } found by search`,
        );
      }
    }
  }
  if (missing > 0) note(`${missing} acknowledged documents are not found by search`);
  for (const [i, count] of seen) if (count > 1) note(`d${i} found ${count} times`);
  const ids = [...acked];
  let unreadable = 0;
  await Promise.all(Array.from({ length: 16 }, async (_, worker) => {
    for (let k = worker; k < ids.length; k += 16) {
      const i = ids[k]!;
      const answer = await call(base, "GET", `/api/docs/document/d${i}`);
      if (answer.status !== 200 || (answer.body as { doc?: { n?: number } }).doc?.n !== i) {
        unreadable++;
      }
    }
  }));
  if (unreadable > 0) note(`${unreadable} acknowledged documents are not readable by id`);
  for (const i of ids.filter((_, k) => k % 97 === 0)) {
    const answer = await call(base, "POST", "/api/docs/search", { query: `title:token${i}x` });
    const hits = (answer.body as { hits?: Array<{ id: string }> }).hits ?? [];
    if (hits.length !== 1 || hits[0]!.id !== `d${i}`) {
      note(`title:token${i}x found ${JSON.stringify(hits.map((h) => h.id))}`);
    }
  }
  return acked.size - missing;
}

/** How many of `ids` are readable. */
async function presentCount(base: string, ids: ReadonlySet<number>): Promise<number> {
  let present = 0;
  for (const i of ids) {
    if ((await call(base, "GET", `/api/docs/document/d${i}`)).status === 200) present++;
  }
  return present;
}

if (import.meta.main) {
  const mb = Number(Deno.args.find((arg) => arg.startsWith("--tmpfs-mb="))?.split("=")[1] ?? 48);
  const report = await runFullDisk({ tmpfsMb: mb, log: (line) => console.log(line) });
  console.log(JSON.stringify(report, null, 2));
  if (report.skipped === undefined && report.problems.length > 0) Deno.exit(1);
}
