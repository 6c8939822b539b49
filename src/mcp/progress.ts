/**
 * Progress of a running cell for a client that asked for it: every second, a
 * `notifications/progress` whose message is the elapsed time and the newest line the cell
 * printed, so that clients which give up on silent calls keep waiting.
 *
 * @module
 */

/** How often a running cell reports, in ms. */
export const PROGRESS_INTERVAL_MS = 1000;

/** Characters of the newest line shown in a progress message. */
const LINE_LIMIT = 200;

/** The newest line of a stream so far: the last non-empty complete line, and what follows it. */
export interface NewestLine {
  /** The last non-empty line that ended with a newline. */
  line: string;
  /** Text after the last newline, a line still being printed. */
  partial: string;
}

/** Folds a chunk of output into the newest line; pure. */
export function foldOutput(state: NewestLine, chunk: string): NewestLine {
  const lines = (state.partial + chunk).split("\n");
  const partial = lines.pop() ?? "";
  const complete = lines.map((l) => l.trimEnd()).filter((l) => l !== "");
  return { line: complete.at(-1) ?? state.line, partial };
}

/** The message of one progress notification; pure. */
export function progressMessage(elapsedMs: number, state: NewestLine): string {
  const newest = state.partial.trim() !== "" ? state.partial.trimEnd() : state.line;
  const seconds = `running for ${(elapsedMs / 1000).toFixed(1)} s`;
  if (newest === "") return seconds;
  const shown = newest.length > LINE_LIMIT ? `${newest.slice(0, LINE_LIMIT)}…` : newest;
  return `${seconds}; newest output: ${shown}`;
}

/**
 * Starts reporting: the first notification after one interval, then one per interval, until
 * `stop()`. A notification that cannot be sent (the client went away) is dropped.
 *
 * @param send Sends one notification; `progress` is the elapsed time in seconds.
 * @returns `onOutput` to feed the cell's output to, and `stop`.
 */
export function reportProgress(
  send: (update: { progress: number; message: string }) => Promise<void>,
  options: { intervalMs?: number; now?: () => number } = {},
): { onOutput: (text: string) => void; stop: () => void } {
  const now = options.now ?? performance.now.bind(performance);
  const started = now();
  let state: NewestLine = { line: "", partial: "" };
  const timer = setInterval(() => {
    const elapsed = now() - started;
    send({ progress: elapsed / 1000, message: progressMessage(elapsed, state) }).catch(() => {});
  }, options.intervalMs ?? PROGRESS_INTERVAL_MS);
  return {
    onOutput: (text) => state = foldOutput(state, text),
    stop: () => clearInterval(timer),
  };
}
