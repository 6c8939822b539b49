/**
 * Notebook-style evaluation inside a kernel's Worker.
 *
 * Cells run through the V8 inspector's `Runtime.evaluate` with `replMode`, the mechanism of
 * Deno's and Chrome's REPLs: top-level `let`, `const` and `class` persist across cells and may be
 * redeclared, and top-level `await` works. Indirect eval and `node:vm` lack one or the other
 * (DESIGN.md section 8).
 *
 * @module
 */
import { Session } from "node:inspector";
import type { CellOutcome, ErrorInfo } from "../protocol.ts";
import { nextEvaluation } from "./cell_interrupt.ts";
import { format } from "./format.ts";
import { isDisplayPromise } from "./jupyter.ts";
import { render } from "./render.ts";

interface RemoteObject {
  type: string;
  subtype?: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
}

interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface StackTrace {
  callFrames: CallFrame[];
  parent?: StackTrace;
  description?: string;
}

interface EvaluateResult {
  result: RemoteObject;
  exceptionDetails?: { exception?: RemoteObject; text: string; stackTrace?: StackTrace };
}

/** When {@linkcode Repl.run} stops a cell that has not finished. */
export interface RunOptions {
  /** Time the cell may run, in ms (default: no limit). */
  timeoutMs?: number;
  /** Aborted when the client cancels the cell. */
  signal?: AbortSignal;
  /** Whether the cell's loops were told to stop, and why (see `cell_interrupt.ts`). */
  interrupted?: () => "timeout" | "cancelled" | undefined;
}

/**
 * Awaiting cells a kernel can abandon in one life of its sandbox; after the last, the host moves
 * the namespace to a fresh sandbox. Connecting a session needs `sys`, revoked before user code
 * runs, and connected sessions add to every cell's cost (eight added roughly 40 µs to a trivial
 * cell, measured on a busy machine), hence only two.
 */
export const SPARE_SESSIONS = 2;

const SINK = Symbol.for("mcp-kernel-host.sink");
const CELL_MARK = Symbol.for("mcp-kernel-host.cell");
const MARKER_SLOT = Symbol.for("mcp-kernel-host.marker");

/** Evaluates cells and side-effect-free expressions in the Worker's global scope. */
export class Repl {
  #session = connected();
  /** Sessions connected while `sys` was granted, each to replace one after an abandoned cell. */
  #spares = Array.from({ length: SPARE_SESSIONS }, connected);
  #received: unknown;
  /** Marker closures of cells whose script id is not yet known, by cell name. */
  #unresolved = new Map<string, () => void>();
  /** Cell name by script id; V8 reuses a script when a cell's source repeats. */
  #cellOfScript = new Map<string, string>();
  #currentCell = "";
  /** How each top-level binding was declared (`let`, `const`, `class`, …), by name. */
  readonly kinds = new Map<string, string>();

  /** Connects the inspector sessions; needs `sys` until it has run. */
  constructor() {
    Object.defineProperty(globalThis, SINK, {
      value: (v: unknown) => this.#received = v,
      enumerable: false,
    });
    Object.defineProperty(globalThis, CELL_MARK, {
      // Returns nothing: the marker is an expression statement, so its value could become the
      // completion value of a cell made only of declarations.
      value: (marker: () => void, kinds: Record<string, string>) => {
        this.#unresolved.set(this.#currentCell, marker);
        for (const [name, kind] of Object.entries(kinds)) this.kinds.set(name, kind);
      },
      enumerable: false,
    });
  }

  /** Sends one inspector command. */
  post<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return new Promise((resolve, reject) =>
      this.#session.post(
        method,
        params as never,
        (error, result) => error ? reject(error) : resolve(result as T),
      )
    );
  }

  /**
   * Runs one cell of compiled JavaScript. Sets `_` to a non-undefined result and `_error` to a
   * thrown value, as IPython and the Deno REPL do.
   *
   * A cell still running after `timeoutMs`, or when `signal` aborts, is stopped and answered
   * `timeout` or `cancelled`; the namespace stays as the cell left it. V8 ends a synchronous
   * part itself (the evaluation's `timeout`); a cell awaiting something is abandoned, its
   * promise left to settle or not, as long as a spare session remains (see `#abandon`; the
   * outcome says `exhausted` when it took the last). Code that runs synchronously after an
   * `await` cannot be stopped here, nor an awaiting cell once the spares are used up: the host's
   * own deadline covers those (see `kernel_handle.ts`).
   *
   * @param code JavaScript, types already stripped and imports already rewritten.
   * @param name Script name that stack frames of this cell refer to, e.g. `cell-3`.
   */
  async run(code: string, name: string, options: RunOptions = {}): Promise<CellOutcome> {
    this.#currentCell = name;
    nextEvaluation();
    const started = performance.now();
    const stop = this.#spares.length > 0 ? stopWhen(options) : neverStop();
    let reply: EvaluateResult;
    try {
      // replMode waits for the cell's own top-level awaits either way; awaitPromise would also
      // await a Promise the cell merely returns, and hang on one that never settles.
      const evaluation = this.evaluate(
        code,
        options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs },
      );
      const first = await Promise.race([evaluation, stop.promise]);
      if (typeof first === "string") {
        this.#abandon(evaluation);
        return this.#spares.length > 0 ? { status: first } : { status: first, exhausted: true };
      }
      reply = first;
    } catch (error) {
      // V8 ended the synchronous part at the evaluation's timeout (the inspector says -32603).
      const { timeoutMs } = options;
      if (timeoutMs !== undefined && performance.now() - started >= timeoutMs - 1) {
        return { status: "timeout" };
      }
      throw error;
    } finally {
      stop.clear();
    }

    try {
      if (reply.exceptionDetails) {
        // Thrown by a loop's check, or by code its unwinding reached: stopped, not failed.
        const stopped = options.interrupted?.();
        if (stopped) return { status: stopped };
        const [thrown] = await this.value(reply.exceptionDetails.exception);
        (globalThis as Record<string, unknown>)._error = thrown;
        const error = describeError(thrown);
        const trace = reply.exceptionDetails.stackTrace;
        if (trace) error.stack = `${error.stack.split("\n    at ")[0]}${await this.#frames(trace)}`;
        return { status: "error", error };
      }
      const [value] = await this.value(reply.result);
      if (value === undefined || isDisplayPromise(value)) return { status: "ok" };
      (globalThis as Record<string, unknown>)._ = value;
      return { status: "ok", data: format(value) };
    } finally {
      await this.#release(reply);
    }
  }

  /**
   * Stops waiting for an evaluation. V8 holds the promise of a pending evaluation weakly, and
   * when the garbage collector takes it (a cell awaiting `new Promise(() => {})`), the inspector
   * reports that from inside the collector, which aborts the whole Deno 2.9.6 process ("Invoke
   * in DisallowJavascriptExecutionScope"). Closing the session drops its pending evaluations
   * safely; the bindings live in the context, not the session, so a spare takes over.
   */
  #abandon(evaluation: Promise<EvaluateResult>): void {
    evaluation.catch(() => {});
    // Its awaits throw when they resume (see `cell_interrupt.ts`).
    nextEvaluation();
    this.#session.disconnect();
    this.#session = this.#spares.pop()!;
  }

  /** Frees the inspector's handles of an evaluation; most trivial cells created none. */
  async #release(reply: EvaluateResult): Promise<void> {
    if (reply.result?.objectId || reply.exceptionDetails) {
      await this.post("Runtime.releaseObjectGroup", { objectGroup: "cell" });
    }
  }

  /** Formats a stack trace's user frames, naming each cell's script `cell-N`. */
  async #frames(trace: StackTrace): Promise<string> {
    await this.#resolveCells();
    let text = "";
    for (let t: StackTrace | undefined = trace; t; t = t.parent) {
      if (t !== trace && t.callFrames.length > 0) {
        text += `\n    at async ${t.description ?? ""}`.trimEnd();
      }
      for (const f of t.callFrames) {
        if (/^ext:|\/kernel\/worker\//.test(f.url)) return text;
        const cell = f.url === "" ? this.#cellOfScript.get(f.scriptId) ?? "cell" : undefined;
        // A cell's first line is the compiler's prefix: its line 1 is the script's line 2.
        const line = cell ? f.lineNumber : f.lineNumber + 1;
        const where = `${cell ?? f.url}:${line}:${f.columnNumber + 1}`;

        text += f.functionName ? `\n    at ${f.functionName} (${where})` : `\n    at ${where}`;
      }
    }
    return text;
  }

  /** Learns the script id of each cell that ran since the last error, from its marker. */
  async #resolveCells(): Promise<void> {
    for (const [cell, marker] of this.#unresolved) {
      (globalThis as Record<symbol, unknown>)[MARKER_SLOT] = marker;
      const { result } = await this.post<EvaluateResult>("Runtime.evaluate", {
        expression: `globalThis[Symbol.for("mcp-kernel-host.marker")]`,
        objectGroup: "cell",
      });
      const { internalProperties = [] } = await this.post<{
        internalProperties?: { name: string; value?: { value?: { scriptId?: string } } }[];
      }>("Runtime.getProperties", { objectId: result.objectId, ownProperties: true });
      const location = internalProperties.find((p) => p.name === "[[FunctionLocation]]");
      const scriptId = location?.value?.value?.scriptId;
      if (scriptId) this.#cellOfScript.set(scriptId, cell);
    }
    delete (globalThis as Record<symbol, unknown>)[MARKER_SLOT];
    this.#unresolved.clear();
  }

  /**
   * Evaluates a script now, synchronously, stopped by V8 after `timeoutMs`. The inspector runs
   * it inside `post` and answers later, so the script must leave its result somewhere itself
   * (a global slot); a script stopped at its timeout leaves nothing.
   */
  runNow(script: string, timeoutMs: number): void {
    this.#session.post("Runtime.evaluate", { expression: script, timeout: timeoutMs }, () => {});
  }

  /** Evaluates an expression in replMode, e.g. to read a binding by name. */
  evaluate(
    expression: string,
    options: { awaitPromise?: boolean; throwOnSideEffect?: boolean; timeout?: number } = {},
  ): Promise<EvaluateResult> {
    return this.post<EvaluateResult>("Runtime.evaluate", {
      expression,
      replMode: true,
      objectGroup: "cell",
      ...options,
    });
  }

  /**
   * Evaluates `expression` without side effects (V8 aborts it if it would have any) and returns
   * its value, or `undefined` with `ok: false` when it throws or has side effects.
   */
  async peek(expression: string): Promise<{ ok: boolean; value?: unknown }> {
    const reply = await this.evaluate(expression, { throwOnSideEffect: true });
    try {
      if (reply.exceptionDetails) return { ok: false };
      const [value] = await this.value(reply.result);
      return { ok: true, value };
    } finally {
      await this.#release(reply);
    }
  }

  /**
   * Reads many global bindings (top-level `let`, `const`, `class` among them) in one
   * evaluation: the inspector hands back a closure per name, and each is called here, so a
   * binding still uninitialized (its cell threw first) or gone reads `ok: false`. One
   * evaluation instead of one per name: each costs a few inspector round trips (about 0.1 ms
   * measured), and a save may read thousands. Closures have no side effects to check for, so
   * there is no side-effect-checked evaluation either (that one took 12 ms beside a large heap).
   *
   * @param names Identifiers, as {@linkcode lexicalNames} lists them.
   */
  async readBindings(names: string[]): Promise<Map<string, { ok: boolean; value?: unknown }>> {
    const out = new Map<string, { ok: boolean; value?: unknown }>();
    if (names.length === 0) return out;
    this.#received = undefined;
    const reply = await this.evaluate(
      `globalThis[Symbol.for("mcp-kernel-host.sink")]([${names.map((n) => `()=>${n}`).join(",")}])`,
    );
    const thunks = this.#received as (() => unknown)[] | undefined;
    this.#received = undefined;
    await this.#release(reply);
    if (reply.exceptionDetails || !Array.isArray(thunks) || thunks.length !== names.length) {
      // A name that is not an identifier after all: each on its own, as before.
      // Boxed, so a long string comes back by reference, not copied through the inspector.
      for (const name of names) {
        const read = await this.peek(`[${name}]`);
        out.set(name, read.ok ? { ok: true, value: (read.value as unknown[])[0] } : read);
      }
      return out;
    }
    names.forEach((name, i) => {
      try {
        out.set(name, { ok: true, value: thunks[i]!() });
      } catch {
        out.set(name, { ok: false });
      }
    });
    return out;
  }

  /** Names of the global lexical scope: top-level `let`, `const` and `class` of every cell. */
  async lexicalNames(): Promise<string[]> {
    const { names } = await this.post<{ names: string[] }>("Runtime.globalLexicalScopeNames");
    return [...new Set(names)];
  }

  /** Turns a remote object of this same isolate back into the JavaScript value. */
  async value(remote: RemoteObject | undefined): Promise<[unknown]> {
    // Boxed, so that a Promise value is returned as it is rather than awaited.
    if (!remote || remote.type === "undefined") return [undefined];
    if (remote.objectId) {
      this.#received = undefined;
      await this.post("Runtime.callFunctionOn", {
        objectId: remote.objectId,
        functionDeclaration:
          `function () { globalThis[Symbol.for("mcp-kernel-host.sink")](this); }`,
      });
      return [this.#received];
    }
    if (remote.unserializableValue !== undefined) {
      const text = remote.unserializableValue;
      return [text.endsWith("n") ? BigInt(text.slice(0, -1)) : Number(text)];
    }
    return [remote.value];
  }
}

function connected(): Session {
  const session = new Session();
  session.connect();
  return session;
}

function neverStop(): ReturnType<typeof stopWhen> {
  return { promise: new Promise(() => {}), clear() {} };
}

/** The running cell's deadline (`performance.now()` time) and how to stop it at it. */
let running: { at: number; resolve: (why: "timeout") => void } | undefined;
/** When the one deadline timer fires, if one is armed. */
let armedAt: number | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;

/**
 * Arms the one timer that serves every cell's deadline, unless it fires early enough already;
 * when it fires before the running cell's deadline, it is armed again for what is left. A timer
 * set and cleared per cell cost a trivial cell measurably (the same pattern in the sandbox's
 * main thread: 18–50 µs), and cells nearly always have the same timeout.
 */
function armDeadline(at: number): void {
  if (armedAt !== undefined && armedAt <= at) return;
  clearTimeout(timer);
  armedAt = at;
  timer = setTimeout(() => {
    armedAt = timer = undefined;
    if (!running) return;
    if (performance.now() >= running.at) running.resolve("timeout");
    else armDeadline(running.at);
  }, Math.max(0, at - performance.now()));
}

/** Resolves with why a running cell must stop; `clear` forgets its deadline and the signal. */
function stopWhen(options: RunOptions): {
  promise: Promise<"timeout" | "cancelled">;
  clear: () => void;
} {
  const { promise, resolve } = Promise.withResolvers<"timeout" | "cancelled">();
  const cancel = () => resolve("cancelled");
  const own = options.timeoutMs === undefined
    ? undefined
    : { at: performance.now() + options.timeoutMs, resolve };
  running = own;
  if (own) armDeadline(own.at);
  if (options.signal?.aborted) cancel();
  options.signal?.addEventListener("abort", cancel, { once: true });
  return {
    promise,
    clear() {
      if (running === own) running = undefined;
      options.signal?.removeEventListener("abort", cancel);
    },
  };
}

/** Describes a thrown value: an Error's own name, message and stack; anything else rendered. */
export function describeError(thrown: unknown): ErrorInfo {
  if (thrown instanceof Error) {
    const stack = cellFrames(thrown.stack ?? "");
    return {
      name: thrown.name,
      message: sandboxWords(thrown.message),
      stack: stack.replace(thrown.message, sandboxWords(thrown.message)),
    };
  }
  return { name: "Uncaught", message: render(thrown), stack: "" };
}

/**
 * A permission refusal in the kernel's terms: Deno advises to "run again with the --allow-read
 * flag", which a cell cannot do; the kernel's sandbox forbids it, and says what it allows.
 */
export function sandboxWords(message: string): string {
  return message.replace(
    /,? run again with the --allow-(\w+) flag/,
    (_, what: string) =>
      `: the kernel's sandbox forbids ${what} access` +
      (what === "read" || what === "write"
        ? " outside its own folder (its working directory)"
        : what === "net" || what === "import"
        ? " (a kernel has no network; npm: packages are fetched by the host)"
        : ""),
  );
}

/**
 * Keeps a stack's message and the frames of user code, dropping the kernel's own frames below
 * the cell (the inspector call that ran it).
 */
function cellFrames(stack: string): string {
  const lines = stack.split("\n");
  const internal = lines.findIndex((line) =>
    /^\s+at /.test(line) && /(Session\.post|ext:deno_node\/inspector|\/kernel\/worker\/)/.test(line)
  );
  return (internal < 0 ? lines : lines.slice(0, internal)).join("\n");
}
