/**
 * The writes of one term's posting blocks in `post_blocks` (`_fts5_postings.ts` describes the
 * table): appending postings to its open block, closing full blocks, and taking documents out of
 * its blocks. A fold calls these once per term it writes, inside the caller's transaction.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { addTermStat, ANY_COLUMN } from "./_posting_delta.ts";
import {
  BlockEncoder,
  decodeStats,
  type PostingArrays,
  POSTINGS_PER_BLOCK,
  type TermStat,
} from "./_posting_blocks.ts";
import {
  blockEnd,
  type BlockRow,
  decodeRows,
  kept,
  merged,
  OPEN_BLOCK,
  type OpenBlockRow,
} from "./_posting_lists.ts";

/** A term's block rows (`?`: the term), for a statement to order or bound. */
export const TERM_BLOCKS_SQL =
  "SELECT first_rid, last_rid, n, data FROM post_blocks WHERE term = ?";

/** The statements and the reused encoder that write a term's blocks. */
export class TermBlocks {
  readonly #stmts: Record<
    "open" | "blockOf" | "putBlock" | "removeBlock" | "removeBlocks",
    StatementSync
  >;
  readonly #encoder = new BlockEncoder();

  constructor(db: DatabaseSync) {
    this.#stmts = {
      open: db.prepare(
        "SELECT first_rid, last_rid, n, data, stats FROM post_blocks " +
          `WHERE term = ? AND first_rid = ${OPEN_BLOCK}`,
      ),
      // Closed blocks only: the open block's key is above every rid.
      blockOf: db.prepare(`${TERM_BLOCKS_SQL} AND first_rid <= ? ORDER BY first_rid DESC LIMIT 1`),
      putBlock: db.prepare(
        "INSERT OR REPLACE INTO post_blocks(term, first_rid, last_rid, n, data, stats) " +
          "VALUES (?, ?, ?, ?, ?, ?)",
      ),
      removeBlock: db.prepare("DELETE FROM post_blocks WHERE term = ? AND first_rid = ?"),
      removeBlocks: db.prepare("DELETE FROM post_blocks WHERE term = ?"),
    };
  }

  /** A term's open block as stored (none: the term has no blocks). */
  open(term: string): OpenBlockRow | undefined {
    return this.#stmts.open.get(term) as OpenBlockRow | undefined;
  }

  /**
   * Appends a term's new postings (above its last rid) to its open block — as bytes, the
   * block not decoded, until it fills; then its postings are closed into blocks — and adds
   * their statistics to the term's.
   */
  append(
    term: string,
    added: PostingArrays & { stats: Map<number, TermStat> },
    open: OpenBlockRow | undefined,
  ): void {
    const stats = decodeStats(open?.stats);
    for (const [col, stat] of added.stats) {
      addTermStat(stats, col, stat.df, stat.maxTf, stat.minLen);
    }
    const n = open?.n ?? 0;
    if (open !== undefined && added.rids[0]! <= open.last_rid) {
      // The engine's rids only grow; a list out of rid order would be read wrong, so refuse.
      throw new RangeError(
        `postings of "${term}" for rid ${added.rids[0]} after rid ${open.last_rid}`,
      );
    }
    if (n + added.rids.length < POSTINGS_PER_BLOCK) {
      const encoder = this.#encoder.reset();
      const previous = n > 0 ? open!.last_rid : 0;
      const data = encoder.block(added, 0, added.rids.length, previous, open?.data);
      const lastRid = added.rids[added.rids.length - 1]!;
      const count = n + added.rids.length;
      this.#stmts.putBlock.run(term, OPEN_BLOCK, lastRid, count, data, encoder.stats(stats));
    } else {
      const all = n > 0 ? merged(decodeRows([open!]), added) : added;
      this.#store(term, all, 0, all.rids.length, stats);
    }
  }

  /**
   * Writes postings `from` to `to` (in rid order, above the term's closed blocks) as closed
   * blocks while a full one remains, the rest as the term's open block with `stats`. An open
   * block left empty keeps the last closed rid written here as its `last_rid` (the bound
   * the engine's `post` checks new rids against).
   */
  #store(
    term: string,
    postings: PostingArrays,
    from: number,
    to: number,
    stats: ReadonlyMap<number, TermStat>,
  ): OpenBlockRow {
    const { rids } = postings;
    let start = from;
    while (to - start >= POSTINGS_PER_BLOCK) {
      const end = blockEnd(rids, start, to, POSTINGS_PER_BLOCK);
      const data = this.#encoder.reset().block(postings, start, end);
      this.#stmts.putBlock.run(term, rids[start]!, rids[end - 1]!, end - start, data, null);
      start = end;
    }
    const encoder = this.#encoder.reset();
    const data = encoder.block(postings, start, to, 0);
    const statBytes = encoder.stats(stats);
    const lastRid = to > from ? rids[to - 1]! : 0;
    const n = to - start;
    this.#stmts.putBlock.run(term, OPEN_BLOCK, lastRid, n, data, statBytes);
    // Views of the encoder's buffer, which the next block reuses: a caller keeping them copies.
    return { first_rid: OPEN_BLOCK, last_rid: lastRid, n, data, stats: statBytes };
  }

  /**
   * Takes documents' postings (rid → the columns it had the term in) out of a term's blocks,
   * and out of its statistics: each block holding some of them rewritten once, the open block
   * last (one removal at a time rewrote the open block per document: ~70 block rows a
   * document for updates, profiled with `sql_time.ts --updates`). `open` is the term's open
   * block as stored; answers the one written (none: the term is gone).
   */
  removeAll(
    term: string,
    removed: ReadonlyMap<number, readonly number[]>,
    open: OpenBlockRow | undefined,
  ): OpenBlockRow | undefined {
    if (open === undefined) return undefined;
    const stats = decodeStats(open.stats);
    for (const columns of removed.values()) {
      for (const col of [...columns, ANY_COLUMN]) {
        const stat = stats.get(col);
        if (stat !== undefined) stat.df--;
      }
    }
    if ((stats.get(ANY_COLUMN)?.df ?? 0) <= 0) {
      this.#stmts.removeBlocks.run(term); // no document holds it any more
      return undefined;
    }
    const other = (posted: number) => !removed.has(posted);
    let openBlock: PostingArrays = decodeRows([open]);
    const openFrom = open.n > 0 ? openBlock.rids[0]! : Infinity;
    if (open.n > 0) openBlock = kept(openBlock, other);
    // The rest are in closed blocks.
    const below = [...removed.keys()].filter((rid) => rid < openFrom).sort((a, b) => a - b);
    this.#removeFromClosed(term, below, other);
    const written = this.#store(term, openBlock, 0, openBlock.rids.length, stats);
    return { ...written, data: written.data.slice(), stats: written.stats.slice() };
  }

  /**
   * Takes the rids `below` (ascending, all under the open block's) out of a term's closed
   * blocks, keeping the postings `keep` says: each block found once, for the first rid it holds,
   * and rewritten once.
   */
  #removeFromClosed(term: string, below: readonly number[], keep: (rid: number) => boolean): void {
    const { blockOf, removeBlock, putBlock } = this.#stmts;
    for (let at = 0; at < below.length;) {
      const block = blockOf.get(term, below[at]!) as BlockRow | undefined;
      if (block === undefined || block.last_rid < below[at]!) {
        at++;
        continue;
      }
      while (at < below.length && below[at]! <= block.last_rid) at++;
      const rest = kept(decodeRows([block]), keep);
      const count = rest.rids.length;
      if (count === 0 || rest.rids[0] !== block.first_rid) removeBlock.run(term, block.first_rid);
      if (count > 0) {
        const data = this.#encoder.reset().block(rest, 0, count);
        putBlock.run(term, rest.rids[0]!, rest.rids[count - 1]!, count, data, null);
      }
    }
  }
}
