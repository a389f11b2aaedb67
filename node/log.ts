/**
 * Levelled logging to standard error: `CAMEODB_LOG=debug|info|warn|error` (info by default).
 *
 * @module
 */

/** Log levels, least severe first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A logger that writes the messages at or above its level. */
export interface Logger {
  readonly level: LogLevel;
  debug(message: string, ...data: unknown[]): void;
  info(message: string, ...data: unknown[]): void;
  warn(message: string, ...data: unknown[]): void;
  error(message: string, ...data: unknown[]): void;
}

/** Reads the level from `CAMEODB_LOG`; an unknown value is an error. */
export function logLevelFrom(value: string | undefined): LogLevel {
  if (value === undefined || value === "") return "info";
  const level = value.toLowerCase();
  if (!(level in ORDER)) {
    throw new Error(`CAMEODB_LOG must be debug, info, warn or error, got "${value}"`);
  }
  return level as LogLevel;
}

/**
 * Lines written per second at most, on average: past it lines are dropped and counted, so a
 * peer or client that makes the node log on every bad request cannot fill the disk with logs.
 */
export const LOG_LINES_PER_SECOND = 50;
/** Lines that may be written at once above the average (a startup, a burst of real trouble). */
export const LOG_BURST_LINES = 200;

/** How a logger writes and how fast (the defaults: stderr, the named limits, the real clock). */
export interface LoggerOptions {
  readonly linesPerSecond?: number;
  readonly burstLines?: number;
  /** Milliseconds of a monotonic clock. */
  readonly now?: () => number;
}

/**
 * A logger writing `time level message` lines through `write` (stderr by default), at most
 * `linesPerSecond` on average (a token bucket of `burstLines`); the next line written after
 * some were dropped is preceded by one saying how many.
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => console.error(line),
  options: LoggerOptions = {},
): Logger {
  const admit = lineBudget(options);
  let dropped = 0;
  const line = (wanted: LogLevel, text: string) =>
    [new Date().toISOString(), wanted.toUpperCase().padEnd(5), text].join(" ");
  const at = (wanted: LogLevel) => (message: string, ...data: unknown[]) => {
    if (ORDER[wanted] < ORDER[level]) return;
    if (!admit()) {
      dropped++;
      return;
    }
    if (dropped > 0) {
      write(line("warn", `${dropped} log lines dropped (over ${LOG_LINES_PER_SECOND} lines/s)`));
      dropped = 0;
    }
    const extra = data.map((item) =>
      item instanceof Error ? item.stack ?? item.message : JSON.stringify(item)
    );
    write(line(wanted, [message, ...extra].join(" ")));
  };
  return { level, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A token bucket: true when a line may be written now. */
function lineBudget(options: LoggerOptions): () => boolean {
  const perMs = (options.linesPerSecond ?? LOG_LINES_PER_SECOND) / 1_000;
  const burst = options.burstLines ?? LOG_BURST_LINES;
  const now = options.now ?? (() => performance.now());
  let tokens = burst;
  let last = now();
  return () => {
    const at = now();
    tokens = Math.min(burst, tokens + (at - last) * perMs);
    last = at;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}
