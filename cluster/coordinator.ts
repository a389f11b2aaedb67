/**
 * The ClusterCoordinator: the one owner of the cluster view. Its state — members, which
 * are connected and in which state, the ring, the peer ids behind node ids, whether this
 * node is still joining — changes only in its handler, on messages: libp2p events (fed by
 * the transport as `transport` messages), a peer's `hello` or `heartbeat`, the answers to
 * its own, its timer ticks, and the one-shot boot check. Nothing polls.
 *
 * Meeting a peer: when libp2p has identified a peer that speaks the actor protocol, the
 * coordinator asks the peer's coordinator `hello` with its own node info, the members it
 * knows and its index schemas. A hello admits only its sender, over its own connection:
 * the claimed peer id must be the connection's (Noise-authenticated), and the node id ↔
 * peer id binding (made at the first admission, kept in `cluster.json`) must hold. The
 * members a hello lists are dialed, and admitted by their own hello. Every change
 * publishes a new {@linkcode ClusterView} to the router.
 *
 * Failure detection: every `heartbeatIntervalMs` the coordinator asks each connected
 * member's coordinator for a heartbeat; the {@linkcode FailureDetector} turns silence into
 * `suspect` and `down`, and health turns yellow.
 *
 * Membership (`membership.ts`): every member has a versioned record, merged last-writer-
 * wins from hellos and heartbeats; a node changes only its own, and any member may mark a
 * `down` node `removed` (`remove`), which takes it off the ring, the view and health for
 * good. A node that is lost but not removed stays a member (not connected), keeps its slots
 * on the ring, and its writes fail fast with 503 until it is back. The member list and the
 * records are kept in `cluster.json`; on boot the list is compared with the peers that
 * answer, and the differences are logged and shown in `/_cluster/health`.
 *
 * @module
 */

import type { Actor } from "../actors/types.ts";
import { writeClusterFile } from "./cluster_file.ts";
import type {
  CoordinatorDeps,
  CoordinatorMsg,
  CoordinatorReplies,
  LeaveResult,
  NodeListing,
  RemovalResult,
  SlotNews,
} from "./coordinator_protocol.ts";
import { admissionRefusal } from "./admission.ts";
import { checkedHello, checkedRecords, checkedSlotNews } from "./peer_input.ts";
import { DEFAULT_MAX_SLOTS_MOVING, SlotMoves } from "./slot_moves.ts";
import { SlotTable, type WireEntry, writeSlotFile } from "./slot_table.ts";
import { ACTOR_PROTOCOL } from "./remote_protocol.ts";
import { clusterHealth, meetingCounters } from "./cluster_health.ts";
import { FailureDetector } from "./failure_detector.ts";
import { HashRing } from "./ring.ts";
import { SeedTracker } from "./seed_tracker.ts";
import type { TransportEvent } from "./transport.ts";
import type { ClusterView, Hello, MemberView, NodeInfo } from "./view.ts";
import {
  compareVersions,
  type MemberRecord,
  mergeRecords,
  nodeListing,
  ownRecord,
  ownsSlots,
  removalRecord,
} from "./membership.ts";
import { MembershipRefusedError, PeerRefusedError, UnknownNodeError } from "./errors.ts";

export type {
  CoordinatorDeps,
  CoordinatorMsg,
  CoordinatorReplies,
  LeaveResult,
  NodeEntry,
  NodeListing,
  RemovalResult,
  SlotNews,
} from "./coordinator_protocol.ts";
export type { ClusterHealth } from "./cluster_health.ts";

interface Member {
  info: NodeInfo;
  connected: boolean;
}

/**
 * The slot table a node starts with: the one it kept; else, for the first node of a new
 * cluster, every slot its own; for a node of a cluster that ran before slot tables, the ring
 * over the kept members (every such node computes the same); for a node joining through a
 * seed, nothing (the table it hears wins).
 */
export function initialSlotTable(
  self: string,
  options: {
    readonly kept: SlotTable | undefined;
    readonly seeds: readonly string[];
    readonly snapshot: readonly NodeInfo[];
    readonly records: readonly MemberRecord[];
  },
): SlotTable {
  if (options.kept !== undefined) return options.kept;
  const others = options.snapshot.filter((info) => info.nodeId !== self);
  if (others.length > 0) {
    const states = new Map(options.records.map((r) => [r.nodeId, r.state]));
    const owners = [self, ...others.map((info) => info.nodeId)]
      .filter((node) => ownsSlots(states.get(node) ?? "up"));
    // One owner each, where the data is; the leads then stream each slot to its other replicas.
    return SlotTable.fromRing(new HashRing(owners));
  }
  return options.seeds.length > 0 ? SlotTable.unknown() : SlotTable.ownedBy(self);
}

/**
 * Builds the coordinator; `snapshot` is the member list read from disk at boot, `kept` the
 * membership records kept with it, `slots` the slot table kept beside them.
 */
export function createCoordinator(
  deps: CoordinatorDeps,
  snapshot: readonly NodeInfo[],
  kept: readonly MemberRecord[] = [],
  slots?: SlotTable,
): Actor<CoordinatorMsg, CoordinatorReplies> {
  const self = deps.self;
  const members = new Map<string, Member>([[self.nodeId, { info: self, connected: true }]]);
  const byPeer = new Map<string, string>();
  const records = new Map<string, MemberRecord>(kept.map((r) => [r.nodeId, r]));
  // Every boot is a new epoch of this node's own record (Cassandra bumps its generation).
  records.set(self.nodeId, ownRecord(records.get(self.nodeId), self, "up"));
  let ring = new HashRing([self.nodeId]);
  const table = initialSlotTable(self.nodeId, {
    kept: slots,
    seeds: deps.seeds,
    snapshot,
    records: kept,
  });
  /** Per member, the slot digest it last told and how many slots it is still draining. */
  const heardSlots = new Map<string, { digest: string; draining: number }>();
  const moves = new SlotMoves(table, {
    self: self.nodeId,
    maxSlotsMoving: deps.maxSlotsMoving ?? DEFAULT_MAX_SLOTS_MOVING,
    dropGraceMs: deps.dropGraceMs ?? 1_000,
    move: deps.moveSlot ?? (() => Promise.reject(new Error("this node cannot move slots"))),
    abort: deps.abortMove ?? (() => {}),
    drop: deps.dropSlot ?? (() => Promise.resolve()),
    later: (ms, msg) => later(ms, msg),
    tellSelf: (msg) => deps.tellSelf(msg),
    replicationFactor: deps.replicationFactor ?? 1,
    leave: (slot) => deps.leaveSlot?.(slot),
    log: deps.log,
  });
  /** The members that own slots: `up` or `leaving` (a member without a record is up). */
  const ringMembers = () =>
    [...members.keys()].filter((id) => ownsSlots(records.get(id)?.state ?? "up"));
  const isRemoved = (node: string) => {
    const state = records.get(node)?.state;
    return state === "removed" || state === "left";
  };
  const boot = { checked: false, missing: [] as string[], unexpected: [] as string[] };
  const telemetry = meetingCounters();
  let bootTimer: ReturnType<typeof setTimeout> | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, msg: CoordinatorMsg) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      deps.tellSelf(msg);
    }, ms);
    timers.add(timer);
  };
  const seeds = new SeedTracker(deps.seeds);
  const detector = new FailureDetector({
    suspectAfterMs: deps.suspectAfterMs,
    downAfterMs: deps.downAfterMs,
  });
  /** Members whose heartbeat is unanswered: one at a time per member. */
  const awaiting = new Set<string>();

  /** Recomputes member states; publishes a view when one changed. */
  const refreshStates = () => {
    const changed = detector.changes();
    for (const [node, state] of changed) {
      const name = members.get(node)?.info.name ?? node;
      if (state === "up") deps.log.info(`node ${name} (${node}) answers again: up`);
      else {deps.log.warn(
          `node ${name} (${node}) is ${state}: silent for ${
            Math.round(detector.silentMs(node))
          } ms`,
        );}
    }
    if (changed.size > 0) publish();
  };

  const tick = () => {
    for (const [node, member] of members) {
      if (node === self.nodeId || !member.connected || awaiting.has(node)) continue;
      if (isRemoved(node)) continue;
      awaiting.add(node);
      deps.sendHeartbeat(node, [...records.values()], slotNews(node, true)).then(
        (answer) =>
          deps.tellSelf({
            type: "heartbeatAnswered",
            node,
            ok: true,
            records: (answer as { records?: unknown } | undefined)?.records,
            slots: (answer as { slots?: unknown } | undefined)?.slots,
          }),
        () => deps.tellSelf({ type: "heartbeatAnswered", node, ok: false }),
      );
    }
    refreshStates();
    planSlots();
    later(deps.heartbeatIntervalMs, { type: "tick" });
  };
  // A node with seeds or a kept member list joins an existing cluster: it takes no data
  // requests until it has met a member and holds the cluster's view (its members, the
  // ring, the schemas). The first node of a new cluster has nothing to wait for.
  let joining = deps.seeds.length > 0 || snapshot.some((info) => info.nodeId !== self.nodeId);
  const endJoining = (why: string) => {
    joining = false;
    deps.log.info(`joined the cluster (${why}); taking data requests`);
    publish();
  };

  const dialSeed = (seed: string) => {
    deps.dial(seed).then(
      () => deps.tellSelf({ type: "seedDialed", seed }),
      (error) => deps.tellSelf({ type: "seedDialed", seed, error: (error as Error).message }),
    );
  };

  const onSeedDialed = (seed: string, error: string | undefined) => {
    if (error === undefined) {
      seeds.reached(seed);
      return;
    }
    telemetry.dial_failures++;
    const retryMs = seeds.failed(seed, error);
    if (seeds.firstFailure(seed)) {
      deps.log.warn(
        `cannot join through seed ${seed}: ${error} (a seed with another network.cluster.psk ` +
          `fails the handshake like this); trying again`,
      );
    }
    const problem = seeds.problem;
    if (problem !== undefined && seeds.firstFailure(seed)) {
      deps.log.error(`not part of the cluster: ${problem}`);
    }
    if (joining) later(retryMs, { type: "dialSeed", seed });
  };

  const view = (): ClusterView => ({
    self: self.nodeId,
    // Removed and left members are gone for routing: no slots, no scatter, no failed shards.
    members: new Map<string, MemberView>(
      [...members].filter(([id]) => !isRemoved(id)).map((
        [id, m],
      ) => [id, {
        info: m.info,
        connected: m.connected,
        state: id === self.nodeId ? "up" : m.connected ? detector.state(id) : "down",
      }]),
    ),
    ring,
    joining,
    slots: table.copy(),
  });

  const publish = () => {
    telemetry.view_changes++;
    deps.onView(view());
  };

  const persist = () =>
    writeClusterFile(deps.dataDir, {
      cluster_name: self.clusterName,
      members: [...members.values()].map((m) => m.info),
      records: [...records.values()],
    });

  /** `slots.json` writes, one at a time (each replaces the file through a rename). */
  let slotWrite: Promise<void> = Promise.resolve();
  const persistSlots = () => {
    const snapshotOfTable = table.copy();
    slotWrite = slotWrite.then(() => writeSlotFile(deps.dataDir, snapshotOfTable)).catch(
      (error) => deps.log.warn(`cannot keep the slot table: ${error}`),
    );
  };

  /**
   * What this node tells a member of its slot table: its digest, and the whole table on a
   * regular heartbeat when the member last told a different digest (`withTable`).
   */
  const slotNews = (node: string, withTable: boolean): SlotNews => {
    const digest = table.digest();
    const differs = withTable && heardSlots.get(node)?.digest !== digest;
    return { digest, draining: moves.moving, ...(differs ? { table: table.toWire() } : {}) };
  };

  /** `slots.json` is written once for all the merges of this turn. */
  let persistScheduled = false;
  const persistSoon = () => {
    if (persistScheduled) return;
    persistScheduled = true;
    later(0, { type: "slotsPersist" });
  };

  /**
   * The members that are up (by record; a lost member stays one until removed): where slots
   * should be. A leaving member is not one of them, so its slots move off it.
   */
  let desired: { key: string; ring: HashRing | undefined } = { key: "", ring: undefined };
  const desiredRing = () => {
    const up = [...members.keys()].filter((id) => (records.get(id)?.state ?? "up") === "up");
    const key = up.sort().join(",");
    if (desired.key !== key) {
      desired = { key, ring: up.length === 0 ? undefined : new HashRing(up) };
    }
    return desired.ring;
  };

  /** Claims and starts moves as the members now stand; tells everyone when the table changed. */
  const planSlots = () => {
    if (joining) return;
    const changed = moves.plan({
      desired: desiredRing(),
      isLive: (node) =>
        node === self.nodeId ||
        (members.get(node)?.connected === true && detector.state(node) === "up" &&
          !isRemoved(node)),
      isGone: (node) => isRemoved(node),
    });
    if (changed) slotsChanged();
    maybeLeft();
  };

  /**
   * The table changed here: route by it at once; keep it, then tell every member — once for
   * every change made meanwhile (a flush message after the changes of this turn), and only
   * after it is on disk, so no member holds an entry this node could forget in a crash.
   */
  let flushScheduled = false;
  const slotsChanged = () => {
    publish();
    if (flushScheduled) return;
    flushScheduled = true;
    later(0, { type: "slotsFlush" });
  };
  const flushSlots = () => {
    flushScheduled = false;
    const entries = table.takeChanged();
    persistSlots();
    deps.holdSlots?.(moves.heldSlots());
    if (entries.length > 0) slotWrite.then(() => deps.tellSelf({ type: "slotsPush", entries }));
  };

  /** Sends the changed entries to every connected member now; their answers acknowledge them. */
  const pushSlots = (entries: Array<[number, WireEntry]>) => {
    const news: SlotNews = { digest: table.digest(), draining: moves.moving, entries };
    const recordList = [...records.values()];
    for (const [node, member] of members) {
      if (node === self.nodeId || !member.connected || isRemoved(node)) continue;
      deps.sendHeartbeat(node, recordList, news).then(
        (answer) => deps.tellSelf({ type: "slotsPushed", node, entries, answer }),
        () => {},
      );
    }
  };

  /** Takes a member's slot news: merges its table, notes its acknowledgements and drains. */
  const takeSlots = (node: string, raw: unknown) => {
    const peer = members.get(node)?.info.peerId ?? node;
    const news = checkedSlotNews(raw, peer, deps.counters);
    if (news === undefined) return;
    let changed: number[] = [];
    const before = table.copy();
    if (news.table !== undefined) {
      changed = table.merge(news.table);
      moves.onMemberTable(node, news.table);
    }
    if (news.entries !== undefined) changed.push(...table.mergeEntries(news.entries));
    moves.onMerged(changed, before);
    heardSlots.set(node, { digest: news.digest, draining: news.draining });
    if (news.digest === table.digest()) moves.onMemberTable(node, "same");
    moves.checkDrains(liveMembers());
    if (changed.length > 0) {
      persistSoon();
      publish();
      planSlots();
    }
  };

  /** Connected members (this node included) that are not removed: who must see a flip. */
  const liveMembers = () =>
    [...members].filter(([id, m]) => m.connected && !isRemoved(id)).map(([id]) => id);

  /** Slots moving anywhere, as far as this node knows: pending ones, and copies not dropped. */
  const slotsMoving = () => {
    let draining = moves.moving;
    for (const [node, heard] of heardSlots) {
      if (members.get(node)?.connected === true && !isRemoved(node)) draining += heard.draining;
    }
    return Math.max(table.pendingSlots().length, 0) + draining;
  };

  /** A leaving node that holds no slot any more has left. */
  const maybeLeft = () => {
    const own = records.get(self.nodeId)!;
    if (own.state !== "leaving" || moves.moving > 0) return;
    if ((table.spread().get(self.nodeId) ?? 0) > 0) return;
    deps.log.info("every slot is handed off: this node has left the cluster");
    setOwnState("left");
  };

  /** This node changes its own state: a new epoch of its record, told to every member. */
  const setOwnState = (state: "leaving" | "left") => {
    const record = ownRecord(records.get(self.nodeId), self, state);
    records.set(self.nodeId, record);
    deps.log.info(`membership: this node is ${state} (version ${record.version.join("/")})`);
    ring = new HashRing(ringMembers());
    persist().catch((error) => deps.log.warn(`cannot keep the member list: ${error}`));
    publish();
    pushRecords();
  };

  /** `POST /_cluster/nodes/{this node}/_leave`: hand every slot off, then leave. */
  const leave = (): LeaveResult => {
    const own = records.get(self.nodeId)!;
    if (own.state === "up") {
      deps.log.info("leaving the cluster: handing every slot off");
      setOwnState("leaving");
      planSlots();
    }
    const state = records.get(self.nodeId)!.state;
    return {
      node_id: self.nodeId,
      state: state === "left" ? "left" : "leaving",
      slots: table.spread().get(self.nodeId) ?? 0,
    };
  };

  const dial = (address: string) => {
    deps.dial(address).catch((error) => {
      telemetry.dial_failures++;
      deps.log.warn(`cannot dial ${address}: ${(error as Error).message}`);
    });
  };

  /** Records a member: whether it is new, or known with different info (addresses, say). */
  const learn = (info: NodeInfo, connected: boolean): "new" | "changed" | "same" => {
    const known = members.get(info.nodeId);
    members.set(info.nodeId, { info, connected: connected || (known?.connected ?? false) });
    deps.peers.set(info.nodeId, info.peerId);
    byPeer.set(info.peerId, info.nodeId);
    if (known === undefined) return "new";
    return JSON.stringify(known.info) === JSON.stringify(info) ? "same" : "changed";
  };

  /**
   * Why a hello may not admit its sender, or `undefined` when it may. The first admission
   * binds node id ↔ peer id (kept in `cluster.json`); the peer id is the connection's,
   * authenticated by Noise, so a node cannot answer for another (as CockroachDB binds a
   * node to its certificate, and Elasticsearch 8 admits a node by its enrolment).
   */
  const refusal = (info: NodeInfo, peer: string): string | undefined =>
    admissionRefusal(info, peer, {
      self,
      isRemoved: (node) => records.get(node)?.state === "removed",
      peerOf: (node) => members.get(node)?.info.peerId,
      nodeOf: (peer) => byPeer.get(peer),
    });

  /**
   * A peer introduced itself over its own connection `peer` (its hello, or the answer to
   * ours). Only the sender is admitted; the members it lists are dialed (by addresses that
   * name their peer id, so Noise checks who answers) and admitted by their own hello.
   */
  const meet = (hello: Hello, peer: string): void => {
    const info = hello.info;
    const refused = refusal(info, peer);
    if (refused !== undefined) {
      deps.counters.refused_hellos++;
      deps.log.warn(`refused the hello of ${info.name} (${info.nodeId}): ${refused}`);
      throw new PeerRefusedError(peer, refused);
    }
    const wasConnected = members.get(info.nodeId)?.connected ?? false;
    const learned = learn(info, true);
    detector.heard(info.nodeId);
    deps.pool.addNode(info.nodeId);
    deps.keepAlive(info.peerId, info.addrs).catch(() => {});
    for (const other of hello.members) {
      if (other.nodeId === self.nodeId || other.clusterName !== self.clusterName) continue;
      if (members.get(other.nodeId)?.connected === true || byPeer.has(other.peerId)) continue;
      for (const address of other.addrs) {
        if (address.endsWith(`/p2p/${other.peerId}`)) dial(address);
      }
    }
    if (!records.has(info.nodeId)) {
      // A peer that sends no records (an older version) is up, at the oldest version.
      records.set(info.nodeId, {
        nodeId: info.nodeId,
        peerId: info.peerId,
        addrs: info.addrs,
        state: "up",
        version: [0, info.nodeId],
      });
    }
    const merged = takeRecords(hello.records ?? [], info.nodeId);
    if (hello.slots !== undefined) {
      const theirs = SlotTable.fromWire(hello.slots);
      const before = table.copy();
      const changed = table.merge(theirs);
      moves.onMerged(changed, before);
      if (changed.length > 0) persistSlots();
      moves.onMemberTable(info.nodeId, theirs);
    }
    if (learned === "new" || merged) ring = new HashRing(ringMembers());
    if (learned !== "same" && !merged) {
      persist().catch((error) => deps.log.warn(`cannot keep the member list: ${error}`));
    }
    if (!wasConnected) deps.log.info(`node ${info.name} (${info.nodeId}) joined`);
    // Joining ends once the member's schemas are adopted: then this node holds the view.
    deps.adoptSchemas(hello.schemas).catch((error) =>
      deps.log.warn(`cannot adopt the schemas of ${info.name}: ${(error as Error).message}`)
    ).finally(() => {
      if (joining) deps.tellSelf({ type: "adopted", from: info.name });
    });
    publish();
    planSlots();
  };

  /** Compares the kept member list with the members that answered since boot. */
  const bootCheck = () => {
    boot.checked = true;
    // Alone on a kept member list, with no seeds to wait for: serve what this node holds.
    if (joining && deps.seeds.length === 0) endJoining("the boot check");
    const known = new Set(snapshot.map((info) => info.nodeId));
    boot.missing = snapshot
      .filter((info) => info.nodeId !== self.nodeId && !members.get(info.nodeId)?.connected)
      .map((info) => info.nodeId);
    // On a first boot there is no list to compare with: every peer would be "new".
    boot.unexpected = snapshot.length === 0 ? [] : [...members.values()]
      .filter((m) => m.connected && m.info.nodeId !== self.nodeId && !known.has(m.info.nodeId))
      .map((m) => m.info.nodeId);
    if (boot.missing.length > 0 || boot.unexpected.length > 0) {
      deps.log.warn(
        `cluster at boot differs from the kept member list: missing [${
          boot.missing.join(", ")
        }], new [${boot.unexpected.join(", ")}]`,
      );
    } else {
      deps.log.info("cluster at boot matches the kept member list");
    }
  };

  /** A member's heartbeat (stamped with its connection's peer): it is alive. */
  const onHeartbeat = (
    peer: string,
    raw: unknown,
    rawSlots: unknown,
  ): { nodeId: string; records: MemberRecord[]; slots: SlotNews } => {
    const node = byPeer.get(peer);
    if (node === undefined || members.get(node)?.connected !== true || isRemoved(node)) {
      deps.counters.refused_requests++;
      throw new PeerRefusedError(peer, "a heartbeat from a peer that is not a member");
    }
    detector.heard(node);
    refreshStates();
    takeRecords(checkedRecords(raw, peer, deps.counters), node);
    takeSlots(node, rawSlots);
    return { nodeId: self.nodeId, records: [...records.values()], slots: slotNews(node, false) };
  };

  /** Whether `node` is down here: not connected, or silent past `down_after_ms`. */
  const isDown = (node: string) => {
    const member = members.get(node);
    return member === undefined || !member.connected || detector.state(node) === "down";
  };

  /**
   * Merges records a member sent over its own connection; when any changed, rebuilds the
   * ring, keeps the table and publishes the view. Returns whether any changed.
   */
  const takeRecords = (incoming: readonly MemberRecord[], sender: string): boolean => {
    outliveOwnRecord(incoming);
    const { changed, refused } = mergeRecords(records, incoming, {
      sender,
      isMember: (node) => members.has(node) && !isRemoved(node),
      isDown,
    });
    for (const why of refused) {
      deps.counters.refused_requests++;
      deps.log.warn(`refused a membership record from ${sender}: ${why}`);
    }
    if (changed.length === 0) return false;
    for (const record of changed) {
      deps.log.info(
        `membership: ${record.nodeId} is ${record.state} (version ${record.version.join("/")})`,
      );
      if (record.state === "removed" || record.state === "left") forget(record.nodeId);
    }
    ring = new HashRing(ringMembers());
    persist().catch((error) => deps.log.warn(`cannot keep the member list: ${error}`));
    publish();
    pushRecords();
    return true;
  };

  /**
   * Sends the changed records to every connected member at once (a heartbeat out of turn),
   * so a change made here is known everywhere within a round trip, not a heartbeat interval.
   * Its answer is not awaited: the next regular heartbeat carries theirs.
   */
  const pushRecords = () => {
    const table = [...records.values()];
    for (const [node, member] of members) {
      if (node === self.nodeId || !member.connected || isRemoved(node)) continue;
      deps.sendHeartbeat(node, table).catch(() => {});
    }
  };

  /**
   * Others hold a record of this node at least as new as its own (its `cluster.json` was
   * lost, say): it writes its own again at a higher epoch, so its state wins everywhere.
   */
  const outliveOwnRecord = (incoming: readonly MemberRecord[]) => {
    const own = records.get(self.nodeId)!;
    const heard = incoming.find((r) =>
      r.nodeId === self.nodeId && r.state !== "removed" &&
      compareVersions(r.version, own.version) > 0
    );
    if (heard === undefined) return;
    records.set(self.nodeId, ownRecord({ ...own, version: heard.version }, self, own.state));
  };

  /** A member that was removed or left: no calls to it, no calls from it. */
  const forget = (node: string) => {
    const member = members.get(node);
    if (member === undefined || node === self.nodeId) return;
    member.connected = false;
    detector.forget(node);
    awaiting.delete(node);
    deps.peers.delete(node);
    void deps.pool.dropNode(node, "it is no longer a member");
  };

  /** `DELETE /_cluster/nodes/{id}`: forgets a down node for good (any member may). */
  const remove = (nodeId: string): RemovalResult => {
    const member = members.get(nodeId);
    if (member === undefined) throw new UnknownNodeError(nodeId);
    // A member kept from a cluster.json written before records is up, at the oldest version.
    const record = records.get(nodeId) ?? {
      nodeId,
      peerId: member.info.peerId,
      addrs: member.info.addrs,
      state: "up",
      version: [0, nodeId],
    };
    if (record.state === "removed") {
      return { node_id: nodeId, state: "removed", already_removed: true, slots_lost: 0 };
    }
    if (nodeId === self.nodeId) {
      throw new MembershipRefusedError(`node ${nodeId} is this node: a live node leaves instead`);
    }
    if (!isDown(nodeId)) {
      throw new MembershipRefusedError(
        `node ${nodeId} is ${detector.state(nodeId)}, not down: a live node leaves ` +
          `(POST /_cluster/nodes/${nodeId}/_leave) instead`,
      );
    }
    const slotsLost = table.spread().get(nodeId) ?? 0;
    takeRecords([removalRecord(record, self.nodeId)], self.nodeId);
    planSlots();
    deps.log.warn(`removed node ${nodeId}: ${slotsLost} slots have new owners, their data is lost`);
    return { node_id: nodeId, state: "removed", already_removed: false, slots_lost: slotsLost };
  };

  /** `GET /_cluster/nodes`: every member with its state and the slots it owns. */
  const listNodes = (): NodeListing =>
    nodeListing([...members.values()].map((m) => m.info), {
      recordOf: (node) => records.get(node),
      healthOf: (node) =>
        node === self.nodeId ? "up" : isDown(node) ? "down" : detector.state(node),
      slots: table.spread(),
    });

  const hello = (): Hello => ({
    info: self,
    members: [...members.values()].map((m) => m.info),
    schemas: deps.schemas(),
    records: [...records.values()],
    slots: table.toWire(),
  });

  const onHeartbeatAnswered = (node: string, ok: boolean, raw: unknown, rawSlots: unknown) => {
    awaiting.delete(node);
    if (!ok || members.get(node)?.connected !== true) return;
    detector.heard(node);
    refreshStates();
    const peer = members.get(node)!.info.peerId;
    try {
      takeRecords(checkedRecords(raw, peer, deps.counters), node);
      takeSlots(node, rawSlots);
    } catch (error) {
      deps.log.warn(`refused the records of ${node}: ${(error as Error).message}`);
    }
  };

  const onTransport = (event: TransportEvent) => {
    switch (event.kind) {
      case "connected":
        telemetry.peers_connected++;
        return;
      case "identified": {
        if (!event.protocols.includes(ACTOR_PROTOCOL)) return;
        telemetry.hellos_sent++;
        deps.sendHello(event.peer, hello()).then(
          (answer) => deps.tellSelf({ type: "welcomed", peer: event.peer, hello: answer }),
          (error) =>
            deps.tellSelf({
              type: "helloFailed",
              peer: event.peer,
              reason: (error as Error).message,
            }),
        );
        return;
      }
      case "disconnected": {
        telemetry.peers_disconnected++;
        const node = byPeer.get(event.peer);
        const member = node === undefined ? undefined : members.get(node);
        if (node === undefined || member === undefined || !member.connected) return;
        if (deps.isConnected(event.peer)) return;
        member.connected = false;
        detector.forget(node);
        awaiting.delete(node);
        void deps.pool.dropNode(node, "the connection was lost");
        deps.log.warn(`node ${member.info.name} (${node}) was lost`);
        publish();
        return;
      }
      case "discovered": {
        telemetry.peers_discovered++;
        // Only admitted members are dialed: a discovery record can name any host and port.
        const node = byPeer.get(event.peer);
        if (node === undefined || members.get(node)?.connected || isRemoved(node)) return;
        for (const address of event.addrs) {
          if (!address.includes("/p2p/")) dial(`${address}/p2p/${event.peer}`);
          else if (address.endsWith(`/p2p/${event.peer}`)) dial(address);
        }
        return;
      }
    }
  };

  return {
    onStart() {
      bootTimer = setTimeout(() => deps.tellSelf({ type: "bootCheck" }), deps.bootCheckAfterMs);
      for (const info of snapshot) {
        if (info.nodeId === self.nodeId || info.clusterName !== self.clusterName) continue;
        learn(info, false);
      }
      for (const node of members.keys()) if (isRemoved(node)) deps.peers.delete(node);
      ring = new HashRing(ringMembers());
      persist().catch((error) => deps.log.warn(`cannot keep the member list: ${error}`));
      moves.clearStalePending();
      persistSlots();
      publish();
      for (const seed of deps.seeds) dialSeed(seed);
      later(deps.heartbeatIntervalMs, { type: "tick" });
      for (const info of snapshot) {
        if (info.nodeId === self.nodeId || isRemoved(info.nodeId)) continue;
        for (const address of info.addrs) dial(address);
      }
    },
    onStop() {
      clearTimeout(bootTimer);
      for (const timer of timers) clearTimeout(timer);
    },
    receive(msg) {
      switch (msg.type) {
        case "transport":
          onTransport(msg.event);
          return;
        case "hello":
          telemetry.hellos_received++;
          meet(checkedHello(msg.hello, msg.peer, deps.counters), msg.peer);
          return hello();
        case "welcomed":
          try {
            meet(checkedHello(msg.hello, msg.peer, deps.counters), msg.peer);
          } catch (error) {
            telemetry.hello_failures++;
            deps.log.warn(`refused peer ${msg.peer}: ${(error as Error).message}`);
          }
          return;
        case "helloFailed":
          telemetry.hello_failures++;
          deps.log.warn(`hello to peer ${msg.peer} failed: ${msg.reason}`);
          return;
        case "tick":
          tick();
          return;
        case "heartbeat":
          return onHeartbeat(msg.peer, msg.records, msg.slots);
        case "heartbeatAnswered":
          onHeartbeatAnswered(msg.node, msg.ok, msg.records, msg.slots);
          return;
        case "slotStreamed":
          if (moves.onStreamed(msg)) slotsChanged();
          planSlots();
          return;
        case "slotDrop":
          moves.onDrop(msg.slot, liveMembers());
          return;
        case "slotDropped":
          moves.onDropped(msg.slot, msg.error);
          if (msg.error === undefined) {
            deps.holdSlots?.(moves.heldSlots());
            maybeLeft();
          }
          return;
        case "leave":
          return leave();
        case "slotsFlush":
          flushSlots();
          return;
        case "slotsPush":
          pushSlots(msg.entries);
          return;
        case "slotsPushed": {
          moves.onPushAcked(msg.node, msg.entries);
          const answer = msg.answer as { slots?: unknown } | undefined;
          try {
            if (members.get(msg.node)?.connected === true) takeSlots(msg.node, answer?.slots);
          } catch (error) {
            deps.log.warn(`refused the slot news of ${msg.node}: ${(error as Error).message}`);
          }
          moves.checkDrains(liveMembers());
          return;
        }
        case "slotsPersist":
          persistScheduled = false;
          persistSlots();
          return;
        case "nodes":
          return listNodes();
        case "remove":
          return remove(msg.nodeId);
        case "adopted":
          if (joining) endJoining(`met ${msg.from}`);
          return;
        case "dialSeed":
          if (joining) dialSeed(msg.seed);
          return;
        case "seedDialed":
          onSeedDialed(msg.seed, msg.error);
          return;
        case "bootCheck":
          bootCheck();
          return;
        case "view":
          return view();
        case "health":
          return clusterHealth({
            members: [...members.values()].filter((m) => !isRemoved(m.info.nodeId)).map((m) => ({
              ...m,
              state: m.info.nodeId === self.nodeId ? "up" : detector.state(m.info.nodeId),
            })),
            joining,
            problem: seeds.problem,
            snapshot: { checked: boot.checked, missing: boot.missing, unexpected: boot.unexpected },
            telemetry: { ...telemetry, ...deps.counters, ...moves.counters },
            slotsMoving: slotsMoving(),
          });
      }
    },
  };
}
