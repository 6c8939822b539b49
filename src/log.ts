/**
 * Structured logs: one JSON object per line on stderr (stdout belongs to the stdio transport).
 * Cell code never goes into a log, and session or kernel ids only at `debug`.
 *
 * @module
 */

/** Severity, least to most. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold: LogLevel = "info";

/** Sets the least severe level that is written (default `info`). */
export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/**
 * Writes one log line if `level` is at or above the threshold.
 *
 * @param fields Extra context; must not hold cell code, and ids only at `debug`.
 */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
  console.error(line);
}
