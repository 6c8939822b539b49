/**
 * Entry point of a kernel's Worker: connects the REPL, drops `sys`, runs the prelude, then serves
 * requests one at a time. Every request gets exactly one reply, also when it fails.
 *
 * @module
 */
import type {
  HostMessage,
  KernelReply,
  KernelRequest,
  NpmReadiness,
  ReplyValues,
  SnapshotTaken,
} from "../protocol.ts";
import { complete } from "./complete.ts";
import { LOADER_KEY } from "./compiled_cell.ts";
import { Displays, installJupyter } from "./jupyter.ts";
import { createModuleLoader, type ModuleLoader } from "./module_loader.ts";
import { trackWorkers, type WorkerTracker } from "./nested_workers.ts";

import { Namespace } from "./namespace.ts";
import { describeError, Repl } from "./repl.ts";
import { NO_YIELD, yieldCheckpoint } from "./save_yield.ts";
import { installAwaitCheck, installInterruptCheck, interruption } from "./cell_interrupt.ts";
import { recordTypeScript } from "./shown_source.ts";
import { restoreSnapshot, takeSnapshot } from "./snapshot.ts";

/** The first message the sandbox posts to its Worker. */
export interface WorkerInit {
  scratchDir: string;
  prelude: string;
  /** What the host did about the prelude's `npm:` imports. */
  npm: NpmReadiness;
  /** Resident bytes, after a collection, above which a snapshot is refused (see protocol.ts). */
  saveStartBytes: number;
  /** Shared with the sandbox's main thread: 1 when the running snapshot should give way. */
  yieldFlag: Int32Array;
  /** Shared with the sandbox's main thread: set when the running cell must stop. */
  interruptFlag: Int32Array;
}

const scope = self as unknown as Worker & typeof globalThis;
// Kept here, out of user code's reach: a cell may not forge or block the kernel's messages.
const post = scope.postMessage.bind(scope);
// V8's collector (the sandbox runs with --expose-gc), kept for saves. The global cannot be
// deleted (it is not configurable), so it is cleared; a cell sees `gc` as undefined.
const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
/** Snapshot bodies above this many bytes are followed by a collection. */
const LARGE_BODY = 8 * 2 ** 20;
/** Set by a large save or restore: collect once its reply is posted. */
let collectAfterReply = false;
(globalThis as { gc?: unknown }).gc = undefined;

// A rejection or throw nobody handles (in a timer, say) is reported on stderr, attributed to
// the running or the next cell, instead of terminating the Worker.
scope.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  console.error("Uncaught (in promise)", (event as PromiseRejectionEvent).reason);
});
scope.addEventListener("error", (event) => {
  event.preventDefault();
  console.error("Uncaught", event.error ?? event.message);
});

scope.addEventListener("message", (event: MessageEvent<WorkerInit>) => {
  start(event.data).catch((error) => {
    console.error("The kernel failed to start:", error);
    post({ event: "failed", error: describeError(error) });
  });
}, { once: true });

/**
 * Replaces a function a cell could use to end or confuse its own kernel with one that throws a
 * clear message. Non-configurable, so a cell cannot put the original back. (Should a cell reach
 * the real one some other way, the cell timeout still restarts the kernel from its snapshot.)
 */
function lock(target: object, key: string, message: string): void {
  Object.defineProperty(target, key, {
    value: () => {
      throw new Error(message);
    },
    writable: false,
    configurable: false,
  });
}

async function lockExits(): Promise<void> {
  const afresh = "would end the kernel; use reset_kernel to start afresh";
  lock(globalThis, "close", `close() ${afresh}`);
  lock(Deno, "exit", `Deno.exit() ${afresh}`);
  lock(globalThis, "postMessage", "postMessage() is not available in a kernel");
  const process = (await import("node:process")).default;
  for (const key of ["exit", "reallyExit", "abort"]) {
    lock(process, key, `process.${key}() ${afresh}`);
  }
}

/**
 * Makes the variables the sandbox denies (`--deny-env`, see `deno_env.ts`) read as unset instead
 * of throwing `NotCapable`, through `Deno.env` and `process.env` alike, so that a package which
 * looks for `HTTPS_PROXY` as it loads still loads. Setting them still throws.
 */
function readDeniedEnvAsUnset(): void {
  const { get, has } = Deno.env;
  const unsetIfDenied = <T>(read: () => T, unset: T): T => {
    try {
      return read();
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) return unset;
      throw error;
    }
  };
  Object.defineProperty(Deno.env, "get", {
    value: (key: string) => unsetIfDenied(() => get.call(Deno.env, key), undefined),
  });
  Object.defineProperty(Deno.env, "has", {
    value: (key: string) => unsetIfDenied(() => has.call(Deno.env, key), false),
  });
}

async function start(init: WorkerInit): Promise<void> {
  const repl = new Repl();
  // The inspector session needed sys to connect; user code must not have it.
  Deno.permissions.revokeSync({ name: "sys" });
  const loader = createModuleLoader(init.scratchDir);
  Object.defineProperty(globalThis, LOADER_KEY, { value: loader });
  await lockExits();
  const displays = new Displays();
  installJupyter(displays, init.scratchDir);
  installInterruptCheck(init.interruptFlag);
  installAwaitCheck();
  readDeniedEnvAsUnset();
  const workers = trackWorkers();
  loader.admitNpm(init.npm);
  const namespace = new Namespace(repl, loader.libraryGlobals);
  if (init.prelude) {
    const outcome = await repl.run(init.prelude, "prelude");
    if (outcome.status === "error") console.error("The prelude threw:", outcome.error?.stack);
  }
  // What the prelude displayed belongs to no cell.
  displays.take();
  await namespace.markBaseline();

  let queue = Promise.resolve();
  // Interrupts are heard at once, not queued: a cell that awaits something is running still.
  const running = new Map<number, AbortController>();
  scope.addEventListener("message", (event: MessageEvent<HostMessage>) => {
    const message = event.data;
    if (message.kind === "interrupt") {
      running.get(message.target)?.abort();
      return;
    }
    // The sandbox's main thread serves these through the shared flag; none reaches here.
    if (message.kind === "yield-save") return;
    const request = message;
    const controller = new AbortController();
    running.set(request.id, controller);
    queue = queue.then(async () => {
      let reply: KernelReply;
      try {
        const value = await serve(request, {
          repl,
          namespace,
          loader,
          displays,
          workers,
          signal: controller.signal,
          saveStartBytes: init.saveStartBytes,
          yieldFlag: init.yieldFlag,
          interruptFlag: init.interruptFlag,
        });
        reply = { id: request.id, ok: true, value };
      } catch (error) {
        reply = { id: request.id, ok: false, error: describeError(error) };
      }
      running.delete(request.id);
      post(reply);
      // A large save's or restore's own garbage would otherwise count against the next cells:
      // collected once the reply is on its way (the host goes on with the body meanwhile),
      // before the next request starts. A collection costs milliseconds even on a small heap:
      // only when it pays.
      if (collectAfterReply) {
        collectAfterReply = false;
        collect();
      }
    });
  });
  post({ event: "ready" });
}

async function serve(
  request: KernelRequest,
  {
    repl,
    namespace,
    loader,
    displays,
    workers,
    signal,
    saveStartBytes,
    yieldFlag,
    interruptFlag,
  }: {
    repl: Repl;
    namespace: Namespace;
    loader: ModuleLoader;
    displays: Displays;
    workers: WorkerTracker;
    signal: AbortSignal;
    saveStartBytes: number;
    yieldFlag: Int32Array;
    interruptFlag: Int32Array;
  },
): Promise<ReplyValues[keyof ReplyValues]> {
  switch (request.kind) {
    case "execute": {
      loader.admitNpm(request.npm);
      if (request.typescript !== undefined) recordTypeScript(request.code, request.typescript);
      let outcome;
      try {
        outcome = await repl.run(request.code, `cell-${request.cell}`, {
          timeoutMs: request.timeoutMs,
          signal,
          interrupted: () => interruption(interruptFlag),
        });
      } finally {
        const stopped = workers.stopStarted();
        if (stopped > 0) {
          console.error(
            `terminated ${stopped} Worker(s) the cell started: a Worker ends with its cell`,
          );
        }
      }
      const shown = displays.take();
      return shown.length > 0 ? { ...outcome, displays: shown } : outcome;
    }
    case "complete":
      return complete(repl, request.code, request.cursor);
    case "variables":
      return namespace.list();
    case "inspect":
      return namespace.inspect(request.name, request.depth);
    case "snapshot": {
      await refuseLargeSave(saveStartBytes);
      const checkpoint = request.yieldable ? yieldCheckpoint(yieldFlag) : NO_YIELD;
      let written = 0;
      try {
        // The body goes out in chunk events; the host puts it back (sandbox_process.ts).
        return await takeSnapshot(repl, namespace, loader, (bytes) => {
          checkpoint();
          written += bytes.length;
          // Handed over, not copied: each piece is an array of its own (body_writer.ts).
          post({ event: "chunk", id: request.id, bytes }, [bytes.buffer as ArrayBuffer]);
        }, checkpoint) as SnapshotTaken;
      } finally {
        if (written > LARGE_BODY) collectAfterReply = true;
      }
    }
    case "restore": {
      loader.admitNpm(request.npm);
      // The sandbox hands the body over as its bytes (request_stream.ts).
      const body = request.body;
      // Not held by the request while it is restored: the restore lets go of it once decoded.
      request.body = new Uint8Array(0);
      if (body.length > LARGE_BODY) collectAfterReply = true;
      return await restoreSnapshot(body, repl, namespace, loader);
    }
  }
}

/**
 * Refuses a snapshot that could not be made within the save limit (see `saveLimitMb`): what
 * the namespace holds is the Worker's live heap, after a collection, plus its ArrayBuffers.
 */
async function refuseLargeSave(saveStartBytes: number): Promise<void> {
  // One reading each time: a reading costs about 60 µs.
  const held = () => {
    const { heapUsed, external } = Deno.memoryUsage();
    return heapUsed + external;
  };
  // Garbage only adds to the count: below the bar without collecting, the save may go ahead.
  if (held() <= saveStartBytes) return;
  // What the last cells let go is garbage until collected; a save must see what is live.
  // ArrayBuffers are released by a later task, so a second collection counts them right.
  collect();
  await new Promise((resolve) => setTimeout(resolve, 0));
  collect();
  if (held() <= saveStartBytes) return;
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const error = new Error(
    `Cannot save the kernel: its variables hold ${mb(held())} MB, more than a save can ` +
      `serialize within its memory limit (at most ${mb(saveStartBytes)} MB); they stay in ` +
      `memory, unsaved: free some, or raise --memory-limit`,
  );
  error.name = "SaveRefusedError";
  throw error;
}
