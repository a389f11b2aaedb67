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

/** A logger writing `time level message` lines through `write` (stderr by default). */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => console.error(line),
): Logger {
  const at = (wanted: LogLevel) => (message: string, ...data: unknown[]) => {
    if (ORDER[wanted] < ORDER[level]) return;
    const extra = data.map((item) =>
      item instanceof Error ? item.stack ?? item.message : JSON.stringify(item)
    );
    write([new Date().toISOString(), wanted.toUpperCase().padEnd(5), message, ...extra].join(" "));
  };
  return { level, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
