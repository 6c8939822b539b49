/**
 * Messages between the host, a kernel's sandbox process and the kernel's Worker.
 *
 * The host writes one {@linkcode SandboxStart} line and then {@linkcode HostMessage} lines
 * (newline-delimited JSON) to the sandbox's stdin; the sandbox forwards each to its Worker and
 * sends back exactly one {@linkcode KernelReply} per request, also when the request fails or is
 * interrupted. An {@linkcode KernelInterrupt} is not a request and gets no reply of its own. Replies travel in token-framed chunks (see `frames.ts`) so that whatever a cell
 * prints on the same pipes cannot be mistaken for, or forge, a reply.
 *
 * @module
 */

/** First line the host writes to a sandbox: everything the sandbox needs to start. */
export interface SandboxStart {
  /** Random per-process token that prefixes every frame the sandbox writes. */
  token: string;
  /** Absolute path of the kernel's scratch folder, the only place its code may touch. */
  scratchDir: string;
  /** Resident-memory limit in bytes, enforced by the sandbox's watchdog. */
  memoryLimitBytes: number;
  /** The higher limit that holds while a snapshot is taken or restored, so a save never kills. */
  saveLimitBytes: number;
  /**
   * Live memory (the Worker's heap and ArrayBuffers) above which a snapshot is refused rather
   * than tried: serializing needs about as much again as the data, under `saveLimitBytes`.
   */
  saveStartBytes: number;
  /** Compiled prelude to run before any user code, or `""`. */
  prelude: string;
  /** What the host did about the prelude's `npm:` imports. */
  npm: NpmReadiness;
}

/**
 * What the host did about the `npm:` specifiers a request will import, before sending it: a
 * sandbox never downloads (it runs `--cached-only`), so the host fetches literal specifiers into
 * the cache first (`npm_prefetch.ts`). The kernel imports only specifiers fetched so far; one
 * that failed to fetch, or is not allowed, is refused with the host's reason, before Deno tries
 * it (a failed npm import in a `--cached-only` process fails again for the life of the process,
 * even once the package is cached).
 */
export interface NpmReadiness {
  /** Specifiers now in the cache, exactly as the code writes them. */
  fetched: string[];
  /** Reasons, by specifier, for those the kernel must refuse. */
  refused: Record<string, string>;
}

/** An error as it crosses the process boundary. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack: string;
}

/** A request from the host to a kernel. */
export type KernelRequest =
  /** `timeoutMs`: the Worker stops the cell after this long and answers `timeout`. */
  /** Without `timeoutMs` the cell runs with no interrupt armed (see `ExecuteOptions`). */
  | {
    id: number;
    kind: "execute";
    code: string;
    /** The cell as written, when it had types (see `worker/shown_source.ts`). */
    typescript?: string;
    cell: number;
    timeoutMs?: number;
    npm?: NpmReadiness;
  }
  | { id: number; kind: "complete"; code: string; cursor: number }
  | { id: number; kind: "variables" }
  | { id: number; kind: "inspect"; name: string; depth: number }
  | { id: number; kind: "snapshot"; yieldable?: boolean }
  /** `body` is the snapshot's bytes (`worker/snapshot_body.ts`), sent raw (`request_stream.ts`). */
  | { id: number; kind: "restore"; body: Uint8Array; npm?: NpmReadiness };

/**
 * Asks the Worker to stop the cell of request `target` now (a client's cancel). A cell awaiting
 * something stops at once and its request is answered `cancelled`; a cell in a synchronous loop
 * cannot hear it, and the host then restarts the kernel (see `kernel_handle.ts`).
 */
export interface KernelInterrupt {
  kind: "interrupt";
  target: number;
}

/**
 * Asks a `yieldable` snapshot, request `target`, to give way to a request waiting behind it: the
 * Worker stops it at its next checkpoint and answers `SaveYieldedError` (the kernel is saved
 * later). The sandbox's main thread serves it through a flag it shares with the Worker, which a
 * save busy in a synchronous walk still reads. Ignored unless that snapshot is running.
 */
export interface KernelYieldSave {
  kind: "yield-save";
  target: number;
}

/** Anything the host writes to a sandbox after its {@linkcode SandboxStart} line. */
export type HostMessage = KernelRequest | KernelInterrupt | KernelYieldSave;

/**
 * A value as a Jupyter kernel shows it: renderings keyed by MIME type, `text/plain` always among
 * them. The other entries are strings or JSON values (e.g. `application/json`).
 */
export type MimeBundle = { "text/plain": string } & Record<string, unknown>;

/**
 * The outcome of one cell inside the kernel. `timeout` and `cancelled` mean the kernel stopped
 * the cell itself and kept its namespace (effects of the cell so far included); `error` then
 * says why.
 */
export interface CellOutcome {
  status: "ok" | "error" | "timeout" | "cancelled";
  /**
   * Set when stopping this cell used up the kernel's last spare inspector session: the host
   * should move the namespace to a fresh sandbox before the kernel can abandon another cell.
   */
  exhausted?: true;
  /** The last expression's value (see `worker/format.ts`); absent when it is `undefined`. */
  data?: MimeBundle;
  /** What the cell displayed (`Deno.jupyter.display`, `display`), in order; absent if nothing. */
  displays?: MimeBundle[];
  error?: ErrorInfo;
}

/** Completion candidates for the text before a cursor. */
export interface Completion {
  matches: string[];
  /** UTF-16 index where the replaced text starts. */
  cursorStart: number;
  /** UTF-16 index where the replaced text ends. */
  cursorEnd: number;
}

/** One user variable as `list_variables` shows it. */
export interface VariableSummary {
  name: string;
  type: string;
  preview: string;
  /** Approximate bytes held by the value, counted by walking it within a budget. */
  approxBytes: number;
}

/** One member of an inspected value. */
export interface MemberSummary {
  name: string;
  type: string;
  preview: string;
}

/** What `inspect_variable` shows of one variable. */
export interface VariableDetail {
  name: string;
  type: string;
  /** Full rendering, with nesting down to the requested depth. */
  preview: string;
  /** Own keys (up to a limit) then methods along the prototype chain. */
  members: MemberSummary[];
  /** Source text of a function or class. */
  source?: string;
}

/** Something a snapshot left out or a restore could not rebuild, and why. */
export interface SkippedItem {
  /** The variable, or a path into it such as `cache.pending`. */
  path: string;
  reason: string;
  /**
   * Set on what was saved and comes back, but was not looked into (for captured variables or
   * private fields): a caveat, said apart from what was lost.
   */
  unchecked?: true;
}

/** A snapshot as the kernel took it. */
export interface SnapshotTaken {
  /** Its bytes; see `worker/snapshot_body.ts`. They reach the host in `chunk` events. */
  body: Uint8Array;
  /** Version of the body's layout; a kernel refuses to restore one it does not know. */
  format: number;
  skipped: SkippedItem[];
}

/** What a restore rebuilt and what it could not. */
export interface RestoreReport {
  restored: string[];
  skipped: SkippedItem[];
}

/**
 * A request the sandbox's main thread answers itself, without the Worker, so it is answered at
 * once even while a cell runs: its resident memory (Worker included) as it measures it for its
 * watchdog. The host cannot read another process's `/proc` without `--allow-all`.
 */
export type MemoryRequest = { id: number; kind: "memory" };

/** The single reply to a {@linkcode MemoryRequest}. */
export type MemoryReply = { id: number; ok: true; value: { rssBytes: number } };

/** Maps each request kind to the value its successful reply carries. */
export interface ReplyValues {
  execute: CellOutcome;
  complete: Completion;
  variables: VariableSummary[];
  inspect: VariableDetail;
  snapshot: SnapshotTaken;
  restore: RestoreReport;
}

/** The single reply to a request; `ok: false` means the request itself could not be served. */
export type KernelReply =
  | { id: number; ok: true; value: ReplyValues[keyof ReplyValues] }
  | { id: number; ok: false; error: ErrorInfo };

/** A message the sandbox sends on its own initiative. */
export type SandboxEvent =
  | { event: "ready" }
  /** The Worker could not start (e.g. it failed to load); the sandbox exits after sending it. */
  | { event: "failed"; error: ErrorInfo }
  | { event: "fatal"; reason: "memory"; rssBytes: number }
  /** Marks the end of a request's output on stderr, so stderr can be attributed to it. */
  | { event: "mark"; id: number }
  /**
   * One piece of a snapshot's body, sent before the snapshot's reply: the body travels in
   * pieces so that it never exists whole in the kernel.
   */
  | { event: "chunk"; id: number; bytes: Uint8Array };

/** Anything the sandbox sends inside a frame. */
export type SandboxMessage = KernelReply | MemoryReply | SandboxEvent;
