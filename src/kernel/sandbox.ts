/**
 * Entry point of a kernel's sandbox process (started by `sandbox_process.ts`).
 *
 * The process is the security boundary: its permission flags allow files only in the kernel's
 * scratch folder, which also governs module loading, where Worker permissions do not
 * (DESIGN.md section 8). A heap exhausted in the Worker aborts this process only, never the host.
 * Here the main thread relays messages between the host's pipes and the kernel's Worker, and
 * watches resident memory, which ArrayBuffers grow outside V8's heap limit.
 *
 * @module
 */
import { encodeFrames } from "./frames.ts";
import type { HostMessage, MemoryRequest, SandboxMessage, SandboxStart } from "./protocol.ts";
import { readRequests } from "./request_stream.ts";
import { INTERRUPT_CANCEL, INTERRUPT_NONE, INTERRUPT_TIMEOUT } from "./worker/cell_interrupt.ts";
import type { WorkerInit } from "./worker/kernel_worker.ts";

const WATCHDOG_INTERVAL_MS = 20;

// Ctrl-C in a terminal, or a service manager's stop, signals the whole process group: the kernel
// must outlive it until the host has saved it. The host ends a sandbox by closing its stdin or
// with SIGKILL.
for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, () => {});

const requests = readRequests(Deno.stdin.readable);
const first = await requests.next();
if (first.done) Deno.exit(0);
const start = first.value as unknown as SandboxStart;

function send(stream: typeof Deno.stdout, message: SandboxMessage): void {
  // A piece of a snapshot body is JSON text already: it travels as a raw attachment, not
  // escaped again.
  let attachment: string | undefined;
  let framed: Record<string, unknown> = message as unknown as Record<string, unknown>;
  if ("event" in message && message.event === "chunk") {
    const { text, ...rest } = message;
    attachment = text;
    framed = rest;
  }
  // Each frame is written before the next is made: they may share one buffer.
  for (const frame of encodeFrames(start.token, framed, attachment, true)) {
    for (let at = 0; at < frame.length;) at += stream.writeSync(frame.subarray(at));
  }
}

/** The snapshot or restore being served, if any: it may use the save limit's headroom. */
let saving: number | undefined;
/** Set to 1 to make the running yieldable snapshot give way (see `KernelYieldSave`). */
const yieldFlag = new Int32Array(new SharedArrayBuffer(4));
/**
 * The cell the Worker runs, and the timer of its deadline: at the deadline or at a cancel, the
 * shared flag tells the cell's loops to stop (see `worker/cell_interrupt.ts`); a Worker busy in
 * a loop after an `await` reads no message, but its loops read the flag.
 */
let cell: { id: number; deadline?: ReturnType<typeof setTimeout> } | undefined;
const interruptFlag = new Int32Array(new SharedArrayBuffer(4));

function endCell(): void {
  clearTimeout(cell?.deadline);
  cell = undefined;
  Atomics.store(interruptFlag, 0, INTERRUPT_NONE);
}

/**
 * After a save or restore, V8 and the allocator keep freed pages resident for a while: until
 * resident memory is back under the limit, the save limit still holds, so the kernel is not
 * stopped for memory that holds no variable of its own (measured: 80 MB kept after saving
 * 400,000 records, seconds after two collections).
 */
let cooling = false;

setInterval(() => {
  const { rss } = Deno.memoryUsage();
  if (rss <= start.memoryLimitBytes) cooling = false;
  const raised = saving !== undefined || cooling;
  if (rss > (raised ? start.saveLimitBytes : start.memoryLimitBytes)) {
    send(Deno.stdout, { event: "fatal", reason: "memory", rssBytes: rss });
    Deno.exit(137);
  }
}, WATCHDOG_INTERVAL_MS);

const worker = new Worker(new URL("./worker/kernel_worker.ts", import.meta.url), {
  type: "module",
  name: "kernel",
  deno: {
    permissions: {
      read: [start.scratchDir],
      write: [start.scratchDir],
      net: false,
      run: false,
      ffi: false,
      import: false,
      // The environment was cleared by the host; npm packages that read process.env still load.
      env: true,
      // Needed to connect the inspector session; the Worker revokes it before user code runs.
      sys: true,
    },
  },
});

worker.onmessage = (event: MessageEvent<SandboxMessage>) => {
  const message = event.data;
  // The kernel's own messages are objects with an id or an event; anything else is dropped.
  if (!isMessage(message)) return;
  if ("event" in message && message.event === "ready") {
    Deno.permissions.revokeSync({ name: "sys" });
  }
  if ("ok" in message) {
    if (message.id === cell?.id) endCell();
    if (message.id === saving) {
      saving = undefined;
      cooling = true;
    }
    send(Deno.stderr, { event: "mark", id: message.id });
  }
  send(Deno.stdout, message);
  if ("event" in message && message.event === "failed") Deno.exit(70);
};
worker.onerror = (event) => {
  event.preventDefault();
  console.error("The kernel's Worker failed:", event.message);
  Deno.exit(70);
};
worker.postMessage(
  {
    scratchDir: start.scratchDir,
    prelude: start.prelude,
    npm: start.npm,
    saveStartBytes: start.saveStartBytes,
    yieldFlag,
    interruptFlag,
  } satisfies WorkerInit,
);

// An interrupt travels like a request; a Worker stuck in a synchronous loop never reads it.
for await (const raw of requests) {
  const message = raw as unknown as HostMessage | MemoryRequest;
  if (message.kind === "memory") {
    send(Deno.stdout, { id: message.id, ok: true, value: { rssBytes: Deno.memoryUsage().rss } });
    continue;
  }
  if (message.kind === "yield-save") {
    if (message.target === saving) Atomics.store(yieldFlag, 0, 1);
    continue;
  }
  if (message.kind === "interrupt" && message.target === cell?.id) {
    Atomics.store(interruptFlag, 0, INTERRUPT_CANCEL);
  }
  if (message.kind === "execute") {
    endCell();
    const { timeoutMs } = message;
    cell = {
      id: message.id,
      deadline: timeoutMs === undefined
        ? undefined
        : setTimeout(() => Atomics.store(interruptFlag, 0, INTERRUPT_TIMEOUT), timeoutMs),
    };
  }
  if (message.kind === "snapshot" || message.kind === "restore") {
    saving = message.id;
    // Cleared here, before the Worker sees the request: a yield that arrives first still counts.
    Atomics.store(yieldFlag, 0, 0);
  }
  // A restore's body arrives as its UTF-8 bytes: handed over, not copied, and the Worker
  // decodes it (a copy of a large string between threads would cost as much again).
  const body = (message as { body?: unknown }).body;
  worker.postMessage(message, body instanceof Uint8Array ? [body.buffer as ArrayBuffer] : []);
}

// The host closed our stdin (it exited, even by kill -9): leave no orphan behind.
Deno.exit(0);

function isMessage(m: unknown): m is SandboxMessage {
  if (typeof m !== "object" || m === null) return false;
  const x = m as Record<string, unknown>;
  return (typeof x.id === "number" && typeof x.ok === "boolean") || typeof x.event === "string";
}
