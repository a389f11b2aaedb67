/**
 * The coordinator's membership records (`membership.ts`): every member has a versioned
 * record, merged last-writer-wins from hellos and heartbeats; a node changes only its own.
 * A record that changed rebuilds the ring, is kept in `cluster.json`, publishes the view and
 * is pushed to every connected member at once.
 *
 * @module
 */

import type { CoordinatorState } from "./_coordinator_state.ts";
import { compareVersions, type MemberRecord, mergeRecords, ownRecord } from "./membership.ts";
import type { NodeInfo } from "./view.ts";

/** The membership records of one coordinator. */
export class MemberRecords {
  readonly #s: CoordinatorState;

  constructor(state: CoordinatorState) {
    this.#s = state;
  }

  /** Every record this node holds, to send to a member. */
  all(): MemberRecord[] {
    return [...this.#s.records.values()];
  }

  /** A peer that sends no records (an older version) is up, at the oldest version. */
  ensure(info: NodeInfo): void {
    if (this.#s.records.has(info.nodeId)) return;
    this.#s.records.set(info.nodeId, {
      nodeId: info.nodeId,
      peerId: info.peerId,
      addrs: info.addrs,
      state: "up",
      version: [0, info.nodeId],
    });
  }

  /**
   * Merges records a member sent over its own connection; when any changed, rebuilds the
   * ring, keeps the table and publishes the view. Returns whether any changed.
   */
  take(incoming: readonly MemberRecord[], sender: string): boolean {
    const s = this.#s;
    this.#outliveOwnRecord(incoming);
    const { changed, refused } = mergeRecords(s.records, incoming, {
      sender,
      isMember: (node) => s.members.has(node) && !s.isRemoved(node),
      isDown: (node) => s.isDown(node),
    });
    for (const why of refused) {
      s.deps.counters.refused_requests++;
      s.deps.log.warn(`refused a membership record from ${sender}: ${why}`);
    }
    if (changed.length === 0) return false;
    for (const record of changed) {
      s.deps.log.info(
        `membership: ${record.nodeId} is ${record.state} (version ${record.version.join("/")})`,
      );
      if (record.state === "removed" || record.state === "left") this.#forget(record.nodeId);
    }
    this.#spread();
    return true;
  }

  /** This node changes its own state: a new epoch of its record, told to every member. */
  setOwnState(state: "leaving" | "left"): void {
    const s = this.#s;
    const record = ownRecord(s.records.get(s.self.nodeId), s.self, state);
    s.records.set(s.self.nodeId, record);
    s.deps.log.info(`membership: this node is ${state} (version ${record.version.join("/")})`);
    this.#spread();
  }

  /** A record changed: the ring, `cluster.json`, the view and every member follow. */
  #spread(): void {
    this.#s.rebuildRing();
    this.#s.keepMembers();
    this.#s.publish();
    this.#push();
  }

  /**
   * Sends the changed records to every connected member at once (a heartbeat out of turn),
   * so a change made here is known everywhere within a round trip, not a heartbeat interval.
   * Its answer is not awaited: the next regular heartbeat carries theirs.
   */
  #push(): void {
    const s = this.#s;
    const table = this.all();
    for (const [node, member] of s.members) {
      if (node === s.self.nodeId || !member.connected || s.isRemoved(node)) continue;
      s.deps.sendHeartbeat(node, table).catch(() => {});
    }
  }

  /**
   * Others hold a record of this node at least as new as its own (its `cluster.json` was
   * lost, say): it writes its own again at a higher epoch, so its state wins everywhere.
   */
  #outliveOwnRecord(incoming: readonly MemberRecord[]): void {
    const s = this.#s;
    const own = s.records.get(s.self.nodeId)!;
    const heard = incoming.find((r) =>
      r.nodeId === s.self.nodeId && r.state !== "removed" &&
      compareVersions(r.version, own.version) > 0
    );
    if (heard === undefined) return;
    s.records.set(s.self.nodeId, ownRecord({ ...own, version: heard.version }, s.self, own.state));
  }

  /** A member that was removed or left: no calls to it, no calls from it. */
  #forget(node: string): void {
    const s = this.#s;
    if (!s.members.has(node) || node === s.self.nodeId) return;
    s.deps.peers.delete(node);
    s.disconnect(node, "it is no longer a member");
  }
}
