import assert from "node:assert/strict";
import { INTERRUPTED, Mailbox, MailboxClosedError } from "./mailbox.ts";

Deno.test("mailbox: offer() refuses past capacity and take() returns items in order", async () => {
  const mailbox = new Mailbox<number>(2);
  assert.equal(mailbox.offer(1), true);
  assert.equal(mailbox.offer(2), true);
  assert.equal(mailbox.offer(3), false);
  assert.equal(await mailbox.take(), 1);
  assert.equal(mailbox.offer(3), true);
  assert.equal(await mailbox.take(), 2);
  assert.equal(await mailbox.take(), 3);
  assert.equal(mailbox.size, 0);
});

Deno.test("mailbox: put() waits for room in FIFO order and offer() does not overtake it", async () => {
  const mailbox = new Mailbox<string>(1);
  mailbox.offer("a");
  const order: string[] = [];
  const b = mailbox.put("b").then(() => order.push("b"));
  const c = mailbox.put("c").then(() => order.push("c"));
  assert.equal(mailbox.offer("d"), false, "offer() overtook waiting put()s");
  assert.equal(await mailbox.take(), "a");
  assert.equal(await mailbox.take(), "b");
  assert.equal(await mailbox.take(), "c");
  await Promise.all([b, c]);
  assert.deepEqual(order, ["b", "c"]);
});

Deno.test("mailbox: put() rejects with the abort reason when its signal aborts", async () => {
  const mailbox = new Mailbox<number>(1);
  mailbox.offer(1);
  const abort = new AbortController();
  const waiting = mailbox.put(2, abort.signal);
  abort.abort(new Error("gave up"));
  await assert.rejects(waiting, /gave up/);
  assert.equal(await mailbox.take(), 1);
  assert.equal(mailbox.size, 0, "the aborted item was delivered");
});

Deno.test("mailbox: takeWhile() takes the accepted run at the head only", () => {
  const mailbox = new Mailbox<number>(10);
  for (const n of [2, 4, 5, 6]) mailbox.offer(n);
  assert.deepEqual(mailbox.takeWhile((n) => n % 2 === 0, 10), [2, 4]);
  assert.deepEqual(mailbox.takeWhile((n) => n % 2 === 0, 10), []);
  assert.equal(mailbox.size, 2);
  assert.deepEqual(mailbox.takeWhile(() => true, 1), [5]);
});

Deno.test("mailbox: close() returns what was queued, rejects waiters, interrupts take()", async () => {
  const mailbox = new Mailbox<number>(1);
  mailbox.offer(1);
  const waiting = mailbox.put(2);
  assert.deepEqual(mailbox.close(), [1]);
  await assert.rejects(waiting, MailboxClosedError);
  assert.equal(await mailbox.take(), INTERRUPTED);
  assert.throws(() => mailbox.offer(3), MailboxClosedError);
});

Deno.test("mailbox: a capacity below 1 is refused", () => {
  assert.throws(() => new Mailbox(0), RangeError);
});
