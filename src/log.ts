/**
 * Structured logs: one JSON object per line on stderr (stdout belongs to the stdio transport).
 * Cell code never goes into a log, and session or kernel ids only at `debug`.
 *
 * @module
 */

/** The levels, least severe first; `--log-level` accepts exactly these. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of {@linkcode LOG_LEVELS}. */
export type LogLevel = typeof LOG_LEVELS[number];

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
  if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(threshold)) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
  console.error(line);
}
