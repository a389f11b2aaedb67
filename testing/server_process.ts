/**
 * Starts the real `cameodb serve` process for system tests and stops it.
 *
 * @module
 */

import { withDeadline } from "./deadline.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/**
 * The V8 flags the server runs with, as `deno task start` and `deno task compile` give them
 * (`deno.json`; `tests/start_task_test.ts` checks they agree): semi-spaces of the young
 * generation capped at 2 MB in every isolate. With V8's default, after 100,000 corpus documents
 * the five isolates' heaps held ~650 MB; with this cap `bench:compare` measured 416 MB of memory
 * per 100k documents against 584, its throughput within the run-to-run noise
 * (`docs/profile.md`, "Where the memory is").
 */
export const SERVER_V8_FLAGS: readonly string[] = ["--v8-flags=--max-semi-space-size=2"];

/** A `cameodb serve` child process listening on a free loopback port (HTTP or HTTPS). */
export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly child: Deno.ChildProcess;
  /** Everything the process printed to stdout so far. */
  output(): string;
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts the server on port 0 with `args` and waits for its listening line. */
export async function startServerProcess(
  options: {
    dataDir: string;
    args?: string[];
    env?: Record<string, string>;
    startTimeoutMs?: number;
  },
): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      ...SERVER_V8_FLAGS,
      MAIN,
      "serve",
      "--http-port",
      "0",
      "--data-dir",
      options.dataDir,
      ...(options.args ?? []),
    ],
    stdout: "piped",
    stderr: "inherit",
    env: options.env ?? {},
  }).spawn();
  let output = "";
  const listening = Promise.withResolvers<number>();
  let scheme = "http";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) {
      output += decoder.decode(chunk, { stream: true });
      const match = output.match(/listening on (https?):\/\/127\.0\.0\.1:(\d+)/);
      if (match !== null) {
        scheme = match[1]!;
        listening.resolve(Number(match[2]));
      }
    }
    listening.reject(new Error(`the server exited before listening; it printed:\n${output}`));
  })();
  let port: number;
  try {
    port = await withDeadline(listening.promise, options.startTimeoutMs ?? 30_000, "server start");
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
    throw error;
  }
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    child,
    output: () => output,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const status = await child.status;
      await reading;
      return status;
    },
  };
}
