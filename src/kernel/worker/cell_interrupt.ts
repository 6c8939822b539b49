/**
 * The interrupt a cell's own loops hear. The inspector's timeout stops only the synchronous part
 * of a cell's evaluation, and an interrupt message waits in the Worker's queue; so a loop that
 * runs after an `await` (`const t = await Deno.readTextFile(p); while (true) {}`) could not be
 * stopped, and its kernel was restarted, losing what was not saved. The compiler puts a call to
 * {@linkcode INTERRUPT_CHECK} at the top of every loop body of a cell (see `loop_checks.ts`);
 * the sandbox's main thread, which still reads the host's pipe while the Worker is busy, sets a
 * shared flag at the cell's deadline or at a cancel, and the next check throws.
 *
 * @module
 */

/** The global a compiled loop calls; a cell may not declare it (`protected_globals.ts`). */
export const INTERRUPT_CHECK = "__mkhTick";

/** What the flag's first slot holds: nothing to do, the cell's time is up, or it is cancelled. */
export const INTERRUPT_NONE = 0;
/** The running cell passed its deadline. */
export const INTERRUPT_TIMEOUT = 1;
/** The running cell was cancelled. */
export const INTERRUPT_CANCEL = 2;

/**
 * Defines the check compiled loops call: it returns while `flag[0]` is {@linkcode INTERRUPT_NONE}
 * and throws otherwise (again at every later check, so a `catch` around one loop does not keep
 * the cell running). Not enumerable, not writable: no cell replaces it.
 */
export function installInterruptCheck(flag: Int32Array): void {
  const load = Atomics.load;
  const check = () => {
    if (load(flag, 0) === INTERRUPT_NONE) return;
    const error = new Error("The cell was interrupted");
    error.name = "KernelInterruptSignal";
    throw error;
  };
  Object.defineProperty(globalThis, INTERRUPT_CHECK, { value: check });
}

/** The global a cell's top-level `await` reads its evaluation's number from, before it waits. */
export const AWAIT_TOKEN = "__mkhAt";
/** The global a cell's top-level `await` passes its result through once it resumes. */
export const AWAIT_CHECK = "__mkhAwake";

/** The number of the evaluation `Repl.run` started last. */
let evaluation = 0;

/**
 * Starts a new evaluation. A cell stopped while it awaited is abandoned, its promise left to
 * settle; when it settles, the cell's next step sees that a later evaluation began, and throws
 * instead of going on: a cell the agent was told is stopped does not make its effect later
 * (an order placed twice once the agent runs it again).
 */
export function nextEvaluation(): void {
  evaluation++;
}

/**
 * Defines what the compiler puts around each of a cell's top-level `await`s (see
 * `await_checks.ts`): `__mkhAwake(__mkhAt(), await x)` reads the evaluation's number before it
 * waits and, after, returns `x`'s value, or throws if the evaluation was abandoned meanwhile.
 */
export function installAwaitCheck(): void {
  Object.defineProperty(globalThis, AWAIT_TOKEN, { value: () => evaluation });
  Object.defineProperty(globalThis, AWAIT_CHECK, {
    value: (at: number, value: unknown) => {
      if (at === evaluation) return value;
      const error = new Error(
        "The cell was stopped while it awaited; it does not go on when what it awaited settles",
      );
      error.name = "KernelInterruptSignal";
      throw error;
    },
  });
}

/** Why the running cell was interrupted through the flag, if it was. */
export function interruption(flag: Int32Array): "timeout" | "cancelled" | undefined {
  switch (Atomics.load(flag, 0)) {
    case INTERRUPT_TIMEOUT:
      return "timeout";
    case INTERRUPT_CANCEL:
      return "cancelled";
  }
  return undefined;
}

/** Removes the checks the compiler added from a function's source text, for display. */
export function withoutChecks(source: string): string {
  return source.includes(INTERRUPT_CHECK)
    ? source.replaceAll(`{/*${INTERRUPT_CHECK}*/${INTERRUPT_CHECK}();`, "")
      .replaceAll(`/*${INTERRUPT_CHECK}*/}`, "").replaceAll(`${INTERRUPT_CHECK}();`, "")
    : source;
}
