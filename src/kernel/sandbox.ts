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
import { concat } from "./bytes.ts";
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

const first = readStart();
if (!first) Deno.exit(0);
const start = first.start;

function send(stream: typeof Deno.stdout, message: SandboxMessage): void {
  // A piece of a snapshot body travels as a raw attachment of bytes.
  let attachment: Uint8Array | undefined;
  let framed: Record<string, unknown> = message as unknown as Record<string, unknown>;
  if ("event" in message && message.event === "chunk") {
    const { bytes, ...rest } = message;
    attachment = bytes;
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
 * The cell the Worker runs, and its deadline: at the deadline or at a cancel, the
 * shared flag tells the cell's loops to stop (see `worker/cell_interrupt.ts`); a Worker busy in
 * a loop after an `await` reads no message, but its loops read the flag.
 */
let cell: { id: number; deadline?: number } | undefined;
const interruptFlag = new Int32Array(new SharedArrayBuffer(4));

function endCell(): void {
  cell = undefined;
  Atomics.store(interruptFlag, 0, INTERRUPT_NONE);
}

/**
 * One timer serves every cell's deadline (`performance.now()` time): a cell whose deadline is no
 * earlier than the armed timer's leaves it be, and when it fires, the running cell's deadline is
 * checked and the timer armed again for what is left. Arming and clearing a timer per cell cost
 * a trivial cell 20–50 µs (measured, against the same cells without a timeout), and cells
 * nearly always have the same timeout.
 */
let armedAt: number | undefined;

function armDeadline(at: number): void {
  if (armedAt !== undefined && armedAt <= at) return;
  armedAt = at;
  // A timer armed for later, superseded here, still fires, and does nothing.
  after(at - performance.now(), () => {
    if (armedAt === at) deadlineReached();
  });
}

function deadlineReached(): void {
  armedAt = undefined;
  const at = cell?.deadline;
  if (at === undefined) return;
  if (performance.now() >= at) Atomics.store(interruptFlag, 0, INTERRUPT_TIMEOUT);
  else armDeadline(at);
}

/**
 * After a save or restore, V8 and the allocator keep freed pages resident for a while: until
 * resident memory is back under the limit, the save limit still holds, so the kernel is not
 * stopped for memory that holds no variable of its own (measured: 80 MB kept after saving
 * 400,000 records, seconds after two collections).
 */
let cooling = false;

function watchMemory(): void {
  const { rss } = Deno.memoryUsage();
  if (rss <= start.memoryLimitBytes) cooling = false;
  const raised = saving !== undefined || cooling;
  if (rss > (raised ? start.saveLimitBytes : start.memoryLimitBytes)) {
    send(Deno.stdout, { event: "fatal", reason: "memory", rssBytes: rss });
    Deno.exit(137);
  }
  after(WATCHDOG_INTERVAL_MS, watchMemory);
}

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

// Started once the Worker is on its way: the first read of stdin's stream took 3–6 ms.
watchMemory();
const requests = readRequests(withHead(first.rest, Deno.stdin.readable));

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
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    cell = { id: message.id, deadline };
    if (deadline !== undefined) armDeadline(deadline);
  }
  if (message.kind === "snapshot" || message.kind === "restore") {
    saving = message.id;
    // Cleared here, before the Worker sees the request: a yield that arrives first still counts.
    Atomics.store(yieldFlag, 0, 0);
  }
  // A restore's body arrives as its bytes: handed over to the Worker, not copied.
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

/**
 * Reads the start message (the first request, a line of JSON: it has no attachment) with
 * blocking reads, so that the Worker can start at once: the first read through
 * `Deno.stdin.readable` took 3–6 ms, a blocking one 0.1 ms (measured). Returns it with the bytes
 * read past it, or `undefined` when stdin closed first.
 */
function readStart(): { start: SandboxStart; rest: Uint8Array } | undefined {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const buffer = new Uint8Array(65_536);
    const n = Deno.stdin.readSync(buffer);
    if (n === null) return undefined;
    const chunk = buffer.subarray(0, n);
    const end = chunk.indexOf(0x0a);
    if (end < 0) {
      chunks.push(chunk);
      continue;
    }
    const line = new TextDecoder().decode(concat([...chunks, chunk.subarray(0, end)]));
    return { start: JSON.parse(line) as SandboxStart, rest: chunk.slice(end + 1) };
  }
}

/** `stream`, after `head` (bytes read from it already); `stream` itself when there are none. */
function withHead(
  head: Uint8Array,
  stream: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  if (head.length === 0) return stream;
  const reader = stream.getReader();
  let sent = false;
  return new ReadableStream({
    async pull(controller) {
      if (!sent) {
        sent = true;
        return controller.enqueue(head);
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Calls `fn` after `ms` milliseconds. Not `setTimeout`: in this thread that loads Deno's Node
 * timers, which cost the sandbox 3 MB resident and 4–12 ms of its start (measured; a timeout
 * signal, 0.3 ms and under 1 MB). It cannot be cleared: callers ignore a call they no longer
 * need.
 */
function after(ms: number, fn: () => void): void {
  AbortSignal.timeout(Math.max(0, Math.ceil(ms))).addEventListener("abort", fn, { once: true });
}
