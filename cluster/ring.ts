/**
 * The consistent-hash ring: every node places 256 virtual nodes on a 32-bit circle; a
 * slot belongs to the first virtual node at or after its own position. The ring
 * depends only on the set of node ids, so every node builds the same ring from the same
 * membership.
 *
 * Placement (invariant 7): a document's slot (one of 1,024 placement buckets; a
 * "microshard" is a node-local store, not this) is
 * `fnv1a(routing_key ?? id) % CLUSTER_SLOTS` and never changes; the ring decides
 * only which node owns each slot. When membership changes, some slots change
 * owner — whole slots, never single documents.
 *
 * @module
 */

import { CLUSTER_SLOTS, fnv1a, slotOf } from "../node/hash.ts";

export { CLUSTER_SLOTS, slotOf };

/** Virtual nodes per node. */
export const VIRTUAL_NODES = 256;

/** A 32-bit hash with good spread for short, similar strings (FNV-1a, then murmur3's finalizer). */
export function ringHash(text: string): number {
  let h = fnv1a(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Options of a {@linkcode HashRing}. */
export interface HashRingOptions {
  /** Each node's `node.zone`; a node not named, or named with `""`, is in the zone `""`. */
  readonly zones?: ReadonlyMap<string, string>;
  /** Virtual nodes per node ({@linkcode VIRTUAL_NODES} by default). */
  readonly virtualNodes?: number;
}

/** An immutable ring over a set of node ids (and their zones). */
export class HashRing {
  readonly nodes: readonly string[];
  readonly #zones: ReadonlyMap<string, string>;
  /** Distinct zones of the nodes (1 without zones). */
  readonly #zoneCount: number;
  readonly #points: Uint32Array;
  readonly #owners: string[];
  readonly #bySlot: string[];
  /** Preference lists per length, computed on first use. */
  readonly #lists = new Map<number, string[][]>();

  constructor(nodes: Iterable<string>, options: HashRingOptions = {}) {
    const virtualNodes = options.virtualNodes ?? VIRTUAL_NODES;
    this.nodes = [...new Set(nodes)].sort();
    this.#zones = options.zones ?? new Map();
    this.#zoneCount = new Set(this.nodes.map((node) => this.#zones.get(node) ?? "")).size;
    const points: Array<{ at: number; node: string }> = [];
    for (const node of this.nodes) {
      for (let v = 0; v < virtualNodes; v++) points.push({ at: ringHash(`${node}#${v}`), node });
    }
    // Ties (astronomically rare) break by node id, the same way on every node.
    points.sort((a, b) => a.at - b.at || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    this.#points = Uint32Array.from(points, (p) => p.at);
    this.#owners = points.map((p) => p.node);
    this.#bySlot = Array.from(
      { length: CLUSTER_SLOTS },
      // The hash input keeps its historical "microshard:" prefix: changing it would move slots.
      (_, slot) => this.ownerOfHash(ringHash(`microshard:${slot}`)),
    );
  }

  /** The node owning a position on the circle. */
  ownerOfHash(hash: number): string {
    if (this.#owners.length === 0) throw new Error("the ring has no nodes");
    return this.#owners[this.#firstAtOrAfter(hash)]!;
  }

  /**
   * A slot's preference list (Dynamo §4.3): the first `count` distinct nodes met walking
   * the circle clockwise from the slot's position (all nodes when there are fewer), in
   * different zones while there are zones not yet used (Cassandra's NetworkTopologyStrategy:
   * a node of a zone already holding a replica is passed over, and taken in walk order only
   * once every zone holds one). Its first node is `ownerOfSlot(slot)`; without zones it is the
   * plain walk.
   */
  ownersOfSlot(slot: number, count: number): string[] {
    if (count <= 1) return [this.ownerOfSlot(slot)];
    const want = Math.min(count, this.nodes.length);
    let lists = this.#lists.get(want);
    if (lists === undefined) this.#lists.set(want, lists = new Array(CLUSTER_SLOTS));
    return [...(lists[slot] ??= this.#walk(ringHash(`microshard:${slot}`), want))];
  }

  #walk(hash: number, want: number): string[] {
    const at = this.#firstAtOrAfter(hash);
    const owners: string[] = [];
    const zonesUsed = new Set<string>();
    // Nodes passed over because their zone holds a replica, in walk order.
    const passed: string[] = [];
    // Done when `want` are taken, or every zone holds one and enough were passed over.
    const done = () =>
      owners.length >= want ||
      (zonesUsed.size === this.#zoneCount && owners.length + passed.length >= want);
    for (let step = 0; step < this.#owners.length && !done(); step++) {
      const node = this.#owners[(at + step) % this.#owners.length]!;
      if (owners.includes(node) || passed.includes(node)) continue;
      const zone = this.#zones.get(node) ?? "";
      if (zonesUsed.has(zone)) {
        passed.push(node);
        continue;
      }
      zonesUsed.add(zone);
      owners.push(node);
    }
    for (const node of passed) {
      if (owners.length >= want) break;
      owners.push(node);
    }
    return owners;
  }

  #firstAtOrAfter(hash: number): number {
    let lo = 0;
    let hi = this.#points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.#points.length ? 0 : lo;
  }

  /** The node owning a slot. */
  ownerOfSlot(slot: number): string {
    return this.#bySlot[slot]!;
  }

  /** The node owning a document (by routing key, or id). */
  ownerOf(routingKey: string): string {
    return this.ownerOfSlot(slotOf(routingKey));
  }

  /** How many slots each node owns. */
  spread(): Map<string, number> {
    const counts = new Map<string, number>(this.nodes.map((node) => [node, 0]));
    for (const node of this.#bySlot) counts.set(node, counts.get(node)! + 1);
    return counts;
  }
}
