/**
 * Runs a known-item task on Lucene 8 (Debian `liblucene8-java`, through `lucene/KnownItem.java`,
 * compiled here with the JDK's `javac`) and Xapian (Debian `python3-xapian`, through
 * `xapian_known_item.py`): the documents and queries go to them as files, already tokenized
 * by our tokenizer (so every system searches the same terms), and their answers come back
 * as the top 10 per query with its time.
 *
 * @module
 */

import { tokenize } from "../../storage/tokenizer.ts";
import type { RunResult } from "./metrics.ts";
import type { Task } from "./tasks.ts";

/** The jars the Lucene program needs (Debian's `liblucene8-java`). */
const LUCENE_JARS = [
  "/usr/share/java/lucene-core-8.7.0.jar",
  "/usr/share/java/lucene-analyzers-common-8.7.0.jar",
];
/** A Python with Debian's `python3-xapian`. */
const PYTHON = "/usr/bin/python3";

/** What an external run adds to the figures: its own load time. */
export interface ExternalRun extends RunResult {
  readonly loadMs: number;
}

/** Which external systems are installed (their Debian packages). */
export async function installedSystems(): Promise<{ lucene: boolean; xapian: boolean }> {
  const exists = async (path: string) => {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      return false;
    }
  };
  const java = await exists("/usr/bin/javac");
  const jars = (await Promise.all(LUCENE_JARS.map(exists))).every((found) => found);
  const xapian = await new Deno.Command(PYTHON, { args: ["-c", "import xapian"] }).output()
    .then((output) => output.success, () => false);
  return { lucene: java && jars, xapian };
}

/** Writes the task as the external programs read it: documents by line number. */
async function writeTask(task: Task, dir: string): Promise<void> {
  const docs = task.docs.map((doc, i) =>
    `${i}\t${tokenize(doc.title).join(" ")}\t${tokenize(doc.text).join(" ")}`
  );
  await Deno.writeTextFile(`${dir}/docs.tsv`, docs.join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/queries.txt`,
    task.queries.map((query) => query.words.join(" ")).join("\n") + "\n",
  );
}

/** Reads `load\t<ms>` and then per query `<ms>\t<line numbers>`, as ids. */
async function readResults(task: Task, path: string): Promise<ExternalRun> {
  const [load, ...lines] = (await Deno.readTextFile(path)).trimEnd().split("\n");
  const rankings: string[][] = [];
  const latenciesMs: number[] = [];
  for (const line of lines) {
    const [ms, ids = ""] = line.split("\t");
    latenciesMs.push(Number(ms));
    rankings.push(ids === "" ? [] : ids.split(" ").map((i) => task.docs[Number(i)]!.id));
  }
  if (rankings.length !== task.queries.length) {
    throw new Error(`${path}: ${rankings.length} answers for ${task.queries.length} queries`);
  }
  return { rankings, latenciesMs, loadMs: Number(load!.split("\t")[1]) };
}

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** Runs the task on an external system. */
export async function runExternal(task: Task, system: "lucene" | "xapian"): Promise<ExternalRun> {
  const dir = await Deno.makeTempDir({ prefix: `relevance-${system}-` });
  try {
    await writeTask(task, dir);
    const here = new URL(".", import.meta.url).pathname;
    if (system === "lucene") {
      const classpath = LUCENE_JARS.join(":");
      await run("javac", ["-cp", classpath, "-d", dir, `${here}lucene/KnownItem.java`]);
      await run("java", [
        "-cp",
        `${classpath}:${dir}`,
        "KnownItem",
        `${dir}/docs.tsv`,
        `${dir}/queries.txt`,
        `${dir}/results.tsv`,
      ]);
    } else {
      await run(PYTHON, [
        `${here}xapian_known_item.py`,
        `${dir}/docs.tsv`,
        `${dir}/queries.txt`,
        `${dir}/results.tsv`,
      ]);
    }
    return await readResults(task, `${dir}/results.tsv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
