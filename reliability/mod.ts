/**
 * The reliability suites: each runs against the real server process and reports what held.
 * CI runs a short version of each (the `*_test.ts` files beside them); the full versions
 * run with `deno task reliability:crash-loop`, `reliability:full-disk`,
 * `reliability:bad-input`, `reliability:sustained`, `reliability:cluster-trust`,
 * `reliability:membership` and `reliability:jepsen` (the Jepsen-style checker,
 * `reliability/jepsen/mod.ts`).
 * Results: `docs/reliability.md`.
 *
 * @module
 */

export { type CrashLoopOptions, type CrashLoopReport, runCrashLoop } from "./crash_loop.ts";
export { type FullDiskReport, runFullDisk } from "./full_disk.ts";
export {
  type BadInputCase,
  type BadInputReport,
  catalogue,
  catalogueTable,
  randomQuery,
  runBadInput,
} from "./bad_input.ts";
export {
  type Interval,
  intervalTable,
  runSustainedLoad,
  type SustainedReport,
} from "./sustained_load.ts";
export {
  type AttackOutcome,
  type ClusterTrustReport,
  runClusterTrust,
  TRUST_PSK,
} from "./cluster_trust.ts";
export { ClusterAttacker, type StreamOutcome } from "./cluster_attacker.ts";
export { type MembershipReport, runMembership } from "./membership.ts";
export {
  check,
  type CheckResult,
  History,
  type JepsenReport,
  runJepsen,
  summaryLine,
} from "./jepsen/mod.ts";
