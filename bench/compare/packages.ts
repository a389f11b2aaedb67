/**
 * The Debian packages both benchmarks (`bench:compare`, `bench:relevance`) read their data
 * from or run their library anchors with, installed with apt when missing (`apt.ts`), so a
 * fresh Debian machine runs them side by side without a manual step.
 *
 * @module
 */

import { ensureDebianPackage } from "./apt.ts";
import { gcideInstalled } from "./gcide.ts";
import { JAVAC, LUCENE_JARS, XAPIAN_MODULE } from "./library_system.ts";

/** Whether apt has package lists (`apt-get update` has run). */
async function aptListsPresent(): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir("/var/lib/apt/lists")) {
      if (entry.name.includes("_Packages")) return true;
    }
  } catch {
    // No directory: no lists.
  }
  return false;
}

/** Debian's package lists (the package catalogue) and the GCIDE dictionary. */
export async function ensureCorpusPackages(log: (line: string) => void): Promise<void> {
  if (!(await aptListsPresent())) {
    // A fresh machine has no package lists: the Debian catalogue is read from them.
    log("apt-get update (Debian's package lists are the package catalogue) …");
    const update = await new Deno.Command("apt-get", {
      args: ["update"],
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!update.success) throw new Error("apt-get update failed");
  }
  if (!(await gcideInstalled())) {
    log("installing dict-gcide (the GCIDE dictionary) with apt-get …");
    const apt = await new Deno.Command("apt-get", {
      args: ["install", "-y", "dict-gcide"],
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!apt.success) throw new Error("apt-get install dict-gcide failed");
  }
}

/** Lucene 8 (with a JDK to compile its runner) and Xapian's Python module, as chosen. */
export async function ensureLibraryPackages(
  chosen: { readonly lucene: boolean; readonly xapian: boolean },
  log: (line: string) => void,
): Promise<void> {
  if (chosen.lucene) {
    await ensureDebianPackage(JAVAC, ["default-jdk-headless"], log);
    for (const jar of LUCENE_JARS) await ensureDebianPackage(jar, ["liblucene8-java"], log);
  }
  if (chosen.xapian) await ensureDebianPackage(XAPIAN_MODULE, ["python3-xapian"], log);
}
