/**
 * `/_metrics` in the Prometheus text format (version 0.0.4): request counts by method and
 * status, a request latency histogram, and whatever gauges and counters the node adds at
 * scrape time (documents, memory, broadcasts, remote retries).
 *
 * @module
 */

/** Upper bounds of the latency histogram, in seconds. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** One metric family the node adds at scrape time. */
export interface Sample {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly value: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Request counters and the latency histogram. */
export class HttpMetrics {
  readonly #requests = new Map<string, number>();
  readonly #buckets = new Array<number>(LATENCY_BUCKETS_SECONDS.length).fill(0);
  #count = 0;
  #sumSeconds = 0;

  /** Wraps a handler so every request is counted and timed. */
  wrap(handler: (request: Request) => Promise<Response>): (request: Request) => Promise<Response> {
    return async (request) => {
      const started = performance.now();
      let status = 500;
      try {
        const response = await handler(request);
        status = response.status;
        return response;
      } finally {
        this.record(request.method, status, (performance.now() - started) / 1000);
      }
    };
  }

  /** Counts one request. */
  record(method: string, status: number, seconds: number): void {
    const key = `${method} ${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    this.#count++;
    this.#sumSeconds += seconds;
    LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
      if (seconds <= bound) this.#buckets[i]!++;
    });
  }

  /** The text exposition: this object's metrics, then `samples`. */
  render(samples: readonly Sample[]): string {
    const lines: string[] = [
      "# HELP cameodb_http_requests_total HTTP requests answered, by method and status.",
      "# TYPE cameodb_http_requests_total counter",
    ];
    for (const [key, count] of [...this.#requests].sort()) {
      const [method, status] = key.split(" ");
      lines.push(`cameodb_http_requests_total{method="${method}",status="${status}"} ${count}`);
    }
    lines.push(
      "# HELP cameodb_http_request_duration_seconds Time to answer an HTTP request.",
      "# TYPE cameodb_http_request_duration_seconds histogram",
    );
    LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
      lines.push(`cameodb_http_request_duration_seconds_bucket{le="${bound}"} ${this.#buckets[i]}`);
    });
    lines.push(
      `cameodb_http_request_duration_seconds_bucket{le="+Inf"} ${this.#count}`,
      `cameodb_http_request_duration_seconds_sum ${this.#sumSeconds}`,
      `cameodb_http_request_duration_seconds_count ${this.#count}`,
    );
    const seen = new Set<string>();
    for (const sample of samples) {
      if (!seen.has(sample.name)) {
        seen.add(sample.name);
        lines.push(`# HELP ${sample.name} ${sample.help}`, `# TYPE ${sample.name} ${sample.type}`);
      }
      const labels = sample.labels === undefined
        ? ""
        : `{${
          Object.entries(sample.labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
            .join(",")
        }}`;
      lines.push(`${sample.name}${labels} ${sample.value}`);
    }
    return lines.join("\n") + "\n";
  }
}
