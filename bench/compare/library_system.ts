/**
 * Lucene 8.7 and Xapian 1.4 as anchors: the search libraries themselves, each in a process of
 * its own (a JVM running `lucene/LuceneStore.java`, compiled here with the JDK's `javac`; a
 * CPython running `xapian_store.py`), driven over a pipe — no server, no HTTP, no network
 * stack: what the best library costs on this machine, against which a server's overhead
 * shows. Both keep their index in a directory on disk, commit every write batch (durable) and
 * make it searchable before answering, as CameoDB acknowledges a write.
 *
 * Documents and queries are tokenized by our tokenizer (`storage/tokenizer.ts`) and handed
 * over as space-separated terms, as in `bench:relevance`; searches read the `text` field, as
 * every system's do (`corpus.ts`). Ids travel as numbers the benchmark assigns.
 *
 * Requests carry an id and may be answered out of order (Lucene answers searches from a pool
 * of threads, one per core; Xapian answers in order), so many can be in flight at once.
 *
 * @module
 */

import { tokenize } from "../../storage/tokenizer.ts";
import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import { dirBytes, type DiskBytes, processRss, type System } from "./system.ts";

/** The jars Lucene needs (Debian's `liblucene8-java`). */
export const LUCENE_JARS = [
  "/usr/share/java/lucene-core-8.7.0.jar",
  "/usr/share/java/lucene-analyzers-common-8.7.0.jar",
];
/** A Python with Debian's `python3-xapian`. */
const PYTHON = "/usr/bin/python3";
/** What `python3-xapian` installs (its presence says the package is there). */
export const XAPIAN_MODULE = "/usr/lib/python3/dist-packages/xapian/__init__.py";
/** The JDK's compiler, for `lucene/LuceneStore.java`. */
export const JAVAC = "/usr/bin/javac";
const HERE = new URL(".", import.meta.url).pathname;

/** A line protocol over a child's standard input and output, answers matched by request id. */
class LineClient {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #waiting = new Map<number, PromiseWithResolvers<string>>();
  #next = 0;
  #sending: Promise<void> = Promise.resolve();

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#read();
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #read(): Promise<void> {
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        const tab = line.indexOf("\t");
        const waiting = this.#waiting.get(Number(line.slice(0, tab)));
        this.#waiting.delete(Number(line.slice(0, tab)));
        waiting?.resolve(line.slice(tab + 1));
      }
    }
    for (const waiting of this.#waiting.values()) waiting.reject(new Error("the library exited"));
  }

  /** Sends `op` (and `body` lines after it) and resolves with the answer's text. */
  ask(op: string, args: readonly (string | number)[], body = ""): Promise<string> {
    const id = this.#next++;
    const answer = Promise.withResolvers<string>();
    this.#waiting.set(id, answer);
    const text = [op, id, ...args].join("\t") + "\n" + body;
    this.#sending = this.#sending.then(() => this.#writer.write(new TextEncoder().encode(text)));
    return this.#sending.then(() => answer.promise).then((reply) => {
      if (reply.startsWith("error")) throw new Error(reply);
      return reply;
    });
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
  }
}

/** What a library process needs to start in `dir`. */
type Launch = (dir: string) => Promise<{ command: string; args: string[] }>;

/** A search library in a process of its own (see the module doc). */
class LibrarySystem implements System {
  readonly name: string;
  readonly how: string;
  readonly #launch: Launch;
  #dir = "";
  #client: LineClient | undefined;
  readonly #keys = new Map<string, number>();
  #ids: string[] = [];

  constructor(name: string, how: string, launch: Launch) {
    this.name = name;
    this.how = how;
    this.#launch = launch;
  }

  async start(): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: "compare-library-" });
    const { command, args } = await this.#launch(this.#dir);
    const child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#client = new LineClient(child);
  }

  #key(id: string): number {
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = this.#ids.length;
      this.#keys.set(id, key);
      this.#ids.push(id);
    }
    return key;
  }

  put(doc: CorpusDoc): Promise<void> {
    return this.bulk([doc]);
  }

  async bulk(docs: readonly CorpusDoc[]): Promise<void> {
    const lines = docs.map((doc) =>
      [
        this.#key(doc.id),
        Math.round(doc.doc.size),
        tokenize(doc.doc.title).join(" "),
        tokenize(doc.doc.text).join(" "),
        JSON.stringify(doc.doc),
      ].join("\t") + "\n"
    );
    await this.#client!.ask("B", [docs.length], lines.join(""));
  }

  async search(query: CompareQuery): Promise<string[]> {
    const range = query.range ?? { from: 0, to: 0 };
    const reply = await this.#client!.ask("S", [
      query.kind,
      range.from,
      range.to,
      query.terms.join(" "),
    ]);
    return reply === "" ? [] : reply.split(" ").map((key) => this.#ids[Number(key)]!);
  }

  async get(id: string): Promise<boolean> {
    const key = this.#keys.get(id);
    if (key === undefined) return false;
    return (await this.#client!.ask("G", [key])) === "1";
  }

  rssBytes(): Promise<number> {
    return processRss(this.#client!.pid);
  }

  diskBytes(): Promise<DiskBytes> {
    return dirBytes(`${this.#dir}/index`);
  }

  caveat(query: CompareQuery): string | undefined {
    return query.kind === "prefix" && this.name.startsWith("Lucene")
      ? "a prefix scores a constant (Lucene's rewrite)"
      : undefined;
  }

  async stop(): Promise<void> {
    await this.#client?.close();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`${command} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** Lucene 8.7 (FSDirectory, BM25, a commit and a searcher refresh per write batch). */
export class LuceneSystem extends LibrarySystem {
  constructor() {
    super(
      "Lucene 8.7 (library)",
      "Debian's liblucene8-java in a JVM of its own over a pipe: FSDirectory, BM25, " +
        "commit + searcher refresh per write batch, searches on one thread per core",
      async (dir) => {
        const classpath = LUCENE_JARS.join(":");
        await run(JAVAC, ["-cp", classpath, "-d", dir, `${HERE}lucene/LuceneStore.java`]);
        return {
          command: "java",
          args: ["-cp", `${classpath}:${dir}`, "LuceneStore", `${dir}/index`],
        };
      },
    );
  }
}

/** Xapian 1.4 (a disk database, BM25, a commit per write batch). */
export class XapianSystem extends LibrarySystem {
  constructor() {
    super(
      "Xapian 1.4 (library)",
      "Debian's python3-xapian in a CPython of its own over a pipe: a glass database on " +
        "disk, BM25, commit per write batch, one request at a time",
      (dir) =>
        Promise.resolve({ command: PYTHON, args: [`${HERE}xapian_store.py`, `${dir}/index`] }),
    );
  }
}
