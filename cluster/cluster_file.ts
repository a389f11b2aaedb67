/**
 * `cluster.json` in the data directory: the members this node knew and their membership
 * records, read once at boot and rewritten (through a tmp file and a rename) on every change.
 *
 * @module
 */

import { type MemberRecord, parseRecords } from "./membership.ts";
import type { NodeInfo } from "./view.ts";

/** What `cluster.json` holds. */
export interface ClusterFile {
  cluster_name: string;
  members: NodeInfo[];
  /** The membership records (absent in files written before records existed). */
  records?: MemberRecord[];
}

const FILE = "cluster.json";

/** Reads the kept member list and records (none before the first write). */
export async function readClusterFile(
  dataDir: string,
): Promise<{ members: NodeInfo[]; records: MemberRecord[] }> {
  let file: ClusterFile;
  try {
    file = JSON.parse(await Deno.readTextFile(`${dataDir}/${FILE}`)) as ClusterFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { members: [], records: [] };
    throw error;
  }
  return { members: file.members ?? [], records: parseRecords(file.records) };
}

/** Replaces `cluster.json` at once (a crash leaves the old file or the new one). */
export async function writeClusterFile(dataDir: string, file: ClusterFile): Promise<void> {
  const path = `${dataDir}/${FILE}`;
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(file, null, 2));
  await Deno.rename(`${path}.tmp`, path);
}
