/**
 * The `cameodb` command.
 *
 * ```sh
 * cameodb serve [--http-port N] [--http-host ADDR] [--data-dir DIR] [--node-label NAME]
 * cameodb client [--connect URL] health
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { createHandler, type Health } from "./http/handler.ts";
import { startServer } from "./http/server.ts";
import { loadNodeId } from "./node/identity.ts";
import { VERSION } from "./version.ts";

const USAGE = `CameoDB ${VERSION}

Usage:
  cameodb serve [options]          start the server (the default command)
      --http-host ADDR             address to listen on (default 127.0.0.1)
      --http-port N                port to listen on (default 9480; 0 picks a free one)
      --data-dir DIR               data directory (default ./data/cameodb)
      --node-label NAME            this node's name (default the host name)
  cameodb client [--connect URL] health
                                   ask a server for its health (default http://127.0.0.1:9480)
  cameodb help                     this text
`;

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "http-host": { type: "string", default: "127.0.0.1" },
      "http-port": { type: "string", default: "9480" },
      "data-dir": { type: "string", default: "./data/cameodb" },
      "node-label": { type: "string" },
    },
  });
  const port = Number(values["http-port"]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`cameodb: --http-port expects a port number, got "${values["http-port"]}"`);
    return 2;
  }
  const dataDir = values["data-dir"];
  const nodeId = await loadNodeId(dataDir);
  const nodeName = values["node-label"] ?? hostname();
  const health = (): Health => ({
    status: "green",
    node_id: nodeId,
    node_name: nodeName,
    cluster_name: "cameodb",
    cluster_enabled: false,
    total_nodes: 1,
    connected_nodes: 1,
    active_shards: 0,
    total_indexes: 0,
  });
  const server = await startServer(createHandler({ health }), {
    hostname: values["http-host"],
    port,
  });
  console.log(
    `CameoDB ${VERSION} listening on http://${server.hostname}:${server.port} ` +
      `(node ${nodeName}, id ${nodeId}, data ${dataDir})`,
  );
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) Deno.exit(130);
    console.log("CameoDB shutting down (a second signal exits at once)");
    server.shutdown();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  await server.finished;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  console.log("CameoDB stopped");
  return 0;
}

async function client(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { connect: { type: "string", default: "http://127.0.0.1:9480" } },
  });
  const [command] = positionals;
  if (command !== "health") {
    console.error(`cameodb client: unknown command "${command ?? ""}" (try "health")`);
    return 2;
  }
  try {
    const response = await fetch(new URL("/_cluster/health", values.connect));
    const body = await response.json();
    console.log(JSON.stringify(body, null, 2));
    return response.ok ? 0 : 1;
  } catch (error) {
    console.error(`cameodb client: cannot reach ${values.connect}: ${(error as Error).message}`);
    return 1;
  }
}

/** Runs the command line; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  try {
    switch (first) {
      case undefined:
        return await serve([]);
      case "serve":
        return await serve(rest);
      case "client":
        return await client(rest);
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return 0;
      default:
        if (first.startsWith("-")) return await serve(args);
        console.error(`cameodb: unknown command "${first}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof TypeError && "code" in error) {
      // node:util parseArgs errors: an unknown or malformed flag.
      console.error(`cameodb: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
