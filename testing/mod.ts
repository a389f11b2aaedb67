/**
 * Helpers shared by the test suites.
 *
 * @module
 */

export { DeadlineError, withDeadline } from "./deadline.ts";
export { type ServerProcess, startServerProcess } from "./server_process.ts";
export { SeededRandom, testSeed } from "./random.ts";
export { call, type HttpAnswer } from "./http.ts";
export { percentile } from "./stats.ts";
export { waitUntil } from "./wait.ts";
export { allGreen, clusterAddress, startClusterNode, wipeDataDir } from "./cluster.ts";
