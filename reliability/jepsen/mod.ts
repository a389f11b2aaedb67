/**
 * A Jepsen-style checker for the cluster: real processes on loopback, concurrent clients
 * whose every operation is recorded (`history.ts`, `clients.ts`), a seeded nemesis that
 * kills, pauses, wipes, adds and removes nodes (`nemesis.ts`, `cluster_under_test.ts`),
 * a final read through every node after healing (`final_read.ts`), and a checker of pure
 * functions that counts what must be zero (`checker.ts`). `deno task reliability:jepsen`
 * runs it (`run.ts`); `jepsen_test.ts` is the CI version. Results: `docs/reliability.md`.
 *
 * @module
 */

export {
  type Clock,
  type FaultEvent,
  type FaultWindow,
  History,
  type HistoryEvent,
  type Item,
  type ItemOutcome,
  type Operation,
  type OpFunction,
  type Outcome,
  pairFaults,
  realClock,
  type Stamp,
} from "./history.ts";
export {
  acceptable,
  ANOMALIES,
  type Availability,
  availability,
  type AvailabilityReport,
  candidates,
  check,
  type CheckResult,
  classify,
  type FinalRead,
  type FinalValue,
  type Scan,
  type Write,
  writesById,
} from "./checker.ts";
export {
  type ClientOptions,
  DEFAULT_MIX,
  describeError,
  document,
  JEPSEN_INDEX,
  type OperationMix,
  outcomeOf,
  outcomeOfError,
  runClients,
  type Target,
  tokenOf,
} from "./clients.ts";
export {
  type ClusterOptions,
  ClusterUnderTest,
  JEPSEN_PSK,
  type NodeState,
  type TestNode,
} from "./cluster_under_test.ts";
export {
  type Fault,
  FAULTS,
  type NemesisOptions,
  type NemesisReport,
  runNemesis,
} from "./nemesis.ts";
export { converge, finalRead, scan } from "./final_read.ts";
export {
  failed,
  type JepsenOptions,
  type JepsenReport,
  parseArgs,
  runJepsen,
  summaryLine,
} from "./run.ts";
export { runWipedRejoin, type WipedRejoinReport } from "./wiped_rejoin.ts";
