/**
 * Loading the configuration: defaults, then the first `cameodb.toml` found (`--config
 * FILE`, `./cameodb.toml`, `./config/cameodb.toml`, `/etc/cameodb/config.toml`), then
 * `CAMEODB_<SECTION>_<KEY>` environment variables, then command-line flags. Every value is
 * checked against the settings table; a problem names its source and, in a file, its line.
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { envName, findSetting, type Setting, settingName, SETTINGS } from "./settings.ts";

/** The configuration, with the sections and keys of `cameodb.toml`. */
export interface Config {
  node: { label: string; zone: string };
  network: {
    http: {
      bind_address: string;
      port: number;
      request_timeout_secs: number;
      max_body_size_mb: number;
      max_concurrent_requests: number;
      reserved_concurrent_requests: number;
      max_requests_per_client: number;
      max_connections_per_client: number;
      max_connections: number;
      header_timeout_secs: number;
      body_idle_timeout_secs: number;
      max_concurrent_bodies: number;
      max_line_size_mb: number;
      cors_allowed_origins: string[];
      allowed_hosts: string[];
      tls_cert_file: string;
      tls_key_file: string;
    };
    cluster: {
      enabled: boolean;
      bind_address: string;
      port: number;
      cluster_name: string;
      seed_nodes: string[];
      psk: string;
      heartbeat_interval_ms: number;
      suspect_after_ms: number;
      down_after_ms: number;
      remote_timeout_ms: number;
      max_in_flight_per_node: number;
      max_slots_moving: number;
      replication_factor: number;
      write_quorum: number;
      read_quorum: number;
      anti_entropy_interval_ms: number;
      move_page_docs: number;
      move_bytes_per_sec: number;
    };
  };
  storage: {
    data_paths: string[];
    wal_sync: "always" | "batch";
    wal_batch_window_ms: number;
    default_batch_size: number;
    num_shards_init: number;
    point_reads: "main" | "workers" | "shards";
    reader_workers: number;
    shard_worker_niceness: number;
    max_shards_per_node: number;
    tombstone_grace_ms: number;
    tombstone_collect_interval_ms: number;
  };
  search: {
    indexer_memory_min_mb: number;
    indexer_memory_max_mb: number;
    total_memory_limit_mb: number;
    search_threads: number;
    default_search_limit: number;
    max_search_limit: number;
    broadcast_timeout_secs: number;
    remote_retry_attempts: number;
    broadcast_fanout_limit: number;
  };
  security: { master_key: string };
}

/** One problem with a configuration. */
export interface ConfigProblem {
  /** Where: a file path, `environment` or `flags`. */
  readonly source: string;
  /** The 1-based line in a file, when known. */
  readonly line?: number;
  readonly message: string;
}

/** A configuration that cannot be used; lists every problem. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.problems = problems;
  }
}

/** `file:12: message`, `environment: message`. */
export function formatProblem(problem: ConfigProblem): string {
  return `${problem.source}${
    problem.line === undefined ? "" : `:${problem.line}`
  }: ${problem.message}`;
}

/** The default configuration. */
export function defaultConfig(): Config {
  const config: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = Array.isArray(setting.default) ? [...setting.default] : setting.default;
    setAt(config, setting.path, value);
  }
  return config as unknown as Config;
}

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    node = (node[part] ??= {}) as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/** Checks a value for a setting (`fromText`: an environment string to convert). */
export function checkValue(
  setting: Setting,
  value: unknown,
  fromText = false,
): { value: unknown } | { error: string } {
  const name = settingName(setting);
  let v = value;
  if (fromText && typeof value === "string") {
    if (setting.type === "integer") v = /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (setting.type === "boolean") v = value === "true" ? true : value === "false" ? false : value;
    if (setting.type === "string[]") {
      v = value.split(",").map((item) => item.trim()).filter((item) => item !== "");
    }
  }
  switch (setting.type) {
    case "string":
      if (typeof v !== "string") {
        return { error: `${name} expects a string, got ${JSON.stringify(v)}` };
      }
      return setting.choices === undefined || setting.choices.includes(v) ? { value: v } : {
        error: `${name} expects one of ${setting.choices.join(", ")}, got ${JSON.stringify(v)}`,
      };
    case "boolean":
      return typeof v === "boolean"
        ? { value: v }
        : { error: `${name} expects true or false, got ${JSON.stringify(v)}` };
    case "string[]":
      return Array.isArray(v) && v.every((item) => typeof item === "string")
        ? { value: [...v] }
        : { error: `${name} expects a list of strings, got ${JSON.stringify(v)}` };
    case "integer": {
      if (typeof v !== "number" || !Number.isInteger(v)) {
        return { error: `${name} expects an integer, got ${JSON.stringify(v)}` };
      }
      if (
        (setting.min !== undefined && v < setting.min) ||
        (setting.max !== undefined && v > setting.max)
      ) {
        return { error: `${name} must be between ${setting.min} and ${setting.max}, got ${v}` };
      }
      return { value: v };
    }
  }
}

/** The 1-based line of `key` inside the table `[section]` of a TOML text, when found. */
function lineOf(text: string, path: readonly string[]): number | undefined {
  const lines = text.split("\n");
  let section = "";
  const wantedSection = path.slice(0, -1).join(".");
  const key = path.at(-1)!;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const header = line.match(/^\[([^\]]+)\]/);
    if (header !== null) {
      section = header[1]!.trim();
      if (path.length === 1 && section === key) return i + 1;
      continue;
    }
    const assignment = line.match(/^([A-Za-z0-9_-]+)\s*=/);
    if (assignment !== null && assignment[1] === key && section === wantedSection) return i + 1;
  }
  return undefined;
}

/** Applies a TOML text over `config`; returns the problems found (unknown keys, bad values). */
export function applyToml(config: Config, text: string, source: string): ConfigProblem[] {
  let parsed: Record<string, unknown>;
  try {
    parsed = parse(text) as Record<string, unknown>;
  } catch (error) {
    const line = error instanceof TomlError ? error.line : undefined;
    const message = (error as Error).message.split("\n")[0]!;
    return [{ source, ...(line === undefined ? {} : { line }), message }];
  }
  const problems: ConfigProblem[] = [];
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      const here = [...path, key];
      const setting = findSetting(here);
      const line = lineOf(text, here);
      const at = { source, ...(line === undefined ? {} : { line }) };
      if (setting !== undefined) {
        const checked = checkValue(setting, value);
        if ("error" in checked) problems.push({ ...at, message: checked.error });
        else setAt(config as unknown as Record<string, unknown>, here, checked.value);
        continue;
      }
      const isSection = SETTINGS.some((s) =>
        here.every((part, i) => s.path[i] === part) && s.path.length > here.length
      );
      if (isSection && typeof value === "object" && value !== null && !Array.isArray(value)) {
        walk(value as Record<string, unknown>, here);
      } else {
        problems.push({ ...at, message: `unknown key "${here.join(".")}"` });
      }
    }
  };
  walk(parsed, []);
  return problems;
}

/** Applies `CAMEODB_<SECTION>_<KEY>` variables; returns problems. */
export function applyEnv(config: Config, env: Record<string, string | undefined>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const setting of SETTINGS) {
    const text = env[envName(setting)];
    if (text === undefined) continue;
    const checked = checkValue(setting, text, true);
    if ("error" in checked) {
      problems.push({ source: "environment", message: `${envName(setting)}: ${checked.error}` });
    } else setAt(config as unknown as Record<string, unknown>, setting.path, checked.value);
  }
  return problems;
}

/** Command-line flags that set configuration values. */
export interface ConfigFlags {
  readonly config?: string;
  readonly httpPort?: string;
  readonly httpHost?: string;
  readonly dataDir?: string;
  readonly nodeLabel?: string;
  readonly cluster?: boolean;
  readonly clusterPort?: string;
  readonly seedNodes?: string;
}

/** Applies flags; returns problems. */
export function applyFlags(config: Config, flags: ConfigFlags): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const set = (path: string[], text: string, flag: string) => {
    const checked = checkValue(findSetting(path)!, text, true);
    if ("error" in checked) {
      problems.push({ source: "flags", message: `${flag}: ${checked.error}` });
    } else setAt(config as unknown as Record<string, unknown>, path, checked.value);
  };
  if (flags.httpPort !== undefined) set(["network", "http", "port"], flags.httpPort, "--http-port");
  if (flags.httpHost !== undefined) {
    set(["network", "http", "bind_address"], flags.httpHost, "--http-host");
  }
  if (flags.dataDir !== undefined) set(["storage", "data_paths"], flags.dataDir, "--data-dir");
  if (flags.nodeLabel !== undefined) set(["node", "label"], flags.nodeLabel, "--node-label");
  if (flags.cluster === true) config.network.cluster.enabled = true;
  if (flags.clusterPort !== undefined) {
    set(["network", "cluster", "port"], flags.clusterPort, "--cluster-port");
  }
  if (flags.seedNodes !== undefined) {
    set(["network", "cluster", "seed_nodes"], flags.seedNodes, "--seed-nodes");
  }
  return problems;
}

/** Where a configuration file is looked for, in order, when `--config` is not given. */
export const CONFIG_LOOKUP = [
  "./cameodb.toml",
  "./config/cameodb.toml",
  "/etc/cameodb/config.toml",
];

/** The loaded configuration and the file it came from (if any). */
export interface LoadedConfig {
  readonly config: Config;
  readonly file: string | undefined;
}

/** Shortest pre-shared key accepted, in characters. */
export const MIN_PSK_CHARS = 16;

/** The cluster settings' own checks: the key's length, the failure detector's order. */
function clusterProblems(config: Config, source: string): ConfigProblem[] {
  const cluster = config.network.cluster;
  const problems: ConfigProblem[] = [];
  if (cluster.psk !== "" && cluster.psk.length < MIN_PSK_CHARS) {
    problems.push({
      source,
      message: `network.cluster.psk is ${cluster.psk.length} characters; it needs at least ` +
        `${MIN_PSK_CHARS} (e.g. the output of \`openssl rand -hex 24\`)`,
    });
  }
  if (cluster.suspect_after_ms <= cluster.heartbeat_interval_ms) {
    problems.push({
      source,
      message: "network.cluster.suspect_after_ms must be above heartbeat_interval_ms",
    });
  }
  if (cluster.down_after_ms < cluster.suspect_after_ms) {
    problems.push({
      source,
      message: "network.cluster.down_after_ms must not be below suspect_after_ms",
    });
  }
  return problems;
}

/** The one-line refusal of `--cluster` without a key, or `undefined` when there is one. */
export function missingPskProblem(config: Config): string | undefined {
  const cluster = config.network.cluster;
  if (!cluster.enabled || cluster.psk !== "") return undefined;
  return "the cluster needs a pre-shared key: set network.cluster.psk in cameodb.toml or " +
    `CAMEODB_NETWORK_CLUSTER_PSK (at least ${MIN_PSK_CHARS} characters, the same on every node)`;
}

/**
 * Loads the configuration: defaults, file, environment, flags. Throws `ConfigError`
 * listing every problem. A `--config` file that does not exist is a problem.
 */
export async function loadConfig(
  options: { flags?: ConfigFlags; env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<LoadedConfig> {
  const flags = options.flags ?? {};
  const cwd = options.cwd ?? Deno.cwd();
  const config = defaultConfig();
  const problems: ConfigProblem[] = [];
  let file: string | undefined;
  const candidates = flags.config !== undefined ? [flags.config] : CONFIG_LOOKUP;
  for (const candidate of candidates) {
    const path = candidate.startsWith("/") ? candidate : `${cwd}/${candidate}`;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && flags.config === undefined) continue;
      problems.push({
        source: candidate,
        message: `cannot read the configuration: ${(error as Error).message}`,
      });
      break;
    }
    file = candidate;
    problems.push(...applyToml(config, text, candidate));
    break;
  }
  problems.push(...applyEnv(config, options.env ?? Deno.env.toObject()));
  problems.push(...applyFlags(config, flags));
  if (config.search.default_search_limit > config.search.max_search_limit) {
    problems.push({
      source: file ?? "configuration",
      message: "search.default_search_limit is above search.max_search_limit",
    });
  }
  problems.push(...clusterProblems(config, file ?? "configuration"));
  if (config.storage.data_paths.length === 0) {
    problems.push({
      source: file ?? "configuration",
      message: "storage.data_paths needs at least one directory",
    });
  }
  problems.push(...securityProblems(config, file));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, file };
}

/** Shortest master key, in bytes (UTF-8). */
export const MIN_MASTER_KEY_BYTES = 16;

/** The security settings' own checks: the master key's length, TLS files given in pairs. */
function securityProblems(config: Config, file: string | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const source = file ?? "configuration";
  const keyBytes = new TextEncoder().encode(config.security.master_key).length;
  if (keyBytes > 0 && keyBytes < MIN_MASTER_KEY_BYTES) {
    problems.push({
      source,
      message: `security.master_key must be at least ${MIN_MASTER_KEY_BYTES} bytes, got ` +
        `${keyBytes} (e.g. openssl rand -base64 32)`,
    });
  }
  const { tls_cert_file: cert, tls_key_file: key } = config.network.http;
  if ((cert === "") !== (key === "")) {
    problems.push({
      source,
      message: "network.http.tls_cert_file and network.http.tls_key_file go together",
    });
  }
  return problems;
}
