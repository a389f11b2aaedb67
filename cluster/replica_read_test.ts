import assert from "node:assert/strict";
import { encodeStamp, UNSTAMPED } from "../storage/hlc.ts";
import { slotOf } from "../storage/slot.ts";
import {
  answerFor,
  documentOf,
  firstAnswers,
  newestOf,
  parseStampedRead,
  repairOf,
  staleOf,
} from "./replica_read.ts";
import { MalformedFrameError } from "./errors.ts";
import { withDeadline } from "../testing/deadline.ts";

const stamp = (ms: number, tag: string) => encodeStamp({ ms, counter: 0, tag });
const put = (ms: number, n: number) => ({
  document: { id: "b1", version: n, doc: { n }, stamp: stamp(ms, "a") },
});
const grave = (ms: number) => ({ tombstone: { id: "b1", version: 3, stamp: stamp(ms, "b") } });

Deno.test("replica read: the newest stamp wins, a tombstone over an older document; the older answers are stale", () => {
  const answers = [
    { node: "n1", read: put(1_000, 1) },
    { node: "n2", read: grave(2_000) },
    { node: "n3", read: {} },
  ];
  const newest = newestOf(answers);
  assert.deepEqual(newest, grave(2_000));
  assert.equal(documentOf(newest), null);
  assert.deepEqual(staleOf(answers, newest).map((a) => a.node), ["n1", "n3"]);
  assert.deepEqual(repairOf("books", newest), {
    op: "delete",
    index: "books",
    id: "b1",
    stamp: stamp(2_000, "b"),
    version: 3,
  });
  const later = [...answers, { node: "n4", read: put(3_000, 4) }];
  assert.deepEqual(documentOf(newestOf(later)), { id: "b1", version: 4, doc: { n: 4 } });
  assert.deepEqual(repairOf("books", newestOf(later)), {
    op: "put",
    index: "books",
    id: "b1",
    doc: { n: 4 },
    stamp: stamp(3_000, "a"),
    version: 4,
  });
  // Nothing held: nothing to repair with.
  assert.equal(repairOf("books", {}), undefined);
});

Deno.test("firstAnswers: asks the first nodes at once, answers with the first `wanted`, hands later ones on", async () => {
  const gates = new Map<string, PromiseWithResolvers<string>>();
  const asked: string[] = [];
  const waits: Array<{ count: number; done: () => void }> = [];
  const askedReach = (count: number) =>
    withDeadline(
      new Promise<void>((done) => {
        if (asked.length >= count) done();
        else waits.push({ count, done });
      }),
      5_000,
      `${count} nodes asked`,
    );
  const ask = (node: string) => {
    asked.push(node);
    for (const wait of waits) if (asked.length >= wait.count) wait.done();
    const gate = Promise.withResolvers<string>();
    gates.set(node, gate);
    return gate.promise;
  };
  const late = Promise.withResolvers<{ node: string; value: string; answered: number }>();
  const answer = firstAnswers(
    { first: ["n1", "n2", "n3"], then: ["n4"] },
    2,
    ask,
    {
      // No speculation here: n4 must be asked only in place of the node that fails.
      speculativeMs: 0,
      onLate: (node, value, answers) => late.resolve({ node, value, answered: answers.length }),
    },
  );
  await askedReach(3);
  assert.deepEqual(asked, ["n1", "n2", "n3"]);
  gates.get("n2")!.resolve("two");
  gates.get("n1")!.reject(new Error("n1 is down"));
  // n1 failed: the next node is asked in its place.
  await askedReach(4);
  assert.deepEqual(asked, ["n1", "n2", "n3", "n4"]);
  gates.get("n3")!.resolve("three");
  assert.deepEqual(await answer, [{ node: "n2", value: "two" }, { node: "n3", value: "three" }]);
  gates.get("n4")!.resolve("four");
  assert.deepEqual(await late.promise, { node: "n4", value: "four", answered: 2 });
});

Deno.test("firstAnswers: fails with the last error when too few nodes can answer; a throwing onLate is ignored", async () => {
  await assert.rejects(
    firstAnswers(
      { first: ["n1"], then: ["n2"] },
      2,
      (node) => node === "n1" ? Promise.resolve(1) : Promise.reject(new Error(`${node} is down`)),
    ),
    /n2 is down/,
  );
  await assert.rejects(firstAnswers({ first: [], then: [] }, 1, () => Promise.resolve(1)));
  const third = Promise.withResolvers<number>();
  const got = await firstAnswers(
    { first: ["a", "b"], then: [] },
    1,
    (node) => node === "a" ? Promise.resolve(1) : third.promise,
    {
      onLate: () => {
        throw new Error("a bug in a repair");
      },
    },
  );
  assert.deepEqual(got, [{ node: "a", value: 1 }]);
  third.resolve(2);
  await third.promise;
});

Deno.test("firstAnswers: a replica that hangs is passed by the next after speculativeMs; its late answer is handed on", async () => {
  const hung = Promise.withResolvers<string>();
  const asked: string[] = [];
  const late = Promise.withResolvers<string>();
  const got = await firstAnswers(
    { first: ["a"], then: ["b", "c"] },
    1,
    (node) => {
      asked.push(node);
      return node === "a" ? hung.promise : Promise.resolve(node);
    },
    { speculativeMs: 5, onLate: (node, value) => late.resolve(`${node}=${value}`) },
  );
  assert.deepEqual(got, [{ node: "b", value: "b" }]);
  assert.deepEqual(asked, ["a", "b"], "c is not asked once b answered");
  hung.resolve("a");
  assert.equal(await late.promise, "a=a");
});

Deno.test("parseStampedRead: a peer's malformed answer is refused, a good one kept", () => {
  assert.deepEqual(parseStampedRead(put(1, 1)), put(1, 1));
  assert.deepEqual(parseStampedRead(grave(1)), grave(1));
  assert.deepEqual(parseStampedRead({}), {});
  const bad: unknown[] = [
    null,
    [],
    "x",
    { document: { id: "b1", version: 1, doc: "not a map" } },
    { document: { id: "", version: 1, doc: {} } },
    { document: { id: "b1", version: -1, doc: {} } },
    { document: { id: "b1", version: 1, doc: {}, stamp: "not a stamp" } },
    { document: { id: "b1", version: 1, doc: {}, routingKey: 7 } },
    { tombstone: { id: "b1", version: 1 } },
    { tombstone: { id: "b1", version: 1.5, stamp: stamp(1, "a") } },
  ];
  for (const value of bad) {
    assert.throws(() => parseStampedRead(value), MalformedFrameError, JSON.stringify(value));
  }
});

Deno.test("replica read: a document stored before stamps were is answered and repaired as UNSTAMPED, older than any stamped write", () => {
  const legacy = { document: { id: "b1", version: 1, doc: { n: 0 } } };
  assert.deepEqual(documentOf(newestOf([{ node: "n1", read: legacy }])), {
    id: "b1",
    version: 1,
    doc: { n: 0 },
  });
  const answers = [{ node: "n1", read: legacy }, { node: "n2", read: {} }];
  assert.deepEqual(staleOf(answers, newestOf(answers)).map((a) => a.node), ["n2"]);
  assert.equal(repairOf("books", legacy)?.stamp, UNSTAMPED);
  // Any stamped write beats it.
  assert.deepEqual(newestOf([...answers, { node: "n3", read: put(1, 2) }]), put(1, 2));
});

Deno.test("replica read: a peer's answer for another id, or another slot, is refused", () => {
  const asked = { index: "books", id: "b1" };
  assert.deepEqual(answerFor(asked, put(1, 1)), put(1, 1));
  assert.deepEqual(answerFor(asked, {}), {});
  const other = { document: { id: "b2", version: 1, doc: {}, stamp: stamp(1, "a") } };
  assert.throws(() => answerFor(asked, other), MalformedFrameError);
  // The same id placed by a routing key of another slot.
  const moved = {
    document: { id: "b1", version: 1, doc: {}, stamp: stamp(1, "a"), routingKey: "elsewhere" },
  };
  if (slotOf("elsewhere") !== slotOf("b1")) {
    assert.throws(() => answerFor(asked, moved), MalformedFrameError);
  }
  assert.deepEqual(answerFor({ ...asked, routingKey: "elsewhere" }, moved), moved);
});
