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
import { withLimits } from "./http/limits.ts";
import { AuthMetrics } from "./http/auth.ts";
import { type KeyChange, KeyStore } from "./security/key_store.ts";
import { exposureProblem } from "./security/host_check.ts";
import { loadNodeId } from "./node/identity.ts";
import { listenMessage, prepareDataDir, StartupError } from "./node/startup_error.ts";
import { startNode } from "./node/start.ts";
import { nodeSamples } from "./http/node_samples.ts";
import type { NodeOrchestrator } from "./node/orchestrator.ts";
import type { SearchLimits } from "./query/search.ts";
import { HttpMetrics } from "./http/metrics.ts";
import { ClusterExecutor, soloView } from "./cluster/cluster_executor.ts";
import { HintStore } from "./cluster/hints.ts";
import { hasSlotFile } from "./cluster/slot_table.ts";
import { RebuildingSlots } from "./cluster/rebuilding.ts";
import { IndexDrops } from "./cluster/index_drops.ts";
import {
  NODE_SERVICE,
  type NodeServiceMsg,
  type NodeServiceReplies,
} from "./cluster/node_service.ts";
import { clusterAdmin, clusterWiring, startCluster, type StartedCluster } from "./cluster/start.ts";
import { joiningGate } from "./cluster/joining_gate.ts";
import { NodeBreaker } from "./cluster/node_breaker.ts";
import { ActorSystem } from "./actors/system.ts";
import { createLogger, type Logger, logLevelFrom } from "./node/log.ts";
import { VERSION } from "./version.ts";
import { type Config, ConfigError, loadConfig, missingPskProblem } from "./config/config.ts";
import { generateConfig } from "./config/generate.ts";
import { type Connection, runCommand } from "./client/commands.ts";
import { progressBar, repl, stdinLines } from "./client/repl.ts";

const USAGE = `CameoDB ${VERSION}

Usage:
  cameodb serve [options]          start the server (the default command)
      -c, --config FILE            configuration file (default: ./cameodb.toml,
                                   ./config/cameodb.toml, /etc/cameodb/config.toml)
      --http-host ADDR             address to listen on (default 127.0.0.1)
      --http-port N                port to listen on (default 9480; 0 picks a free one)
      --data-dir DIR               data directory (default ./data/cameodb)
      --node-label NAME            this node's name (default the host name)
      --cluster, --cluster-port N, --seed-nodes A,B
                                   join a cluster over libp2p (see README "Running a cluster")
  cameodb generate-config          print a commented default configuration
  cameodb check-config [-c FILE]   report unknown keys and bad values, with their line
  cameodb client [-i] [--connect URL] [--api-key KEY] [--ca-file PEM] [COMMAND ...]
                                   the client (default http://127.0.0.1:9480): with a command, run it
                                   and exit; without, or with -i, interactive ("help" lists commands);
                                   the key may come from CAMEODB_API_KEY; --ca-file trusts a CA (https)
  cameodb help                     this text
`;

type HttpSettings = Config["network"]["http"];

/** The per-request limits of the `[network.http]` settings (`http/limits.ts`). */
function httpLimits(http: HttpSettings) {
  const maxBodyBytes = http.max_body_size_mb * 1024 * 1024;
  return {
    reservedConcurrentRequests: http.reserved_concurrent_requests,
    maxRequestsPerClient: http.max_requests_per_client,
    bodyIdleTimeoutMs: http.body_idle_timeout_secs * 1000,
    maxBodyBytes,
    maxBufferedBodyBytes: maxBodyBytes * http.max_concurrent_bodies,
  };
}

/** The per-connection limits of the `[network.http]` settings (`http/connections.ts`). */
function connectionLimits(http: HttpSettings) {
  return {
    headerTimeoutMs: http.header_timeout_secs * 1000,
    maxConnectionsPerClient: http.max_connections_per_client,
    maxConnections: http.max_connections,
  };
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string", short: "c" },
      "http-host": { type: "string" },
      "http-port": { type: "string" },
      "data-dir": { type: "string" },
      "node-label": { type: "string" },
      cluster: { type: "boolean" },
      "cluster-port": { type: "string" },
      "seed-nodes": { type: "string" },
    },
  });
  let loaded;
  try {
    loaded = await loadConfig({
      flags: {
        ...(values.config === undefined ? {} : { config: values.config }),
        ...(values["http-host"] === undefined ? {} : { httpHost: values["http-host"] }),
        ...(values["http-port"] === undefined ? {} : { httpPort: values["http-port"] }),
        ...(values["data-dir"] === undefined ? {} : { dataDir: values["data-dir"] }),
        ...(values["node-label"] === undefined ? {} : { nodeLabel: values["node-label"] }),
        ...(values.cluster === undefined ? {} : { cluster: values.cluster }),
        ...(values["cluster-port"] === undefined ? {} : { clusterPort: values["cluster-port"] }),
        ...(values["seed-nodes"] === undefined ? {} : { seedNodes: values["seed-nodes"] }),
      },
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`cameodb: the configuration has problems:\n${error.message}`);
    return 2;
  }
  const { config } = loaded;
  const noKey = missingPskProblem(config);
  if (noKey !== undefined) {
    console.error(`cameodb: ${noKey}`);
    return 2;
  }
  let log: Logger;
  try {
    log = createLogger(logLevelFrom(Deno.env.get("CAMEODB_LOG")));
  } catch (error) {
    console.error(`cameodb: ${(error as Error).message}`);
    return 2;
  }
  const port = config.network.http.port;
  const dataDir = config.storage.data_paths[0]!;
  // The lock comes before the node id: a second server on this directory must not read or
  // create it. The kernel releases the lock when this process ends, however it ends.
  const dataLock = await prepareDataDir(dataDir);
  // API keys are known on every node: a local change is sent to the others (once the cluster
  // runs), and two nodes that meet exchange their whole key sets.
  const keySync = { send: (_change: KeyChange) => {} };
  const http = await httpSecurity(config, dataDir, (change) => keySync.send(change));
  if (typeof http === "string") {
    console.error(`cameodb: ${http}`);
    return 2;
  }
  const nodeId = await loadNodeId(dataDir);
  const nodeName = config.node.label === "" ? hostname() : config.node.label;
  const system = new ActorSystem({
    node: nodeId,
    log: (message, error) => log.error(message, error),
    onEscalation: (error) => log.error("an actor failed past its restart limit:", error),
  });
  const clusterConfig = config.network.cluster;
  const wiring = clusterConfig.enabled ? clusterWiring() : undefined;
  // Copies a replica missed, kept until it is back (only with replication).
  // Before anything writes it: without `slots.json` this node's disk holds none of its slots,
  // which (with replicas) it rebuilds from the other owners before its copies count.
  const rebuilding = wiring !== undefined && clusterConfig.replication_factor > 1
    ? await RebuildingSlots.open(dataDir, !await hasSlotFile(dataDir))
    : undefined;
  const hints = wiring !== undefined && clusterConfig.replication_factor > 1
    ? await HintStore.open(dataDir)
    : undefined;
  // The indexes dropped in the cluster, so a node that was away cannot bring one back.
  const indexDrops = wiring === undefined ? undefined : await IndexDrops.open(dataDir);
  let clusterExecutor: ClusterExecutor | undefined;
  const { orchestrator, database } = await startNode(system, {
    nodeId,
    dataDir,
    numShards: config.storage.num_shards_init,
    pointReads: config.storage.point_reads,
    readerWorkers: config.storage.reader_workers,
    shardNiceness: config.storage.shard_worker_niceness,
    commitWindowMs: config.storage.wal_sync === "batch" ? config.storage.wal_batch_window_ms : 0,
    tombstoneGraceMs: config.storage.tombstone_grace_ms,
    tombstoneCollectIntervalMs: config.storage.tombstone_collect_interval_ms,
    // With replicas a tombstone waits until every replica of its slot holds it.
    tombstonesAwaitReplicas: wiring !== undefined && clusterConfig.replication_factor > 1,
    memoryLimitBytes: Math.floor(
      config.search.total_memory_limit_mb * 1024 * 1024 / config.storage.num_shards_init,
    ),
    searchLimits: {
      defaultLimit: config.search.default_search_limit,
      maxLimit: config.search.max_search_limit,
      // Shards stop working on a search once its client has been answered 408.
      timeoutMs: config.network.http.request_timeout_secs * 1000,
    },
    ...(wiring === undefined ? {} : {
      executor: (node: NodeOrchestrator, limits: SearchLimits) =>
        clusterExecutor = new ClusterExecutor(
          node,
          (peer) => wiring.pool.ref<NodeServiceMsg, NodeServiceReplies>(peer, NODE_SERVICE),
          {
            broadcastTimeoutMs: config.search.broadcast_timeout_secs * 1000,
            requestTimeoutMs: config.network.cluster.remote_timeout_ms,
            bulkTimeoutMs: config.network.http.request_timeout_secs * 1000,
            retryAttempts: config.search.remote_retry_attempts,
            fanoutLimit: config.search.broadcast_fanout_limit,
            limits,
            view: soloView(nodeId, node.shardCount),
            breaker: new NodeBreaker({
              maxInFlightPerNode: config.network.cluster.max_in_flight_per_node,
            }),
            movePageDocs: config.network.cluster.move_page_docs,
            moveBytesPerSec: config.network.cluster.move_bytes_per_sec,
            replicationFactor: config.network.cluster.replication_factor,
            writeQuorum: config.network.cluster.write_quorum,
            readQuorum: config.network.cluster.read_quorum,
            antiEntropyIntervalMs: config.network.cluster.anti_entropy_interval_ms,
            ...(rebuilding === undefined ? {} : { rebuilding }),
            tombstoneCollectIntervalMs: config.storage.tombstone_collect_interval_ms,
            ...(hints === undefined ? {} : { hints }),
            ...(indexDrops === undefined ? {} : { indexDrops }),
          },
        ),
    }),
  });
  let cluster: StartedCluster | undefined;
  const health = async (): Promise<Health> => {
    const base: Health = {
      status: "green",
      node_id: nodeId,
      node_name: nodeName,
      cluster_name: clusterConfig.cluster_name,
      cluster_enabled: wiring !== undefined,
      total_nodes: 1,
      connected_nodes: 1,
      active_shards: orchestrator.shardCount,
      total_indexes: orchestrator.indexCount,
    };
    if (cluster === undefined) return base;
    const view = await cluster.health();
    // Cluster-only fields (joining, why not joined), beyond the shape the handler declares.
    const membership = {
      joining: view.joining,
      ...(view.problem === undefined ? {} : { problem: view.problem }),
    };
    return {
      ...base,
      ...membership,
      // Yellow while this node rebuilds slots it lost with its disk: a replica short.
      status: view.status === "green" && (clusterExecutor?.rebuilding.count ?? 0) > 0
        ? "yellow"
        : view.status,
      total_nodes: view.total_nodes,
      connected_nodes: view.connected_nodes,
      nodes: view.nodes,
      snapshot: view.snapshot,
      rebalancing: view.rebalancing,
      telemetry: view.telemetry,
      ...(clusterExecutor === undefined
        ? {}
        : { anti_entropy: clusterExecutor.antiEntropy.status() }),
    };
  };
  const metrics = new HttpMetrics();
  const authMetrics = new AuthMetrics();
  const server = await startServer(
    withLimits(
      // Cluster: data requests wait (503) until this node has joined (cluster/joining_gate.ts).
      metrics.wrap(joiningGate(
        createHandler({
          health,
          database,
          nodeId,
          ...(wiring === undefined ? {} : { cluster: clusterAdmin(() => cluster) }),
          metrics: async () =>
            metrics.render([
              ...authMetrics.samples(),
              ...await nodeSamples(
                database,
                cluster === undefined ? undefined : () => cluster!.health(),
              ),
              {
                name: "cameodb_tombstones_collected_total",
                help: "Tombstones collected by this node's shards since they opened.",
                type: "counter",
                value: await orchestrator.tombstonesCollected(),
              },
            ]),
        }, {
          log: (error) => log.error("request failed:", error),
          security: {
            masterKey: config.security.master_key,
            keys: http.keys,
            allowedHosts: config.network.http.allowed_hosts,
            metrics: authMetrics,
            log: (line) => log.warn(line),
          },
          maxBodyBytes: config.network.http.max_body_size_mb * 1024 * 1024,
          batchSize: config.storage.default_batch_size,
          maxLineBytes: config.network.http.max_line_size_mb * 1024 * 1024,
        }),
        () => wiring?.joining ?? false,
      )),
      {
        maxConcurrentRequests: config.network.http.max_concurrent_requests,
        requestTimeoutMs: config.network.http.request_timeout_secs * 1000,
        corsAllowedOrigins: config.network.http.cors_allowed_origins,
        ...httpLimits(config.network.http),
      },
    ),
    {
      hostname: config.network.http.bind_address,
      port,
      ...(http.tls === undefined ? {} : { tls: http.tls }),
      limits: connectionLimits(config.network.http),
    },
  ).catch(async (error: Error) => {
    // One line for the operator (which port, what to do; an unreadable certificate) instead
    // of a stack trace.
    const message = listenMessage(config.network.http.bind_address, port, error) ??
      `cannot serve HTTP: ${error.message}`;
    await system.shutdown();
    throw new StartupError(message);
  });
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) Deno.exit(130);
    log.info("shutting down: finishing in-flight requests (a second signal exits at once)");
    server.shutdown();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  if (wiring !== undefined) {
    const executor = clusterExecutor!;
    keySync.send = (change) => {
      executor.spread({ type: "applyKeys", change }).then((gathered) => {
        for (const { node, error } of gathered.failed) {
          log.warn(
            `node ${node} missed an API key change (it gets all keys when it returns): ${error.message}`,
          );
        }
      });
    };
    executor.onMemberConnected = (node) => {
      executor.sendTo(node, { type: "applyKeySnapshot", snapshot: http.keys.snapshot() })
        .catch((error) => log.warn(`cannot send the API keys to node ${node}: ${error.message}`));
    };
    // Copies of slots this node holds without owning them (a move that did not finish, or a
    // copy moved away and not dropped before a restart): left out of searches it is not given.
    await executor.noteHeldSlots();
    cluster = await startCluster(system, orchestrator, executor, wiring, {
      keys: http.keys,
      ...(indexDrops === undefined ? {} : { indexDrops }),
      nodeId,
      nodeName,
      zone: config.node.zone,
      clusterName: clusterConfig.cluster_name,
      dataDir,
      host: clusterConfig.bind_address,
      port: clusterConfig.port,
      seeds: clusterConfig.seed_nodes,
      psk: clusterConfig.psk,
      http: `${server.scheme}://${server.hostname}:${server.port}`,
      bootCheckAfterMs: config.search.broadcast_timeout_secs * 1000,
      heartbeatIntervalMs: clusterConfig.heartbeat_interval_ms,
      suspectAfterMs: clusterConfig.suspect_after_ms,
      downAfterMs: clusterConfig.down_after_ms,
      maxSlotsMoving: clusterConfig.max_slots_moving,
      replicationFactor: clusterConfig.replication_factor,
      // A request routed by the old table has been answered or has failed by then.
      dropGraceMs: config.search.broadcast_timeout_secs * 1000,
      log: {
        info: (message) => log.info(message),
        warn: (message) => log.warn(message),
        error: (message) => log.error(message),
      },
    });
    // Replicas compare their slots from now on (with replication_factor > 1).
    executor.antiEntropy.start();
    console.log(
      `cluster "${clusterConfig.cluster_name}": peer ${cluster.info.peerId} on ${
        cluster.info.addrs.join(" ")
      }`,
    );
  }
  // Signals are handled before the banner says we listen. The banner goes to stdout
  // (scripts and tests read the address from it); logs go to stderr.
  console.log(
    `CameoDB ${VERSION} listening on ${server.scheme}://${server.hostname}:${server.port} ` +
      `(node ${nodeName}, id ${nodeId}, data ${dataDir}, ${orchestrator.shardCount} shards, ` +
      `${orchestrator.indexCount} indexes, config ${loaded.file ?? "defaults"})`,
  );
  // Secrets are never logged.
  const hidden = (secret: string) => secret === "" ? "" : "(set)";
  log.debug("configuration", {
    ...config,
    network: {
      ...config.network,
      cluster: { ...config.network.cluster, psk: hidden(config.network.cluster.psk) },
    },
    security: { master_key: hidden(config.security.master_key) },
  });
  await server.finished;
  // No anti-entropy round against a node that is stopping.
  clusterExecutor?.antiEntropy.stop();
  if (cluster !== undefined) {
    log.info("HTTP closed; leaving the cluster");
    await cluster.stop();
  }
  log.info("HTTP closed; stopping the microshards");
  await system.shutdown();
  dataLock.release();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  console.log("CameoDB stopped");
  return 0;
}

/**
 * The HTTP start-up checks: a non-loopback bind needs a master key; the TLS files are read; the
 * key store is opened. A string is the one line to print before exiting with status 2.
 */
async function httpSecurity(
  config: Config,
  dataDir: string,
  onKeyChange: (change: KeyChange) => void,
): Promise<{ keys: KeyStore; tls?: { cert: string; key: string } } | string> {
  const http = config.network.http;
  const exposed = exposureProblem(http.bind_address, config.security.master_key);
  if (exposed !== undefined) return exposed;
  let tls: { cert: string; key: string } | undefined;
  if (http.tls_cert_file !== "") {
    try {
      tls = {
        cert: await Deno.readTextFile(http.tls_cert_file),
        key: await Deno.readTextFile(http.tls_key_file),
      };
    } catch (error) {
      return `cannot read the TLS certificate or key: ${(error as Error).message}`;
    }
  }
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    const keys = await KeyStore.open(dataDir, { onChange: onKeyChange });
    return tls === undefined ? { keys } : { keys, tls };
  } catch (error) {
    return `cannot open the API keys in ${dataDir}: ${(error as Error).message}`;
  }
}

async function client(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      connect: { type: "string", default: "http://127.0.0.1:9480" },
      interactive: { type: "boolean", short: "i" },
      yes: { type: "boolean" },
      "batch-size": { type: "string" },
      id: { type: "string" },
      "api-key": { type: "string" },
      "ca-file": { type: "string" },
      actions: { type: "string" },
      indexes: { type: "string" },
      description: { type: "string" },
      "expires-at": { type: "string" },
    },
  });
  const connection = await clientConnection(values["api-key"], values["ca-file"]);
  if (typeof connection === "string") {
    console.error(`cameodb: ${connection}`);
    return 2;
  }
  if (values.interactive === true || positionals.length === 0) {
    return await repl(values.connect, connection);
  }
  const words = [...positionals];
  if (values.yes === true) words.push("--yes");
  for (const flag of ["batch-size", "id", "actions", "indexes", "description", "expires-at"]) {
    const value = values[flag as keyof typeof values];
    if (typeof value === "string") words.push(`--${flag}`, value);
  }
  const encoder = new TextEncoder();
  const result = await runCommand(words, values.connect, {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    confirm: async (question) => {
      Deno.stdout.writeSync(encoder.encode(question));
      const answer = await stdinLines().next();
      return !answer.done && /^y(es)?$/i.test(answer.value.trim());
    },
    progress: (done, total, rate) => {
      if (Deno.stderr.isTerminal()) {
        Deno.stderr.writeSync(
          encoder.encode(`\r${progressBar(done, total, rate)}${done === total ? "\n" : ""}`),
        );
      }
    },
  }, connection);
  return result.code;
}

/** The client's key (`--api-key`, else `CAMEODB_API_KEY`) and CA file; a string is a problem. */
async function clientConnection(
  apiKey: string | undefined,
  caFile: string | undefined,
): Promise<Connection | string> {
  const key = apiKey ?? Deno.env.get("CAMEODB_API_KEY");
  let httpClient: Deno.HttpClient | undefined;
  if (caFile !== undefined) {
    try {
      httpClient = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
    } catch (error) {
      return `cannot use the CA file ${caFile}: ${(error as Error).message}`;
    }
  }
  return {
    ...(key === undefined || key === "" ? {} : { apiKey: key }),
    ...(httpClient === undefined ? {} : { httpClient }),
  };
}

async function checkConfig(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: "string", short: "c" } } });
  try {
    const { config, file } = await loadConfig(
      values.config === undefined ? {} : { flags: { config: values.config } },
    );
    const exposed = exposureProblem(config.network.http.bind_address, config.security.master_key);
    if (exposed !== undefined) {
      console.error(`${file ?? "configuration"}: ${exposed}`);
      return 1;
    }
    const noKey = missingPskProblem(config);
    if (noKey !== undefined) {
      console.error(noKey);
      return 1;
    }
    console.log(`configuration ok (${file ?? "no file found: defaults"})`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
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
      case "generate-config":
        console.log(generateConfig().trimEnd());
        return 0;
      case "check-config":
        return await checkConfig(rest);
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
    if (error instanceof StartupError) {
      console.error(`cameodb: ${error.message}`);
      return 2;
    }
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
