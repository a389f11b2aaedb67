/**
 * The comparison's outputs: a markdown report (tables per figure — ingest, queries, point
 * reads, memory, disk, concurrency 64, the worst minute of the mixed load, recovery — the
 * ratios against this server, and where it loses) and an SVG chart of the headline figures.
 *
 * @module
 */

import type { CompareResult, Latency, SystemFigures } from "./compare.ts";

const fmt = (value: number | null | undefined) =>
  value === null || value === undefined ? "n/a" : value.toLocaleString("en-US");

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

/** One headline figure, with whether higher is better. */
interface Headline {
  label: string;
  unit: string;
  higherIsBetter: boolean;
  value(system: SystemFigures): number | null;
}

/** The figures the README quotes and the chart draws. */
export function headlines(result: CompareResult): Headline[] {
  const mid = result.queries.findIndex((q) => q.startsWith("mid term"));
  const common = result.queries.findIndex((q) => q.startsWith("common term"));
  return [
    {
      label: "bulk ingest (bulks of 5,000)",
      unit: "docs/s",
      higherIsBetter: true,
      value: (s) => s.ingest["bulk 5000"] ?? null,
    },
    {
      label: "single writes, 16 at once",
      unit: "docs/s",
      higherIsBetter: true,
      value: (s) => s.ingest["single, c=16"] ?? null,
    },
    {
      label: "mid-frequency term, p50 (c=1)",
      unit: "ms",
      higherIsBetter: false,
      value: (s) => s.queries[mid]?.byConcurrency["c=1"]?.p50 ?? null,
    },
    {
      label: "common term, p50 (c=1)",
      unit: "ms",
      higherIsBetter: false,
      value: (s) => s.queries[common]?.byConcurrency["c=1"]?.p50 ?? null,
    },
    {
      label: "point read p50, idle",
      unit: "ms",
      higherIsBetter: false,
      value: (s) => s.pointRead?.idle.p50 ?? null,
    },
    {
      label: "point reads, 64 at once",
      unit: "QPS",
      higherIsBetter: true,
      value: (s) => s.c64.pointRead?.qps ?? null,
    },
    {
      label: "mid-frequency term, 64 at once",
      unit: "QPS",
      higherIsBetter: true,
      value: (s) => s.c64.midTerm?.qps ?? null,
    },
    {
      label: "worst minute of the mixed load, p99",
      unit: "ms",
      higherIsBetter: false,
      value: (s) => s.mixed.worst.p99,
    },
    {
      label: "worst minute of the mixed load, QPS",
      unit: "QPS",
      higherIsBetter: true,
      value: (s) => s.mixed.worst.qps,
    },
    {
      label: "Disk per 100k documents (allocated)",
      unit: "MB",
      higherIsBetter: false,
      value: (s) => s.diskPer100kMb?.allocated ?? null,
    },
    {
      label: "Memory (PSS) per 100k documents",
      unit: "MB",
      higherIsBetter: false,
      value: (s) => s.rssPer100kMb,
    },
  ];
}

/** "2.3× faster" / "1.5× slower" of `ours` against `theirs`. */
export function ratio(ours: number, theirs: number, higherIsBetter: boolean): string {
  if (ours === 0 || theirs === 0) return "n/a";
  const better = higherIsBetter ? ours >= theirs : ours <= theirs;
  const factor = higherIsBetter
    ? (better ? ours / theirs : theirs / ours)
    : (better ? theirs / ours : ours / theirs);
  return `${factor.toFixed(1)}× ${better ? "better" : "worse"}`;
}

const pair = (figure: { p50: number; p99: number } | undefined) =>
  figure === undefined ? "n/a" : `${figure.p50} / ${figure.p99}`;

const triple = (figure: Latency | null) =>
  figure === null ? "n/a" : `${figure.p50} / ${figure.p99} · ${fmt(figure.qps)}`;

/** ² notes: what a system said when it did not come back after SIGKILL. */
function recoveryFailures(systems: readonly SystemFigures[]): string[] {
  const failed = systems.flatMap((s) =>
    typeof s.recoveryMs === "object" && s.recoveryMs !== null
      ? [`- ${s.name}: ${s.recoveryMs.failed.replaceAll("\n", " ")}`]
      : []
  );
  return failed.length === 0 ? [] : [
    "",
    "² Did not answer again after SIGKILL (its own error is on the run's stderr):",
    "",
    ...failed,
    "",
  ];
}

/** Concurrency 64 and the sustained mixed load. */
function loadSection(result: CompareResult): string[] {
  const systems = result.systems;
  const first = systems[0]!.mixed;
  return [
    "## Concurrency 64 and the worst minute",
    "",
    table(["", ...systems.map((s) => s.name)], [
      ["point reads at c=64, p50 / p99 ms · QPS", ...systems.map((s) => triple(s.c64.pointRead))],
      ["mid term at c=64, p50 / p99 ms · QPS", ...systems.map((s) => triple(s.c64.midTerm))],
      ["mixed load: operations", ...systems.map((s) => s.mixed.mix)],
      [
        "mixed load, whole run: p99 ms · QPS",
        ...systems.map((s) => `${s.mixed.overall.p99} · ${fmt(s.mixed.overall.qps)}`),
      ],
      [
        "mixed load, worst window: p99 ms · QPS",
        ...systems.map((s) => `${s.mixed.worst.p99} · ${fmt(s.mixed.worst.qps)}`),
      ],
      ["mixed load, lowest QPS of a window", ...systems.map((s) => fmt(s.mixed.minQps))],
    ]),
    "",
    `The mixed load runs ${result.minutes} minute(s) with ${first.lanes} clients, each issuing one`,
    "operation after another from a cycle of ten (eight point reads, one mid-term search, one write",
    "of a stored document again; a system without searches or reads by id does nine of what it",
    `has), cut into ${first.windows} window(s) of ${first.windowSeconds} s. The worst window is`,
    "the one with the highest p99; its QPS beside it. The mixes differ where a system lacks an",
    "operation, so compare its QPS with care.",
    "",
  ];
}

/**
 * The markdown report; `name` is the base name its JSON and chart are written under, beside it
 * (`comparison` by default).
 */
export function renderReport(result: CompareResult, name = "comparison"): string {
  const systems = result.systems;
  const names = systems.map((s) => s.name);
  const out: string[] = [];
  out.push(
    "# CameoDB side by side",
    "",
    `Run on ${result.date} with \`${result.command}\` (${result.seconds} s). The raw figures are in`,
    `[${name}.json](${name}.json), the chart in [${name}.svg](${name}.svg).`,
    "",
    `![headline figures](${name}.svg)`,
    "",
    "## Machine",
    "",
    ...Object.entries(result.machine).map(([key, value]) => `- ${key}: ${value}`),
    "",
    "## Data and queries",
    "",
    `${result.documents.toLocaleString("en-US")} documents: half Debian's package catalogue (name,`,
    "section, priority, sizes, tags, maintainer, long description — from `apt-cache dumpavail`), half",
    "GCIDE dictionary entries (headword, text, sources, counts — from `dict-gcide`). Every system gets",
    "the same documents and answers the same queries on the `text` field (top 10):",
    "",
    ...result.queries.map((q) => `- ${q}`),
    "",
    "## Systems",
    "",
    ...systems.map((s) => `- **${s.name}**: ${s.how}`),
    "",
    "## Ingest (documents/s)",
    "",
    table(
      ["", ...names],
      Object.keys(systems[0]!.ingest).map((mode) => [
        mode,
        ...systems.map((s) => fmt(s.ingest[mode])),
      ]),
    ),
    "",
    "## Queries: p50 / p99 ms and QPS",
    "",
  );
  for (const concurrency of Object.keys(systems[0]!.queries[0]!.byConcurrency)) {
    out.push(
      `### ${concurrency}`,
      "",
      table(
        ["query", ...names],
        result.queries.map((query, i) => [
          query,
          ...systems.map((s) => {
            const figure = s.queries[i]?.byConcurrency[concurrency];
            if (figure === undefined) return "n/a";
            const mark = s.queries[i]!.caveat === undefined ? "" : " ¹";
            return `${figure.p50} / ${figure.p99} · ${fmt(figure.qps)}${mark}`;
          }),
        ]),
      ),
      "",
    );
  }
  const caveats = systems.flatMap((s) =>
    s.queries.filter((q) => q.caveat !== undefined).map((q) => `${s.name}, ${q.query}: ${q.caveat}`)
  );
  if (caveats.length > 0) {
    out.push("¹ Not the same question there:", "", ...caveats.map((c) => `- ${c}`), "");
  }
  out.push(
    "## Point reads, memory, recovery",
    "",
    table(["", ...names], [
      [
        "point read p50 / p99 ms, idle",
        ...systems.map((s) => pair(s.pointRead?.idle)),
      ],
      [
        "point read p50 / p99 ms, during a bulk ingest",
        ...systems.map((s) => pair(s.pointRead?.duringIngest)),
      ],
      ["Memory (PSS) per 100k documents, MB", ...systems.map((s) => fmt(s.rssPer100kMb))],
      [
        "disk per 100k documents, MB (apparent / allocated)",
        ...systems.map((s) =>
          s.diskPer100kMb === null
            ? "n/a"
            : `${fmt(s.diskPer100kMb.apparent)} / ${fmt(s.diskPer100kMb.allocated)}`
        ),
      ],
      [
        "answering again after SIGKILL, ms",
        ...systems.map((s) =>
          typeof s.recoveryMs === "object" && s.recoveryMs !== null
            ? "did not come back ²"
            : fmt(s.recoveryMs)
        ),
      ],
    ]),
    "",
    "Memory (PSS) per 100k documents is the growth of proportional resident memory from the started,",
    "empty system to the " +
      "end of the queries, scaled to 100,000 documents: CameoDB's server process (its shard workers are",
    "threads of it), PostgreSQL's server and backends summed, and for the in-process systems (raw",
    "Orama, SQLite) the benchmark process itself. In-process systems run on the benchmark's thread:",
    "reads during an ingest wait between the ingest's batches, and there is no process to kill.",
    ...recoveryFailures(systems),
    "Disk per 100k documents is the data directory's size after the ingest and the queries (`du -sb`",
    "and `du -s --block-size=1`: the files' lengths and the blocks allocated to them), scaled to",
    "100,000 documents; raw Orama writes nothing. Redis answers no searches and Sphinx no reads by",
    "id: their columns say n/a there.",
    "",
    ...loadSection(result),
    "## CameoDB (fts5) against each",
    "",
  );
  const ours = systems.find((s) => s.name === "CameoDB (fts5)") ?? systems[0]!;
  const lines = headlines(result);
  out.push(
    table(
      ["figure", ...systems.filter((s) => s !== ours).map((s) => s.name)],
      lines.map((h) => [
        `${h.label} (${h.unit})`,
        ...systems.filter((s) => s !== ours).map((s) => {
          const a = h.value(ours);
          const b = h.value(s);
          return a === null || b === null ? "n/a" : ratio(a, b, h.higherIsBetter);
        }),
      ]),
    ),
    "",
    "## Where CameoDB loses",
    "",
  );
  const losses: string[] = [];
  for (const h of lines) {
    const a = h.value(ours);
    if (a === null) continue;
    for (const s of systems) {
      if (s === ours || s.name.startsWith("CameoDB")) continue;
      const b = h.value(s);
      if (b === null) continue;
      const worse = h.higherIsBetter ? a < b : a > b;
      if (worse) {
        losses.push(
          `- ${h.label}: ${fmt(a)} ${h.unit} against ${s.name}'s ${fmt(b)} (${
            ratio(a, b, h.higherIsBetter)
          })`,
        );
      }
    }
  }
  out.push(...(losses.length === 0 ? ["Nowhere among the headline figures."] : losses), "");
  return out.join("\n");
}

/** A horizontal bar chart per headline figure. */
export function renderChart(result: CompareResult): string {
  const lines = headlines(result);
  const systems = result.systems;
  const colors = [
    "#1f77b4",
    "#6baed6",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#d62728",
    "#e377c2",
    "#8c564b",
  ];
  const legendPerRow = 4;
  const legendRows = Math.ceil(systems.length / legendPerRow);
  const panelWidth = 420;
  const barHeight = 16;
  const panelHeight = 40 + systems.length * (barHeight + 6);
  const columns = 2;
  const width = columns * panelWidth + 40;
  const top = 56 + legendRows * 18;
  const height = Math.ceil(lines.length / columns) * panelHeight + top + 20;
  const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="24" font-size="16" font-weight="bold">${
      escape(`${result.documents.toLocaleString("en-US")} documents, ${result.machine.cpu ?? ""}`)
    }</text>`,
  ];
  systems.forEach((s, i) => {
    const x = 20 + (i % legendPerRow) * 215;
    const y = 36 + Math.floor(i / legendPerRow) * 18;
    parts.push(
      `<rect x="${x}" y="${y}" width="12" height="12" fill="${colors[i % colors.length]}"/>`,
      `<text x="${x + 16}" y="${y + 10}">${escape(s.name)}</text>`,
    );
  });
  lines.forEach((h, k) => {
    const x0 = 20 + (k % columns) * panelWidth;
    const y0 = top + Math.floor(k / columns) * panelHeight;
    const values = systems.map((s) => h.value(s));
    const max = Math.max(...values.map((value) => value ?? 0), 1e-9);
    parts.push(
      `<text x="${x0}" y="${y0 + 14}" font-weight="bold">${escape(h.label)} — ${h.unit}, ${
        h.higherIsBetter ? "longer is better" : "shorter is better"
      }</text>`,
    );
    values.forEach((value, i) => {
      const y = y0 + 24 + i * (barHeight + 6);
      const w = Math.max(1, ((value ?? 0) / max) * (panelWidth - 110));
      parts.push(
        `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${
          colors[i % colors.length]
        }"/>`,
        `<text x="${(x0 + w + 4).toFixed(1)}" y="${y + 12}">${escape(fmt(value))}</text>`,
      );
    });
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
