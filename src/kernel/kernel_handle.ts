/**
 * The parent-side handle of one kernel. It owns the kernel's sandbox process, runs requests one
 * at a time in order, enforces the cell timeout and the memory limit, and starts a fresh sandbox
 * when one dies. It knows nothing of eviction or persistence: the supervisor decides when a
 * kernel stops.
 *
 * A cell past its timeout, or cancelled, is interrupted inside its kernel, which keeps its
 * namespace (see `worker/repl.ts`). Only a kernel that does not answer within a grace after
 * that (a loop after an `await` or in a timer, a synchronous loop that was cancelled) is killed
 * and restarted, and the result says what was lost.
 *
 * @module
 */
import { compileCell } from "./cell_compiler.ts";
import { type DiskQuota, type FolderUsage, watchQuota } from "./disk_quota.ts";
import type {
  CellOutcome,
  Completion,
  ErrorInfo,
  KernelReply,
  KernelRequest,
  MimeBundle,
  NpmReadiness,
  ReplyValues,
  RestoreReport,
  SnapshotTaken,
  VariableDetail,
  VariableSummary,
} from "./protocol.ts";
import { SAVE_YIELDED } from "./worker/save_yield.ts";
import { deathFailure, interruptError, unansweredFailure } from "./failure_words.ts";
import { type ModuleImports, snapshotImports } from "./npm_imports.ts";
import { missedNpmPackage, missedNpmWords } from "./npm_miss.ts";
import { prefetchNpm } from "./npm_prefetch.ts";
import { type DistributiveOmit, type OutputListener, SandboxProcess } from "./sandbox_process.ts";
import { type SandboxRuntime, sandboxRuntime } from "./sandbox_runtime.ts";

/** How a kernel runs. */
export interface KernelOptions {
  /** Absolute path of the kernel's scratch folder, its only readable and writable place. */
  scratchDir: string;
  /** Memory limit per kernel in MB (default 512, at least 64). */
  memoryLimitMb?: number;
  /** Default time a cell may run, in milliseconds (default 60,000). */
  cellTimeoutMs?: number;
  /** TypeScript run in every new, restarted or reset kernel before any cell (default none). */
  prelude?: string;
  /**
   * Cells this kernel ran before (default 0): the count goes on from there, so that a kernel
   * brought back after an eviction or a restart never gives a cell a number seen before.
   */
  executionCount?: number;
  /**
   * Called after the kernel died (timeout, memory, crash) and a fresh sandbox started, to put
   * saved state back; returns what the result should tell the client. Without it, everything is
   * reported lost.
   */
  onRestart?: (kernel: RestartControl) => Promise<RestartOutcome>;
  /** Which `deno` and sandbox files to use (default: the running ones, see sandbox_runtime.ts). */
  runtime?: SandboxRuntime;
  /**
   * npm packages cells may import, by name (`--npm-allow`); default: every package. Others are
   * neither fetched nor imported.
   */
  npmAllow?: readonly string[];
  /**
   * What the scratch folder may hold (`--disk-quota`, `--max-files`); default no bound. A write
   * past it fails, and a cell that makes the folder grow past it is stopped, the kernel keeping
   * its variables (see `disk_quota.ts`).
   */
  diskQuota?: DiskQuota;
  /**
   * A sandbox already started for this kernel's scratch folder, memory limit and prelude (a
   * spare, see `spare_pool.ts`): the kernel runs in it, so its start costs no process start
   * (default: one is spawned). Its restarts spawn sandboxes as usual.
   */
  sandbox?: SandboxProcess;
}

/** What `onRestart` may do with the fresh sandbox (outside the request queue). */
export interface RestartControl {
  /** Rebuilds a namespace from a snapshot body. */
  restore(body: Uint8Array): Promise<RestoreReport>;
  /** Starts yet another fresh sandbox, e.g. after a restore that failed half way. */
  restart(): Promise<void>;
}

/** What a restart brought back. */
export interface RestartOutcome {
  /** In words, what did not survive. */
  lost: string;
  /** The snapshot the kernel came back from; see `ExecuteResult.restoredFrom`. */
  restoredFrom?: { version: number; savedAt: number; unchecked?: string };
}

/** How long past a cell's timeout the kernel may take to answer before it is killed. */
export const TIMEOUT_GRACE_MS = 2000;

/**
 * How long after a cancel the kernel may take to answer before it is killed. A cell in a
 * synchronous loop cannot hear a cancel, so this bounds the wait for it.
 */
export const CANCEL_GRACE_MS = 500;

/** What a caller may add to one `execute`. */
export interface ExecuteOptions {
  /**
   * Time allowed for this cell (default: the kernel's cell timeout). `Infinity` arms no
   * interrupt at all: no V8 timeout, no deadline (the benchmarks measure the interrupt's cost
   * this way; the MCP tools always bound a cell).
   */
  timeoutMs?: number;
  /** Aborting it interrupts the cell (a client's cancel). */
  signal?: AbortSignal;
  /** Called with the cell's stdout and stderr text as it is printed. */
  onOutput?: OutputListener;
  /**
   * Called once the cell has been sent to the kernel, with its number and the names it
   * declares, so the caller can record it while it runs. Not called for a cell that never
   * starts (a syntax error, a cancel before it started).
   */
  onStart?: (cell: { cell: number; declared: string[] }) => void;
}

/** The result of one `execute`, as the `execute` tool reports it. */
export interface ExecuteResult {
  /**
   * `timeout` and `cancelled`: the cell was stopped; unless `lost` says otherwise, the kernel
   * kept every variable. `killed`: the kernel died (memory, crash) and was restarted.
   */
  status: "ok" | "error" | "timeout" | "cancelled" | "killed";
  executionCount: number;
  /** The last expression's value as a MIME bundle; absent when it is `undefined`. */
  data?: MimeBundle;
  /** What the cell displayed, in order (`Deno.jupyter.display`); absent when nothing. */
  displays?: MimeBundle[];
  stdout: string;
  stderr: string;
  error?: ErrorInfo;
  durationMs: number;
  /** Set when the kernel had to be restarted: in words, what did not survive. */
  lost?: string;
  /**
   * Set when the kernel came back from a snapshot after a restart; `unchecked` names, in words,
   * what came back without being looked into for captured variables or private fields (a
   * caveat, not a loss).
   */
  restoredFrom?: { version: number; savedAt: number; unchecked?: string };
  /** Set while the kernel's latest save failed: why, in words (its state is not saved). */
  saveFailed?: string;
  /** The top-level names the cell declared (for the record of what a restore could lose). */
  declared?: string[];
}

/** Thrown when a request other than `execute` fails inside the kernel. */
export class KernelRequestError extends Error {
  /** @param info The error as the kernel reported it. */
  constructor(info: ErrorInfo, options?: ErrorOptions) {
    super(info.message, options);
    this.name = info.name;
  }
}

/** What a snapshot that gave way before it started answers (as the Worker would). */
const SAVE_YIELDED_INFO = {
  name: SAVE_YIELDED,
  message: "The save gave way to a request waiting behind it",
  stack: "",
};

const LOST_ON_RESTART = "all variables: the kernel was restarted with an empty namespace";

type ResolvedOptions =
  & Required<Omit<KernelOptions, "onRestart" | "runtime" | "npmAllow" | "sandbox" | "diskQuota">>
  & Pick<KernelOptions, "onRestart" | "npmAllow" | "diskQuota">
  & { runtime: SandboxRuntime };

/** A live kernel. Use {@linkcode KernelHandle.start}; close it with `await using` or `close()`. */
export class KernelHandle implements AsyncDisposable {
  #options: ResolvedOptions;
  #recovering = false;
  #prelude: string;
  #preludeNpm: NpmReadiness | undefined;
  #process: SandboxProcess;
  #queue: Promise<unknown> = Promise.resolve();
  /** What the scratch folder held after the last cell (see `disk_quota.ts`). */
  #folderUsage?: FolderUsage;
  /** Tasks ever queued: a yieldable snapshot gives way to any queued after it. */
  #queued = 0;
  /** Set while a yieldable snapshot is being taken, to the ticket it was queued with. */
  #yieldable?: number;
  #executionCount = 0;
  #closed = false;
  /**
   * What a restart during a request other than `execute` (a snapshot, say) brought back and
   * lost: the next `execute` result says it, so no loss goes unsaid.
   */
  #unreported?: RestartOutcome;

  private constructor(
    options: ResolvedOptions,
    prelude: { code: string; npm: NpmReadiness | undefined },
    process: SandboxProcess,
  ) {
    this.#options = options;
    this.#prelude = prelude.code;
    this.#preludeNpm = prelude.npm;
    this.#process = process;
    this.#executionCount = options.executionCount;
    this.#noteRepair();
  }

  /**
   * Starts a kernel in a new sandbox process.
   *
   * @throws {RangeError} When the memory limit is below 64 MB or the timeout is not positive, or
   *   when `sandbox` was started for another folder, memory limit or prelude.
   * @throws {SyntaxError} When the prelude does not compile.
   */
  static async start(options: KernelOptions): Promise<KernelHandle> {
    const { full, prelude } = await prepare(options);
    const { sandbox } = options;
    if (sandbox) {
      const given = sandbox.options;
      if (
        given.scratchDir !== full.scratchDir || given.memoryLimitMb !== full.memoryLimitMb ||
        given.prelude !== prelude.code
      ) {
        throw new RangeError(
          "Cannot start kernel: the sandbox given was started for another folder, memory " +
            `limit or prelude (${given.memoryLimitMb} MB, ${full.memoryLimitMb} MB asked)`,
        );
      }
    }
    return new KernelHandle(full, prelude, sandbox ?? await spawn(full, prelude));
  }

  /**
   * Starts a sandbox as {@linkcode KernelHandle.start} would for these options, for a kernel to
   * take over later through `sandbox` (a spare). `executionCount` and `onRestart` do not matter.
   *
   * @throws {RangeError} As `start`.
   * @throws {SyntaxError} When the prelude does not compile.
   */
  static async spawnSandbox(options: KernelOptions): Promise<SandboxProcess> {
    const { full, prelude } = await prepare(options);
    return await spawn(full, prelude);
  }

  /** Cells run so far, errors included, as IPython counts them. */
  get executionCount(): number {
    return this.#executionCount;
  }

  /** The sandbox's process id, for tests and diagnostics. */
  get pid(): number {
    return this.#process.pid;
  }

  /**
   * Resident memory of the kernel's sandbox process now, its Worker included, as the sandbox
   * measures it itself. Answered at once, not queued behind a running cell; `null` when the
   * handle is closed or the sandbox is gone (e.g. restarting).
   */
  async memoryBytes(): Promise<number | null> {
    if (this.#closed) return null;
    return await this.#process.residentBytes() ?? null;
  }

  /**
   * Runs one cell. A cell that throws, times out, is cancelled or is killed resolves with that
   * status; only a closed handle rejects. A cell cancelled before it started does not run.
   */
  execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    return this.#enqueue(async () => {
      const started = performance.now();
      const { signal, onOutput } = options;
      if (signal?.aborted) {
        return {
          status: "cancelled",
          executionCount: this.#executionCount,
          stdout: "",
          stderr: "",
          error: interruptError("cancelled", 0, "before it started"),
          durationMs: 0,
        };
      }
      const cell = ++this.#executionCount;
      const compiled = compileCell(code, `cell-${cell}`);
      if (!compiled.ok) {
        return this.#withUnreported({
          status: "error",
          executionCount: cell,
          stdout: "",
          stderr: "",
          error: compiled.error,
          durationMs: performance.now() - started,
        });
      }
      const timeoutMs = options.timeoutMs ?? this.#options.cellTimeoutMs;
      const npm = await fetchNpm(this.#options, compiled.imports, { timeoutMs, signal });
      // A cancel heard while the host fetched: the cell has not started, and does not.
      if (signal?.aborted) {
        return this.#withUnreported({
          status: "cancelled",
          executionCount: cell,
          stdout: "",
          stderr: "",
          error: interruptError("cancelled", 0, "before it started"),
          durationMs: performance.now() - started,
        });
      }
      // A cell that makes its folder grow past the quota is stopped as a cancel would stop it.
      const { diskQuota } = this.#options;
      const overQuota = new AbortController();
      let breach: string | undefined;
      const watch = diskQuota &&
        watchQuota(this.#options.scratchDir, diskQuota, (reason) => {
          breach = reason;
          overQuota.abort();
        }, this.#folderUsage);
      // Once the request is written to the pipe, so that what the caller does then (a registry
      // write) overlaps the cell's run instead of delaying its start; surely before the result.
      let announced = false;
      const announce = () => {
        if (announced) return;
        announced = true;
        options.onStart?.({ cell, declared: compiled.declared });
      };
      const sent = this.#send(
        {
          kind: "execute",
          code: compiled.code,
          ...(compiled.typescript !== undefined && { typescript: compiled.typescript }),
          cell,
          ...(Number.isFinite(timeoutMs) && { timeoutMs }),
          ...(npm && { npm }),
        },
        {
          timeoutMs,
          signal: watch ? AbortSignal.any([overQuota.signal, ...(signal ? [signal] : [])]) : signal,
          onOutput,
          onSent: announce,
        },
      );
      const run = await sent;
      // A send that gave up before its write settled (a timeout, say) has not announced it yet.
      announce();
      const measured = await watch?.stop();
      this.#folderUsage = measured?.usage;
      const stillOver = measured?.breach;
      const base = { executionCount: cell, durationMs: 0, declared: compiled.declared };
      let result: ExecuteResult;
      if (run.kind === "reply") {
        const { exhausted, ...outcome } = unwrap(run.reply) as CellOutcome;
        result = { ...base, ...outcome, stdout: run.stdout, stderr: run.stderr };
        if (outcome.status === "timeout" || outcome.status === "cancelled") {
          result.error = interruptError(outcome.status, timeoutMs, "kept");
        }
        if (exhausted) {
          Object.assign(result, await this.#refresh());
          if (result.lost && (outcome.status === "timeout" || outcome.status === "cancelled")) {
            result.error = interruptError(outcome.status, timeoutMs, "moved");
          }
        }
        const missed = outcome.status === "error" ? missedNpmPackage(outcome.error) : undefined;
        if (missed) Object.assign(result, await this.#fetchMissed(missed, result.error!));
      } else {
        result = { ...base, ...run.failure, stdout: "", stderr: "", ...run.outcome };
      }
      if (breach !== undefined) {
        // An interrupted cell that was awaiting is only abandoned, and would go on writing: its
        // kernel moves to a fresh process with its variables. Synchronous code cannot be
        // interrupted: the kernel was then restarted, and `lost` says what that cost.
        if (run.kind === "reply") {
          Object.assign(result, await this.#refresh("to end the cell stopped for its folder"));
        }
        const message = `The cell was stopped: ${breach}. ` +
          (run.kind === "reply"
            ? "The kernel kept its variables."
            : "It kept running (synchronous code cannot be interrupted), so the kernel was " +
              "stopped and restarted.");
        result.error = { name: "DiskQuotaError", message, stack: `DiskQuotaError: ${message}` };
      } else if (stillOver !== undefined) {
        result.stderr += `${result.stderr && !result.stderr.endsWith("\n") ? "\n" : ""}` +
          `[disk quota] ${stillOver}\n`;
      }
      result.durationMs = performance.now() - started;
      return this.#withUnreported(result);
    });
  }

  /** Completion candidates at `cursor` (a UTF-16 index, default the end of `code`). */
  complete(code: string, cursor = code.length): Promise<Completion> {
    return this.#ask("complete", { code, cursor });
  }

  /** The user's variables with type, preview and approximate size. */
  variables(): Promise<VariableSummary[]> {
    return this.#ask("variables", {});
  }

  /** Details of one variable, or of a side-effect-free path into one such as `point.x`. */
  inspect(name: string, depth = 2): Promise<VariableDetail> {
    return this.#ask("inspect", { name, depth });
  }

  /**
   * Serializes the namespace; what cannot be saved is listed in `skipped`, and `executionCount`
   * is the number of cells whose effects it holds (read in its turn in the queue: a cell queued
   * behind it starts only after it, so a save that goes on writing is not credited with it). A
   * `yieldable` one gives way to any request queued behind it, before it starts or at its next
   * checkpoint, and then rejects with a `KernelRequestError` named `SaveYieldedError`.
   */
  async snapshot(
    options: { yieldable?: boolean } = {},
  ): Promise<SnapshotTaken & { executionCount: number }> {
    let executionCount = this.#executionCount;
    const ticket = this.#queued + 1;
    const taken = await this.#ask("snapshot", options.yieldable ? { yieldable: true } : {}, {
      before: () => {
        if (options.yieldable && this.#queued > ticket) {
          throw new KernelRequestError(SAVE_YIELDED_INFO);
        }
        if (options.yieldable) this.#yieldable = ticket;
        executionCount = this.#executionCount;
      },
      after: () => {
        if (options.yieldable) this.#yieldable = undefined;
      },
    });
    return { ...taken, executionCount };
  }

  /** Rebuilds the namespace from a snapshot body, on top of what the kernel holds now. */
  restore(body: Uint8Array): Promise<RestoreReport> {
    return this.#enqueue(() => this.#restoreNow(body));
  }

  /** Restores outside the queue; a kernel that dies on the way is restarted, and this throws. */
  async #restoreNow(body: Uint8Array): Promise<RestoreReport> {
    const run = await this.#send(await this.#restoreRequest(body), {
      timeoutMs: this.#options.cellTimeoutMs,
    });
    if (run.kind === "failed") throw new KernelRequestError(run.failure.error);
    return unwrap(run.reply) as RestoreReport;
  }

  /** A restore request, once the npm packages the snapshot imports are fetched. */
  async #restoreRequest(body: Uint8Array): Promise<DistributiveOmit<KernelRequest, "id">> {
    const npm = await fetchNpm(this.#options, snapshotImports(body), {
      timeoutMs: this.#options.cellTimeoutMs,
    });
    return { kind: "restore", body, ...(npm && { npm }) };
  }

  /**
   * Empties the namespace: a fresh sandbox, the prelude re-run. The count goes on (as after
   * IPython's `%reset`): a number the agent has seen is never given to another cell.
   */
  reset(): Promise<void> {
    return this.#enqueue(() => this.#restart());
  }

  /** Stops the sandbox process. Later calls reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => {});
    await this.#process.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Adds to `result` what an earlier restart lost, once. */
  #withUnreported(result: ExecuteResult): ExecuteResult {
    const earlier = this.#unreported;
    if (!earlier) return result;
    this.#unreported = undefined;
    const lost = result.lost ? `${earlier.lost}; ${result.lost}` : earlier.lost;
    return { ...result, lost, restoredFrom: result.restoredFrom ?? earlier.restoredFrom };
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("Cannot use a closed kernel"));
    this.#queued++;
    if (this.#yieldable !== undefined) this.#process.yieldSave();
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #ask<K extends keyof ReplyValues>(
    kind: K,
    fields: Omit<Extract<KernelRequest, { kind: K }>, "id" | "kind">,
    hooks: { before?: () => void; after?: () => void } = {},
  ): Promise<ReplyValues[K]> {
    return this.#enqueue(async () => {
      const request = { kind, ...fields } as DistributiveOmit<KernelRequest, "id">;
      hooks.before?.();
      let run;
      try {
        run = await this.#send(request, { timeoutMs: this.#options.cellTimeoutMs });
      } finally {
        hooks.after?.();
      }
      if (run.kind === "failed") {
        // A failed restore is reported by whoever restores (the supervisor's recovery).
        if (kind !== "restore") {
          const why = `the kernel was restarted during ${/^[aeiou]/.test(kind) ? "an" : "a"} ` +
            `${kind} request: ` +
            run.failure.error.message;
          this.#unreported = merge(this.#unreported, {
            ...run.outcome,
            lost: `${run.outcome.lost} (${why})`,
          });
        }
        throw new KernelRequestError(run.failure.error);
      }
      return unwrap(run.reply) as ReplyValues[K];
    });
  }

  /**
   * Sends a request. An `execute` gets its timeout and interrupt inside the kernel; a kernel
   * that does not answer within the grace after its deadline or a cancel, or dies, is restarted,
   * and the failure says what happened.
   */
  async #send(
    request: DistributiveOmit<KernelRequest, "id">,
    options: ExecuteOptions & { timeoutMs: number; onSent?: () => void },
  ): Promise<
    | { kind: "reply"; reply: KernelReply; stdout: string; stderr: string }
    | {
      kind: "failed";
      failure: { status: "timeout" | "cancelled" | "killed"; error: ErrorInfo };
      outcome: RestartOutcome;
    }
  > {
    const process = this.#process;
    const { timeoutMs, signal } = options;
    const interruptible = request.kind === "execute";
    const timers: ReturnType<typeof setTimeout>[] = [];
    const { promise: gaveUp, resolve: giveUp } = Promise.withResolvers<"timeout" | "cancelled">();
    if (Number.isFinite(timeoutMs)) {
      timers.push(
        setTimeout(() => giveUp("timeout"), timeoutMs + (interruptible ? TIMEOUT_GRACE_MS : 0)),
      );
    }
    const cancel = () => {
      process.interrupt();
      timers.push(setTimeout(() => giveUp("cancelled"), CANCEL_GRACE_MS));
    };
    if (interruptible) signal?.addEventListener("abort", cancel, { once: true });
    try {
      const answer = await Promise.race([
        process.request(request, { onOutput: options.onOutput, onSent: options.onSent }),
        gaveUp,
      ]);
      if (typeof answer === "object") return { kind: "reply", ...answer };
      process.kill();
      const exit = await process.exited;
      const failure = answer === undefined
        ? deathFailure(exit, this.#options.memoryLimitMb)
        : answer === "timeout"
        ? unansweredFailure("timeout", timeoutMs, interruptible)
        : unansweredFailure("cancelled", timeoutMs, interruptible);
      await this.#restart();
      return { kind: "failed", failure, outcome: await this.#recover() };
    } finally {
      for (const timer of timers) clearTimeout(timer);
      signal?.removeEventListener("abort", cancel);
    }
  }

  /**
   * Moves the namespace into a fresh sandbox through a snapshot taken now: once the kernel can
   * abandon no more cells (see `worker/repl.ts`), or to end an abandoned cell (`why` says
   * which). Returns what the result should say when
   * something could not move; a kernel that fails on the way is recovered as after a death.
   */
  async #refresh(
    why = "it had abandoned as many awaiting cells as one process can",
  ): Promise<Pick<ExecuteResult, "lost" | "restoredFrom">> {
    const taken = await this.#send({ kind: "snapshot" }, {
      timeoutMs: this.#options.cellTimeoutMs,
    });
    if (taken.kind === "failed") return taken.outcome;
    const snapshot = unwrap(taken.reply) as SnapshotTaken;
    await this.#restart();
    const restored = await this.#send(await this.#restoreRequest(snapshot.body), {
      timeoutMs: this.#options.cellTimeoutMs,
    });
    if (restored.kind === "failed") return restored.outcome;
    const skipped = [...snapshot.skipped, ...(unwrap(restored.reply) as RestoreReport).skipped];
    if (skipped.length === 0) return {};
    const items = skipped.slice(0, 10).map((s) => `${s.path} (${s.reason})`).join(", ");
    const more = skipped.length > 10 ? ` and ${skipped.length - 10} more` : "";
    return {
      lost: `the kernel moved to a fresh process (${why}); these did not move: ${items}${more}`,
    };
  }

  /**
   * After a cell failed on a package its process resolved and did not find in the npm cache:
   * fetches it and, once fetched, moves the kernel to a fresh process with its variables (the
   * old one could never load it). Says so in the cell's error.
   */
  async #fetchMissed(
    spec: string,
    error: ErrorInfo,
  ): Promise<Pick<ExecuteResult, "error" | "lost" | "restoredFrom">> {
    const fetched = await prefetchNpm({ npm: [`npm:${spec}`], files: [] }, {
      scratchDir: this.#options.scratchDir,
      deno: this.#options.runtime.deno,
      signal: AbortSignal.timeout(this.#options.cellTimeoutMs),
    });
    const refusal = fetched?.refused[`npm:${spec}`];
    const message = `${error.message}\n${missedNpmWords(spec, refusal)}`;
    const moved = refusal === undefined ? await this.#refresh(`to load ${spec}`) : {};
    return { ...moved, error: { ...error, message, stack: `${error.name}: ${message}` } };
  }

  /** Lets `onRestart` put saved state back into the fresh sandbox. */
  async #recover(): Promise<RestartOutcome> {
    // A restore that itself kills the kernel must not start another recovery.
    if (!this.#options.onRestart || this.#recovering) return { lost: LOST_ON_RESTART };
    this.#recovering = true;
    try {
      return await this.#options.onRestart({
        restore: (body) => this.#restoreNow(body),
        restart: () => this.#restart(),
      });
    } finally {
      this.#recovering = false;
    }
  }

  async #restart(): Promise<void> {
    this.#process.kill();
    await this.#process.exited;
    this.#process = await spawn(this.#options, { code: this.#prelude, npm: this.#preludeNpm });
    this.#noteRepair();
  }

  /** Keeps for the next result what repairing the scratch folder cost, if it had to be. */
  #noteRepair(): void {
    const repaired = this.#process.repairedScratch;
    if (repaired === undefined) return;
    this.#process.repairedScratch = undefined;
    this.#unreported = merge(this.#unreported, { lost: repaired });
  }
}

/** Checks the options, fills in the defaults, compiles the prelude and fetches its packages. */
async function prepare(options: KernelOptions): Promise<{
  full: ResolvedOptions;
  prelude: { code: string; npm: NpmReadiness | undefined };
}> {
  const { sandbox, ...rest } = options;
  const full: ResolvedOptions = {
    memoryLimitMb: 512,
    cellTimeoutMs: 60_000,
    prelude: "",
    executionCount: 0,
    ...rest,
    runtime: options.runtime ?? sandbox?.options.runtime ?? await sandboxRuntime(),
  };
  if (!(full.memoryLimitMb >= 64)) {
    throw new RangeError(
      `Cannot start kernel: memory limit must be at least 64 MB, got ${full.memoryLimitMb}`,
    );
  }
  if (!(full.cellTimeoutMs > 0)) {
    throw new RangeError(
      `Cannot start kernel: cell timeout must be positive, got ${full.cellTimeoutMs} ms`,
    );
  }
  const compiled = compileCell(full.prelude, "prelude");
  if (!compiled.ok) {
    throw new SyntaxError(
      `Cannot start kernel: the prelude does not compile: ${compiled.error.message}`,
    );
  }
  return { full, prelude: { code: compiled.code, npm: await fetchNpm(full, compiled.imports) } };
}

/** A sandbox for the kernel's folder, limit and prelude. */
function spawn(
  full: ResolvedOptions,
  prelude: { code: string; npm: NpmReadiness | undefined },
): Promise<SandboxProcess> {
  return SandboxProcess.spawn({
    scratchDir: full.scratchDir,
    memoryLimitMb: full.memoryLimitMb,
    prelude: prelude.code,
    preludeNpm: prelude.npm,
    runtime: full.runtime,
    ...(full.diskQuota && { fileSizeLimitBytes: full.diskQuota.bytes }),
  });
}

/**
 * Fetches the npm packages that code importing `imports` needs, within the cell's time (a fetch
 * that outlasts it is stopped, and its packages refused).
 */
async function fetchNpm(
  options: ResolvedOptions,
  imports: ModuleImports,
  limits: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<NpmReadiness | undefined> {
  if (imports.npm.length === 0 && imports.files.length === 0) return undefined;
  const signals: AbortSignal[] = limits.signal ? [limits.signal] : [];
  const { timeoutMs } = limits;
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
    signals.push(AbortSignal.timeout(timeoutMs));
  }
  return await prefetchNpm(imports, {
    scratchDir: options.scratchDir,
    deno: options.runtime.deno,
    allow: options.npmAllow,
    signal: AbortSignal.any(signals),
  });
}

/** Two restarts' outcomes as one: the later restore, both losses. */
function merge(earlier: RestartOutcome | undefined, later: RestartOutcome): RestartOutcome {
  if (!earlier) return later;
  return { lost: `${earlier.lost}; ${later.lost}`, restoredFrom: later.restoredFrom };
}

function unwrap(reply: KernelReply): ReplyValues[keyof ReplyValues] {
  if (!reply.ok) throw new KernelRequestError(reply.error);
  return reply.value;
}
