/**
 * Reads V8 `.cpuprofile` files (what `deno run --cpu-prof` writes, one per isolate) and sums
 * self time by function and by source file: the time the profiler's samples found each
 * function itself on the top of the stack.
 *
 *   deno run --allow-read bench/profile/summarize.ts DIR [top]
 *
 * @module
 */

/** The parts of a V8 CPU profile this reads. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  /** Microseconds between one sample and the one before it. */
  timeDeltas: number[];
}

/** Self time of one function or file, in ms and as a share of the profile's samples. */
export interface SelfTime {
  name: string;
  ms: number;
  percent: number;
  /** The caller that accounts for most of a function's self time (functions only). */
  caller?: string;
}

/** The summary of one isolate's profile. */
export interface ProfileSummary {
  file: string;
  /** Wall time the profile covers, in ms. */
  wallMs: number;
  /** Time not idle, not in the program's (GC and engine) pseudo-frames, in ms. */
  busyMs: number;
  functions: SelfTime[];
  files: SelfTime[];
  /**
   * The longest stretch of consecutive samples that were not idle — the isolate did not
   * return to its event loop, so a message that arrived then waited — in ms, and the deepest
   * frame on every stack of that stretch.
   */
  longestBusy: { ms: number; within: string };
}

/** This repository's root, as a file URL. */
const ROOT = new URL("../../", import.meta.url).href;

const PSEUDO = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

/** A url shortened to what identifies it: this repository's path, or the npm package. */
export function shortUrl(url: string): string {
  if (url === "") return "(native)";
  const npm = url.match(/registry\.npmjs\.org\/(@[^/]+\/[^/]+|[^/]+)\/[^/]+\/(.*)$/);
  if (npm !== null) return `npm:${npm[1]}/${npm[2]}`;
  if (url.startsWith(ROOT)) return url.slice(ROOT.length);
  return url;
}

type Frame = CpuProfile["nodes"][number]["callFrame"];

function frameKey(frame: Frame): string {
  const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
  if (PSEUDO.has(name)) return name;
  if (frame.url === "") return `${name} (native)`;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** Sums the profile's self time by function (name + short url + line) and by file. */
export function summarize(file: string, profile: CpuProfile, top = 15): ProfileSummary {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const perFunction = new Map<string, number>();
  const perFile = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let totalUs = 0;
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const frame = byNode.get(id)?.callFrame;
    if (frame === undefined) return;
    const key = frameKey(frame);
    if (PSEUDO.has(key)) {
      if (key !== "(idle)") add(perFunction, key, us);
      return;
    }
    busyUs += us;
    add(perFunction, key, us);
    add(perFile, shortUrl(frame.url), us);
    const up = byNode.get(parent.get(id) ?? -1)?.callFrame;
    if (up !== undefined) {
      if (!callers.has(key)) callers.set(key, new Map());
      add(callers.get(key)!, frameKey(up), us);
    }
  });
  const rank = (map: Map<string, number>, withCaller: boolean) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]): SelfTime => {
      const caller = withCaller
        ? [...(callers.get(name) ?? [])].sort((a, b) => b[1] - a[1])[0]?.[0]
        : undefined;
      return {
        name,
        ms: Math.round(us / 1000),
        percent: totalUs === 0 ? 0 : Number((us / totalUs * 100).toFixed(1)),
        ...(caller === undefined ? {} : { caller }),
      };
    });
  return {
    file,
    wallMs: Math.round((profile.endTime - profile.startTime) / 1000),
    busyMs: Math.round(busyUs / 1000),
    functions: rank(perFunction, true),
    files: rank(perFile, false),
    longestBusy: longestBusy(profile, byNode, parent),
  };
}

function longestBusy(
  profile: CpuProfile,
  byNode: Map<number, CpuProfile["nodes"][number]>,
  parent: Map<number, number>,
): { ms: number; within: string } {
  // The longest run of non-idle samples, as [first, last] sample indexes.
  let best = { us: 0, first: 0, last: -1 };
  let run = { us: 0, first: 0 };
  profile.samples.forEach((id, i) => {
    if (byNode.get(id)?.callFrame.functionName === "(idle)") {
      run = { us: 0, first: i + 1 };
      return;
    }
    run.us += profile.timeDeltas[i] ?? 0;
    if (run.us > best.us) best = { us: run.us, first: run.first, last: i };
  });
  // The deepest frame on the stack for at least half of that stretch.
  const inclusive = new Map<string, { us: number; depth: number }>();
  for (let i = best.first; i <= best.last; i++) {
    const keys = new Set<string>();
    let depth = 0;
    for (let at: number | undefined = profile.samples[i]; at !== undefined; at = parent.get(at)) {
      const frame = byNode.get(at)?.callFrame;
      if (frame !== undefined) keys.add(frameKey(frame));
    }
    for (const key of keys) {
      const entry = inclusive.get(key) ?? { us: 0, depth: 0 };
      entry.us += profile.timeDeltas[i] ?? 0;
      entry.depth = Math.max(entry.depth, keys.size - depth++);
      inclusive.set(key, entry);
    }
  }
  const within = [...inclusive]
    .filter(([key, entry]) => !PSEUDO.has(key) && entry.us * 2 >= best.us)
    .sort((x, y) => y[1].depth - x[1].depth || y[1].us - x[1].us)[0]?.[0] ?? "?";
  return { ms: Math.round(best.us / 1000), within };
}

function add(map: Map<string, number>, key: string, us: number) {
  map.set(key, (map.get(key) ?? 0) + us);
}

/** Every `.cpuprofile` in `dir`, summarized, busiest first. */
export async function summarizeDir(dir: string, top = 15): Promise<ProfileSummary[]> {
  const summaries: ProfileSummary[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".cpuprofile")) continue;
    const profile = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)) as CpuProfile;
    summaries.push(summarize(entry.name, profile, top));
  }
  return summaries.sort((a, b) => b.busyMs - a.busyMs);
}

/** The summaries as markdown tables. */
export function renderSummaries(summaries: readonly ProfileSummary[]): string {
  const out: string[] = [];
  for (const s of summaries) {
    out.push(
      `#### ${s.file}: ${s.wallMs.toLocaleString("en-US")} ms profiled, ${
        s.busyMs.toLocaleString("en-US")
      } ms on a stack (JavaScript and the native calls it made; idle, GC and engine excluded)`,
      "",
      `Longest stretch without returning to the event loop: ${s.longestBusy.ms} ms, within \`${s.longestBusy.within}\`.`,
      "",
      "| self time, function | ms | % | mostly called from |",
      "| --- | ---: | ---: | --- |",
      ...s.functions.map((f) =>
        `| \`${f.name}\` | ${f.ms} | ${f.percent} | ${
          f.caller === undefined ? "" : `\`${f.caller}\``
        } |`
      ),
      "",
      "| self time, file | ms | % |",
      "| --- | ---: | ---: |",
      ...s.files.map((f) => `| \`${f.name}\` | ${f.ms} | ${f.percent} |`),
      "",
    );
  }
  return out.join("\n");
}

if (import.meta.main) {
  const [dir, top] = Deno.args;
  if (dir === undefined) throw new Error("usage: summarize.ts DIR [top]");
  console.log(renderSummaries(await summarizeDir(dir, Number(top ?? 15))));
}
