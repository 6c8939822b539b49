/**
 * Keeps the host serving when a promise is rejected and nothing handles it. Deno ends the
 * process on an unhandled rejection, which would take every session and live kernel with it
 * for one forgotten `catch`; instead the rejection is logged and the host goes on.
 *
 * @module
 */
import { log, type LogLevel } from "./log.ts";

/** Characters of a stack kept in a log line. */
const MAX_FRAMES_TEXT = 1500;

/** Writes a log line; `log.ts`'s `log` unless a test passes its own. */
export type LogWriter = (
  level: LogLevel,
  message: string,
  fields?: Record<string, unknown>,
) => void;

/**
 * Installs a process-wide `unhandledrejection` listener that prevents the exit and logs the
 * reason: its error name and stack frames at `error` (code locations, never values), its
 * message at `debug` only, since a message may hold cell code or ids.
 *
 * @param write Where log lines go (default: `log`).
 * @returns A function that removes the listener.
 */
export function guardRejections(write: LogWriter = log): () => void {
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    const reason = event.reason;
    const error = reason instanceof Error ? reason : undefined;
    const frames = (error?.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line))
      .join("\n").slice(0, MAX_FRAMES_TEXT);
    write("error", "a promise was rejected and nothing handled it; the host goes on serving", {
      name: error?.name ?? typeof reason,
      ...(frames && { frames }),
    });
    write("debug", "the unhandled rejection's message", {
      message: String(error?.message ?? reason).slice(0, MAX_FRAMES_TEXT),
    });
  };
  globalThis.addEventListener("unhandledrejection", listener);
  return () => globalThis.removeEventListener("unhandledrejection", listener);
}
