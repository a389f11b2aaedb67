/**
 * The node's identity: an id created once and kept in the data directory.
 *
 * @module
 */

/** Reads the node id from `dataDir/node_id`, creating the directory and id if needed. */
export async function loadNodeId(dataDir: string): Promise<string> {
  await Deno.mkdir(dataDir, { recursive: true });
  const path = `${dataDir}/node_id`;
  try {
    const id = (await Deno.readTextFile(path)).trim();
    if (id !== "") return id;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const id = crypto.randomUUID();
  // Write then rename so a crash never leaves a half-written id.
  await Deno.writeTextFile(`${path}.tmp`, `${id}\n`);
  await Deno.rename(`${path}.tmp`, path);
  return id;
}
