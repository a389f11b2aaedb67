import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { applyToml, ConfigError, defaultConfig, loadConfig, missingPskProblem } from "./config.ts";
import { generateConfig } from "./generate.ts";

Deno.test("config: defaults without a file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { config, file } = await loadConfig({ cwd: dir, env: {} });
    assert.equal(file, undefined);
    assert.equal(config.network.http.port, 9480);
    assert.equal(config.network.http.bind_address, "127.0.0.1");
    assert.deepEqual(config.storage.data_paths, ["./data/cameodb"]);
    assert.equal(config.search.default_search_limit, 10);
    // Each slot on three nodes (fewer while the cluster has fewer), a majority acknowledges.
    assert.equal(config.network.cluster.replication_factor, 3);
    assert.equal(config.network.cluster.write_quorum, 0);
    assert.equal(config.network.cluster.read_quorum, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: file, then environment, then flags; lookup order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/config`);
    await Deno.writeTextFile(`${dir}/config/cameodb.toml`, "[network.http]\nport = 9600\n");
    assert.equal((await loadConfig({ cwd: dir, env: {} })).config.network.http.port, 9600);
    await Deno.writeTextFile(
      `${dir}/cameodb.toml`,
      '[network.http]\nport = 9500\ncors_allowed_origins = ["*"]\n[storage]\nnum_shards_init = 8\n',
    );
    const fromFile = await loadConfig({ cwd: dir, env: {} });
    assert.equal(fromFile.file, "./cameodb.toml");
    assert.equal(fromFile.config.network.http.port, 9500);
    assert.deepEqual(fromFile.config.network.http.cors_allowed_origins, ["*"]);
    const fromEnv = await loadConfig({
      cwd: dir,
      env: { CAMEODB_NETWORK_HTTP_PORT: "9481", CAMEODB_STORAGE_WAL_SYNC: "batch" },
    });
    assert.equal(fromEnv.config.network.http.port, 9481);
    assert.equal(fromEnv.config.storage.wal_sync, "batch");
    const fromFlags = await loadConfig({
      cwd: dir,
      env: { CAMEODB_NETWORK_HTTP_PORT: "9481" },
      flags: {
        httpPort: "9482",
        dataDir: "/tmp/x",
        seedNodes: "/ip4/127.0.0.1/tcp/9580,/ip4/127.0.0.1/tcp/9581",
      },
    });
    assert.equal(fromFlags.config.network.http.port, 9482);
    assert.deepEqual(fromFlags.config.storage.data_paths, ["/tmp/x"]);
    assert.equal(fromFlags.config.network.cluster.seed_nodes.length, 2);
    assert.equal(fromFlags.config.storage.num_shards_init, 8);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: unknown keys and bad values are reported with their line", () => {
  const text = [
    "[network.http]",
    "port = 70000",
    'request_timeout_secs = "soon"',
    "",
    "[storage]",
    "num_shard = 4",
    "wal_sync = true",
    "[nosuch]",
    "x = 1",
  ].join("\n");
  const problems = applyToml(defaultConfig(), text, "cameodb.toml");
  assert.deepEqual(problems.map((p) => [p.line, p.message]), [
    [2, "network.http.port must be between 0 and 65535, got 70000"],
    [3, 'network.http.request_timeout_secs expects an integer, got "soon"'],
    [6, 'unknown key "storage.num_shard"'],
    [7, "storage.wal_sync expects a string, got true"],
    [8, 'unknown key "nosuch"'],
  ]);
  const choice = applyToml(defaultConfig(), '[storage]\nwal_sync = "never"\n', "x.toml");
  assert.deepEqual(choice.map((p) => [p.line, p.message]), [
    [2, 'storage.wal_sync expects one of always, batch, got "never"'],
  ]);
  const syntax = applyToml(defaultConfig(), "[network.http]\nport = \n", "x.toml");
  assert.equal(syntax[0]?.line, 2);
});

Deno.test("config: bad environment values and a missing --config file are errors", async () => {
  await assert.rejects(
    loadConfig({ env: { CAMEODB_NETWORK_HTTP_PORT: "nine" } }),
    (error: ConfigError) =>
      /CAMEODB_NETWORK_HTTP_PORT: network.http.port expects an integer/.test(error.message),
  );
  await assert.rejects(
    loadConfig({ env: {}, flags: { config: "/nonexistent/cameodb.toml" } }),
    ConfigError,
  );
});

Deno.test("config: the generated file parses back to the defaults", () => {
  const text = generateConfig();
  assert.match(
    text,
    /# HTTP port \(0 picks a free one\) \(0..65535\); env CAMEODB_NETWORK_HTTP_PORT\nport = 9480/,
  );
  parse(text);
  const config = defaultConfig();
  assert.deepEqual(applyToml(config, text, "generated"), []);
  assert.deepEqual(config, defaultConfig());
});

Deno.test("config: a cluster key under 16 characters is refused; --cluster without one is named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      loadConfig({ cwd: dir, env: { CAMEODB_NETWORK_CLUSTER_PSK: "short-key" } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /network\.cluster\.psk is 9 characters; it needs at least 16/);
        return true;
      },
    );
    const { config } = await loadConfig({ cwd: dir, env: {}, flags: { cluster: true } });
    assert.match(String(missingPskProblem(config)), /set network\.cluster\.psk in cameodb\.toml/);
    const keyed = await loadConfig({
      cwd: dir,
      env: { CAMEODB_NETWORK_CLUSTER_PSK: "a-key-of-sixteen+" },
      flags: { cluster: true },
    });
    assert.equal(missingPskProblem(keyed.config), undefined);
    assert.equal(missingPskProblem(defaultConfig()), undefined, "no cluster, no key needed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: the failure detector's thresholds must be in order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      loadConfig({
        cwd: dir,
        env: {
          CAMEODB_NETWORK_CLUSTER_SUSPECT_AFTER_MS: "3000",
          CAMEODB_NETWORK_CLUSTER_DOWN_AFTER_MS: "1000",
        },
      }),
      /down_after_ms must not be below suspect_after_ms/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
