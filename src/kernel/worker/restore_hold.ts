/**
 * Holds back the timers and microtasks that user code schedules while a snapshot is restored.
 *
 * A restore evaluates class bodies and static blocks again, and their synchronous part is
 * bounded (snapshot.ts); but one that schedules a busy timer (`static { setInterval(() => {
 * while (true) {} }, 0) }`) or a microtask loop would take the kernel once the evaluation
 * returned, at every restore, beyond any bound. Timers are not state a snapshot keeps, so what
 * restore-time code schedules is not started: it is recorded and named in the restore report.
 * The kernel's own code keeps its timers: a call is held only when user code is on the stack.
 *
 * @module
 */

/** Something restore-time code asked to run later. */
export interface HeldWork<T> {
  /** In words: "a timer", "an interval", "a microtask", "a promise callback". */
  what: string;
  /** What was being restored when it asked (see {@linkcode Hold.within}). */
  owner?: T;
  /** The functions of the user frames on the stack, innermost first, e.g. `Clock.<static_initializer>`. */
  fns: string[];
}

/** Scheduling held back until {@linkcode Hold.release}. */
export interface Hold<T> {
  /**
   * Set by the restore to say what is being evaluated: called with the line of the user frame
   * that asks, it returns the owner recorded with the work.
   */
  within?: (line: number) => T | undefined;
  /** Puts the real functions back and returns what was held. */
  release(): HeldWork<T>[];
}

/** A frame of the kernel's own code or of Deno's, rather than of user code. */
const OWN_FRAME = /\/kernel\/worker\/|\bext:|\bnode:/;
/** A frame with a place in a script: `at fn (where:line:col)` or `at where:line:col`. */
const PLACED_FRAME = /^\s+at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/;

/**
 * The user frames of the current stack, innermost first (their functions, and the innermost's
 * line), or `undefined` when no user code is on it.
 */
function userFrames(): { line: number; fns: string[] } | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  let line: number | undefined;
  const fns: string[] = [];
  for (const text of stack.split("\n").slice(1)) {
    const match = PLACED_FRAME.exec(text);
    // Built-ins (`at new Promise (<anonymous>)`) have no line: neither the kernel's nor user's.
    if (!match || OWN_FRAME.test(text)) continue;
    line ??= Number(match[3]);
    fns.push(match[1] ?? "");
  }
  return line === undefined ? undefined : { line, fns };
}

type Global = Record<string, unknown>;

/**
 * Replaces `setTimeout`, `setInterval`, `queueMicrotask`, `process.nextTick` and
 * `Promise.prototype.then` until {@linkcode Hold.release}. A call with user code on the stack
 * is recorded and not started (a timer id of 0, a promise that never settles); the kernel's
 * own calls pass through.
 */
export function holdScheduling<T>(): Hold<T> {
  const held: HeldWork<T>[] = [];
  const g = globalThis as unknown as Global;
  const process = g.process as Global | undefined;
  const originals: [Global, string, unknown][] = [
    [g, "setTimeout", g.setTimeout],
    [g, "setInterval", g.setInterval],
    [g, "queueMicrotask", g.queueMicrotask],
    [Promise.prototype as unknown as Global, "then", Promise.prototype.then],
    ...(process ? [[process, "nextTick", process.nextTick] as [Global, string, unknown]] : []),
  ];
  const words: Record<string, string> = {
    setTimeout: "a timer",
    setInterval: "an interval",
    queueMicrotask: "a microtask",
    nextTick: "a microtask",
    then: "a promise callback",
  };
  const hold: Hold<T> = {
    release() {
      for (const [owner, key, original] of originals) owner[key] = original;
      return held;
    },
  };
  for (const [owner, key, original] of originals) {
    const real = original as (...args: unknown[]) => unknown;
    owner[key] = function (this: unknown, ...args: unknown[]) {
      const frames = userFrames();
      if (!frames) return real.apply(this, args);
      held.push({ what: words[key]!, owner: hold.within?.(frames.line), fns: frames.fns });
      if (key === "then") return new Promise(() => {});
      return key === "setTimeout" || key === "setInterval" ? 0 : undefined;
    };
  }
  return hold;
}
